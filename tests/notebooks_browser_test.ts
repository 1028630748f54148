/**
 * The training notebook as a researcher uses it: headless Chromium drives a real Jupyter
 * Notebook server (classic, started here) with the Deno kernel. It runs 02 to the end (quick
 * scale, 2 epochs), starts a second training run and interrupts it mid-epoch with the toolbar's
 * ■ button (the kernel stays alive, the stop is written as `checkpoints/stopped.safetensors`),
 * re-runs a figure cell, saves, reloads the page, and reopens the saved notebook in a fresh tab;
 * at each stage every figure must have a drawn Plotly plot area (never the "not loaded"
 * message). Only the local server is reachable from the page (everything else is blocked).
 * Screenshots of each stage (the page, and every figure) go to the folder the test prints.
 */
import { Buffer } from "node:buffer";
import pngjs from "pngjs";
import type { Browser, Page } from "puppeteer-core";
import { assert, assertEquals, assertStringIncludes } from "./_assert.ts";
import {
  joinText,
  jupyterMissing,
  nonWhitePixels,
  type Notebook,
  readNotebook,
  ROOT,
} from "./notebooks/harness.ts";
import { chromiumArgs, findChromium } from "../lib/plots/export.ts";

const PNG = (pngjs as unknown as {
  PNG: { sync: { read(b: Buffer): { width: number; height: number } } };
}).PNG;

function browserMissing(): string | null {
  const j = jupyterMissing();
  if (j) return j;
  try {
    findChromium();
  } catch (e) {
    return (e as Error).message;
  }
  const nb = new Deno.Command("/usr/bin/python3", { args: ["-c", "import notebook.notebookapp"] })
    .outputSync();
  return nb.success ? null : "the classic Jupyter Notebook server is missing (jupyter-notebook)";
}

const missing = browserMissing();
if (missing) console.warn(`notebooks_browser_test: SKIPPED: ${missing}`);

const TRAIN = "02_train_rul.ipynb";
/** Generous per-stage limits; the cells themselves print progress. */
const STAGE_MS = 30 * 60_000;

/** A figure on the page as the browser drew it. */
interface DrawnFigure {
  /** Title text of the chart. */
  title: string;
  /** Whether Plotly drew the plot area (`.main-svg` with a trace or heatmap, or layout images). */
  drawn: boolean;
  /** Text of the figure's note (set when plotly.js could not be loaded). */
  note: string;
}

async function figures(page: Page): Promise<DrawnFigure[]> {
  return await page.evaluate(() => {
    // deno-lint-ignore no-explicit-any
    const d = (globalThis as any).document;
    return [...d.querySelectorAll(".rul-plotly-figure")].map((
      // deno-lint-ignore no-explicit-any
      f: any,
    ) => ({
      title: (f.querySelector(".gtitle")?.textContent ?? "").trim(),
      drawn: !!f.querySelector(".main-svg") &&
        !!f.querySelector(
          ".main-svg .trace, .main-svg .hm, .main-svg .heatmaplayer image, .layer-above image",
        ),
      note: (f.querySelector(".rul-plotly-note")?.textContent ?? "").trim(),
    }));
  });
}

