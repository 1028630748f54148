import {
  displayFigure,
  embeddingScatter,
  figureBundle,
  inJupyter,
  JUPYTER_DISPLAY,
  LiveFigure,
  LiveTrainingCurves,
  plotlyJsSource,
  resetPlotlyInlining,
  setDisplayTarget,
  show,
} from "../../lib/plots/mod.ts";
import { Recorder } from "./recorder.ts";
import { starEmbedding } from "./samples.ts";

function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

const { embedding, labels } = starEmbedding();
const fig = embeddingScatter(embedding, labels);
const MB = 1 << 20;

Deno.test("bundle: plotly.js inlined by the first figure only, plus the plotly JSON mime type", () => {
  resetPlotlyInlining();
  const first = figureBundle(fig), second = figureBundle(fig);
  const h1 = first["text/html"] as string, h2 = second["text/html"] as string;
  const src = plotlyJsSource();
  assert(src.length > 3 * MB, "plotly.js bundle read from node_modules");
  assert(
    h1.includes(src.slice(2000, 2200)) && h1.length > src.length,
    "first bundle inlines plotly",
  );
  assert(!h2.includes(src.slice(2000, 2200)) && h2.length < 100_000, "second bundle reuses it");
  const own = h1.replace(src, ""); // our markup around the bundle (plotly itself names CDNs for maps)
  assert(!/https?:\/\//i.test(own) && !/<script[^>]+src=/i.test(own), "no CDN / external script");
  const json = first["application/vnd.plotly.v1+json"] as { data: unknown[]; layout: unknown };
  assert(json.data.length === 7 && json.layout === fig.layout, "plotly JSON mime type");
  assert(String(first["text/plain"]).includes("7 trace"), "text/plain fallback");
  const forced = figureBundle(fig, { inlinePlotly: true })["text/html"] as string;
  assert(forced.length > src.length, "inlining can be forced");
  // Text in the spec must not be able to close the <script> element early.
  const evil = { ...fig, layout: { ...fig.layout, title: { text: "</script><b>x" } } };
  const h3 = figureBundle(evil, { inlinePlotly: false })["text/html"] as string;
  assert(!h3.includes("</script><b>") && h3.split("</script>").length === 2, "escaping");
});

Deno.test("show(): the kernel's display symbol returns the bundle", () => {
  const d = show(fig);
  assert(JUPYTER_DISPLAY === Symbol.for("Jupyter.display"), "symbol");
  const b = d[JUPYTER_DISPLAY]();
  assert(typeof b["text/html"] === "string" && b["application/vnd.plotly.v1+json"], "bundle");
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

Deno.test("LiveFigure: loader once, then display with an id, then throttled in-place updates", async () => {
  const rec = new Recorder();
  setDisplayTarget(rec);
  try {
    resetPlotlyInlining();
    const live = new LiveFigure({ minIntervalMs: 60_000, displayId: "curves-1" });
    assert(await live.update(fig), "first update shown");
    assert(!(await live.update(fig)), "second update throttled");
    assert(await live.flush(), "flush sends the pending update");
    assert(!(await live.flush()), "nothing pending");
    const kinds = rec.calls.map((c) =>
      `${c.options.update ? "update" : "display"}:${c.options.display_id ?? "-"}`
    );
    assert(
      JSON.stringify(kinds) === '["display:-","display:curves-1","update:curves-1"]',
      JSON.stringify(kinds),
    );
    assert((rec.calls[0].bundle["text/html"] as string).length > 3 * MB, "loader carries plotly");
    assert((rec.calls[2].bundle["text/html"] as string).length < 100_000, "updates are small");
    assert(rec.calls.every((c) => c.options.raw === true), "raw bundles");
  } finally {
    setDisplayTarget(undefined);
  }
});

Deno.test("LiveTrainingCurves: hook records epochs of several runs", async () => {
  const rec = new Recorder();
  setDisplayTarget(rec);
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
  }
});
