/**
 * Executes every notebook in notebooks/ headlessly with real Jupyter and the Deno kernel (via
 * tools/run_notebooks.py) in the quick setting, and checks their outputs: no cell error, Plotly
 * figures present, the training notebook's figures rendered by headless Chromium, and the same
 * training notebook run unchanged on a RAF-DB-layout folder. Skipped, with the reason, when
 * Jupyter is not installed (CI installs it).
 */
import { assert, assertEquals, assertStringIncludes } from "./_assert.ts";
import {
  countPlotlyOutputs,
  isPlotlyOutput,
  joinText,
  jupyterMissing,
  type Notebook,
  readNotebook,
  renderPlots,
  ROOT,
  runCmd,
  runNotebooks,
  streamText,
} from "./notebooks/harness.ts";
import { writeRafDbFixture } from "./notebooks/rafdb_fixture.ts";
import { ensureNotebookPlotly } from "../lib/plots/jupyter.ts";
import { dependency } from "./_deps.ts";

const missing = jupyterMissing();
const ignore = !dependency("Jupyter", missing === null, missing ?? "");

const NB_DIR = `${ROOT}notebooks`;
const notebooks = [...Deno.readDirSync(NB_DIR)].map((e) => e.name)
  .filter((n) => n.endsWith(".ipynb") && !n.startsWith(".")).sort();
const TRAIN = notebooks.find((n) => n.includes("train"));
/** Longest code cell allowed in a notebook (non-empty lines after `deno fmt`): longer logic belongs in lib/. */
const MAX_CELL_LINES = 25;

let work: string | undefined;
/** One scratch folder for the whole file (executed copies, run folders, caches). */
function workDir(): string {
  work ??= Deno.makeTempDirSync({ prefix: "rul-notebooks-test-" });
  return work;
}

/** Environment of the quick setting, with run folders in the scratch folder. */
function quickEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { RUL_SCALE: "quick", RUL_OUT: `${workDir()}/runs`, ...extra };
}

function failureText(r: { code: number; stderr: string; stdout: string }): string {
  return `runner exit ${r.code}\n${r.stderr.slice(-6000)}\n${r.stdout.slice(-2000)}`;
}

Deno.test({
  name: "runner keeps every output the Deno kernel sends after idle",
  ignore,
  async fn() {
    const out = `${workDir()}/smoke`;
    const r = await runNotebooks([`${ROOT}tests/notebooks/smoke.ipynb`], {
      out,
      set: { SMOKE_TAG: "tag-from-runner" },
    });
    assertEquals(r.code, 0, failureText(r));
    const nb = readNotebook(`${out}/smoke.ipynb`);
    const text = streamText(nb);
    const lines = text.split("\n").filter((l) => /^line \d+$/.test(l));
    assertEquals(lines.length, 200, "all 200 console.log lines arrive");
    assertEquals(lines[199], "line 199");
    assertStringIncludes(text, "tag=tag-from-runner", "--set reaches the kernel's environment");
    const outputs = nb.cells.flatMap((c) => c.outputs ?? []);
    const bundle = outputs.find((o) => joinText(o.data?.["text/html"]) === "<b>bundle-ok</b>");
    assert(bundle, "the display bundle arrives");
    const live = outputs.filter((o) => o.data && "text/plain" in o.data)
      .map((o) => joinText(o.data!["text/plain"]));
    assert(live.includes("v5"), `update_display_data applied in place: ${live.join(" | ")}`);
    assert(!live.includes("v0"), "the first state of the updated display is replaced");
    assert(live.some((t) => t.includes("5")), "relative import from the notebook folder works");
  },
});

Deno.test({
  name: "runner fails on a cell error, naming the cell, and keeps the error output",
  ignore,
  async fn() {
    const out = `${workDir()}/failing`;
    const r = await runNotebooks([`${ROOT}tests/notebooks/failing.ipynb`], { out });
    assertEquals(r.code, 1, failureText(r));
    assertStringIncludes(r.stderr, "cell 1 failed");
    assertStringIncludes(r.stderr, "boom-from-cell");
    const nb = readNotebook(`${out}/failing.ipynb`);
    assert(nb.cells[1].outputs?.some((o) => o.output_type === "error"), "error output kept");
    assertEquals(nb.cells[2].outputs?.length ?? 0, 0, "cells after the error do not run");
  },
});

