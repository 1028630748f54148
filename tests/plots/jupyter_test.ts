import {
  displayFigure,
  embeddingScatter,
  ensureNotebookPlotly,
  figureBundle,
  figureHtml,
  inJupyter,
  JUPYTER_DISPLAY,
  kernelNotebookDirs,
  LiveFigure,
  LiveTrainingCurves,
  notebookPlotlyFile,
  plotlyJsSource,
  setDisplayTarget,
  setStaticRenderer,
  show,
} from "../../lib/plots/mod.ts";
import { Recorder } from "./recorder.ts";
import { starEmbedding } from "./samples.ts";
import { assert, assertEquals } from "../_assert.ts";

const { embedding, labels } = starEmbedding();
const fig = embeddingScatter(embedding, labels);
const MB = 1 << 20;

Deno.test("bundle: plotly.js not embedded but loaded from the notebook folder; plotly JSON mime", () => {
  const bundle = figureBundle(fig);
  const html = bundle["text/html"] as string;
  const src = plotlyJsSource();
  assert(src.length > 3 * MB, "plotly.js bundle read from node_modules");
  assert(!html.includes(src.slice(2000, 2200)) && html.length < 100_000, "plotly.js not embedded");
  assert(html.includes(JSON.stringify(notebookPlotlyFile())), "loads _plotly/plotly-<v>.min.js");
  assert(
    /^_plotly\/plotly-\d+\.\d+\.\d+\.min\.js$/.test(notebookPlotlyFile()),
    notebookPlotlyFile(),
  );
  assert(!/https?:\/\//i.test(html) && !/<script[^>]+src=/i.test(html), "no CDN / external script");
  assert(!("image/png" in bundle), "no static image unless rendered");
  const json = bundle["application/vnd.plotly.v1+json"] as { data: unknown[]; layout: unknown };
  assert(json.data.length === 7 && json.layout === fig.layout, "plotly JSON mime type");
  assert(String(bundle["text/plain"]).includes("7 trace"), "text/plain fallback");
  const inlined = figureHtml(fig, { includePlotly: true });
  assert(inlined.length > src.length, "inlining can be forced (standalone pages)");
  // Text in the spec must not be able to close the <script> element early.
  const evil = { ...fig, layout: { ...fig.layout, title: { text: "</script><b>x" } } };
  const h3 = figureBundle(evil)["text/html"] as string;
  assert(!h3.includes("</script><b>") && h3.split("</script>").length === 2, "escaping");
});

Deno.test("the notebook's folder from the kernel: absolute and ~-relative, written into the figure", () => {
  const home = Deno.env.get("HOME");
  try {
    Deno.env.set("HOME", "/home/ana");
    assertEquals(kernelNotebookDirs("/home/ana/rul/notebooks/"), [
      "/home/ana/rul/notebooks",
      "~/rul/notebooks",
    ]);
    assertEquals(kernelNotebookDirs("/srv/rul/notebooks"), ["/srv/rul/notebooks"]);
    assertEquals(kernelNotebookDirs("/home/anabel/x"), ["/home/anabel/x"], "not under $HOME");
  } finally {
    if (home === undefined) Deno.env.delete("HOME");
    else Deno.env.set("HOME", home);
  }
  const html = figureBundle(fig, { notebookDirs: ["/srv/rul/nb"] })["text/html"] as string;
  assert(html.includes('rulDirs = ["/srv/rul/nb"]'), "the folder is in the figure's script");
  assert(!/location\.pathname/.test(html), "the folder is never read from the page's address");
  assert(html.includes("serverRoot") && html.includes("api/sessions"), "server root, sessions");
});

Deno.test("bundle with a static PNG: image/png beside text/html, and the HTML shows it until drawn", () => {
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 250]);
  const b = figureBundle(fig, { png });
  assert(b["image/png"] === btoa(String.fromCharCode(...png)), "image/png is the base64 PNG");
  const html = b["text/html"] as string;
  assert(html.includes(`<img src="data:image/png;base64,${b["image/png"]}"`), "fallback <img>");
});

