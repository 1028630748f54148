/**
 * The notebooks as a researcher uses them, in a real browser: headless Chromium (puppeteer-core)
 * drives a real Jupyter server with the Deno kernel. One scenario, three front-ends (classic
 * Notebook 6 from apt; JupyterLab 4 and Notebook 7 from the pip virtual environment
 * `.venv-jupyter`, see `jupyterPython`):
 *
 * 1. run all of 02 (quick scale, 2 epochs);
 * 2. start a second training run and interrupt it mid-epoch with the front-end's interrupt
 *    command (the kernel stays alive, the stop is written as `checkpoints/stopped.safetensors`);
 * 3. re-run a figure cell;
 * 4. save and reload the page;
 * 5. reopen the saved notebook in a fresh tab;
 * 6. (JupyterLab, Notebook 7) open 04, run it to its t-SNE figure (1 epoch), save, reload.
 *
 * At each stage every figure must be a drawn Plotly chart (never the static fallback), and after
 * the reloads each one must be interactive: a modebar, and the mouse over a data point shows a
 * hover label with a number. The page must log no error (see {@link IGNORED_PAGE_ERRORS} for the
 * only ones let through, and why), and the server log must show no 404. The notebook lies in a
 * sub-folder of the server root (`nb-browser-*` in the repository root), so a loader that gets the
 * folder wrong fails. Only the local server is reachable from the page. Screenshots of each stage
 * (the page and every figure) go to the folder the test prints.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import pngjs from "pngjs";
import type { Browser, Page } from "puppeteer-core";
import { assert, assertEquals, assertStringIncludes } from "../_assert.ts";
import { dependency } from "../_deps.ts";
import {
  joinText,
  jupyterMissing,
  nonWhitePixels,
  type Notebook,
  readNotebook,
  ROOT,
} from "./harness.ts";
import { chromiumArgs, findChromium } from "../../lib/plots/export.ts";

const PNG = (pngjs as unknown as {
  PNG: { sync: { read(b: Buffer): { width: number; height: number } } };
}).PNG;

/** Python of the pip virtual environment with JupyterLab 4 and Notebook 7 (made by .ci/setup). */
export const VENV_PYTHON = `${ROOT}.venv-jupyter/bin/python`;
/** Debian's Python, with classic Notebook 6 (apt `jupyter-notebook`). */
export const SYSTEM_PYTHON = "/usr/bin/python3";

/** A Jupyter front-end: how to start its server and drive its notebook page. */
export interface FrontEnd {
  /** Short name, also the screenshot folder's suffix: classic | lab | nb7. */
  id: string;
  /** Python that runs the server. */
  python: string;
  /** Python module whose presence (and version) the test needs, e.g. `jupyterlab`. */
  module: string;
  /** Server arguments after `python -m`. */
  serverArgs(o: { port: number; token: string; root: string; work: string }): string[];
  /** Page URL of a notebook (path relative to the server root). */
  notebookUrl(base: string, path: string, token: string): string;
  /**
   * Page URL that reopens a saved notebook in a fresh tab (default {@link notebookUrl}).
   * JupyterLab: its folder's address, where the workspace restores the open notebook (the address
   * JupyterLab showed after a reload in issue 26, which the page-address loader got wrong).
   */
  reopenUrl?(base: string, path: string, token: string): string;
  /** Page-side driver (run in the page with `page.evaluate`). */
  driver: Driver;
}

/** The front-end specific page calls; each returns what the scenario needs. */
interface Driver {
  /** Resolves when the notebook `path` (relative to the server root) and its kernel are ready. */
  ready(page: Page, path: string): Promise<void>;
  /** Code cells: source, error outputs, busy (running or queued), never run. */
  cells(page: Page): Promise<CellState[]>;
  /** Text of a cell's outputs (saved and as shown). */
  cellText(page: Page, index: number): Promise<string>;
  /** Runs one cell. */
  execute(page: Page, index: number): Promise<void>;
  /** Runs all cells. */
  runAll(page: Page): Promise<void>;
  /** Interrupts the kernel (the toolbar's ■). */
  interrupt(page: Page): Promise<void>;
  /** Saves and waits until the notebook is clean. */
  save(page: Page): Promise<void>;
  /** Kernel deaths / restarts since the page opened, and whether it is connected now. */
  kernel(page: Page): Promise<{ deaths: number; connected: boolean }>;
}

interface CellState {
  index: number;
  code: boolean;
  source: string;
  errors: string[];
  busy: boolean;
  unrun: boolean;
}

// deno-lint-ignore no-explicit-any
type Any = any;

