/**
 * Showing figures in Jupyter under the Deno kernel (`deno jupyter`).
 *
 * A figure's mime bundle has
 * - `text/html`: a `<div>` drawn by `Plotly.newPlot`; plotly.js (npm `plotly.js-dist-min`) is not
 *   embedded but loaded by the page from `_plotly/plotly-<version>.min.js` in the notebook's
 *   folder, which the kernel writes there ({@link ensureNotebookPlotly}; served by Jupyter under
 *   `files/`, no CDN). The page finds that folder from what the server and the kernel know, never
 *   from the page's address ({@link kernelNotebookDirs}; docs/figures.md). Every figure loads or
 *   reuses it by itself, so figures draw after a re-run, a clear, a browser reload and when a
 *   saved notebook is reopened (tested in classic Notebook 6, Notebook 7 and JupyterLab 4:
 *   tests/notebooks_browser*_test.ts), and saved notebooks stay small. The div holds the static
 *   image until the chart is drawn;
 * - `image/png`: a static rendering (headless Chromium, {@link FigureRenderer}), which nbconvert
 *   HTML, GitHub and nbviewer show where no script runs (left out when no Chromium is found or
 *   `RUL_STATIC_FIGURES=0`);
 * - `application/vnd.plotly.v1+json` (native renderer of JupyterLab's plotly extension, VS Code)
 *   and `text/plain`.
 *
 * Outside the kernel every display call is a safe no-op.
 *
 * @module
 */
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { writeFileAtomicSync } from "../io/atomic_write.ts";
import { FigureRenderer } from "./export.ts";
import type { Figure } from "./figure.ts";
import { figureHtml, figureTitle, notebookPlotlyFile, plotlyJsPath } from "./html.ts";

/** A Jupyter mime bundle. */
export type MimeBundle = Record<string, string | Record<string, unknown>>;

/** The kernel's display symbol (same as `Deno.jupyter.$display`). */
export const JUPYTER_DISPLAY: unique symbol = Symbol.for("Jupyter.display") as never;

const copied = new Set<string>();

/**
 * Copies plotly.js to `<dir>/_plotly/plotly-<version>.min.js` (atomically, once per folder and
 * session; skipped when an identical-size file is there), where notebook pages load it from.
 * `dir` defaults to the kernel's working directory, which is the notebook's folder. Returns the
 * file's path.
 */
export function ensureNotebookPlotly(dir: string = Deno.cwd()): string {
  const file = join(dir, notebookPlotlyFile());
  if (copied.has(file)) return file;
  const src = plotlyJsPath();
  if (!existsSync(file) || statSync(file).size !== statSync(src).size) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileAtomicSync(file, readFileSync(src));
  }
  copied.add(file);
  return file;
}

/** Renders a figure to a static PNG, or returns null when it cannot. */
export type StaticRenderer = (fig: Figure) => Promise<Uint8Array | null>;

let renderer: Promise<FigureRenderer | null> | null = null;
let renderQueue: Promise<unknown> = Promise.resolve();
let staticOverride: StaticRenderer | null | undefined;
let staticWarned = false;

/**
 * Replaces the static renderer of figure bundles (`null`: no static images, `undefined`: the
 * default, a headless Chromium started on first use and kept for the session).
 */
export function setStaticRenderer(r: StaticRenderer | null | undefined): void {
  staticOverride = r;
}

/** Closes the session's static renderer (Chromium), if one was started; the next figure starts a new one. */
export async function closeStaticRenderer(): Promise<void> {
  const r = await renderer;
  renderer = null;
  await r?.close();
}

/** The default static renderer: one Chromium per session, one render at a time. */
function defaultStatic(fig: Figure): Promise<Uint8Array | null> {
  if (Deno.env.get("RUL_STATIC_FIGURES") === "0") return Promise.resolve(null);
  renderer ??= FigureRenderer.launch().then((r) => {
    globalThis.addEventListener("unload", () => r.closeNow());
    return r;
  }, (e) => {
    if (!staticWarned) {
      console.warn(`figures: no static images (${(e as Error).message.split("\n")[0]})`);
      staticWarned = true;
    }
    return null;
  });
  const job = renderQueue.then(async () => {
    const r = await renderer;
    return r ? await r.render(fig, { format: "png", scale: 1 }) : null;
  });
  renderQueue = job.catch(() => {});
  return job;
}