Deno.test("show(): the kernel's display symbol returns the bundle with the static image", async () => {
  const d = show(fig);
  assert(JUPYTER_DISPLAY === Symbol.for("Jupyter.display"), "symbol");
  const seen: unknown[] = [];
  setStaticRenderer((f) => {
    seen.push(f);
    return Promise.resolve(new Uint8Array([1, 2, 3]));
  });
  try {
    const b = await d[JUPYTER_DISPLAY]();
    assert(typeof b["text/html"] === "string" && b["application/vnd.plotly.v1+json"], "bundle");
    assert(b["image/png"] === "AQID" && seen[0] === fig, "static image of this figure");
    setStaticRenderer(() => Promise.reject(new Error("no browser")));
    const b2 = await d[JUPYTER_DISPLAY]();
    assert(!("image/png" in b2) && typeof b2["text/html"] === "string", "failure leaves it out");
  } finally {
    setStaticRenderer(undefined);
  }
});

Deno.test("ensureNotebookPlotly copies plotly.js into <dir>/_plotly once", () => {
  const dir = Deno.makeTempDirSync({ prefix: "nb-plotly-" });
  try {
    const file = ensureNotebookPlotly(dir);
    assert(file === `${dir}/${notebookPlotlyFile()}`, file);
    assert(Deno.readTextFileSync(file) === plotlyJsSource(), "identical copy");
    const mtime = Deno.statSync(file).mtime?.getTime();
    assert(ensureNotebookPlotly(dir) === file, "same path");
    assert(Deno.statSync(file).mtime?.getTime() === mtime, "not rewritten");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("outside Jupyter every display call is a no-op", async () => {
  setDisplayTarget(undefined);
  assert(!inJupyter(), "not in a kernel");
  assert((await displayFigure(fig)) === false, "displayFigure");
  const live = new LiveFigure();
  assert((await live.update(fig)) === false && live.latest === fig, "LiveFigure");
  const curves = new LiveTrainingCurves();
  await curves.onEpoch("run")({ epoch: 1, record: { train_loss: 1, test_acc: 0.5 } });
  await curves.finish();
  assert(curves.figure().data.length === 2, "curves still collected");
});

Deno.test("LiveFigure: display with an id, then throttled in-place updates, each self-contained", async () => {
  const rec = new Recorder();
  setDisplayTarget(rec);
  setStaticRenderer(null);
  try {
    const live = new LiveFigure({ minIntervalMs: 60_000, displayId: "curves-1" });
    assert(await live.update(fig), "first update shown");
    assert(!(await live.update(fig)), "second update throttled");
    assert(await live.flush(), "flush sends the pending update");
    assert(!(await live.flush()), "nothing pending");
    const kinds = rec.calls.map((c) =>
      `${c.options.update ? "update" : "display"}:${c.options.display_id ?? "-"}`
    );
    assert(
      JSON.stringify(kinds) === '["display:curves-1","update:curves-1"]',
      JSON.stringify(kinds),
    );
    for (const c of rec.calls) {
      const html = c.bundle["text/html"] as string;
      assert(html.length < 100_000 && html.includes("rulLoadPlotly"), "small, loads plotly.js");
    }
    assert(rec.calls.every((c) => c.options.raw === true), "raw bundles");
  } finally {
    setDisplayTarget(undefined);
    setStaticRenderer(undefined);
  }
});

Deno.test("LiveTrainingCurves: hook records epochs of several runs", async () => {
  const rec = new Recorder();
  setDisplayTarget(rec);
  setStaticRenderer(null);
  try {
    const curves = new LiveTrainingCurves({}, { minIntervalMs: 0 });
    const a = curves.onEpoch("baseline"), b = curves.onEpoch("RUL");
    for (let e = 1; e <= 3; e++) {
      await a({ epoch: e, record: { train_loss: 2 / e, test_acc: 0.5 + e / 10 } });
      await b({
        epoch: e,
        record: { train_loss: 1.8 / e, test_acc: e === 2 ? null : 0.6 + e / 10 },
      });
    }
    const f = curves.figure();
    assert(f.data.length === 4, `${f.data.length} traces`);
    assert(
      JSON.stringify(f.data[3].x) === "[1,3]",
      `missing accuracy skipped: ${JSON.stringify(f.data[3].x)}`,
    );
    assert(
      rec.calls.filter((c) => c.options.update).length === 5,
      "one update per epoch after the first",
    );
  } finally {
    setDisplayTarget(undefined);
    setStaticRenderer(undefined);
  }
});
