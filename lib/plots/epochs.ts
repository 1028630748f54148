/**
 * Per-epoch panels of the noisy-label runs: the uncertainty u of flipped vs clean training labels
 * and its AUROC (does u single out the flipped labels, and which way?), and the memorisation of
 * the flipped labels (training accuracy against their noisy targets) beside the test accuracy.
 *
 * @module
 */
import { assertFinite, colorAt, epochPanel, type Figure, OKABE_ITO, type Trace } from "./figure.ts";
import { seedBandPanels, variantColor } from "./bands.ts";

/** One line of an {@link epochLines} panel. */
export interface EpochSeries {
  /** Legend name. */
  name: string;
  /** Epoch numbers. */
  epochs: ArrayLike<number>;
  /** One value per epoch. */
  values: ArrayLike<number>;
  /** Colour index into the palette (default: position in the list). */
  color?: number;
  /** Dash style: `solid` (default), `dash`, `dot`. */
  dash?: "solid" | "dash" | "dot";
}

/** Options of {@link epochLines}. */
export interface EpochLinesOptions {
  /** y-axis label. */
  yLabel: string;
  /** Panel title. */
  title?: string;
  /** A dotted grey reference line at this y (e.g. 0.5 = chance for an AUROC), with its name. */
  reference?: { y: number; name: string };
}

/**
 * One panel: a line per series against epoch (integer ticks up to 15 epochs).
 * @throws Error when there is no series, or a series has non-finite values or mismatched lengths
 */
export function epochLines(series: readonly EpochSeries[], options: EpochLinesOptions): Figure {
  if (series.length === 0) throw new Error("epochLines: no series given");
  const data: Trace[] = [];
  let lo = Infinity, hi = -Infinity;
  series.forEach((s, i) => {
    assertFinite(s.values, `epochLines "${s.name}"`);
    if (s.epochs.length !== s.values.length) {
      throw new Error(
        `epochLines "${s.name}": ${s.epochs.length} epochs but ${s.values.length} values`,
      );
    }
    for (let k = 0; k < s.epochs.length; k++) {
      lo = Math.min(lo, s.epochs[k]);
      hi = Math.max(hi, s.epochs[k]);
    }
    const color = colorAt(s.color ?? i);
    data.push({
      type: "scatter",
      mode: "lines+markers",
      name: s.name,
      x: Array.from(s.epochs),
      y: Array.from(s.values),
      line: { color, width: 2, dash: s.dash ?? "solid" },
      marker: { color, size: 5 },
    });
  });
  return epochPanel(data, lo, hi, options);
}

/** Which pass a per-epoch u comes from: eval mode over the training set, or the training batches. */
export type UMode = "eval" | "train";

/** One run's per-epoch uncertainty figures (from the metrics log). */
export interface UncertaintyEpochRun {
  /** Legend name / seed, e.g. "seed 0". */
  name: string;
  /** Epoch numbers. */
  epochs: ArrayLike<number>;
  /** Mean u of the samples whose training label was flipped. */
  meanUFlipped: ArrayLike<number>;
  /** Mean u of the samples whose training label is clean. */
  meanUClean: ArrayLike<number>;
  /** AUROC of u as a score for "this label was flipped" (0.5 = chance; < 0.5: flipped get lower u). */
  auroc: ArrayLike<number>;
  /** The pass u comes from (default `eval`). */
  mode?: UMode;
}

const U_GROUP_COLORS = { flipped: OKABE_ITO[6], clean: OKABE_ITO[2] };

/**
 * Two panels over the runs (seeds) of one model: mean u of flipped (solid) vs clean (dashed)
 * training labels by epoch, and the AUROC of u for flipped labels by epoch with chance (0.5)
 * dotted; with several runs each curve is the mean over them with a ± s.d. band and the runs thin
 * and faint ({@link seedBands}). The AUROC is shown as computed (higher u = "flipped"); a value
 * below 0.5 means the flipped labels get the lower u at that epoch.
 */
export function uncertaintyByEpoch(
  runs: readonly UncertaintyEpochRun[],
  options: { title?: string; width?: number; height?: number; name?: string } = {},
): Figure {
  if (runs.length === 0) throw new Error("uncertaintyByEpoch: no runs given");
  const mode = runs[0].mode ?? "eval";
  if (runs.some((r) => (r.mode ?? "eval") !== mode)) {
    throw new Error("uncertaintyByEpoch: runs mix eval-mode and training-mode u");
  }
  const how = mode === "eval" ? "eval mode" : "training mode";
  const curve = (pick: (r: UncertaintyEpochRun) => ArrayLike<number>) =>
    runs.map((r) => ({ seed: r.name, epochs: r.epochs, values: pick(r) }));
  const name = options.name ?? "RUL";
  return seedBandPanels([
    {
      groups: [
        { name: "flipped", seeds: curve((r) => r.meanUFlipped), color: U_GROUP_COLORS.flipped },
        {
          name: "clean",
          seeds: curve((r) => r.meanUClean),
          color: U_GROUP_COLORS.clean,
          dash: "dash",
        },
      ],
      yLabel: "mean u",
      title: `mean u (${how}): flipped (solid) vs clean (dashed)`,
    },
    {
      groups: [{
        name: `${name} AUROC of u`,
        seeds: curve((r) => r.auroc),
        color: variantColor("rul"),
      }],
      yLabel: "AUROC of u (flipped)",
      title: `AUROC of u for flipped labels (${how})`,
      reference: { y: 0.5, name: "chance" },
    },
  ], { title: options.title, width: options.width ?? 1000, height: options.height ?? 460 });
}

/**
 * The {@link UncertaintyEpochRun} of a run's per-epoch metrics records, or null when the run has
 * no u for flipped labels (the baseline, no label noise, no clean labels, or, for `eval`, a run
 * trained without the trainer's `auditEachEpoch`). `eval` (default) reads `eval_u_mean_flipped`,
 * `eval_u_mean_clean` and `eval_u_auroc_noisy` (eval mode over the whole training set after each
 * epoch, as the official code's u would be computed on a model in eval mode); `train` reads the
 * `train_u_*` figures of the epoch's training batches.
 */
export function uncertaintyEpochRun(
  name: string,
  records: readonly Record<string, unknown>[],
  mode: UMode = "eval",
): UncertaintyEpochRun | null {
  const num = (v: unknown) => typeof v === "number" && Number.isFinite(v);
  const k = (what: string) => `${mode}_u_${what}`;
  const ok = records.length > 0 &&
    records.every((r) =>
      num(r[k("mean_flipped")]) && num(r[k("mean_clean")]) && num(r[k("auroc_noisy")])
    );
  if (!ok) return null;
  return {
    name,
    epochs: records.map((r) => Number(r.epoch)),
    meanUFlipped: records.map((r) => r[k("mean_flipped")] as number),
    meanUClean: records.map((r) => r[k("mean_clean")] as number),
    auroc: records.map((r) => r[k("auroc_noisy")] as number),
    mode,
  };
}
