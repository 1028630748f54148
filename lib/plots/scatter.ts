/**
 * t-SNE (or PCA) scatter plot coloured by class.
 *
 * @module
 */
import {
  assertFinite,
  className,
  colorAt,
  type Figure,
  paperAxis,
  paperLayout,
  RAF_DB_CLASS_NAMES,
  type Trace,
} from "./figure.ts";

/** Options of {@link embeddingScatter}. */
export interface ScatterOptions {
  /** Class names by label (default the RAF-DB classes). */
  classNames?: readonly string[];
  /** Per-point uncertainty (any non-negative scale); shown by marker size or opacity. */
  uncertainty?: ArrayLike<number>;
  /** How uncertainty is shown: "size" (bigger = more uncertain) or "opacity" (fainter = more). */
  uncertaintyAs?: "size" | "opacity";
  /** Marker size in px (default 5; with uncertainty as size, the range is size..4·size). */
  markerSize?: number;
  /** Figure title (default none). */
  title?: string;
  /** Axis label prefix (default "t-SNE"). */
  axisPrefix?: string;
  /** Figure width / height in px (default 640 × 560). */
  width?: number;
  /** Figure height in px. */
  height?: number;
}

/**
 * Scatter of a 2-D embedding, one trace per class (so the legend lists class names), coloured
 * with the Okabe-Ito palette; WebGL (`scattergl`) is not used so that SVG export stays vector.
 *
 * @param embedding interleaved x,y positions (length 2N), e.g. `tsne(...).embedding`.
 * @param labels class of each point, integers 0..C−1.
 * @param options see {@link ScatterOptions}.
 */
export function embeddingScatter(
  embedding: ArrayLike<number>,
  labels: ArrayLike<number>,
  options: ScatterOptions = {},
): Figure {
  const n = labels.length;
  if (embedding.length !== 2 * n) {
    throw new Error(
      `embeddingScatter: embedding has ${embedding.length} values, expected 2 × ${n} labels`,
    );
  }
  assertFinite(embedding, "embeddingScatter embedding");
  const u = options.uncertainty;
  if (u) {
    if (u.length !== n) {
      throw new Error(`embeddingScatter: ${u.length} uncertainty values for ${n} points`);
    }
    assertFinite(u, "embeddingScatter uncertainty");
  }
  const names = options.classNames ?? RAF_DB_CLASS_NAMES;
  const size = options.markerSize ?? 5;
  let uMin = Infinity, uMax = -Infinity;
  if (u) {
    for (let i = 0; i < n; i++) {
      uMin = Math.min(uMin, u[i]);
      uMax = Math.max(uMax, u[i]);
    }
  }
  const norm = (v: number) => (uMax > uMin ? (v - uMin) / (uMax - uMin) : 0.5);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const l = labels[i];
    if (!Number.isInteger(l) || l < 0) {
      throw new Error(`embeddingScatter: label at index ${i} is ${l} (expected an integer >= 0)`);
    }
    let list = byClass.get(l);
    if (!list) byClass.set(l, list = []);
    list.push(i);
  }
  const data: Trace[] = [...byClass.keys()].sort((a, b) => a - b).map((c) => {
    const idx = byClass.get(c)!;
    const marker: Record<string, unknown> = {
      color: colorAt(c),
      size,
      line: { width: 0 },
      opacity: 0.8,
    };
    if (u) {
      if ((options.uncertaintyAs ?? "size") === "size") {
        marker.size = idx.map((i) => size * (1 + 3 * norm(u[i])));
      } else {
        marker.opacity = idx.map((i) => 1 - 0.85 * norm(u[i]));
      }
    }
    return {
      type: "scatter",
      mode: "markers",
      name: className(names, c),
      x: idx.map((i) => embedding[2 * i]),
      y: idx.map((i) => embedding[2 * i + 1]),
      marker,
      ...(u
        ? { customdata: idx.map((i) => u[i]), hovertemplate: "uncertainty %{customdata:.3f}" }
        : {}),
    };
  });
  const prefix = options.axisPrefix ?? "t-SNE";
  return {
    data,
    layout: paperLayout({
      ...(options.title ? { title: { text: options.title } } : {}),
      width: options.width ?? 640,
      height: options.height ?? 560,
      xaxis: paperAxis(`${prefix} 1`, { showgrid: false, showticklabels: false, ticks: "" }),
      yaxis: paperAxis(`${prefix} 2`, { showgrid: false, showticklabels: false, ticks: "" }),
      legend: { itemsizing: "constant", bgcolor: "rgba(255,255,255,0.8)" },
    }),
  };
}
