/**
 * Self-contained HTML for Plotly figures: plotly.js is read from the npm package
 * `plotly.js-dist-min` (no CDN, works offline) and can be inlined once and reused by later
 * figures through the `window.Plotly` global.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Figure } from "./figure.ts";

let plotlySource: string | undefined;

/** Absolute path of `plotly.min.js` from the installed `plotly.js-dist-min` package. */
export function plotlyJsPath(): string {
  let url: string;
  try {
    url = import.meta.resolve("plotly.js-dist-min");
  } catch (e) {
    throw new Error(
      `plotly.js-dist-min is not installed (run \`npm ci\` in the repository root): ${e}`,
    );
  }
  return fileURLToPath(url);
}

/** The plotly.js bundle source (read once, cached). */
export function plotlyJsSource(): string {
  if (plotlySource === undefined) {
    const path = plotlyJsPath();
    try {
      plotlySource = readFileSync(path, "utf8");
    } catch (e) {
      throw new Error(`cannot read plotly.js from ${path} (run \`npm ci\`): ${e}`);
    }
  }
  return plotlySource;
}

/** Version of the bundled plotly.js (from its banner), e.g. "4.1.2". */
export function plotlyJsVersion(): string {
  return /plotly\.js v([0-9][^\s*]*)/.exec(plotlyJsSource().slice(0, 200))?.[1] ?? "unknown";
}

/**
 * A `<script>` element defining `window.Plotly` from the inlined bundle. The bundle runs inside
 * a function whose `module`, `exports` and `define` are undefined, so a page that has RequireJS
 * (classic Notebook) or CommonJS globals still gets the `window.Plotly` global. Skips work when
 * `window.Plotly` already exists.
 */
export function plotlyLoaderHtml(): string {
  const src = plotlyJsSource().replace(/<\/script/gi, "<\\/script");
  return `<script type="text/javascript">if (!window.Plotly) { (function (module, exports, define) {\n${src}\n}).call(window); }</script>`;
}

/** JSON safe to embed in a `<script>` element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

let counter = 0;

/** A fresh element id for a figure `<div>`. */
export function newFigureId(): string {
  counter++;
  const rnd = Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, "0");
  return `rul-plot-${rnd}-${counter}`;
}

/**
 * Folder, relative to a notebook's folder, from which notebook pages load plotly.js (the kernel
 * copies it there, see `ensureNotebookPlotly` in lib/plots/jupyter.ts; git-ignored). Jupyter serves
 * it under `files/`; it is not hidden (Jupyter does not serve dot-folders).
 */
export const NOTEBOOK_ASSETS_DIR = "_plotly";

/** plotly.js's path relative to a notebook's folder, e.g. `_plotly/plotly-4.1.2.min.js`. */
export function notebookPlotlyFile(): string {
  return `${NOTEBOOK_ASSETS_DIR}/plotly-${plotlyJsVersion()}.min.js`;
}

/** Options of {@link figureHtml}. */
export interface FigureHtmlOptions {
  /** Inline plotly.js in this fragment (default false: load it from the notebook's folder). */
  includePlotly?: boolean;
  /** Element id of the figure's `<div>` (default a fresh random id). */
  id?: string;
  /** plotly.js relative to the notebook's folder (default {@link notebookPlotlyFile}). */
  plotlySrc?: string;
  /**
   * A static image of the figure (a `data:image/png` or `data:image/svg+xml` URL), shown where
   * no script runs (nbconvert HTML, GitHub, an untrusted notebook) and until the chart is drawn.
   */
  fallbackImage?: string | null;
  /**
   * The notebook's folder as the kernel sees it (its working directory; absolute, and also
   * `~`-relative), from which JupyterLab / Notebook 7 pages find plotly.js (see {@link loaderJs}).
   */
  notebookDirs?: readonly string[];
}

/**
 * The page-side loader of plotly.js, shared by all figures of a page (`window.__rulPlotly`, a
 * promise of `window.Plotly`). It never guesses the notebook's folder from the page's address
 * (JupyterLab's address is often a folder or a workspace, not the notebook). The URLs it tries:
 * - classic Notebook: `<body data-base-url data-notebook-path>` (the server's own record of the
 *   notebook's path);
 * - JupyterLab / Notebook 7: the server's base URL and root folder from the page config
 *   (`jupyter-config-data`: `baseUrl`, `serverRoot`) and the notebook's folder that the kernel
 *   wrote into the figure (`dirs`: its working directory, absolute and `~`-relative); when the
 *   folder is not under `serverRoot` (or the page has none), the open sessions' notebook paths
 *   (`api/sessions`) whose folder ends the kernel's folder;
 * - a page that is not Jupyter (an HTML export saved in the notebook's folder): the path relative
 *   to the page.
 *
 * Over http it fetches the file and runs it with `module`, `exports` and `define` hidden, so
 * RequireJS (classic Notebook) does not capture it; on `file:` pages it adds a `<script>` element.
 * A failure is not cached: the next figure tries again, and a later success draws the figures
 * that failed before (`window.__rulRetry`).
 */
