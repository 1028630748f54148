/**
 * A grid's per-epoch curves as a paper prints them: at one noise rate, each variant's test
 * accuracy, eval-mode fit of the flipped labels and eval-mode AUROC of u (panels for which the runs
 * logged values) as the mean over seeds with a ± s.d. band, the seeds thin and faint (lib/plots
 * `noiseBandFigures`), read from the run folders.
 *
 * @module
 */
import type { Grid } from "../grid/grid.ts";
import type { Figure } from "../plots/figure.ts";
import { type BandMetric, noiseBandFigures } from "../plots/bands.ts";
import { readRun } from "./runs.ts";

/**
 * The figure of the grid's runs at noise rate `noise` (finished or running: an epoch counts once it
 * is in the run's `metrics.jsonl`), or null before any of them has finished an epoch. Variants are
 * the grid's row labels (variant plus swept values).
 */
export function gridCurves(
  grid: Grid,
  noise: number,
  options: { metrics?: readonly BandMetric[]; title?: string } = {},
): Figure | null {
  const runs = grid.runs.filter((run) => Math.abs(run.noise - noise) < 1e-9).flatMap((run) => {
    const r = readRun(run.dir);
    return r && r.records.length
      ? [{ group: run.label, seed: run.seed, noise: run.noise, records: r.records }]
      : [];
  });
  return noiseBandFigures(runs, options)[0]?.figure ?? null;
}
