/**
 * Ablation bar chart: mean over seeds with standard-deviation error bars.
 *
 * @module
 */
import { assertFinite, colorAt, type Figure, paperAxis, paperLayout } from "./figure.ts";

/** One bar: a configuration and its metric for each seed. */
export interface AblationEntry {
  /** Configuration name (x tick label). */
  name: string;
  /** Metric per seed (at least one). */
  values: ArrayLike<number>;
}

/** Options of {@link ablationBars}. */
export interface AblationOptions {
  /** y-axis label (default "test accuracy"). */
  yLabel?: string;
  /** Figure title. */
  title?: string;
  /** Show each seed as a dot over the bar (default true). */
  showPoints?: boolean;
  /** y-axis range (default: from 0, or around the data with `zoom`). */
  yRange?: [number, number];
  /** Zoom the y-axis onto the data (mean ± s.d. and seeds) instead of starting at 0. */
  zoom?: boolean;
}

/** Mean and sample standard deviation (n − 1; 0 for one value). */
export function meanStd(values: ArrayLike<number>): { mean: number; std: number } {
  const n = values.length;
  if (n === 0) throw new Error("meanStd: no values");
  let m = 0;
  for (let i = 0; i < n; i++) m += values[i];
  m /= n;
  let s = 0;
  for (let i = 0; i < n; i++) s += (values[i] - m) ** 2;
  return { mean: m, std: n > 1 ? Math.sqrt(s / (n - 1)) : 0 };
}

/**
 * Bars of the mean metric per configuration with ±1 sample-standard-deviation error bars over
 * seeds, and (optionally) the individual seeds as dots.
 *
 * @param entries one per configuration, in display order.
 * @param options see {@link AblationOptions}.
 */
export function ablationBars(
  entries: readonly AblationEntry[],
  options: AblationOptions = {},
): Figure {
  if (entries.length === 0) throw new Error("ablationBars: no entries");
  const stats = entries.map((e) => {
    if (e.values.length === 0) throw new Error(`ablationBars: "${e.name}" has no values`);
    assertFinite(e.values, `ablationBars "${e.name}"`);
    return meanStd(e.values);
  });
  const names = entries.map((e) => e.name);
  const data: Record<string, unknown>[] = [{
    type: "bar",
    name: "mean ± s.d.",
    x: names,
    y: stats.map((s) => s.mean),
    error_y: {
      type: "data",
      array: stats.map((s) => s.std),
      visible: true,
      color: "#222222",
      thickness: 1.5,
      width: 6,
    },
    marker: { color: entries.map((_, i) => colorAt(i)), line: { color: "#333333", width: 1 } },
    text: stats.map((s) => s.mean.toFixed(3)),
    textposition: "none",
    hovertemplate: "%{x}: %{y:.4f} ± %{error_y.array:.4f}<extra></extra>",
    showlegend: false,
  }];
  if (options.showPoints ?? true) {
    data.push({
      type: "scatter",
      mode: "markers",
      name: "seeds",
      x: entries.flatMap((e) => Array.from(e.values, () => e.name)),
      y: entries.flatMap((e) => Array.from(e.values)),
      marker: { color: "#222222", size: 6, symbol: "circle-open" },
      showlegend: false,
    });
  }
  let range = options.yRange;
  if (!range && options.zoom) {
    const lo = Math.min(
      ...stats.map((s) => s.mean - s.std),
      ...entries.flatMap((e) => Array.from(e.values)),
    );
    const hi = Math.max(
      ...stats.map((s) => s.mean + s.std),
      ...entries.flatMap((e) => Array.from(e.values)),
    );
    const pad = 0.15 * (hi - lo || Math.abs(hi) || 1);
    range = [lo - pad, hi + pad];
  }
  return {
    data,
    layout: paperLayout({
      showlegend: false,
      ...(options.title ? { title: { text: options.title } } : {}),
      width: Math.max(400, 110 * entries.length + 150),
      xaxis: paperAxis(undefined, { showgrid: false }),
      yaxis: paperAxis(
        options.yLabel ?? "test accuracy",
        range ? { range } : {},
      ),
    }),
  };
}
