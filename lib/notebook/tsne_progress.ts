/**
 * t-SNE for notebooks with progress: a line before the neighbour search and affinities (the
 * silent first part), then a progress bar over the optimisation iterations with the current KL
 * divergence (updating in place in Jupyter), then a closing line with the time.
 *
 * @module
 */
import { Progress, type ProgressMode } from "../eval/progress.ts";
import type { MatrixLike } from "../tsne/matrix.ts";
import { tsneAsync, type TsneOptions, type TsneResult } from "../tsne/tsne.ts";

/** Options of {@link tsneWithProgress}: t-SNE's own, a label and the progress mode. */
export interface TsneProgressOptions extends TsneOptions {
  /** Name shown in the progress lines (default "t-SNE"). */
  label?: string;
  /** Progress output (default `auto`: in place in Jupyter, lines in CI logs). */
  progress?: ProgressMode;
}

/**
 * {@link tsneAsync} with progress output (see the module doc); a caller's own `onProgress` is
 * still called. Same embedding as {@link tsneAsync} with the same options.
 */
export async function tsneWithProgress(
  x: MatrixLike,
  options: TsneProgressOptions = {},
): Promise<TsneResult> {
  const { label = "t-SNE", progress: mode = "auto", ...opts } = options;
  const rows = "rows" in x ? x.rows : x.length;
  const log = mode === "silent" ? () => {} : (s: string) => console.log(s);
  log(`${label}: ${rows} points: nearest neighbours and affinities…`);
  const t0 = performance.now();
  let bar: Progress | null = null;
  const result = await tsneAsync(x, {
    ...opts,
    onProgress: (p) => {
      bar ??= new Progress({ label, total: p.totalIterations, mode, unit: "it" });
      bar.update(p.iteration, { extra: { KL: p.klDivergence.toFixed(3) } });
      return opts.onProgress?.(p);
    },
  });
  (bar as Progress | null)?.finish({});
  log(`${label}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return result;
}