/** Waits until every figure is drawn; asserts it, screenshots each chart, checks it has ink. */
async function checkFigures(page: Page, stage: string, shots: string, min: number) {
  const deadline = Date.now() + 120_000;
  let figs: DrawnFigure[] = [];
  while (Date.now() < deadline) {
    figs = await figures(page);
    if (figs.length >= min && figs.every((f) => f.drawn)) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  // The notebook scrolls inside its own element: a viewport shot of the top, then each figure.
  await page.screenshot({ path: `${shots}/${stage}.png` });
  assert(figs.length >= min, `${stage}: ${figs.length} figures on the page, expected ≥ ${min}`);
  for (const f of figs) {
    assert(f.drawn, `${stage}: figure "${f.title}" has no drawn plot area (note: "${f.note}")`);
    assert(!/not loaded|needs plotly/i.test(f.note), `${stage}: "${f.title}": ${f.note}`);
  }
  const els = await page.$$(".rul-plotly-figure");
  for (const [i, el] of els.entries()) {
    await el.scrollIntoView();
    const shot = new Uint8Array(await el.screenshot({ type: "png" }));
    Deno.writeFileSync(`${shots}/${stage}-figure${i + 1}.png`, shot);
    const { count, total } = nonWhitePixels(shot);
    const img = PNG.sync.read(Buffer.from(shot));
    assert(img.width > 100 && img.height > 100, `${stage}: figure ${i} is ${img.width} px wide`);
    assert(count / total > 0.01, `${stage}: figure ${i} ("${figs[i]?.title}") is blank`);
  }
  console.log(`${stage}: ${figs.length} figures drawn: ${figs.map((f) => f.title).join(" | ")}`);
}

/** Opens the notebook page and waits for its kernel. */
async function openNotebook(browser: Browser, base: string, token: string): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 1000 });
  const origin = new URL(base).origin;
  await page.setRequestInterception(true);
  page.on("request", (req) => {
    const url = req.url();
    // Offline: only the local Jupyter server (and inline data) is reachable.
    if (url.startsWith(origin) || /^(data|blob|about):/.test(url)) req.continue();
    else req.abort();
  });
  page.on("pageerror", (e) => console.warn(`page error: ${e}`));
  await page.goto(`${base}notebooks/${TRAIN}?token=${token}`, { waitUntil: "load" });
  await page.waitForFunction(
    // deno-lint-ignore no-explicit-any
    () => (globalThis as any).Jupyter?.notebook?.kernel?.is_connected?.() === true,
    { timeout: 120_000 },
  );
  // Count kernel deaths/restarts (e.g. the kernel killed for memory): the waits fail on them.
  await page.evaluate(() => {
    // deno-lint-ignore no-explicit-any
    const w = globalThis as any;
    w.__kernelDeaths = 0;
    w.Jupyter.notebook.events.on("kernel_dead.Kernel kernel_restarting.Kernel", () => {
      w.__kernelDeaths++;
    });
  });
  return page;
}

/** Index of the first code cell whose source contains `text`. */
async function cellIndex(page: Page, text: string): Promise<number> {
  const i = await page.evaluate((t: string) => {
    // deno-lint-ignore no-explicit-any
    const cells = (globalThis as any).Jupyter.notebook.get_cells() as any[];
    return cells.findIndex((c) => c.cell_type === "code" && c.get_text().includes(t));
  }, text);
  assert(i >= 0, `no cell contains "${text}"`);
  return i;
}

