/**
 * Plotly figure type and the paper defaults shared by every figure builder: white background,
 * readable font sizes, the Okabe-Ito colour-blind-safe palette and the RAF-DB class names.
 *
 * @module
 */
import { RAF_DB_CLASSES } from "../data/classes.ts";

/** A Plotly trace (kept loose: any Plotly trace attributes). */
export type Trace = Record<string, unknown>;

/** A Plotly figure spec: what `Plotly.newPlot(div, data, layout, config)` takes. */
export interface Figure {
  /** Traces. */
  data: Trace[];
  /** Layout (titles, axes, size, …). */
  layout: Record<string, unknown>;
  /** Optional Plotly config (e.g. `{ responsive: true }`). */
  config?: Record<string, unknown>;
}

/** RAF-DB basic-expression classes in label order 0–6 (the list of `lib/data/classes.ts`). */
export const RAF_DB_CLASS_NAMES: readonly string[] = RAF_DB_CLASSES;

/**
 * Okabe-Ito palette (Okabe & Ito 2008), colour-blind safe; 7 colours for the 7 classes
 * (black omitted), plus grey as an 8th.
 */
export const OKABE_ITO: readonly string[] = Object.freeze([
  "#E69F00", // orange
  "#56B4E9", // sky blue
  "#009E73", // bluish green
  "#F0E442", // yellow
  "#0072B2", // blue
  "#D55E00", // vermillion
  "#CC79A7", // reddish purple
  "#999999", // grey
]);

/** Colour for class/series index `i` (cycles through {@link OKABE_ITO}). */
export function colorAt(i: number): string {
  return OKABE_ITO[((i % OKABE_ITO.length) + OKABE_ITO.length) % OKABE_ITO.length];
}

/** Base font size (pt) of paper figures. */
export const PAPER_FONT_SIZE = 14;

/** Axis defaults for paper figures: dark axis lines, light grid, outside ticks. */
export function paperAxis(
  title?: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const axis: Record<string, unknown> = {
    ...(title !== undefined ? { title: { text: title } } : {}),
    showline: true,
    linecolor: "#333333",
    linewidth: 1,
    mirror: true,
    ticks: "outside",
    gridcolor: "#E5E5E5",
    zeroline: false,
    automargin: true,
    ...extra,
  };
  // Plotly ignores (and Plotly.validate flags) styling of hidden features: drop it.
  if (axis.showgrid === false) delete axis.gridcolor;
  return axis;
}

/**
 * Layout with the paper defaults (white background, Arial-like font, palette, margins), merged
 * with `overrides` (shallow; overrides win).
 */
export function paperLayout(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    paper_bgcolor: "#FFFFFF",
    plot_bgcolor: "#FFFFFF",
    font: {
      family: "Arial, Helvetica, 'DejaVu Sans', sans-serif",
      size: PAPER_FONT_SIZE,
      color: "#222222",
    },
    colorway: [...OKABE_ITO],
    margin: { l: 70, r: 20, t: 50, b: 60 },
    width: 640,
    height: 480,
    ...overrides,
  };
}

/** Throws a clear error unless every value of `xs` is a finite number. */
export function assertFinite(xs: ArrayLike<number>, what: string): void {
  for (let i = 0; i < xs.length; i++) {
    if (typeof xs[i] !== "number" || !Number.isFinite(xs[i])) {
      throw new Error(`${what}: value at index ${i} is ${xs[i]} (expected a finite number)`);
    }
  }
}

/** Class name for label `i` (falls back to "class i"). */
export function className(names: readonly string[] | undefined, i: number): string {
  return names?.[i] ?? `class ${i}`;
}

/**
 * A one-panel figure of per-epoch traces spanning epochs `lo`..`hi`: the paper layout, an epoch
 * axis (integer ticks up to 15 epochs), the y label, a legend below, and an optional dotted grey
 * reference line (e.g. chance = 0.5 for an AUROC) appended to `data`.
 */
export function epochPanel(
  data: Trace[],
  lo: number,
  hi: number,
  options: { yLabel: string; title?: string; reference?: { y: number; name: string } },
): Figure {
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
