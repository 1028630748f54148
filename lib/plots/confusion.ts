/**
 * Confusion-matrix heatmaps (counts and row-normalised).
 *
 * @module
 */
import { className, type Figure, paperAxis, paperLayout, RAF_DB_CLASS_NAMES } from "./figure.ts";

/**
 * Counts `[true][predicted]` from label and prediction arrays.
 *
 * @param labels true classes.
 * @param predictions predicted classes.
 * @param classes number of classes (default: 1 + largest value seen).
 */
export function confusionCounts(
  labels: ArrayLike<number>,
  predictions: ArrayLike<number>,
  classes?: number,
): number[][] {
  if (labels.length !== predictions.length) {
    throw new Error(
      `confusionCounts: ${labels.length} labels but ${predictions.length} predictions`,
    );
  }
  let c = classes ?? 0;
  if (classes === undefined) {
    for (let i = 0; i < labels.length; i++) c = Math.max(c, labels[i] + 1, predictions[i] + 1);
  }
  const m = Array.from({ length: c }, () => new Array<number>(c).fill(0));
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i], p = predictions[i];
    for (const [v, what] of [[t, "label"], [p, "prediction"]] as const) {
      if (!Number.isInteger(v) || v < 0 || v >= c) {
        throw new Error(`confusionCounts: ${what} at index ${i} is ${v} (expected 0..${c - 1})`);
      }
    }
    m[t][p]++;
  }
  return m;
}

/** Options of {@link confusionHeatmap}. */
export interface ConfusionOptions {
  /** Class names (default RAF-DB). */
  classNames?: readonly string[];
  /** "counts", "normalized" (rows sum to 1) or "both" (two panels; default "normalized"). */
  mode?: "counts" | "normalized" | "both";
  /** Figure title. */
  title?: string;
}

/**
 * Heatmap of a confusion matrix `m[true][predicted]`, true classes top to bottom, with the value
 * written in each cell (row-normalised cells show percentages).
 *
 * @param m square matrix of counts (see {@link confusionCounts}).
 * @param options see {@link ConfusionOptions}.
 */
export function confusionHeatmap(
  m: readonly (readonly number[])[],
  options: ConfusionOptions = {},
): Figure {
  const c = m.length;
  if (c === 0) throw new Error("confusionHeatmap: empty matrix");
  m.forEach((row, i) => {
    if (row.length !== c) {
      throw new Error(`confusionHeatmap: row ${i} has ${row.length} values, expected ${c}`);
    }
    row.forEach((v, j) => {
      if (!Number.isFinite(v) || v < 0) {
        throw new Error(`confusionHeatmap: cell [${i}][${j}] is ${v}`);
      }
    });
  });
  const names = Array.from(
    { length: c },
    (_, i) => className(options.classNames ?? RAF_DB_CLASS_NAMES, i),
  );
  const normalized = m.map((row) => {
    const s = row.reduce((a, b) => a + b, 0);
    return row.map((v) => (s > 0 ? v / s : 0));
  });
  const mode = options.mode ?? "normalized";
  const panels = mode === "both" ? ["counts", "normalized"] as const : [mode] as const;
  const data = panels.map((p, k) => {
    const z = p === "counts" ? m.map((r) => [...r]) : normalized;
    const text = z.map((r) =>
      r.map((v) => (p === "counts" ? String(v) : `${(100 * v).toFixed(1)}`))
    );
    return {
      type: "heatmap",
      x: names,
      y: names,
      z,
      text,
      texttemplate: "%{text}",
      textfont: { size: 12 },
      colorscale: [[0, "#F7FBFF"], [0.5, "#6BAED6"], [1, "#08306B"]],
      showscale: panels.length === 1,
      ...(p === "normalized" ? { zmin: 0, zmax: 1 } : {}),
      hovertemplate: "true %{y}<br>predicted %{x}<br>" + (p === "counts" ? "%{z}" : "%{z:.3f}") +
        "<extra></extra>",
      xaxis: k === 0 ? "x" : "x2",
      yaxis: k === 0 ? "y" : "y2",
    };
  });
  const axisY = (anchor: string) =>
    paperAxis("true", { autorange: "reversed", anchor, showgrid: false, ticks: "" });
  const layout = paperLayout({
    showlegend: false,
    ...(options.title ? { title: { text: options.title } } : {}),
    width: panels.length === 2 ? 1100 : 600,
    height: 540,
    xaxis: paperAxis("predicted", {
      domain: panels.length === 2 ? [0, 0.45] : [0, 1],
      showgrid: false,
      ticks: "",
      tickangle: -40,
    }),
    yaxis: axisY("x"),
    ...(panels.length === 2
      ? {
        xaxis2: paperAxis("predicted", {
          domain: [0.55, 1],
          anchor: "y2",
          showgrid: false,
          ticks: "",
          tickangle: -40,
        }),
        yaxis2: axisY("x2"),
        annotations: [
          { text: "counts", x: 0.225, y: 1.06, xref: "paper", yref: "paper", showarrow: false },
          {
            text: "row-normalised (%)",
            x: 0.775,
            y: 1.06,
            xref: "paper",
            yref: "paper",
            showarrow: false,
          },
        ],
      }
      : {}),
  });
  return { data, layout };
}