Deno.test({
  name: "runner: the time limit follows the work (a cell printing progress runs past the idle " +
    "limit; a silent cell fails at it)",
  ignore,
  async fn() {
    const dir = `${workDir()}/idle`;
    Deno.mkdirSync(dir, { recursive: true });
    const nb = (src: string) =>
      JSON.stringify({
        cells: [{
          cell_type: "code",
          execution_count: null,
          metadata: {},
          outputs: [],
          source: src,
        }],
        metadata: { kernelspec: { name: "deno", display_name: "Deno", language: "typescript" } },
        nbformat: 4,
        nbformat_minor: 5,
      });
    const sleep = "await new Promise((r) => setTimeout(r, 1000));";
    Deno.writeTextFileSync(
      `${dir}/busy.ipynb`,
      nb(`for (let i = 0; i < 8; i++) { console.log(i); ${sleep} }`),
    );
    Deno.writeTextFileSync(`${dir}/silent.ipynb`, nb(`for (let i = 0; i < 8; i++) { ${sleep} }`));
    const busy = await runNotebooks([`${dir}/busy.ipynb`], { out: `${dir}/out`, idleTimeout: 4 });
    assertEquals(busy.code, 0, `8 s of work with output every second passes: ${failureText(busy)}`);
    const silent = await runNotebooks([`${dir}/silent.ipynb`], {
      out: `${dir}/out`,
      idleTimeout: 4,
    });
    assertEquals(silent.code, 1, failureText(silent));
    assertStringIncludes(silent.stderr, "no output for 4 s while running");
  },
});

Deno.test("committed notebooks carry no outputs and have short cells", () => {
  assert(notebooks.length >= 1, "notebooks/ holds notebooks");
  for (const name of notebooks) {
    const nb = readNotebook(`${NB_DIR}/${name}`);
    const spec = nb.metadata.kernelspec as { name?: string } | undefined;
    assertEquals(spec?.name, "deno", `${name}: kernelspec is the Deno kernel`);
    nb.cells.forEach((c, i) => {
      if (c.cell_type !== "code") return;
      assertEquals(c.outputs?.length ?? 0, 0, `${name} cell ${i}: committed without outputs`);
      const lines = joinText(c.source).split("\n").filter((l) => l.trim() !== "").length;
      assert(lines <= MAX_CELL_LINES, `${name} cell ${i}: ${lines} lines (max ${MAX_CELL_LINES})`);
      assert(!joinText(c.source).includes("import.meta"), `${name} cell ${i}: import.meta`);
      assert(!joinText(c.source).includes("Deno.stdout"), `${name} cell ${i}: Deno.stdout`);
    });
    assert(nb.cells.some((c) => c.cell_type === "markdown"), `${name}: has explanations`);
  }
});

/**
 * A copy of a notebook with its hyper-parameter cell edited as a user would (`epochs: undefined`
 * → `epochs: N`), in a folder beside notebooks/ so that its `../lib/mod.ts` imports resolve.
 * Optionally only the cells before the first one containing `until`.
 */
function editedNotebook(name: string, epochs: number, until?: string): string {
  const nb = readNotebook(`${NB_DIR}/${name}`);
  const hp = nb.cells.find((c) => joinText(c.source).includes("const HP: rul.TrainConfigInput"));
  assert(hp, `${name} has a hyper-parameter cell`);
  const src = joinText(hp.source);
  assert(src.includes("  epochs: undefined,"), `${name}: HP cell lists epochs`);
  hp.source = src.replace("  epochs: undefined,", `  epochs: ${epochs},`);
  if (until) {
    const stop = nb.cells.findIndex((c) => joinText(c.source).includes(until));
    assert(stop > 0, `${name}: a cell with "${until}"`);
    nb.cells = nb.cells.slice(0, stop);
  }
  const path = `${editedDir()}/${name}`;
  Deno.writeTextFileSync(path, JSON.stringify(nb));
  return path;
}

