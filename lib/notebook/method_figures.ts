/**
 * Figures of the RUL method notebook (`00_rul_step_by_step.ipynb`): per-sample bars (u, the two
 * cross-entropies, Δu), a library-vs-by-hand agreement scatter, and the mixing map (mixed
 * features z_i on the segments μ_i — μ_p(i), projected on μ's first two principal components).
 *
 * @module
 */
import { pca } from "../tsne/pca.ts";
import {
  assertFinite,
  colorAt,
  type Figure,
  paperAxis,
  paperLayout,
  type Trace,
} from "../plots/figure.ts";

/** Options of {@link perSampleBars}. */
export interface PerSampleOptions {
  /** Figure title. */
  title?: string;
  /** Samples to hatch (e.g. those with a flipped label). */
  marked?: readonly boolean[];
  /** Value axis title. */
  yTitle?: string;
}

/**
 * Grouped bars, one group per sample (`#0`, `#1`, …), one colour per series; `marked` samples are
 * hatched.
 *
 * @throws Error when the series differ in length or hold non-finite values.
 */
export function perSampleBars(
  series: readonly { name: string; values: ArrayLike<number> }[],
  options: PerSampleOptions = {},
): Figure {
  if (series.length === 0) throw new Error("perSampleBars: no series");
  const n = series[0].values.length;
  const x = Array.from({ length: n }, (_, i) => `#${i}`);
  const data: Trace[] = series.map((s, k) => {
    if (s.values.length !== n) {
      throw new Error(`perSampleBars: "${s.name}" has ${s.values.length} values, expected ${n}`);
    }
    assertFinite(s.values, `perSampleBars "${s.name}"`);
    return {
      type: "bar",
      name: s.name,
      x,
      y: Array.from(s.values),
      marker: {
        color: colorAt(k),
        line: { color: "#000000", width: 1 },
        pattern: { shape: x.map((_, i) => (options.marked?.[i] ? "/" : "")) },
      },
    };
  });
  return {
    data,
    layout: paperLayout({
      ...(options.title ? { title: { text: options.title } } : {}),
      width: 860,
      height: 380,
      barmode: "group",
      xaxis: paperAxis("sample of the batch", { type: "category" }),
      yaxis: paperAxis(options.yTitle ?? ""),
      showlegend: series.length > 1,
      legend: { orientation: "h", y: -0.25, x: 0.5, xanchor: "center" },
      margin: { l: 70, r: 20, t: 60, b: series.length > 1 ? 100 : 60 },
    }),
  };
}

/** Axis titles and title of {@link agreementScatter}. */
export interface AgreementOptions {
  /** Figure title. */
  title?: string;
  /** x axis title. */
  xTitle?: string;
  /** y axis title. */
  yTitle?: string;
}

/** Points (x_i, y_i) with the diagonal y = x: two computations of the same values agree. */
export function agreementScatter(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  options: AgreementOptions = {},
): Figure {
  if (x.length !== y.length) throw new Error(`agreementScatter: ${x.length} x vs ${y.length} y`);
  assertFinite(x, "agreementScatter x");
  assertFinite(y, "agreementScatter y");
  const all = [...Array.from(x), ...Array.from(y)];
  const lo = Math.min(...all), hi = Math.max(...all), pad = 0.05 * (hi - lo || 1);
  return {
    data: [
      {
        type: "scatter",
        mode: "lines",
        x: [lo - pad, hi + pad],
        y: [lo - pad, hi + pad],
        line: { color: "#999999", dash: "dash", width: 1 },
        name: "y = x",
        hoverinfo: "skip",
      },
      {
        type: "scatter",
        mode: "markers",
        x: Array.from(x),
        y: Array.from(y),
        text: Array.from(x, (_, i) => `#${i}`),
        marker: { color: colorAt(0), size: 9, line: { color: "#000000", width: 1 } },
        name: "samples",
      },
    ],
    layout: paperLayout({
      ...(options.title ? { title: { text: options.title } } : {}),
      width: 520,
      height: 480,
      showlegend: false,
      xaxis: paperAxis(options.xTitle ?? "", { range: [lo - pad, hi + pad] }),
      yaxis: paperAxis(options.yTitle ?? "", { range: [lo - pad, hi + pad] }),
      margin: { l: 80, r: 20, t: 60, b: 70 },
    }),
  };
}