/** Classic Notebook 6: `window.Jupyter.notebook`. */
const classicDriver: Driver = {
  async ready(page) {
    await page.waitForFunction(
      () => (globalThis as Any).Jupyter?.notebook?.kernel?.is_connected?.() === true,
      { timeout: 180_000 },
    );
    await page.evaluate(() => {
      const w = globalThis as Any;
      w.__kernelDeaths = 0;
      w.Jupyter.notebook.events.on("kernel_dead.Kernel kernel_restarting.Kernel", () => {
        w.__kernelDeaths++;
      });
    });
  },
  cells: (page) =>
    page.evaluate(() =>
      ((globalThis as Any).Jupyter.notebook.get_cells() as Any[]).map((c, index) => ({
        index,
        code: c.cell_type === "code",
        source: c.get_text(),
        errors: c.cell_type !== "code" ? [] : (c.output_area.outputs as Any[])
          .filter((o) => o.output_type === "error").map((o) => `${o.ename}: ${o.evalue}`),
        busy: c.cell_type === "code" && (c.input_prompt_number === "*" || !!c.running),
        unrun: c.cell_type === "code" &&
          (c.input_prompt_number === undefined || c.input_prompt_number === null),
      }))
    ),
  cellText: (page, index) =>
    page.evaluate((i: number) => {
      const c = (globalThis as Any).Jupyter.notebook.get_cell(i);
      const saved = (c.output_area.outputs as Any[]).map((o) => {
        const t = o.text ?? o.data?.["text/plain"] ?? "";
        return Array.isArray(t) ? t.join("") : t;
      }).join("\n");
      return `${saved}\n${c.output_area.element?.[0]?.innerText ?? ""}`;
    }, index),
  async execute(page, index) {
    await page.evaluate(
      (i: number) => (globalThis as Any).Jupyter.notebook.get_cell(i).execute(),
      index,
    );
  },
  async runAll(page) {
    await page.evaluate(() => (globalThis as Any).Jupyter.notebook.execute_all_cells());
  },
  async interrupt(page) {
    await page.click('button[data-jupyter-action="jupyter-notebook:interrupt-kernel"]');
  },
  async save(page) {
    await page.evaluate(() => (globalThis as Any).Jupyter.notebook.save_notebook());
    await page.waitForFunction(() => (globalThis as Any).Jupyter.notebook.dirty === false, {
      timeout: 60_000,
    });
  },
  kernel: (page) =>
    page.evaluate(() => {
      const w = globalThis as Any;
      return {
        deaths: w.__kernelDeaths ?? 0,
        connected: w.Jupyter.notebook.kernel?.is_connected?.() === true,
      };
    }),
};

/**
 * JupyterLab 4 and Notebook 7 share JupyterLab's application: `window.jupyterapp` (the servers
 * are started with `expose_app_in_browser`), the notebook panel is the shell's current widget.
 * Commands are the ones the menus and toolbar buttons run.
 */
const labDriver: Driver = {
  async ready(page, path) {
    // The notebook's panel (JupyterLab may also restore other notebooks of its workspace).
    await page.waitForFunction(
      (want: string) => {
        const shell = (globalThis as Any).jupyterapp?.shell;
        const p = shell
          ? [...shell.widgets("main")].find((w: Any) => w.context?.path === want)
          : null;
        const k = p?.sessionContext?.session?.kernel;
        if (p && shell.currentWidget !== p) shell.activateById(p.id);
        return !!p?.content?.widgets && p.context?.isReady && k?.connectionStatus === "connected" &&
          k?.status === "idle";
      },
      { timeout: 180_000 },
      path,
    );
    await page.evaluate((want: string) => {
      const w = globalThis as Any;
      w.__kernelDeaths = 0;
      w.__panel = [...w.jupyterapp.shell.widgets("main")].find((p: Any) =>
        p.context?.path === want
      );
      w.__panel.sessionContext.statusChanged.connect((_: unknown, s: string) => {
        if (s === "dead" || s === "restarting" || s === "autorestarting") w.__kernelDeaths++;
      });
    }, path);
  },
  cells: (page) =>
    page.evaluate(() =>
      ((globalThis as Any).__panel.content.widgets as Any[]).map((c, index) => {
        const code = c.model.type === "code";
        const prompt = code ? c.node.querySelector(".jp-InputPrompt")?.textContent ?? "" : "";
        return {
          index,
          code,
          source: c.model.sharedModel.getSource(),
          errors: code
            ? (c.model.outputs.toJSON() as Any[]).filter((o) => o.output_type === "error")
              .map((o) => `${o.ename}: ${o.evalue}`)
            : [],
          busy: code && (prompt.includes("*") || c.model.executionState === "running"),
          unrun: code && c.model.executionCount === null && !prompt.includes("*"),
        };
      })
    ),
  cellText: (page, index) =>
    page.evaluate((i: number) => {
      const c = (globalThis as Any).__panel.content.widgets[i];
      const saved = (c.model.outputs.toJSON() as Any[]).map((o) => {
        const t = o.text ?? o.data?.["text/plain"] ?? "";
        return Array.isArray(t) ? t.join("") : t;
      }).join("\n");
      return `${saved}\n${c.outputArea?.node?.innerText ?? ""}`;
    }, index),
  async execute(page, index) {
    await page.evaluate((i: number) => {
      const w = globalThis as Any;
      w.__panel.content.activeCellIndex = i;
      // Not awaited: the command resolves only when the cell has finished.
      void w.jupyterapp.commands.execute("notebook:run-cell");
    }, index);
  },
  async runAll(page) {
    await page.evaluate(() =>
      void (globalThis as Any).jupyterapp.commands.execute("notebook:run-all-cells")
    );
  },
  async interrupt(page) {
    await page.evaluate(() =>
      (globalThis as Any).jupyterapp.commands.execute("notebook:interrupt-kernel")
    );
  },
  async save(page) {
    await page.evaluate(() => (globalThis as Any).jupyterapp.commands.execute("docmanager:save"));
    await page.waitForFunction(() => (globalThis as Any).__panel.context.model.dirty === false, {
      timeout: 60_000,
    });
  },
  kernel: (page) =>
    page.evaluate(() => {
      const w = globalThis as Any;
      const k = w.__panel?.sessionContext?.session?.kernel;
      return { deaths: w.__kernelDeaths ?? 0, connected: k?.connectionStatus === "connected" };
    }),
};

