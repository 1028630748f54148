/**
 * Static export of Plotly figures (PNG with a scale factor, SVG, PDF) through headless Chromium
 * driven by `puppeteer-core`; plotly.js is loaded from `node_modules`, the browser never touches
 * the network, and files are written atomically (temp file + rename).
 *
 * @module
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { extname, join } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { writeFileAtomicSync } from "../io/atomic_write.ts";
import type { Figure } from "./figure.ts";
import { plotlyJsPath } from "./html.ts";

/** Output formats of {@link exportFigure}. */
export type ImageFormat = "png" | "svg" | "pdf";

/** Options of {@link FigureRenderer.render} / {@link exportFigure}. */
export interface ExportOptions {
  /** Format (default: from the file extension, else "png"). */
  format?: ImageFormat;
  /** PNG pixel scale factor (default 2 — about 200 dpi at the figure's size in px ÷ 96 in). */
  scale?: number;
  /** Width in px (default the layout's width, else 640). */
  width?: number;
  /** Height in px (default the layout's height, else 480). */
  height?: number;
}

const CANDIDATES = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/usr/bin/google-chrome-stable",
  "/snap/bin/chromium",
  "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
  "/Applications/Chromium.app/Contents/MacOS/Chromium",
];

/**
 * Path of a Chromium/Chrome executable: `$CHROMIUM_PATH`, `$PUPPETEER_EXECUTABLE_PATH`, then the
 * usual install locations. Throws an error naming the install command when none exists.
 */
export function findChromium(): string {
  const env = (name: string) => {
    try {
      return Deno.env.get(name);
    } catch {
      return undefined;
    }
  };
  for (const name of ["CHROMIUM_PATH", "PUPPETEER_EXECUTABLE_PATH"]) {
    const p = env(name);
    if (p) {
      if (existsSync(p)) return p;
      throw new Error(
        `${name}=${p} does not exist; unset it or install Chromium: apt-get install chromium`,
      );
    }
  }
  for (const p of CANDIDATES) if (existsSync(p)) return p;
  throw new Error(
    "No Chromium or Chrome browser found for figure export (looked for " + CANDIDATES.join(", ") +
      "). Install it with `sudo apt-get install chromium` (Debian/Ubuntu) or set CHROMIUM_PATH.",
  );
}

/** Launch flags: headless, no sandbox/GPU, no network services, fresh profile. */
export function chromiumArgs(userDataDir: string): string[] {
  return [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    `--user-data-dir=${userDataDir}`,
  ];
}

/** Blocks every request except `data:`, `blob:`, `about:` and local `file:` URLs. */
async function offline(page: Page): Promise<void> {
  await page.setRequestInterception(true);
  page.on("request", (req) => {
    const url = req.url();
    if (/^(data|blob|about|file):/.test(url)) req.continue();
    else req.abort();
  });
}