function loaderJs(rel: string, dirs: readonly string[]): string {
  return `function rulLoadPlotly(rel, dirs) {
  var w = window;
  if (w.Plotly) return Promise.resolve(w.Plotly);
  if (w.__rulPlotly) return w.__rulPlotly;
  var urls = [], seen = {};
  function add(u) { if (u && !seen[u]) { seen[u] = 1; urls.push(u); } }
  function dir(p) { var i = p.lastIndexOf("/"); return i < 0 ? "" : p.slice(0, i + 1); }
  function enc(p) { return p.split("/").map(encodeURIComponent).join("/"); }
  function under(root, d) {
    root = root.replace(/\\/+$/, "");
    if (d === root) return "";
    return d.indexOf(root + "/") === 0 ? d.slice(root.length + 1) + "/" : null;
  }
  var b = document.body, jupyter = false;
  var base = b && b.getAttribute("data-base-url"), nbp = b && b.getAttribute("data-notebook-path");
  if (base !== null && nbp !== null && base !== undefined) {
    jupyter = true;
    add(base + "files/" + enc(dir(decodeURIComponent(nbp)) + rel));
  }
  var cfg = null, el = document.getElementById("jupyter-config-data");
  try { if (el) cfg = JSON.parse(el.textContent); } catch (e) {}
  var lbase = (cfg && cfg.baseUrl) || "/", found = false;
  if (cfg) {
    jupyter = true;
    if (typeof cfg.serverRoot === "string") {
      dirs.forEach(function (d) {
        var r = under(cfg.serverRoot, d);
        if (r !== null) { found = true; add(lbase + "files/" + enc(r + rel)); }
      });
    }
  }
  if (!jupyter) add(rel);
  function sessions() {
    // The server's open sessions: a notebook whose folder ends the kernel's folder.
    if (!cfg || found || !dirs.length) return Promise.resolve();
    return fetch(lbase + "api/sessions", { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.json() : [];
    }).then(function (list) {
      var best = null;
      (list || []).forEach(function (s) {
        var sd = dir(String(s.path || s.notebook && s.notebook.path || ""));
        if (dirs.some(function (d) { return sd === "" || (d + "/").slice(-sd.length - 1) === "/" + sd; })) {
          if (best === null || sd.length > best.length) best = sd;
        }
      });
      if (best !== null) add(lbase + "files/" + enc(best + rel));
    }, function () {});
  }
  function viaFetch(u) {
    return fetch(u, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error(u + ": HTTP " + r.status);
      return r.text();
    }).then(function (src) {
      if (!w.Plotly) (new Function("module", "exports", "define", src + "\\n//# sourceURL=" + u)).call(w);
      if (!w.Plotly) throw new Error(u + ": no Plotly");
      return w.Plotly;
    });
  }
  function viaScript(u) {
    return new Promise(function (resolve, reject) {
      var s = document.createElement("script"), d = w.define;
      w.define = undefined;
      s.onload = function () { w.define = d; w.Plotly ? resolve(w.Plotly) : reject(new Error(u)); };
      s.onerror = function () { w.define = d; reject(new Error(u + ": not found")); };
      s.src = u;
      document.head.appendChild(s);
    });
  }
  var http = /^https?:$/.test(location.protocol), i = 0, errs = [];
  function next(err) {
    if (err) errs.push(err.message || String(err));
    if (i >= urls.length) {
      w.__rulPlotly = null;
      return Promise.reject(new Error(errs.length ? errs.join("; ") : "no URL to load it from"));
    }
    var u = urls[i++];
    return (http ? viaFetch(u) : viaScript(u)).catch(next);
  }
  w.__rulPlotly = sessions().then(function () { return next(); }).then(function (P) {
    (w.__rulRetry || []).splice(0).forEach(function (f) { f(P); });
    return P;
  });
  return w.__rulPlotly;
}` + `\nvar rulPlotlyRel = ${JSON.stringify(rel)}, rulDirs = ${scriptJson(dirs)};`;
}

