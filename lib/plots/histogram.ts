/**
 * Uncertainty histograms: clean vs flipped (noisy) labels.
 *
 * @module
 */
import { assertFinite, type Figure, OKABE_ITO, paperAxis, paperLayout } from "./figure.ts";

/** Options of {@link uncertaintyHistogram}. */
export interface HistogramOptions {
  /** Number of bins over the pooled range (default 40). */
  bins?: number;
  /** "probability" (each group sums to 1, default) or "count". */
  normalization?: "probability" | "count";
  /** x-axis label (default "uncertainty"). */
  xLabel?: string;
  /** Figure title. */
  title?: string;
  /** Legend names (default "clean labels", "flipped labels"). */
  names?: [string, string];
}

/**
 * Overlaid histograms of per-sample uncertainty for samples whose label is clean vs flipped,
 * with identical bins for both groups (computed here, so the figure is deterministic).
 *
 * @param clean uncertainties of clean-label samples.
 * @param flipped uncertainties of flipped-label samples.
 * @param options see {@link HistogramOptions}.
 */
export function uncertaintyHistogram(
  clean: ArrayLike<number>,
  flipped: ArrayLike<number>,
  options: HistogramOptions = {},
): Figure {
  assertFinite(clean, "uncertaintyHistogram clean");
  assertFinite(flipped, "uncertaintyHistogram flipped");
  if (clean.length + flipped.length === 0) throw new Error("uncertaintyHistogram: no values");
  const bins = options.bins ?? 40;
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`uncertaintyHistogram: bins = ${bins}`);
  let lo = Infinity, hi = -Infinity;
  for (const xs of [clean, flipped]) {
    for (let i = 0; i < xs.length; i++) {
      lo = Math.min(lo, xs[i]);
      hi = Math.max(hi, xs[i]);
    }
  }
  if (hi === lo) hi = lo + 1;
  const size = (hi - lo) / bins;
  const prob = (options.normalization ?? "probability") === "probability";
  const names = options.names ?? ["clean labels", "flipped labels"];
  const data = [clean, flipped].map((xs, g) => ({
    type: "histogram",
    name: `${names[g]} (n=${xs.length})`,
    x: Array.from(xs),
    xbins: { start: lo, end: hi + size * 1e-9, size },
    autobinx: false,
    ...(prob ? { histnorm: "probability" } : {}),
    marker: { color: g === 0 ? OKABE_ITO[4] : OKABE_ITO[5], line: { width: 0 } },
    opacity: 0.6,
  }));
  return {
    data,
    layout: paperLayout({
      ...(options.title ? { title: { text: options.title } } : {}),
      barmode: "overlay",
      bargap: 0.02,
      xaxis: paperAxis(options.xLabel ?? "uncertainty"),
      yaxis: paperAxis(prob ? "fraction of samples" : "samples"),
      legend: { x: 0.98, xanchor: "right", y: 0.98, bgcolor: "rgba(255,255,255,0.8)" },
    }),
  };
}