function decodeDataUrl(url: string): Uint8Array {
  const comma = url.indexOf(",");
  const head = url.slice(0, comma), body = url.slice(comma + 1);
  if (head.endsWith(";base64")) {
    const bin = atob(body);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  return new TextEncoder().encode(decodeURIComponent(body));
}

/**
 * A headless Chromium holding plotly.js, reused across exports (launch once, render many,
 * {@link FigureRenderer.close} at the end).
 */
export class FigureRenderer {
  private constructor(
    private readonly browser: Browser,
    private readonly page: Page,
    private readonly profile: string,
  ) {}

  /** Starts Chromium (see {@link findChromium}) and loads plotly.js from node_modules. */
  static async launch(executablePath = findChromium()): Promise<FigureRenderer> {
    const profile = mkdtempSync(join(tmpdir(), "rul-chromium-"));
    let browser: Browser | undefined;
    try {
      browser = await puppeteer.launch({
        executablePath,
        headless: true,
        pipe: true,
        args: chromiumArgs(profile),
        // puppeteer's default SIGINT handler exits the process: in a notebook kernel (which keeps
        // a renderer for static figures) Kernel > Interrupt would kill the kernel instead of
        // stopping the trainer at its next step. The caller closes the browser.
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
      });
      const page = await browser.newPage();
      await offline(page);
      await page.setContent(
        `<!DOCTYPE html><html><head><meta charset="utf-8"><style>body{margin:0;background:#fff}</style></head><body><div id="gd"></div></body></html>`,
      );
      await page.addScriptTag({ path: plotlyJsPath() });
      return new FigureRenderer(browser, page, profile);
    } catch (e) {
      await browser?.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
      throw new Error(
        `cannot start Chromium at ${executablePath}: ${e instanceof Error ? e.message : e}`,
      );
    }
  }

  /**
   * Renders a figure to PNG, SVG or PDF bytes.
   *
   * @param fig the figure.
   * @param options see {@link ExportOptions}.
   */
  async render(fig: Figure, options: ExportOptions = {}): Promise<Uint8Array> {
    const format = options.format ?? "png";
    if (!["png", "svg", "pdf"].includes(format)) {
      throw new Error(`unknown image format "${format}"`);
    }
    const width = options.width ?? (Number(fig.layout.width) || 640);
    const height = options.height ?? (Number(fig.layout.height) || 480);
    const scale = options.scale ?? 2;
    if (!(scale > 0 && scale <= 20)) {
      throw new Error(`export scale must be in (0, 20], got ${scale}`);
    }
    const spec = { data: fig.data, layout: { ...fig.layout, width, height } };
    const url = await this.page.evaluate(
      async (s, fmt, w, h, sc) => {
        // deno-lint-ignore no-explicit-any
        const P = (globalThis as any).Plotly;
        // deno-lint-ignore no-explicit-any
        const gd = (globalThis as any).document.getElementById("gd");
        P.purge(gd);
        await P.newPlot(gd, s.data, s.layout, { staticPlot: true });
        const out = await P.toImage(gd, { format: fmt, width: w, height: h, scale: sc });
        P.purge(gd);
        return out as string;
      },
      spec,
      format === "png" ? "png" : "svg",
      width,
      height,
      scale,
    );
    const bytes = decodeDataUrl(url);
    if (format !== "pdf") return bytes;
    // PDF: print the vector SVG on a page of exactly the figure's size.
    const pdfPage = await this.browser.newPage();
    try {
      await offline(pdfPage);
      const svg = new TextDecoder().decode(bytes);
      await pdfPage.setContent(
        `<!DOCTYPE html><html><head><style>@page{size:${width}px ${height}px;margin:0}html,body{margin:0;padding:0;background:#fff}svg{display:block}</style></head><body>${svg}</body></html>`,
      );
      const pdf = await pdfPage.pdf({
        width: `${width}px`,
        height: `${height}px`,
        printBackground: true,
        pageRanges: "1",
      });
      return new Uint8Array(pdf);
    } finally {
      await pdfPage.close();
    }
  }

  /**
   * Screenshot (PNG) of an HTML file or URL after its Plotly figures have drawn, e.g. a notebook
   * converted with `jupyter nbconvert --to html`. Network requests are blocked.
   *
   * @param fileOrUrl a local path or a file:/data: URL.
   * @param options viewport size (default 1200 × 900), full page (default true), a timeout, and
   *   what to wait for: every figure drawn (`"charts"`, default) or their static images
   *   (`"images"`: every figure's fallback `<img>` loaded, for pages without plotly.js).
   */
  async screenshotPage(
    fileOrUrl: string,
    options: {
      width?: number;
      height?: number;
      fullPage?: boolean;
      timeoutMs?: number;
      waitFor?: "charts" | "images";
    } = {},
  ): Promise<Uint8Array> {
    const page = await this.browser.newPage();
    try {
      await offline(page);
      await page.setViewport({ width: options.width ?? 1200, height: options.height ?? 900 });
      const url = /^[a-z]+:/.test(fileOrUrl) ? fileOrUrl : `file://${fileOrUrl}`;
      await page.goto(url, { waitUntil: "load", timeout: options.timeoutMs ?? 60000 });
      // Wait until every Plotly figure div has been drawn, or shows its loaded static image.
      await page.waitForFunction(
        (images: boolean) => {
          // deno-lint-ignore no-explicit-any
          const d = (globalThis as any).document;
          const figs = d.querySelectorAll(".rul-plotly-figure");
          return figs.length > 0 &&
            [...figs].every((
              f: { querySelector(s: string): { complete?: boolean; naturalWidth?: number } },
            ) => {
              if (!images) return f.querySelector(".main-svg");
              const img = f.querySelector("img");
              return img && img.complete && (img.naturalWidth ?? 0) > 0;
            });
        },
        { timeout: options.timeoutMs ?? 60000 },
        options.waitFor === "images",
      );
      const shot = await page.screenshot({ type: "png", fullPage: options.fullPage ?? true });
      return new Uint8Array(shot);
    } finally {
      await page.close();
    }
  }

  /**
   * Checks a figure against plotly.js's own schema (`Plotly.validate`): returns its messages,
   * e.g. `"data[0].foo: unrecognized attribute"`; empty when the figure is valid.
   */
  async validate(fig: Figure): Promise<string[]> {
    const errors = await this.page.evaluate((s) => {
      // deno-lint-ignore no-explicit-any
      const out = (globalThis as any).Plotly.validate(s.data, s.layout);
      return (out ?? []) as { msg: string }[];
    }, { data: fig.data, layout: fig.layout });
    return errors.map((e) => e.msg);
  }

  /**
   * Kills the browser and deletes its profile synchronously (for `unload` handlers, where
   * {@link FigureRenderer.close} cannot be awaited).
   */
  closeNow(): void {
    try {
      this.browser.process()?.kill("SIGKILL");
    } finally {
      rmSync(this.profile, { recursive: true, force: true });
    }
  }

  /** Closes the browser and deletes its temporary profile. */
  async close(): Promise<void> {
    try {
      await this.browser.close();
    } finally {
      rmSync(this.profile, { recursive: true, force: true });
    }
  }
}

/** Format from a file name's extension (png, svg, pdf), or undefined. */
export function formatFromPath(path: string): ImageFormat | undefined {
  const e = extname(path).toLowerCase().slice(1);
  return e === "png" || e === "svg" || e === "pdf" ? e : undefined;
}

/**
 * Renders `fig` and writes it to `path` atomically; the format comes from `options.format` or the
 * extension. Launches a browser for this one call (use {@link FigureRenderer} for many figures).
 *
 * @param fig the figure.
 * @param path output file (.png, .svg or .pdf).
 * @param options see {@link ExportOptions}.
 */
export async function exportFigure(
  fig: Figure,
  path: string,
  options: ExportOptions = {},
): Promise<void> {
  const format = options.format ?? formatFromPath(path);
  if (!format) {
    throw new Error(`exportFigure: cannot tell the format of "${path}" (use .png, .svg or .pdf)`);
  }
  const r = await FigureRenderer.launch();
  try {
    writeFileAtomicSync(path, await r.render(fig, { ...options, format }));
  } finally {
    await r.close();
  }
}

/** Renders `fig` to bytes with a one-off browser (see {@link FigureRenderer.render}). */
export async function figureToImage(fig: Figure, options: ExportOptions = {}): Promise<Uint8Array> {
  const r = await FigureRenderer.launch();
  try {
    return await r.render(fig, options);
  } finally {
    await r.close();
  }
}