/** Waits until the given code cells (default all) have finished; fails on an error output. */
async function waitCells(page: Page, indices: number[] | null, what: string): Promise<void> {
  const deadline = Date.now() + STAGE_MS;
  while (true) {
    const state = await page.evaluate((only: number[] | null) => {
      // deno-lint-ignore no-explicit-any
      const nb = (globalThis as any).Jupyter.notebook;
      // deno-lint-ignore no-explicit-any
      const cells = (nb.get_cells() as any[]).map((c, i) => ({ c, i }))
        .filter(({ c, i }) => c.cell_type === "code" && (!only || only.includes(i)));
      const errors = cells.flatMap(({ c, i }) =>
        // deno-lint-ignore no-explicit-any
        (c.output_area.outputs as any[]).filter((o) => o.output_type === "error")
          .map((o) => `cell ${i}: ${o.ename}: ${o.evalue}`)
      );
      const busy = cells.filter(({ c }) => c.input_prompt_number === "*" || c.running).length;
      const unrun = cells.filter(({ c }) =>
        c.input_prompt_number === undefined ||
        c.input_prompt_number === null
      ).length;
      return { errors, busy, unrun, status: nb.kernel?._kernel_status ?? nb.kernel?.status };
    }, indices);
    if (state.errors.length) throw new Error(`${what}: ${state.errors.join("\n")}`);
    await assertKernelAlive(page, what);
    if (state.busy === 0 && state.unrun === 0) break;
    if (Date.now() > deadline) throw new Error(`${what}: not done after ${STAGE_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  await new Promise((r) => setTimeout(r, 2000)); // late outputs (the kernel reports idle early)
}

/** Fails when the kernel died or restarted since the page opened (e.g. killed for memory). */
async function assertKernelAlive(page: Page, what: string): Promise<void> {
  // deno-lint-ignore no-explicit-any
  const deaths = await page.evaluate(() => (globalThis as any).__kernelDeaths ?? 0);
  if (deaths > 0) {
    throw new Error(`${what}: the kernel died and restarted (out of memory? see dmesg)`);
  }
}

/**
 * All text of a cell's outputs: the saved outputs (streams, text/plain of displays) and the text
 * the page shows (display updates, e.g. the progress line, replace what is shown in place).
 */
async function cellText(page: Page, index: number): Promise<string> {
  return await page.evaluate((i: number) => {
    // deno-lint-ignore no-explicit-any
    const c = (globalThis as any).Jupyter.notebook.get_cell(i);
    // deno-lint-ignore no-explicit-any
    const saved = (c.output_area.outputs as any[]).map((o) => {
      const t = o.text ?? o.data?.["text/plain"] ?? "";
      return Array.isArray(t) ? t.join("") : t;
    }).join("\n");
    return `${saved}\n${c.output_area.element?.[0]?.innerText ?? ""}`;
  }, index);
}

async function execute(page: Page, index: number): Promise<void> {
  await page.evaluate((i: number) => {
    // deno-lint-ignore no-explicit-any
    (globalThis as any).Jupyter.notebook.get_cell(i).execute();
  }, index);
}

async function save(page: Page): Promise<void> {
  await page.evaluate(() =>
    // deno-lint-ignore no-explicit-any
    (globalThis as any).Jupyter.notebook.save_notebook()
  );
  await page.waitForFunction(
    // deno-lint-ignore no-explicit-any
    () => (globalThis as any).Jupyter.notebook.dirty === false,
    { timeout: 60_000 },
  );
}

function freePort(): number {
  const l = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test({
  name: "browser: run 02, interrupt a second run mid-epoch, re-run a figure, save, reload, " +
    "reopen: every figure drawn each time",
  ignore: missing !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // The notebook in a folder one level below the repository root (its ../lib imports resolve),
    // with epochs: 2 in its hyper-parameter cell (the quick scale's 4 would only take longer).
    const dir = Deno.makeTempDirSync({ dir: ROOT, prefix: ".notebook-browser-" });
    const work = Deno.makeTempDirSync({ prefix: "rul-nb-browser-" });
    const shots = `${ROOT}runs/notebook-browser-test`;
    Deno.mkdirSync(shots, { recursive: true });
    console.log(`screenshots: ${shots}`);
    const nb = readNotebook(`${ROOT}notebooks/${TRAIN}`);
    const hp = nb.cells.find((c) => joinText(c.source).includes("const HP: rul.TrainConfigInput"))!;
    hp.source = joinText(hp.source).replace("  epochs: undefined,", "  epochs: 2,");
    assert(joinText(hp.source).includes("epochs: 2,"), "HP cell edited");
    Deno.writeTextFileSync(`${dir}/${TRAIN}`, JSON.stringify(nb));
    const port = freePort(), token = crypto.randomUUID().replaceAll("-", "");
    const server = new Deno.Command("/usr/bin/python3", {
      args: [
        "-m",
        "notebook",
        "--no-browser",
        `--port=${port}`,
        "--ip=127.0.0.1",
        `--NotebookApp.token=${token}`,
        "--allow-root",
        `--notebook-dir=${dir}`,
      ],
      env: { RUL_SCALE: "quick", RUL_OUT: `${work}/out`, JUPYTER_RUNTIME_DIR: `${work}/rt` },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const serverLog = new Response(server.stderr).text(); // drained all along
    const base = `http://127.0.0.1:${port}/`;
    const { default: puppeteer } = await import("puppeteer-core");
    const profile = Deno.makeTempDirSync({ prefix: "nb-browser-chromium-" });
    let browser: Browser | undefined;
    try {
      for (let i = 0;; i++) {
        try {
          const r = await fetch(`${base}api?token=${token}`);
          await r.body?.cancel();
          if (r.ok) break;
        } catch { /* not up yet */ }
        if (i > 120) throw new Error("the Jupyter server did not start");
        await new Promise((r) => setTimeout(r, 500));
      }
      browser = await puppeteer.launch({
        executablePath: findChromium(),
        headless: true,
        args: chromiumArgs(profile),
        // A busy machine can keep the page's main thread from answering for minutes.
        protocolTimeout: 15 * 60_000,
      });
      let page = await openNotebook(browser, base, token);

      // 1. Run all, to the end.
      await page.evaluate(() =>
        // deno-lint-ignore no-explicit-any
        (globalThis as any).Jupyter.notebook.execute_all_cells()
      );
      await waitCells(page, null, "run all");
      const trainCell = await cellIndex(page, "rul.Trainer.create(");
      assertStringIncludes(await cellText(page, trainCell), "trained 2 epochs");
      await checkFigures(page, "1-run-all", shots, 4);

      // 2. A second training run, interrupted with ■ in its first epoch.
      await execute(page, trainCell);
      const t0 = Date.now();
      await page.waitForFunction(
        (i: number) =>
          // deno-lint-ignore no-explicit-any
          (globalThis as any).Jupyter.notebook.get_cell(i).input_prompt_number === "*",
        { timeout: 60_000 },
        trainCell,
      );
      while (!/epoch 1\/2 \[[#.]+\] [1-9]\d*\//.test(await cellText(page, trainCell))) {
        const running = await page.evaluate((i: number) =>
          // deno-lint-ignore no-explicit-any
          (globalThis as any).Jupyter.notebook.get_cell(i).input_prompt_number === "*", trainCell);
        await assertKernelAlive(page, "second run");
        if (!running || Date.now() - t0 > STAGE_MS) {
          throw new Error(`no progress line of epoch 1 seen:\n${await cellText(page, trainCell)}`);
        }
        await new Promise((r) => setTimeout(r, 300));
      }
      await page.click('button[data-jupyter-action="jupyter-notebook:interrupt-kernel"]');
      await waitCells(page, [trainCell], "interrupted run");
      const stopText = await cellText(page, trainCell);
      assertStringIncludes(stopText, "stopped early");
      assertStringIncludes(stopText, "interrupt");
      const alive = await page.evaluate(() =>
        // deno-lint-ignore no-explicit-any
        (globalThis as any).Jupyter.notebook.kernel.is_connected()
      );
      assert(alive, "the kernel is still alive after the interrupt");
      // The kernel kept its state: the registry cell (uses RUNS from an earlier cell) lists both.
      const compareCell = await cellIndex(page, "rul.listRuns(RUNS)");
      await execute(page, compareCell);
      await waitCells(page, [compareCell], "compare runs");
      const table = await cellText(page, compareCell);
      assert(/\| 1 \|.*\| done \|/.test(table), `first run done: ${table}`);
      assert(/\| 2 \|.*stopped \(interrupt\) in epoch 1, step \d+/.test(table), table);
      const runsRoot = `${work}/out/runs/02-train-rul`;
      const runDirs = [...Deno.readDirSync(runsRoot)].filter((e) => e.isDirectory)
        .map((e) => e.name).sort();
      assertEquals(runDirs.length, 2, `two run folders: ${runDirs}`);
      const stopped = JSON.parse(Deno.readTextFileSync(`${runsRoot}/${runDirs[1]}/stopped.json`));
      assertEquals(stopped.reason, "interrupt");
      assert(stopped.step > 0 && stopped.step < stopped.steps, `mid-epoch: ${stopped.step}`);
      const ck = Deno.statSync(`${runsRoot}/${runDirs[1]}/checkpoints/stopped.safetensors`);
      assert(ck.size > 100_000, `stopped checkpoint written (${ck.size} bytes)`);
      await checkFigures(page, "2-interrupted", shots, 4);

      // 3. Re-run a figure cell.
      const confusion = await cellIndex(page, "rul.confusionHeatmap(");
      await execute(page, confusion);
      await waitCells(page, [confusion], "re-run a figure cell");
      await checkFigures(page, "3-rerun-figure", shots, 4);

      // 4. Save and reload the page.
      await save(page);
      await page.reload({ waitUntil: "load" });
      await page.waitForFunction(
        // deno-lint-ignore no-explicit-any
        () => (globalThis as any).Jupyter?.notebook?.get_cells?.().length > 0,
        { timeout: 120_000 },
      );
      await checkFigures(page, "4-reloaded", shots, 4);

      // 5. Reopen the saved notebook in a fresh tab (the saved file is small: no plotly.js).
      await page.close();
      page = await openNotebook(browser, base, token);
      await checkFigures(page, "5-reopened", shots, 4);
      const saved: Notebook = readNotebook(`${dir}/${TRAIN}`);
      const size = Deno.statSync(`${dir}/${TRAIN}`).size;
      assert(size < 3_000_000, `saved notebook is ${size} bytes`);
      assert(!JSON.stringify(saved).includes("plotly.js v"), "plotly.js is not embedded");
      console.log(`saved notebook: ${(size / 1e6).toFixed(2)} MB`);
      await page.close();
    } finally {
      await browser?.close();
      server.kill("SIGTERM");
      await server.status;
      const log = await serverLog;
      if (Deno.env.get("NB_BROWSER_LOG")) console.log(log.slice(-5000));
      for (const p of [dir, work, profile]) Deno.removeSync(p, { recursive: true });
    }
  },
});
