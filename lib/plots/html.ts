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

/** Options of {@link figureHtml}. */
export interface FigureHtmlOptions {
  /** Inline plotly.js in this fragment (default false: use the `window.Plotly` global). */
  includePlotly?: boolean;
  /** Element id of the figure's `<div>` (default a fresh random id). */
  id?: string;
}

/**
 * An HTML fragment that draws `fig` with `Plotly.newPlot`. Without `includePlotly` it waits (up to
 * 10 s) for `window.Plotly` to appear, then shows an explanatory message instead of the chart.
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
  const draw = `(function () {
  var spec = ${spec};
  function draw() {
    var gd = document.getElementById(${JSON.stringify(id)});
    if (gd) window.Plotly.newPlot(gd, spec.data, spec.layout, spec.config);
  }
  if (window.Plotly) { draw(); return; }
  var tries = 0, timer = setInterval(function () {
    if (window.Plotly) { clearInterval(timer); draw(); }
    else if (++tries > 200) {
      clearInterval(timer);
      var gd = document.getElementById(${JSON.stringify(id)});
      if (gd) gd.textContent = "plotly.js is not loaded on this page: re-run the notebook from the top (the first figure carries plotly.js).";
    }
  }, 50);
})();`;
  return (options.includePlotly ? plotlyLoaderHtml() : "") +
    `<div id="${id}" class="rul-plotly-figure" style="width:${w}px;height:${h}px;max-width:100%;"></div>` +
    `<script type="text/javascript">${draw}</script>`;
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
  const esc = title.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${esc}</title>` +
    `<style>body{margin:0;background:#fff}</style>${plotlyLoaderHtml()}</head><body>` +
    list.map((f) => figureHtml(f)).join("\n") + `</body></html>\n`;
}