/** Options of {@link mixingMap}. */
export interface MixingMapOptions {
  /** Mix weights w_i, to colour the mixed points (optional). */
  weights?: ArrayLike<number>;
  /** Figure title. */
  title?: string;
}

/**
 * The mixing of a batch on a plane: μ_i and z_i projected on the first two principal components
 * of μ (a linear map, so z_i stays on the segment μ_i — μ_p(i)); grey segments join each μ_i to
 * its partner, z_i is coloured by w_i.
 *
 * @param mu features μ, one row per sample.
 * @param mixed mixed features z, same shape.
 * @param perm pairing p.
 */
export function mixingMap(
  mu: readonly (readonly number[])[],
  mixed: readonly (readonly number[])[],
  perm: ArrayLike<number>,
  options: MixingMapOptions = {},
): Figure {
  const n = mu.length, d = mu[0]?.length ?? 0;
  if (n < 3 || mixed.length !== n || perm.length !== n) {
    throw new Error(`mixingMap: ${n} μ rows, ${mixed.length} z rows, pairing of ${perm.length}`);
  }
  const p = pca(mu.map((r) => Array.from(r)), 2);
  const project = (row: readonly number[]) => {
    const out = [0, 0];
    for (let c = 0; c < 2; c++) {
      for (let j = 0; j < d; j++) out[c] += (row[j] - p.mean[j]) * p.components[c * d + j];
    }
    return out;
  };
  const m2 = mu.map(project), z2 = mixed.map(project);
  const segX: (number | null)[] = [], segY: (number | null)[] = [];
  for (let i = 0; i < n; i++) {
    segX.push(m2[i][0], m2[perm[i]][0], null);
    segY.push(m2[i][1], m2[perm[i]][1], null);
  }
  const w = options.weights ? Array.from(options.weights) : null;
  return {
    data: [
      {
        type: "scatter",
        mode: "lines",
        x: segX,
        y: segY,
        line: { color: "#BBBBBB", width: 1 },
        name: "μ_i — μ_p(i)",
        hoverinfo: "skip",
      },
      {
        type: "scatter",
        mode: "markers+text",
        x: m2.map((v) => v[0]),
        y: m2.map((v) => v[1]),
        text: m2.map((_, i) => `${i}`),
        textposition: "top center",
        textfont: { size: 10, color: "#555555" },
        marker: { color: "#000000", size: 6, symbol: "circle-open" },
        name: "μ_i",
      },
      {
        type: "scatter",
        mode: "markers",
        x: z2.map((v) => v[0]),
        y: z2.map((v) => v[1]),
        text: z2.map((_, i) => `z_${i}${w ? `, w = ${w[i].toFixed(3)}` : ""}`),
        marker: w
          ? {
            color: w,
            cmin: 0,
            cmax: 1,
            colorscale: "Viridis",
            size: 9,
            colorbar: { title: { text: "w_i" }, thickness: 12 },
          }
          : { color: colorAt(0), size: 9 },
        name: "z_i",
      },
    ],
    layout: paperLayout({
      ...(options.title ? { title: { text: options.title } } : {}),
      width: 640,
      height: 520,
      xaxis: paperAxis("PC 1 of μ"),
      yaxis: paperAxis("PC 2 of μ"),
      legend: { orientation: "h", y: -0.18, x: 0.5, xanchor: "center" },
      margin: { l: 70, r: 20, t: 60, b: 90 },
    }),
  };
}
