/**
 * Helpers for the notebook tests: find Jupyter, run `tools/run_notebooks.py`, read executed
 * notebooks, render them to HTML and check the rendered Plotly charts in headless Chromium.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import pngjs from "pngjs";
import { chromiumArgs, findChromium } from "../../lib/plots/export.ts";

/** The part of pngjs's API used here (the package ships no type declarations). */
interface PngSync {
  sync: { read(buf: Buffer): { width: number; height: number; data: Uint8Array } };
}
const PNG = (pngjs as unknown as { PNG: PngSync }).PNG;

/** Repository root (absolute, with a trailing slash). */
export const ROOT: string = new URL("../../", import.meta.url).pathname;
/**
 * The Python with nbformat / jupyter_client / nbconvert, as tools/jupyter_python.sh picks it
 * (`$RUL_JUPYTER_PYTHON`, the repository's `.venv-jupyter`, Debian's /usr/bin/python3).
 */
export const PYTHON: string = jupyterPython();

function jupyterPython(): string {
  try {
    const out = new Deno.Command("bash", {
      args: [`${ROOT}tools/jupyter_python.sh`, "--which"],
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    const py = new TextDecoder().decode(out.stdout).trim();
    if (out.success && py) return py;
  } catch { /* no bash: Debian's Python */ }
  return "/usr/bin/python3";
}
/** Plotly's notebook mime type. */
export const PLOTLY_MIME = "application/vnd.plotly.v1+json";

/** Result of running a command to completion. */
export interface RunResult {
  /** Exit status. */
  code: number;
  /** Captured standard output. */
  stdout: string;
  /** Captured standard error. */
  stderr: string;
}

/** Runs a command to completion, capturing its output. */
export async function runCmd(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<RunResult> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

function runSync(cmd: string, args: string[]): RunResult | null {
  try {
    const out = new Deno.Command(cmd, { args, cwd: ROOT, stdout: "piped", stderr: "piped" })
      .outputSync();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } catch {
    return null;
  }
}

/**
 * Why the notebook tests cannot run here (Jupyter or its Python modules missing), or null when
 * they can. Registers the Deno kernel (tools/setup_kernel.sh) when it is not registered yet.
 */
export function jupyterMissing(): string | null {
  const mods = runSync(PYTHON, ["-c", "import nbformat, jupyter_client, nbconvert"]);
  if (mods === null) {
    return `${PYTHON} not found (bash .ci/setup, or apt-get install python3-nbclient)`;
  }
  if (mods.code !== 0) {
    return `Jupyter's Python modules are missing (apt-get install python3-nbclient ` +
      `jupyter-nbconvert): ${mods.stderr.trim().split("\n").pop()}`;
  }
  const spec = runSync(PYTHON, [
    "-c",
    "import os,sys;from jupyter_client.kernelspec import KernelSpecManager as K\n" +
    "try:\n  s=K().get_kernel_spec('deno');sys.exit(0 if os.path.exists(s.argv[0]) else 1)\n" +
    "except Exception: sys.exit(1)",
  ]);
  if (spec?.code !== 0) {
    const setup = runSync("bash", [`${ROOT}tools/setup_kernel.sh`]);
    if (setup?.code !== 0) {
      return `could not register the Deno kernel: ${setup?.stderr ?? "bash not found"}`;
    }
  }
  return null;
}

/** Options for {@link runNotebooks}. */
export interface RunOptions {
  /** Folder for the executed copies. */
  out: string;
  /** Environment variables passed to the kernel (`--set NAME=VALUE`). */
  set?: Record<string, string>;
  /**
   * Seconds a running cell may go without any output before it counts as stuck (default 300):
   * cells that work long print progress, so the limit follows the work, not a fixed guess.
   */
  idleTimeout?: number;
}

/** Runs notebooks with the committed runner; returns its exit status and output. */
export function runNotebooks(paths: string[], opts: RunOptions): Promise<RunResult> {
  const args = [`${ROOT}tools/run_notebooks.py`, ...paths, "--out", opts.out];
  for (const [k, v] of Object.entries(opts.set ?? {})) args.push("--set", `${k}=${v}`);
  args.push("--idle-timeout", String(opts.idleTimeout ?? 300), "--quiet", "1.0");
  return runCmd(PYTHON, args);
}

/** One output of a notebook code cell (nbformat 4). */
export interface NbOutput {
  /** stream | display_data | execute_result | error. */
  output_type: string;
  /** Stream name (stdout / stderr). */
  name?: string;
  /** Stream text (string or list of lines). */
  text?: string | string[];
  /** Mime bundle of display outputs. */
  data?: Record<string, unknown>;
}

/** A notebook cell (nbformat 4). */
export interface NbCell {
  /** code | markdown | raw. */
  cell_type: string;
  /** Cell source (string or list of lines). */
  source: string | string[];
  /** Outputs of a code cell. */
  outputs?: NbOutput[];
}

/** A notebook (nbformat 4), as far as the tests read it. */
export interface Notebook {
  /** The cells in order. */
  cells: NbCell[];
  /** Notebook metadata. */
  metadata: Record<string, unknown>;
}

/** Reads a notebook file. */
export function readNotebook(path: string): Notebook {
  return JSON.parse(Deno.readTextFileSync(path)) as Notebook;
}

/** Joins nbformat's string-or-lines fields. */
export function joinText(t: string | string[] | unknown): string {
  return Array.isArray(t) ? t.join("") : typeof t === "string" ? t : "";
}

/** All stdout text of a notebook. */
export function streamText(nb: Notebook): string {
  return nb.cells.flatMap((c) => c.outputs ?? []).filter((o) => o.output_type === "stream")
    .map((o) => joinText(o.text)).join("");
}

/** Whether an output is a Plotly figure (Plotly mime, or HTML that draws with Plotly). */
export function isPlotlyOutput(o: NbOutput): boolean {
  if (!o.data) return false;
  if (PLOTLY_MIME in o.data) return true;
  const html = joinText(o.data["text/html"]);
  return /Plotly\.(newPlot|react)\s*\(/.test(html);
}

/** Number of Plotly figures in a notebook's outputs. */
export function countPlotlyOutputs(nb: Notebook): number {
  return nb.cells.flatMap((c) => c.outputs ?? []).filter(isPlotlyOutput).length;
}

/** Number of non-white pixels (any channel below 245) of a PNG image. */
export function nonWhitePixels(png: Uint8Array): { count: number; total: number } {
  const img = PNG.sync.read(Buffer.from(png));
  let count = 0;
  const d: Uint8Array = img.data;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i + 3] > 0 && (d[i] < 245 || d[i + 1] < 245 || d[i + 2] < 245)) count++;
  }
  return { count, total: img.width * img.height };
}

/** One Plotly chart as rendered in the browser. */
export interface RenderedPlot {
  /** The chart's title text ("" when it has none). */
  title: string;
  /** Fraction of non-white pixels in the chart's screenshot. */
  inked: number;
  /** Screenshot size in pixels. */
  width: number;
  /** Screenshot size in pixels. */
  height: number;
}

/**
 * Opens an HTML file in headless Chromium (no network needed), waits for the Plotly charts to
 * render and screenshots each one; also saves a full-page screenshot to `pagePng`.
 */
export async function renderPlots(htmlPath: string, pagePng: string): Promise<RenderedPlot[]> {
  const { default: puppeteer } = await import("puppeteer-core");
  const userDataDir = Deno.makeTempDirSync({ prefix: "nb-chromium-" });
  const browser = await puppeteer.launch({
    executablePath: findChromium(),
    headless: true,
    args: chromiumArgs(userDataDir),
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 900 });
    await page.goto(`file://${htmlPath}`, { waitUntil: "load", timeout: 120_000 });
    // Charts render synchronously after plotly.js loads; give late ones a moment to settle.
    let last = -1;
    for (let i = 0; i < 20; i++) {
      const n = (await page.$$(".js-plotly-plot .main-svg")).length;
      if (n > 0 && n === last) break;
      last = n;
      await new Promise((r) => setTimeout(r, 500));
    }
    await page.screenshot({ path: pagePng, fullPage: true });
    const plots: RenderedPlot[] = [];
    for (const el of await page.$$(".js-plotly-plot")) {
      await el.scrollIntoView();
      const title = await el.evaluate((e) =>
        (e.querySelector(".gtitle")?.textContent ?? "").trim()
      );
      const shot = await el.screenshot({ type: "png" });
      const { count, total } = nonWhitePixels(new Uint8Array(shot));
      const img = PNG.sync.read(Buffer.from(shot));
      plots.push({ title, inked: count / total, width: img.width, height: img.height });
    }
    return plots;
  } finally {
    await browser.close();
    Deno.removeSync(userDataDir, { recursive: true });
  }
}