let edited: string | undefined;
/** Folder for edited notebooks: one level below the repository root (like notebooks/). */
function editedDir(): string {
  edited ??= Deno.makeTempDirSync({ dir: ROOT, prefix: ".notebook-test-" });
  return edited;
}

for (const name of notebooks) {
  const isTrain = name === TRAIN;
  Deno.test({
    name: isTrain
      ? `notebook ${name} runs in the quick setting with epochs: 2 set in its hyper-parameter ` +
        "cell, and trains 2 epochs"
      : `notebook ${name} runs in the quick setting with its Plotly figures`,
    ignore,
    async fn() {
      const path = isTrain ? editedNotebook(name, 2) : `${NB_DIR}/${name}`;
      const r = await runNotebooks([path], { out: `${workDir()}/executed`, set: quickEnv() });
      assertEquals(r.code, 0, failureText(r));
      const nb = readNotebook(`${workDir()}/executed/${name}`);
      const plots = countPlotlyOutputs(nb);
      assert(plots >= 1, `${name}: ${plots} Plotly outputs`);
      console.log(`${name}: ${plots} Plotly outputs; ${r.stderr.trim().split("\n").pop()}`);
      const text = streamText(nb);
      for (const expected of EXPECTED_TEXT[name.slice(0, 2)] ?? []) {
        assertStringIncludes(text, expected, `${name} reports "${expected}"`);
      }
      if (isTrain) {
        assert(/epochs\s+2\s+your cell \(quick preset: 4, official: 60\)/.test(text), text);
        assertStringIncludes(text, "epoch 2/2:", "the second of 2 epochs ran");
        assert(!text.includes("epoch 3/"), "no third epoch");
        assertStringIncludes(text, "trained 2 epochs");
      }
      if (name.startsWith("04")) checkExportedFigures(`${workDir()}/runs/figures/04`);
    },
  });
}

Deno.test({
  name: "training notebook, paper setting: epochs: 2 in the hyper-parameter cell is the epochs " +
    "the run gets",
  ignore: ignore || TRAIN === undefined,
  async fn() {
    // Up to (not including) the data cell: the paper run itself needs RAF-DB and hours.
    const path = editedNotebook(TRAIN!, 2, "rul.loadRunData(");
    const out = `${workDir()}/executed-paper`;
    const r = await runNotebooks([path], { out, set: quickEnv({ RUL_SCALE: "paper" }) });
    assertEquals(r.code, 0, failureText(r));
    const text = streamText(readNotebook(`${out}/${TRAIN}`));
    assert(/epochs\s+2\s+your cell \(official: 60\)/.test(text), text);
    assert(/model\.inputSize\s+224\s*\n/.test(text), `paper keeps 224 px: ${text}`);
  },
});

/** Text each numbered notebook must print (its key results), by number prefix. */
const EXPECTED_TEXT: Record<string, string[]> = {
  "00": [
    "add-up loss: lib/rul",
    "mean Δu: flipped",
    "tempered RUL (τ = 2), 1 epoch: test accuracy",
  ],
  "02": [
    "effective configuration (quick scale: preset first, your cell last)",
    "best-epoch test accuracy:",
    "last-epoch test accuracy:",
    "checkpoints/best.safetensors",
    "| 1 | ",
  ],
  "03": [
    "15/15 ",
    "| 30 % | rul-no-sigma | 3 |",
    "| 30 % | rul − baseline | 3 |",
    "| 30 % | scn − baseline | 3 |",
    "| 30 % | eac − baseline | 3 |",
  ],
  "04": [
    "AUROC of u for flipped labels",
    "tsne_rul_vs_baseline.pdf",
    "t-SNE rul seed 2: done in",
    "kNN accuracy of the map (points), RUL − baseline:",
    "trustworthiness, RUL − baseline:",
  ],
};