/**
 * An HTML fragment that draws `fig` with `Plotly.newPlot`. Unless plotly.js is inlined
 * (`includePlotly`), the fragment loads it from the notebook's folder (see {@link loaderJs} and
 * {@link NOTEBOOK_ASSETS_DIR}): every figure loads or reuses plotly.js by itself, so figures draw
 * after a cell is re-run, outputs are cleared, the page is reloaded or a saved notebook is
 * reopened, and the saved notebook stays small. Until the chart is drawn, and where no script
 * runs, the div shows `fallbackImage` and a note. A figure wider than the output area is drawn at
 * the area's width, and the title is left-aligned, clear of Plotly's toolbar (top right).
 *
 * @param fig the figure.
 * @param options see {@link FigureHtmlOptions}.
 */
export function figureHtml(fig: Figure, options: FigureHtmlOptions = {}): string {
  const id = options.id ?? newFigureId();
  if (!/^[A-Za-z][\w-]*$/.test(id)) throw new Error(`figureHtml: bad element id "${id}"`);
  const w = Number(fig.layout.width) || 640, h = Number(fig.layout.height) || 480;
  const spec = scriptJson({
    data: fig.data,
    layout: fig.layout,
    config: { displaylogo: false, ...fig.config },
  });
  const rel = options.plotlySrc ?? notebookPlotlyFile();
  const draw = `(function () {
  var spec = ${spec}, id = ${JSON.stringify(id)};
  function draw(P) {
    var gd = document.getElementById(id);
    if (!gd) return;
    var layout = Object.assign({}, spec.layout), avail = gd.parentElement ? gd.parentElement.clientWidth : 0;
    if (avail > 200 && layout.width > avail) {
      layout.width = avail;
      gd.style.width = avail + "px";
    }
    // The toolbar sits at the top right: a left-aligned title stays clear of it.
    if (layout.title) {
      var t = typeof layout.title === "string" ? { text: layout.title } : layout.title;
      layout.title = Object.assign({}, t, { x: 0.01, xanchor: "left" });
    }
    gd.innerHTML = "";
    P.newPlot(gd, spec.data, layout, spec.config);
  }
  ${
    options.includePlotly ? "draw(window.Plotly);" : `${loaderJs(rel, options.notebookDirs ?? [])}
  rulLoadPlotly(rulPlotlyRel, rulDirs).then(draw, function (e) {
    var gd = document.getElementById(id), note = gd && gd.querySelector(".rul-plotly-note");
    (window.__rulRetry = window.__rulRetry || []).push(draw);
    if (note) note.textContent = "Static image: plotly.js (" + rulPlotlyRel + " beside the notebook) could not be loaded: " + (e && e.message) + ". Run bash tools/setup_kernel.sh, then re-run this cell.";
    if (window.console) console.warn("rul figure: plotly.js not loaded:", e);
  });`
  }
})();`;
  const img = options.fallbackImage
    ? `<img src="${options.fallbackImage}" alt="${
      escapeHtml(figureTitle(fig) ?? "figure")
    }" style="display:block;width:${w}px;max-width:100%;height:auto;">`
    : "";
  const note = options.includePlotly
    ? ""
    : `<div class="rul-plotly-note" style="font:12px sans-serif;color:#666;">${
      img
        ? "Static image: the interactive chart needs the notebook open in Jupyter, trusted, with its scripts run (not nbconvert HTML, GitHub or nbviewer)."
        : "Loading plotly.js…"
    }</div>`;
  return (options.includePlotly ? plotlyLoaderHtml() : "") +
    `<div id="${id}" class="rul-plotly-figure" style="width:${w}px;min-height:${
      img ? 0 : h
    }px;max-width:100%;">${img}${note}</div>` +
    `<script type="text/javascript">${draw}</script>`;
}

/** The figure's title text, if any. */
export function figureTitle(fig: Figure): string | undefined {
  const t = fig.layout.title as { text?: string } | string | undefined;
  return typeof t === "string" ? t : t?.text;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * A complete standalone HTML page (plotly.js inlined) showing one or more figures, e.g. to save
 * next to a paper's PNGs.
 *
 * @param figs figures, drawn top to bottom.
 * @param title page title.
 */
export function standaloneHtml(figs: Figure | readonly Figure[], title = "figure"): string {
  const list = Array.isArray(figs) ? figs : [figs as Figure];
  const esc = escapeHtml(title);
  return `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${esc}</title>` +
    `<style>body{margin:0;background:#fff}</style>${plotlyLoaderHtml()}</head><body>` +
    list.map((f) => figureHtml(f, { includePlotly: false, plotlySrc: "" })).join("\n") +
    `</body></html>\n`;
}
