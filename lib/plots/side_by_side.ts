/**
 * Side-by-side panels: combine single-panel figures (e.g. the t-SNE of RUL and of the baseline)
 * into one figure with one column per input, shared legend entries and a title per panel.
 *
 * @module
 */
import type { Figure, Trace } from "./figure.ts";
import { paperLayout } from "./figure.ts";

/** Options of {@link sideBySide}. */
export interface SideBySideOptions {
  /** Title of each panel (default the input figures' titles). */
  titles?: readonly string[];
  /** Overall title. */
  title?: string;
  /** Width in px (default 560 per panel). */
  width?: number;
  /** Height in px (default 520). */
  height?: number;
  /** Horizontal gap between panels as a fraction of the width (default 0.06). */
  gap?: number;
}

function titleText(fig: Figure): string {
  const t = fig.layout.title as { text?: string } | string | undefined;
  return typeof t === "string" ? t : t?.text ?? "";
}

/**
 * Put single-panel figures (traces on the default `x`/`y` axes) next to each other. Traces with
 * the same name share one legend entry (the first panel's), so class colours read across panels.
 *
 * @throws Error when no figure is given or a trace uses other axes than `x`/`y`.
 */
export function sideBySide(figs: readonly Figure[], options: SideBySideOptions = {}): Figure {
  if (figs.length === 0) throw new Error("sideBySide: no figures given");
  const n = figs.length;
  const gap = options.gap ?? 0.06;
  const w = (1 - gap * (n - 1)) / n;
  const layout: Record<string, unknown> = paperLayout({
    width: options.width ?? 560 * n,
    height: options.height ?? 520,
    ...(options.title ? { title: { text: options.title } } : {}),
    legend: figs[0].layout.legend ?? {},
  });
  const data: Trace[] = [];
  const annotations: Record<string, unknown>[] = [];
  const named = new Set<string>();
  figs.forEach((fig, i) => {
    const sx = i === 0 ? "" : String(i + 1);
    const x0 = i * (w + gap);
    for (const [j, t] of fig.data.entries()) {
      if ((t.xaxis ?? "x") !== "x" || (t.yaxis ?? "y") !== "y") {
        throw new Error(`sideBySide: figure ${i} trace ${j} is not on the x/y axes`);
      }
      const name = typeof t.name === "string" ? t.name : undefined;
      const first = name === undefined || !named.has(name);
      if (name) named.add(name);
      data.push({
        ...t,
        xaxis: `x${sx}`,
        yaxis: `y${sx}`,
        // a trace's own legend group (e.g. a variant's mean, band and seeds) is kept
        ...(name
          ? { legendgroup: t.legendgroup ?? name, showlegend: first && t.showlegend !== false }
          : {}),
      });
    }
    const ax = (a: unknown) => (typeof a === "object" && a !== null ? a : {});
    layout[`xaxis${sx}`] = { ...ax(fig.layout.xaxis), domain: [x0, x0 + w], anchor: `y${sx}` };
    layout[`yaxis${sx}`] = { ...ax(fig.layout.yaxis), anchor: `x${sx}` };
    const text = options.titles?.[i] ?? titleText(fig);
    if (text) {
      annotations.push({
        text,
        x: x0 + w / 2,
        y: 1.0,
        xref: "paper",
        yref: "paper",
        xanchor: "center",
        yanchor: "bottom",
        showarrow: false,
        font: { size: 15 },
      });
    }
  });
  layout.annotations = annotations;
  return { data, layout };
}