/** The figures notebook 04 exports: PNG, SVG and PDF of each, with the right magic bytes. */
function checkExportedFigures(dir: string): void {
  const magic: Record<string, string> = { png: "PNG", svg: "<svg", pdf: "%PDF" };
  for (const name of ["tsne_rul_vs_baseline", "tsne_rul_uncertainty", "most_uncertain"]) {
    for (const [ext, head] of Object.entries(magic)) {
      const bytes = Deno.readFileSync(`${dir}/${name}.${ext}`);
      const start = new TextDecoder("latin1").decode(bytes.subarray(0, 400));
      const png = ext !== "png" || (bytes[0] === 0x89 && start.startsWith("PNG", 1));
      assert(bytes.length > 1000 && start.includes(head) && png, `${name}.${ext} is a ${ext} file`);
    }
  }
}

Deno.test({
  name: "executed training notebook renders its live-curve and final figures in Chromium",
  ignore: ignore || TRAIN === undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const executed = `${workDir()}/executed/${TRAIN}`;
    const nb: Notebook = readNotebook(executed); // written by the quick run above
    const expected = countPlotlyOutputs(nb);
    const html = `${workDir()}/html`;
    const conv = await runCmd("/usr/bin/python3", [
      "-m",
      "nbconvert",
      "--to",
      "html",
      "--output-dir",
      html,
      executed,
    ]);
    assertEquals(conv.code, 0, conv.stderr);
    const outputs = nb.cells.flatMap((c) => c.outputs ?? []).filter(isPlotlyOutput);
    const pngs = outputs.filter((o) => joinText(o.data?.["image/png"]).length > 1000).length;
    assertEquals(pngs, expected, "every figure carries its static PNG (image/png)");
    const size = Deno.statSync(executed).size;
    assert(size < 2_000_000, `executed notebook is small (no plotly.js inside): ${size} bytes`);
    // The page loads plotly.js from _plotly/ beside the notebook, as Jupyter serves it.
    ensureNotebookPlotly(html);
    const page = `${html}/${TRAIN!.replace(/\.ipynb$/, ".html")}`;
    const plots = await renderPlots(page, `${html}/page.png`);
    console.log(plots.map((p) => `${p.title || "(untitled)"}: ${(p.inked * 100).toFixed(1)} %`));
    assertEquals(plots.length, expected, "every Plotly output renders as a chart");
    for (const p of plots) {
      assert(p.width > 100 && p.height > 100, `chart ${p.title} has a size`);
      assert(p.inked > 0.01, `chart "${p.title}" is not blank (${p.inked} inked)`);
    }
    const titles = plots.map((p) => p.title.toLowerCase()).join(" | ");
    assertStringIncludes(titles, "live", "the live training-curve figure is rendered");
    assert(plots.length >= 2, "the final figures are rendered after the live one");
  },
});

Deno.test({
  name: "smoke: training notebook runs on a RAF-DB-layout folder (RUL_DATA; 1 epoch)",
  ignore: ignore || TRAIN === undefined,
  async fn() {
    const raf = `${workDir()}/RAF-DB`;
    const counts = await writeRafDbFixture(raf);
    const out = `${workDir()}/executed-rafdb`;
    const r = await runNotebooks([editedNotebook(TRAIN!, 1)], {
      out,
      set: quickEnv({ RUL_DATA: raf, RUL_OUT: `${workDir()}/runs-rafdb` }),
    });
    assertEquals(r.code, 0, failureText(r));
    const nb = readNotebook(`${out}/${TRAIN}`);
    const text = streamText(nb);
    assertStringIncludes(text, raf, "the notebook reports the RAF-DB folder it loaded");
    assertStringIncludes(text, `${counts.train} train`, "RAF-DB train count reported");
    assert(nb.cells.flatMap((c) => c.outputs ?? []).some(isPlotlyOutput), "plots present");
  },
});

Deno.test({
  name: "notebook test scratch folder is removed",
  ignore,
  fn() {
    if (work) Deno.removeSync(work, { recursive: true });
    work = undefined;
    if (edited) Deno.removeSync(edited, { recursive: true });
    edited = undefined;
  },
});