/** Options of {@link figureBundle}. */
export interface BundleOptions {
  /** A static PNG of the figure (added as `image/png` and as the HTML's fallback image). */
  png?: Uint8Array | null;
  /** The notebook's folder (see `FigureHtmlOptions.notebookDirs`; {@link kernelNotebookDirs}). */
  notebookDirs?: readonly string[];
}

/**
 * The notebook's folder as the kernel knows it: its working directory (Jupyter starts a kernel in
 * its notebook's folder), absolute and, under `$HOME`, also as `~/...` (JupyterLab's page config
 * writes the server root that way). The page subtracts the server root to get the `files/` URL.
 */
export function kernelNotebookDirs(dir: string = Deno.cwd()): string[] {
  const abs = dir.replaceAll("\\", "/").replace(/\/+$/, "") || "/";
  const home = (Deno.env.get("HOME") ?? "").replace(/\/+$/, "");
  const dirs = [abs];
  if (home && (abs === home || abs.startsWith(`${home}/`))) dirs.push(`~${abs.slice(home.length)}`);
  return dirs;
}

function base64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/**
 * Mime bundle of a figure for Jupyter (see the module doc for the mime types); synchronous, with
 * the static image only when given ({@link figureBundleWithImage} renders it).
 *
 * @param fig the figure.
 * @param options see {@link BundleOptions}.
 */
export function figureBundle(fig: Figure, options: BundleOptions = {}): MimeBundle {
  const png = options.png ? base64(options.png) : null;
  const title = figureTitle(fig);
  return {
    "text/html": figureHtml(fig, {
      fallbackImage: png ? `data:image/png;base64,${png}` : null,
      notebookDirs: options.notebookDirs,
    }),
    ...(png ? { "image/png": png } : {}),
    "application/vnd.plotly.v1+json": {
      data: fig.data,
      layout: fig.layout,
      ...(fig.config ? { config: fig.config } : {}),
    },
    "text/plain": `<Plotly figure: ${fig.data.length} trace(s)${title ? `, "${title}"` : ""}>`,
  };
}

/**
 * {@link figureBundle} with the static PNG rendered (see {@link setStaticRenderer}); when
 * displayed from the kernel, also copies plotly.js next to the notebook
 * ({@link ensureNotebookPlotly}). A failing static render leaves the image out.
 */
export async function figureBundleWithImage(fig: Figure): Promise<MimeBundle> {
  let notebookDirs: string[] | undefined;
  if (displayTarget() && override === undefined) {
    notebookDirs = kernelNotebookDirs(dirname(dirname(ensureNotebookPlotly())));
  }
  let png: Uint8Array | null = null;
  try {
    png = await (staticOverride === undefined ? defaultStatic : staticOverride ?? noStatic)(fig);
  } catch (e) {
    if (!staticWarned) console.warn(`figures: static image failed: ${(e as Error).message}`);
    staticWarned = true;
  }
  return figureBundle(fig, { png, notebookDirs });
}

const noStatic: StaticRenderer = () => Promise.resolve(null);

/** A figure that the Deno kernel displays when it is the value of a cell. */
export interface DisplayableFigure {
  /** The wrapped figure. */
  figure: Figure;
  /** Called (and awaited) by the kernel: returns the mime bundle. */
  [JUPYTER_DISPLAY](): Promise<MimeBundle>;
}

/**
 * Wraps a figure so that ending a notebook cell with it renders the chart
 * (`show(embeddingScatter(...))`).
 */
export function show(fig: Figure): DisplayableFigure {
  return { figure: fig, [JUPYTER_DISPLAY]: () => figureBundleWithImage(fig) };
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
  await j.display(await figureBundleWithImage(fig), {
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
 * id), e.g. training curves refreshed every epoch. Each sent state is a full bundle (with its
 * static image), so a notebook saved at any moment shows the figure. Outside Jupyter all methods
 * are no-ops that only remember the latest figure.
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
    const bundle = await figureBundleWithImage(fig);
    await j.display(bundle, {
      raw: true,
      display_id: this.displayId,
      ...(this.shown ? { update: true } : {}),
    });
    this.shown = true;
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
