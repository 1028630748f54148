/**
 * Per-epoch panels of the noisy-label runs: the uncertainty u of flipped vs clean training labels
 * and its AUROC (does u single out the flipped labels, and which way?), and the memorisation of
 * the flipped labels (training accuracy against their noisy targets) beside the test accuracy.
 *
 * @module
 */
import {
  assertFinite,
  colorAt,
  type Figure,
  paperAxis,
  paperLayout,
  type Trace,
} from "./figure.ts";
import { sideBySide } from "./side_by_side.ts";

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
  if (options.reference && Number.isFinite(lo)) {
    data.push({
      type: "scatter",
      mode: "lines",
      name: options.reference.name,
      x: [lo, hi],
      y: [options.reference.y, options.reference.y],
      line: { color: "#999999", width: 1.5, dash: "dot" },
    });
  }
  return {
    data,
    layout: paperLayout({
      ...(options.title ? { title: { text: options.title } } : {}),
      xaxis: paperAxis("epoch", hi <= 15 ? { dtick: 1 } : {}),
      yaxis: paperAxis(options.yLabel),
      legend: { orientation: "h", y: -0.25, x: 0.5, xanchor: "center" },
    }),
  };
}

/** One run's per-epoch uncertainty figures (training mode, from the metrics log). */
export interface UncertaintyEpochRun {
  /** Legend name, e.g. "seed 0". */
  name: string;
  /** Epoch numbers. */
  epochs: ArrayLike<number>;
  /** Mean u of the samples whose training label was flipped. */
  meanUFlipped: ArrayLike<number>;
  /** Mean u of the samples whose training label is clean. */
  meanUClean: ArrayLike<number>;
  /** AUROC of u as a score for "this label was flipped" (0.5 = chance; < 0.5: flipped get lower u). */
  auroc: ArrayLike<number>;
}

/**
 * Two panels: mean u of flipped (solid) vs clean (dashed) training labels by epoch, one colour per
 * run; and the AUROC of u for flipped labels by epoch, with chance (0.5) dotted. The AUROC is shown
 * as computed (higher u = "flipped"); a value below 0.5 means the flipped labels get the lower u.
 */
export function uncertaintyByEpoch(
  runs: readonly UncertaintyEpochRun[],
  options: { title?: string; width?: number; height?: number } = {},
): Figure {
  if (runs.length === 0) throw new Error("uncertaintyByEpoch: no runs given");
  const means = epochLines(
    runs.flatMap((r, i) => [
      { name: `${r.name} flipped`, epochs: r.epochs, values: r.meanUFlipped, color: i },
      {
        name: `${r.name} clean`,
        epochs: r.epochs,
        values: r.meanUClean,
        color: i,
        dash: "dash" as const,
      },
    ]),
    { yLabel: "mean u (training mode)" },
  );
  const auroc = epochLines(
    runs.map((r, i) => ({ name: `${r.name} AUROC`, epochs: r.epochs, values: r.auroc, color: i })),
    { yLabel: "AUROC of u (flipped)", reference: { y: 0.5, name: "chance" } },
  );
  return sideBySide([means, auroc], {
    title: options.title,
    titles: ["mean u: flipped (solid) vs clean (dashed)", "AUROC of u for flipped labels"],
    width: options.width ?? 1000,
    height: options.height ?? 460,
    gap: 0.12,
  });
}

/**
 * The {@link UncertaintyEpochRun} of a run's per-epoch metrics records (the trainer's
 * `train_u_mean_flipped`, `train_u_mean_clean` and `train_u_auroc_noisy`), or null when the run
 * has no u for flipped labels (the baseline, no label noise, no clean labels).
 */
export function uncertaintyEpochRun(
  name: string,
  records: readonly Record<string, unknown>[],
): UncertaintyEpochRun | null {
  const num = (v: unknown) => typeof v === "number" && Number.isFinite(v);
  const ok = records.length > 0 &&
    records.every((r) =>
      num(r.train_u_mean_flipped) && num(r.train_u_mean_clean) && num(r.train_u_auroc_noisy)
    );
  if (!ok) return null;
  return {
    name,
    epochs: records.map((r) => Number(r.epoch)),
    meanUFlipped: records.map((r) => r.train_u_mean_flipped as number),
    meanUClean: records.map((r) => r.train_u_mean_clean as number),
    auroc: records.map((r) => r.train_u_auroc_noisy as number),
  };
}
