/**
 * Showing figures in Jupyter under the Deno kernel (`deno jupyter`).
 *
 * The mime bundle has `text/html` (plotly.js from `plotly.js-dist-min` inlined by the first figure
 * of the kernel session, later figures reuse `window.Plotly`: works offline in JupyterLab,
 * classic Notebook, VS Code and `jupyter nbconvert --to html`), `application/vnd.plotly.v1+json`
 * (native renderer of JupyterLab / VS Code) and `text/plain`. Outside the kernel every display
 * call is a safe no-op.
 *
 * @module
 */
import type { Figure } from "./figure.ts";
import { figureHtml, plotlyJsVersion, plotlyLoaderHtml } from "./html.ts";

/** A Jupyter mime bundle. */
export type MimeBundle = Record<string, string | Record<string, unknown>>;

/** The kernel's display symbol (same as `Deno.jupyter.$display`). */
export const JUPYTER_DISPLAY: unique symbol = Symbol.for("Jupyter.display") as never;

let plotlyInlined = false;

/**
 * Forgets that plotly.js was inlined, so the next figure carries it again (call after clearing
 * all outputs of the notebook or restarting the browser tab, not the kernel).
 */
export function resetPlotlyInlining(): void {
  plotlyInlined = false;
}

/** Whether plotly.js has already been sent to the notebook by this kernel session. */
export function isPlotlyInlined(): boolean {
  return plotlyInlined;
}

/** Options of {@link figureBundle}. */
export interface BundleOptions {
  /** Inline plotly.js: "auto" (default: only the first time in this session), true or false. */
  inlinePlotly?: "auto" | boolean;
}

/**
 * Mime bundle of a figure for Jupyter (see the module doc for the mime types).
 *
 * @param fig the figure.
 * @param options see {@link BundleOptions}.
 */
export function figureBundle(fig: Figure, options: BundleOptions = {}): MimeBundle {
  const mode = options.inlinePlotly ?? "auto";
  const include = mode === true || (mode === "auto" && !plotlyInlined);
  const html = figureHtml(fig, { includePlotly: include });
  if (include) plotlyInlined = true;
  const title = (fig.layout.title as { text?: string } | undefined)?.text;
  return {
    "text/html": html,
    "application/vnd.plotly.v1+json": {
      data: fig.data,
      layout: fig.layout,
      ...(fig.config ? { config: fig.config } : {}),
    },
    "text/plain": `<Plotly figure: ${fig.data.length} trace(s)${title ? `, "${title}"` : ""}>`,
  };
}

/** A figure that the Deno kernel displays when it is the value of a cell. */
export interface DisplayableFigure {
  /** The wrapped figure. */
  figure: Figure;
  /** Called by the kernel: returns the mime bundle. */
  [JUPYTER_DISPLAY](): MimeBundle;
}

/**
 * Wraps a figure so that ending a notebook cell with it renders the chart
 * (`show(embeddingScatter(...))`).
 */
export function show(fig: Figure): DisplayableFigure {
  return { figure: fig, [JUPYTER_DISPLAY]: () => figureBundle(fig) };
}

/** The part of `Deno.jupyter` used here: `display(bundle, { raw, update, display_id })`. */
export interface DisplayTarget {
  /** Sends `display_data` (or `update_display_data` with `update: true`). */
  display(
    obj: unknown,
    options?: { raw?: boolean; update?: boolean; display_id?: string },
  ): Promise<void>;
}

let override: DisplayTarget | null | undefined;

/**
 * Routes displays to `target` instead of `Deno.jupyter` (e.g. to record the mime bundles a cell
 * would emit, or for another kernel); `null` disables display, `undefined` restores the default.
 */
export function setDisplayTarget(target: DisplayTarget | null | undefined): void {
  override = target;
}

/** The kernel's `Deno.jupyter` API, or undefined outside `deno jupyter` (where it throws). */
export function displayTarget(): DisplayTarget | undefined {
  if (override !== undefined) return override ?? undefined;
  try {
    // deno-lint-ignore no-explicit-any
    const j = (globalThis as any).Deno?.jupyter;
    return j && typeof j.display === "function" ? j : undefined;
  } catch {
    return undefined;
  }
}

/** Whether this code runs inside the Deno Jupyter kernel. */
export function inJupyter(): boolean {
  return displayTarget() !== undefined;
}

/**
 * Displays a figure now (also from inside loops / callbacks). Returns false (and does nothing)
 * outside Jupyter.
 *
 * @param fig the figure.
 * @param displayId optional display id (a later `update` with the same id replaces it).
 */
export async function displayFigure(fig: Figure, displayId?: string): Promise<boolean> {
  const j = displayTarget();
  if (!j) return false;
  await j.display(figureBundle(fig), {
    raw: true,
    ...(displayId ? { display_id: displayId } : {}),
  });
  return true;
}

/** Options of {@link LiveFigure}. */
export interface LiveFigureOptions {
  /** Minimum milliseconds between two sent updates (default 1000); the last one always lands. */
  minIntervalMs?: number;
  /** Display id (default a random one). */
  displayId?: string;
}

/**
 * A figure shown once and then updated in place (Jupyter `update_display_data` with a display
 * id), e.g. training curves refreshed every epoch. plotly.js is sent as its own, never-updated
 * output before the first figure, so updates stay small and the saved notebook still renders.
 * Outside Jupyter all methods are no-ops that only remember the latest figure.
 */
export class LiveFigure {
  /** The display id used for updates. */
  readonly displayId: string;
  /** The most recent figure passed to {@link LiveFigure.update}. */
  latest: Figure | undefined;
  private readonly minInterval: number;
  private shown = false;
  private lastSent = 0;
  private pending = false;

  /**
   * Creates a live figure (nothing is shown until the first {@link LiveFigure.update}).
   *
   * @param options see {@link LiveFigureOptions}.
   */
  constructor(options: LiveFigureOptions = {}) {
    this.minInterval = options.minIntervalMs ?? 1000;
    this.displayId = options.displayId ??
      `rul-live-${Math.floor(Math.random() * 2 ** 32).toString(16)}-${Date.now().toString(16)}`;
  }

  /**
   * Shows or updates the figure (throttled; call {@link LiveFigure.flush} at the end so the last
   * state is shown). Returns whether something was sent to the notebook.
   */
  async update(fig: Figure, force = false): Promise<boolean> {
    this.latest = fig;
    const j = displayTarget();
    if (!j) return false;
    const now = Date.now();
    if (this.shown && !force && now - this.lastSent < this.minInterval) {
      this.pending = true;
      return false;
    }
    if (!this.shown) {
      if (!plotlyInlined) {
        await j.display({
          "text/html": plotlyLoaderHtml(),
          "text/plain": `<plotly.js ${plotlyJsVersion()} loaded>`,
        }, { raw: true });
        plotlyInlined = true;
      }
      await j.display(figureBundle(fig, { inlinePlotly: false }), {
        raw: true,
        display_id: this.displayId,
      });
      this.shown = true;
    } else {
      await j.display(figureBundle(fig, { inlinePlotly: false }), {
        raw: true,
        update: true,
        display_id: this.displayId,
      });
    }
    this.lastSent = Date.now();
    this.pending = false;
    return true;
  }

  /** Sends the latest figure if a throttled update is still pending. */
  async flush(): Promise<boolean> {
    if (!this.pending || !this.latest) return false;
    return await this.update(this.latest, true);
  }
}