function enc(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

/** Classic Notebook 6 (Debian's apt package). */
export const CLASSIC: FrontEnd = {
  id: "classic",
  python: SYSTEM_PYTHON,
  module: "notebook.notebookapp",
  serverArgs: ({ port, token, root }) => [
    "-m",
    "notebook",
    "--no-browser",
    `--port=${port}`,
    "--ip=127.0.0.1",
    `--NotebookApp.token=${token}`,
    "--allow-root",
    `--notebook-dir=${root}`,
  ],
  notebookUrl: (base, path, token) => `${base}notebooks/${enc(path)}?token=${token}`,
  driver: classicDriver,
};

/** Server options shared by JupyterLab 4 and Notebook 7 (jupyter_server 2). */
function serverOptions(
  app: string,
  o: { port: number; token: string; root: string; work: string },
) {
  return [
    "--no-browser",
    `--ServerApp.port=${o.port}`,
    "--ServerApp.port_retries=0",
    "--ServerApp.ip=127.0.0.1",
    `--IdentityProvider.token=${o.token}`,
    "--allow-root",
    `--ServerApp.root_dir=${o.root}`,
    // The test reads the notebook through the application object (the pages are the same).
    `--${app}.expose_app_in_browser=True`,
    // Isolated from the user's own JupyterLab state.
    `--${app}.workspaces_dir=${o.work}/workspaces`,
    `--${app}.user_settings_dir=${o.work}/settings`,
  ];
}

/** JupyterLab 4 (pip, `.venv-jupyter`). */
export const LAB: FrontEnd = {
  id: "lab",
  python: VENV_PYTHON,
  module: "jupyterlab",
  serverArgs: (o) => [
    "-m",
    "jupyterlab",
    ...serverOptions("LabApp", o),
    // Offline: no news feed or update check (the page could not reach them anyway).
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
  ],
  notebookUrl: (base, path, token) => `${base}lab/tree/${enc(path)}?token=${token}`,
  reopenUrl: (base, path, token) =>
    `${base}lab/tree/${enc(path.slice(0, path.lastIndexOf("/")))}?token=${token}`,
  driver: labDriver,
};

/** Notebook 7 (pip, `.venv-jupyter`). */
export const NB7: FrontEnd = {
  id: "nb7",
  python: VENV_PYTHON,
  module: "notebook.app",
  serverArgs: (o) => ["-m", "notebook", ...serverOptions("JupyterNotebookApp", o)],
  notebookUrl: (base, path, token) => `${base}notebooks/${enc(path)}?token=${token}`,
  driver: labDriver,
};

/**
 * Page errors let through, each with the front-ends it applies to and the reason; everything
 * else fails the test. The debugger errors of JupyterLab / Notebook 7 ("No active debugger
 * session") are not here: tools/setup_kernel.sh prevents them (docs/notebooks.md).
 */
export const IGNORED_PAGE_ERRORS: { frontEnds: string[]; pattern: RegExp; why: string }[] = [
  {
    frontEnds: ["classic"],
    pattern:
      /^console\.error: (Failed to load resource: the server responded with a status of 404 \(Not Found\) \(\S*|Refused to execute script from '\S*)\/nbextensions\/widgets\/notebook\/js\/extension\.js\?/,
    why: "classic Notebook 6.4's main.js always tries the ipywidgets nbextension " +
      "(`widgets/notebook/js/extension`, its 'HARDCODED WIDGETS HACK'); without ipywidgets " +
      "installed the server answers 404 (the notebooks use no widgets)",
  },
  {
    frontEnds: ["nb7"],
    // Exactly the message and the file it comes from.
    pattern:
      /^page error: TypeError: Cannot read properties of undefined \(reading 'schema'\)\s+\S*\/static\/notebook\/notebook_core\.[0-9a-f]+\.js/,
    why: "Notebook 7.6.3's shortcuts extension (notebook_core.js: settingRegistry.pluginChanged " +
      "handler) reads plugins[id].schema of a plugin the settings registry does not hold; it is " +
      "thrown once per page load, before any cell runs, with or without the debugger " +
      "extension (issue 26 saw it with it), and no setting the project writes touches it",
  },
];

/** Version of a Python module's distribution, or null when the module cannot be imported. */
function moduleVersion(python: string, module: string): string | null {
  try {
    const dist = module.split(".")[0];
    const out = new Deno.Command(python, {
      args: [
        "-c",
        `import ${module}, importlib.metadata as m; print(m.version(${JSON.stringify(dist)}))`,
      ],
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch {
    return null;
  }
}

/**
 * Whether the front-end's test can run here (Jupyter with the Deno kernel, Chromium, the
 * front-end's server); with `RUL_REQUIRE_DEPS=1` a missing one throws (tests/_deps.ts).
 */
export function frontEndAvailable(fe: FrontEnd): { ok: boolean; version: string | null } {
  const j = jupyterMissing();
  if (!dependency("Jupyter", j === null, j ?? "")) return { ok: false, version: null };
  let chromium: string | null = null;
  try {
    findChromium();
  } catch (e) {
    chromium = (e as Error).message;
  }
  if (!dependency("Chromium", chromium === null, chromium ?? "")) {
    return { ok: false, version: null };
  }
  const version = moduleVersion(fe.python, fe.module);
  const how = fe.python === SYSTEM_PYTHON
    ? "apt-get install jupyter-notebook"
    : "bash .ci/setup (makes .venv-jupyter with pip install jupyterlab notebook)";
  const ok = dependency(
    `${fe.id} Jupyter server`,
    version !== null,
    `${fe.python} cannot import ${fe.module} (${how})`,
  );
  return { ok, version };
}

const TRAIN = "02_train_rul.ipynb";
const TSNE = "04_feature_visualisation.ipynb";
/** Generous per-stage limits; the cells themselves print progress. */
const STAGE_MS = 30 * 60_000;

/** A figure on the page as the browser drew it. */
interface DrawnFigure {
  title: string;
  drawn: boolean;
  note: string;
  modebar: number;
}

function figures(page: Page): Promise<DrawnFigure[]> {
  return page.evaluate(() =>
    // The figures on show (JupyterLab keeps the notebooks of other tabs in the page, hidden).
    [...(globalThis as Any).document.querySelectorAll(".rul-plotly-figure")]
      .filter((f: Any) => f.getClientRects().length > 0).map((f: Any) => ({
        title: (f.querySelector(".gtitle")?.textContent ?? "").trim(),
        drawn: !!f.querySelector(".main-svg") &&
          !!f.querySelector(
            ".main-svg .trace, .main-svg .hm, .main-svg .heatmaplayer image, .layer-above image",
          ),
        note: (f.querySelector(".rul-plotly-note")?.textContent ?? "").trim(),
        modebar: f.querySelectorAll(".modebar-btn").length,
      }))
  );
}

/**
 * Moves the mouse over data points of figure `i` (its markers or bars, the start of each line, the
 * middle of a heatmap, then a grid over the plot area) until Plotly shows a hover label; returns
 * the label's text ("" when none appeared).
 */
export async function hoverText(page: Page, i: number): Promise<string> {
  const targets = await page.evaluate((k: number) => {
    const f = [...(globalThis as Any).document.querySelectorAll(".rul-plotly-figure")]
      .filter((e: Any) => e.getClientRects().length > 0)[k];
    const out: { x: number; y: number }[] = [];
    const center = (el: Any) => {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.height > 0) out.push({ x: r.x + r.width / 2, y: r.y + r.height / 2 });
    };
    [...f.querySelectorAll(".main-svg .point")].slice(0, 3).forEach(center);
    for (const line of [...f.querySelectorAll(".main-svg .js-line")].slice(0, 3)) {
      if (!line.getTotalLength || line.getTotalLength() === 0) continue;
      const p = line.getPointAtLength(0), m = line.getScreenCTM();
      out.push({ x: m.a * p.x + m.c * p.y + m.e, y: m.b * p.x + m.d * p.y + m.f });
    }
    [...f.querySelectorAll(".main-svg .hm image")].slice(0, 1).forEach(center);
    const drag = f.querySelector(".main-svg .nsewdrag");
    if (drag) {
      const r = drag.getBoundingClientRect();
      for (const fy of [0.5, 0.25, 0.75]) {
        for (const fx of [0.5, 0.1, 0.3, 0.7, 0.9]) {
          out.push({ x: r.x + fx * r.width, y: r.y + fy * r.height });
        }
      }
    }
    return out;
  }, i);
  for (const pos of targets) {
    await page.mouse.move(pos.x, pos.y, { steps: 3 });
    for (let t = 0; t < 5; t++) {
      await new Promise((r) => setTimeout(r, 200));
      const text = await page.evaluate((k: number) => {
        const f = [...(globalThis as Any).document.querySelectorAll(".rul-plotly-figure")]
          .filter((e: Any) => e.getClientRects().length > 0)[k];
        return [...f.querySelectorAll(".hoverlayer .hovertext, .hoverlayer .legend")]
          .map((e: Any) => e.textContent).join(" | ");
      }, i);
      if (text) return text;
    }
  }
  return "";
}

/**
 * Scrolls figure `i` to the middle of the view and waits until it stays put: JupyterLab renders
 * cells as they come into view (CSS content-visibility), which moves the cells below them.
 */
async function settle(page: Page, i: number): Promise<void> {
  let last = NaN;
  for (let t = 0; t < 20; t++) {
    const top = await page.evaluate((k: number) => {
      const f = [...(globalThis as Any).document.querySelectorAll(".rul-plotly-figure")]
        .filter((e: Any) => e.getClientRects().length > 0)[k];
      f.scrollIntoView({ block: "center" });
      return f.getBoundingClientRect().top;
    }, i);
    if (top === last) return;
    last = top;
    await new Promise((r) => setTimeout(r, 300));
  }
}

/**
 * Waits until every figure is drawn; asserts it, screenshots the page and each chart, checks each
 * has ink and, with `interactive`, a modebar and a hover label with a number.
 */
async function checkFigures(
  page: Page,
  stage: string,
  shots: string,
  min: number,
  interactive = false,
): Promise<void> {
  const deadline = Date.now() + 180_000;
  let figs: DrawnFigure[] = [];
  while (Date.now() < deadline) {
    figs = await figures(page);
    if (figs.length >= min && figs.every((f) => f.drawn)) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  await page.screenshot({ path: `${shots}/${stage}.png` });
  assert(figs.length >= min, `${stage}: ${figs.length} figures on the page, expected ≥ ${min}`);
  for (const f of figs) {
    assert(f.drawn, `${stage}: figure "${f.title}" is not drawn (note: "${f.note}")`);
  }
  const els = [];
  for (const el of await page.$$(".rul-plotly-figure")) {
    if (await el.evaluate((e: Any) => e.getClientRects().length > 0)) els.push(el);
  }
  const hovers: string[] = [];
  for (const [i, el] of els.entries()) {
    await settle(page, i);
    if (interactive) {
      assert(figs[i].modebar > 0, `${stage}: figure "${figs[i].title}" has no modebar`);
      const text = await hoverText(page, i);
      assert(/\d/.test(text), `${stage}: figure "${figs[i].title}": no hover label (${text})`);
      hovers.push(text.replace(/\s+/g, " ").slice(0, 60));
    }
    // JupyterLab paints a cell scrolled into view a frame or more later (its notebook skips
    // rendering off-screen cells, CSS content-visibility): a blank shot is taken again, up to 20 s.
    let shot = new Uint8Array();
    let ink = 0;
    for (let t = 0; t < 20; t++) {
      shot = new Uint8Array(await el.screenshot({ type: "png" }));
      const { count, total } = nonWhitePixels(shot);
      ink = count / total;
      if (ink > 0.01) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    Deno.writeFileSync(`${shots}/${stage}-figure${i + 1}.png`, shot);
    const img = PNG.sync.read(Buffer.from(shot));
    assert(img.width > 100 && img.height > 100, `${stage}: figure ${i} is ${img.width} px wide`);
    assert(ink > 0.01, `${stage}: figure ${i + 1} ("${figs[i]?.title}") is blank`);
  }
  console.log(`${stage}: ${figs.length} figures drawn: ${figs.map((f) => f.title).join(" | ")}`);
  if (interactive) {
    console.log(`${stage}: hover labels: ${hovers.join(" || ")}`);
    const how = await page.evaluate(() => {
      const g = globalThis as Any;
      const el = g.document.getElementById("jupyter-config-data");
      const cfg = el ? JSON.parse(el.textContent) : null;
      const urls = g.performance.getEntriesByType("resource").map((e: Any) => e.name)
        .filter((u: string) => /_plotly|api\/sessions/.test(u));
      return { serverRoot: cfg ? cfg.serverRoot ?? "(none)" : "(no page config)", urls };
    });
    console.log(`${stage}: page serverRoot ${how.serverRoot}; loaded ${how.urls.join(", ")}`);
  }
}

/** The page's errors, collected from `pageerror` and `console.error`. */
class PageErrors {
  readonly list: string[] = [];
  watch(page: Page, blocked: Set<string>): void {
    page.on("pageerror", (e) => this.add(`page error: ${(e as Error).stack ?? e}`));
    page.on("console", (m) => {
      if (m.type() !== "error") return;
      // Requests the test itself blocked (anything off the local server) are not page errors.
      if (blocked.has(m.location()?.url ?? "")) return;
      this.add(`console.error: ${m.text()} (${m.location()?.url ?? "?"})`);
    });
  }
  constructor(readonly frontEnd: string) {}
  add(e: string): void {
    const ignored = IGNORED_PAGE_ERRORS.find((i) =>
      i.frontEnds.includes(this.frontEnd) && i.pattern.test(e)
    );
    if (ignored) {
      console.log(`ignored page error (${ignored.why}): ${e.split("\n")[0]}`);
      return;
    }
    this.list.push(e);
    console.warn(e);
  }
  assertNone(stage: string): void {
    assertEquals(this.list, [], `${stage}: the page logged errors`);
  }
}

function freePort(): number {
  const l = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Runs the scenario of this module's doc in front-end `fe`. */
export async function browserScenario(fe: FrontEnd, version: string | null): Promise<void> {
  console.log(`front-end: ${fe.id} ${version}`);
  // The notebooks in a sub-folder of the server root (the repository root), one level below it
  // (their ../lib imports resolve); not a dot-folder, which Jupyter would not serve.
  const dir = Deno.makeTempDirSync({ dir: ROOT, prefix: "nb-browser-" });
  const sub = dir.slice(ROOT.length);
  const work = Deno.makeTempDirSync({ prefix: "rul-nb-browser-" });
  const shots = `${ROOT}runs/notebook-browser-${fe.id}`;
  Deno.mkdirSync(shots, { recursive: true });
  console.log(`screenshots: ${shots}`);
  const nb = readNotebook(`${ROOT}notebooks/${TRAIN}`);
  const hp = nb.cells.find((c) => joinText(c.source).includes("const HP: rul.TrainConfigInput"))!;
  hp.source = joinText(hp.source).replace("  epochs: undefined,", "  epochs: 2,");
  assert(joinText(hp.source).includes("epochs: 2,"), "HP cell edited");
  Deno.writeTextFileSync(`${dir}/${TRAIN}`, JSON.stringify(nb));
  const nb4 = readNotebook(`${ROOT}notebooks/${TSNE}`);
  const cfg4 = nb4.cells.find((c) => joinText(c.source).includes("{ data: { noise: NOISE } }"))!;
  cfg4.source = joinText(cfg4.source).replace(
    "{ data: { noise: NOISE } }",
    "{ data: { noise: NOISE }, epochs: 1 }",
  );
  Deno.writeTextFileSync(`${dir}/${TSNE}`, JSON.stringify(nb4));
  const port = freePort(), token = crypto.randomUUID().replaceAll("-", "");
  const server = new Deno.Command(fe.python, {
    args: fe.serverArgs({ port, token, root: ROOT, work }),
    env: {
      RUL_SCALE: "quick",
      RUL_OUT: `${work}/out`,
      JUPYTER_RUNTIME_DIR: `${work}/rt`,
      // The Deno kernel's own settings (tools/setup_kernel.sh) live in the user's config.
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const serverLog = Promise.all([
    new Response(server.stdout).text(),
    new Response(server.stderr).text(),
  ])
    .then((t) => t.join("\n")); // drained all along
  const base = `http://127.0.0.1:${port}/`;
  const { default: puppeteer } = await import("puppeteer-core");
  const profile = Deno.makeTempDirSync({ prefix: "nb-browser-chromium-" });
  const errors = new PageErrors(fe.id);
  const blocked = new Set<string>();
  let browser: Browser | undefined;
  const open = async (path: string, reopen = false): Promise<Page> => {
    const page = await browser!.newPage();
    await page.setViewport({ width: 1280, height: 1000 });
    await page.setRequestInterception(true);
    page.on("request", (req) => {
      const url = req.url();
      // Offline: only the local Jupyter server (and inline data) is reachable.
      if (url.startsWith(base) || /^(data|blob|about):/.test(url)) req.continue();
      else {
        blocked.add(url);
        req.abort();
      }
    });
    errors.watch(page, blocked);
    const url = reopen && fe.reopenUrl ? fe.reopenUrl : fe.notebookUrl;
    await page.goto(url(base, path, token), { waitUntil: "load" });
    await fe.driver.ready(page, path);
    return page;
  };
  const d = fe.driver;
  const cellIndex = async (page: Page, text: string) => {
    const i = (await d.cells(page)).findIndex((c) => c.code && c.source.includes(text));
    assert(i >= 0, `no cell contains "${text}"`);
    return i;
  };
  const alive = async (page: Page, what: string) => {
    const k = await d.kernel(page);
    if (k.deaths > 0) throw new Error(`${what}: the kernel died and restarted (out of memory?)`);
  };
  const waitCells = async (page: Page, only: number[] | null, what: string) => {
    const deadline = Date.now() + STAGE_MS;
    while (true) {
      const cells = (await d.cells(page)).filter((c) =>
        c.code && (!only || only.includes(c.index))
      );
      const errs = cells.flatMap((c) => c.errors.map((e) => `cell ${c.index}: ${e}`));
      if (errs.length) throw new Error(`${what}: ${errs.join("\n")}`);
      await alive(page, what);
      if (cells.every((c) => !c.busy && !c.unrun)) break;
      if (Date.now() > deadline) throw new Error(`${what}: not done after ${STAGE_MS / 1000} s`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    await new Promise((r) => setTimeout(r, 2000)); // late outputs (the kernel reports idle early)
  };
  /**
   * The cell's output holds `needle`, polled for up to a minute (a stream message can reach the
   * page after the kernel's idle status); on failure the message shows the cell's text and which
   * other cells hold the needle (output routed to the wrong cell).
   */
  const expectText = async (page: Page, index: number, needle: string, what: string) => {
    const deadline = Date.now() + 60_000;
    let text = "";
    while (!(text = await d.cellText(page, index)).includes(needle)) {
      if (Date.now() > deadline) {
        const cells = await d.cells(page);
        const elsewhere: number[] = [];
        for (const c of cells) {
          if (c.code && (await d.cellText(page, c.index)).includes(needle)) elsewhere.push(c.index);
        }
        throw new Error(
          `${what}: ${JSON.stringify(needle)} not in cell ${index}'s output after 60 s ` +
            `(found in cells [${elsewhere.join(", ")}]); its output ends:\n${text.slice(-2000)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    return text;
  };
  const t0 = Date.now();
  const lap = (what: string) => console.log(`${what}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  try {
    for (let i = 0;; i++) {
      try {
        const r = await fetch(`${base}api?token=${token}`);
        await r.body?.cancel();
        if (r.ok) break;
      } catch { /* not up yet */ }
      if (i > 240) throw new Error(`the Jupyter server did not start:\n${await serverLogNow()}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    browser = await puppeteer.launch({
      executablePath: findChromium(),
      headless: true,
      args: chromiumArgs(profile),
      // A busy machine can keep the page's main thread from answering for minutes.
      protocolTimeout: 15 * 60_000,
    });
    const path = `${sub}/${TRAIN}`;
    let page = await open(path);

    // 1. Run all, to the end.
    await d.runAll(page);
    await waitCells(page, null, "run all");
    const trainCell = await cellIndex(page, "rul.Trainer.create(");
    await expectText(page, trainCell, "trained 2 epochs", "run all");
    await checkFigures(page, "1-run-all", shots, 4);
    errors.assertNone("run all");
    lap("1-run-all");

    // 2. A second training run, interrupted in its first epoch.
    await d.execute(page, trainCell);
    const t1 = Date.now();
    while (!/epoch 1\/2 \[[#.]+\] [1-9]\d*\//.test(await d.cellText(page, trainCell))) {
      const running = (await d.cells(page))[trainCell].busy;
      await alive(page, "second run");
      if ((!running && Date.now() - t1 > 30_000) || Date.now() - t1 > STAGE_MS) {
        throw new Error(`no progress line of epoch 1 seen:\n${await d.cellText(page, trainCell)}`);
      }
      await new Promise((r) => setTimeout(r, 300));
    }
    await d.interrupt(page);
    await waitCells(page, [trainCell], "interrupted run");
    const stopText = await expectText(page, trainCell, "stopped early", "interrupted run");
    assertStringIncludes(stopText, "interrupt");
    assert((await d.kernel(page)).connected, "the kernel is still alive after the interrupt");
    // The kernel kept its state: the registry cell (uses RUNS from an earlier cell) lists both.
    const compareCell = await cellIndex(page, "rul.listRuns(RUNS)");
    await d.execute(page, compareCell);
    await waitCells(page, [compareCell], "compare runs");
    const table = await d.cellText(page, compareCell);
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
    lap("2-interrupted");

    // 3. Re-run a figure cell.
    const confusion = await cellIndex(page, "rul.confusionHeatmap(");
    await d.execute(page, confusion);
    await waitCells(page, [confusion], "re-run a figure cell");
    await checkFigures(page, "3-rerun-figure", shots, 4);
    lap("3-rerun-figure");

    // 4. Save and reload the page.
    await d.save(page);
    await page.reload({ waitUntil: "load" });
    await d.ready(page, path);
    console.log(`reloaded page address: ${new URL(page.url()).pathname}`);
    await checkFigures(page, "4-reloaded", shots, 4, true);
    lap("4-reloaded");

    // 5. Reopen the saved notebook in a fresh tab (the saved file is small: no plotly.js).
    await page.close();
    page = await open(path, true);
    console.log(`reopened page address: ${new URL(page.url()).pathname}`);
    await checkFigures(page, "5-reopened", shots, 4, true);
    const saved: Notebook = readNotebook(`${dir}/${TRAIN}`);
    const size = Deno.statSync(`${dir}/${TRAIN}`).size;
    assert(size < 3_000_000, `saved notebook is ${size} bytes`);
    assert(!JSON.stringify(saved).includes("plotly.js v"), "plotly.js is not embedded");
    console.log(`saved notebook: ${(size / 1e6).toFixed(2)} MB`);
    await page.close();
    lap("5-reopened");

    // 6. 04's t-SNE figure after a reload (JupyterLab-based front-ends).
    if (fe.driver === labDriver) {
      page = await open(`${sub}/${TSNE}`);
      const tsneCell = await cellIndex(page, "FIGS.tsne_rul_vs_baseline = rul.sideBySide(");
      for (let i = 0; i <= tsneCell; i++) {
        if ((await d.cells(page))[i].code) await d.execute(page, i);
      }
      await waitCells(
        page,
        (await d.cells(page)).filter((c) => c.index <= tsneCell).map((c) => c.index),
        "04 to the t-SNE",
      );
      await d.save(page);
      await page.reload({ waitUntil: "load" });
      await d.ready(page, `${sub}/${TSNE}`);
      await checkFigures(page, "6-tsne-reloaded", shots, 2, true);
      const titles = (await figures(page)).map((f) => f.title).join(" | ");
      assertStringIncludes(
        titles,
        "t-SNE of test features",
        "04: the t-SNE figure after the reload",
      );
      await page.close();
      lap("6-tsne-reloaded");
    }
    errors.assertNone("all stages");
  } finally {
    await browser?.close();
    server.kill("SIGTERM");
    await server.status;
    Deno.writeTextFileSync(`${shots}/server.log`, await serverLog);
    for (const p of [dir, work, profile]) Deno.removeSync(p, { recursive: true });
  }
  const notFound = notFoundLines(await serverLog, fe.id);
  console.log(`server log: ${shots}/server.log (${notFound.length} lines with 404)`);
  assertEquals(notFound, [], "the server log shows no 404");
  async function serverLogNow(): Promise<string> {
    server.kill("SIGTERM");
    return (await serverLog).slice(-3000);
  }
}

/** Registers the browser test of front-end `fe` (skipped, or failed in CI, when it is missing). */
export function browserTest(fe: FrontEnd, title: string): void {
  const { ok, version } = frontEndAvailable(fe);
  const also = fe.driver === labDriver ? "; 04's t-SNE after a reload" : "";
  Deno.test({
    name: `browser, ${title} ${version}: run 02, interrupt, re-run a figure, save, reload, ` +
      `reopen${also}: every figure drawn and interactive, no page error, no 404`,
    ignore: !ok,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: () => browserScenario(fe, version),
  });
}

/**
 * The lines of a Jupyter server log that report a 404, less classic Notebook's own ipywidgets
 * probe (see IGNORED_PAGE_ERRORS). The log prefix `[W 2026-12-06 14:53:05.404 ServerApp]` is
 * left out of the search: its milliseconds can read 404 (a CI run failed on exactly that line).
 */
export function notFoundLines(log: string, frontEnd: string): string[] {
  return log.split("\n").filter((l) => {
    const message = l.replace(/^\[[A-Z] [^\]]*\]/, "");
    return /\b404\b/.test(message) &&
      !(frontEnd === "classic" &&
        / 404 GET \/nbextensions\/widgets\/notebook\/js\/extension\.js/.test(message));
  });
}
