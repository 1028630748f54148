/**
 * Training curves: loss and test accuracy per epoch, several runs overlaid.
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

/** One run's history (e.g. from the trainer's per-epoch log). */
export interface CurveRun {
  /** Legend name, e.g. "RUL seed 0". */
  name: string;
  /** Epoch numbers (default 1..len). */
  epochs?: ArrayLike<number>;
  /** Epochs of `testAccuracy` when they differ from `epochs` (e.g. evaluated every 5 epochs). */
  testAccuracyEpochs?: ArrayLike<number>;
  /** Training loss per epoch. */
  loss?: ArrayLike<number>;
  /** Test accuracy per epoch (fraction 0–1 or percent; plotted as given). */
  testAccuracy?: ArrayLike<number>;
}

/** Options of {@link trainingCurves}. */
export interface CurveOptions {
  /** Figure title. */
  title?: string;
  /** Accuracy axis label (default "test accuracy"). */
  accuracyLabel?: string;
  /** Log-scale loss axis (default false). */
  logLoss?: boolean;
  /** Figure width in px (default 900). */
  width?: number;
  /** Figure height in px (default 400). */
  height?: number;
}

/**
 * Two panels side by side — training loss (left) and test accuracy (right) against epoch — with
 * one colour per run shared by both panels (legend shown once).
 *
 * @param runs one entry per run; a run may lack loss or accuracy.
 * @param options see {@link CurveOptions}.
 */
export function trainingCurves(runs: readonly CurveRun[], options: CurveOptions = {}): Figure {
  if (runs.length === 0) throw new Error("trainingCurves: no runs given");
  const data: Trace[] = [];
  runs.forEach((run, r) => {
    const color = colorAt(r);
    const series: [ArrayLike<number> | undefined, ArrayLike<number> | undefined, string, string][] =
      [
        [run.loss, run.epochs, "x", "y"],
        [run.testAccuracy, run.testAccuracyEpochs ?? run.epochs, "x2", "y2"],
      ];
    let first = true;
    for (const [values, ep, xa, ya] of series) {
      if (!values) continue;
      assertFinite(values, `trainingCurves run "${run.name}"`);
      const epochs = ep ?? Array.from({ length: values.length }, (_, i) => i + 1);
      if (epochs.length !== values.length) {
        throw new Error(
          `trainingCurves run "${run.name}": ${epochs.length} epochs but ${values.length} values`,
        );
      }
      data.push({
        type: "scatter",
        mode: values.length > 30 ? "lines" : "lines+markers",
        name: run.name,
        legendgroup: run.name,
        showlegend: first,
        x: Array.from(epochs),
        y: Array.from(values),
        xaxis: xa,
        yaxis: ya,
        line: { color, width: 2 },
        marker: { color, size: 5 },
      });
      first = false;
    }
  });
  // Integer epoch ticks for short runs (Plotly would otherwise label 1.5, 2.5, …).
  let maxEpoch = 0;
  for (const t of data) for (const e of t.x as number[]) maxEpoch = Math.max(maxEpoch, e);
  const epochTicks = maxEpoch <= 15 ? { dtick: 1 } : {};
  // A few points (e.g. one epoch): Plotly's autorange pads far beyond the data (an accuracy axis
  // from -0.3 to 1.6); give such axes a range around the data instead.
  const epochRange = maxEpoch <= 1 ? { range: [0.5, 1.5] } : {};
  const accRange = tightRange(data.filter((t) => t.yaxis === "y2").flatMap((t) => t.y as number[]));
  const lossRange = options.logLoss
    ? {}
    : tightRange(data.filter((t) => t.yaxis === "y").flatMap((t) => t.y as number[]));
  return {
    data,
    layout: paperLayout({
      ...(options.title ? { title: { text: options.title } } : {}),
      width: options.width ?? 900,
      height: options.height ?? 400,
      xaxis: paperAxis("epoch", { domain: [0, 0.44], ...epochTicks, ...epochRange }),
      yaxis: paperAxis("training loss", options.logLoss ? { type: "log" } : lossRange),
      xaxis2: paperAxis("epoch", { domain: [0.56, 1], anchor: "y2", ...epochTicks, ...epochRange }),
      yaxis2: paperAxis(options.accuracyLabel ?? "test accuracy", { anchor: "x2", ...accRange }),
      legend: { orientation: "h", y: -0.22, x: 0.5, xanchor: "center" },
      margin: { l: 70, r: 20, t: 50, b: 90 },
    }),
  };
}

/**
 * An explicit axis range for values whose spread is tiny (one epoch, or a flat curve): the data ±
 * max(5 % of |value|, 0.02); empty (Plotly's autorange) otherwise. Accuracies in [0, 1] stay in
 * [0, 1].
 */
function tightRange(values: number[]): { range?: [number, number] } {
  if (values.length === 0) return {};
  const lo = Math.min(...values), hi = Math.max(...values);
  const pad = Math.max(0.05 * Math.max(Math.abs(lo), Math.abs(hi)), 0.02);
  if (hi - lo > pad) return {};
  let a = lo - pad, b = hi + pad;
  if (lo >= 0 && hi <= 1) [a, b] = [Math.max(0, a), Math.min(1, b)];
  return { range: [a, b] };
}
