import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ablationBars,
  displayFigure,
  embeddingScatter,
  ensureNotebookPlotly,
  FigureRenderer,
  JUPYTER_DISPLAY,
  LiveTrainingCurves,
  OKABE_ITO,
  setDisplayTarget,
  setStaticRenderer,
  show,
} from "../../lib/plots/mod.ts";
import { countColor, decodePng, hexRgb, overWhite } from "./pixels.ts";
import { notebook, Recorder } from "./recorder.ts";
import { starEmbedding } from "./samples.ts";
import { assert } from "../_assert.ts";

Deno.test({
  name: "notebook outputs after `jupyter nbconvert --to html`, offline: static images without " +
    "plotly.js, interactive charts with _plotly/ beside the page; no plotly.js in the notebook",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = mkdtempSync(join(tmpdir(), "plots-nb-"));
    const r = await FigureRenderer.launch();
    setStaticRenderer((f) => r.render(f, { format: "png", scale: 1 }));
    try {
      // Cell 1: live training curves (3 epochs, updated in place). Cell 2: a scatter. Cell 3: an
      // ablation chart as the cell's value.
      const rec1 = new Recorder(), rec2 = new Recorder();
      setDisplayTarget(rec1);
      const curves = new LiveTrainingCurves({}, { minIntervalMs: 0 });
      for (let e = 1; e <= 3; e++) {
        await curves.onEpoch("RUL")({
          epoch: e,
          record: { train_loss: 2 / e, test_acc: 0.5 + e / 10 },
        });
      }
      await curves.finish();
      setDisplayTarget(rec2);
      const { embedding, labels } = starEmbedding();
      await displayFigure(embeddingScatter(embedding, labels, { markerSize: 8 }));
      setDisplayTarget(undefined);
      const ablation = show(
        ablationBars([{ name: "a", values: [0.8, 0.82] }, { name: "b", values: [0.85] }]),
      );
      const cells = [
        { source: "// live curves", outputs: rec1.outputs() },
        { source: "await displayFigure(scatter)", outputs: rec2.outputs() },
        {
          source: "show(ablation)",
          outputs: [{
            output_type: "execute_result",
            execution_count: 3,
            data: await ablation[JUPYTER_DISPLAY](),
            metadata: {},
          }],
        },
      ];
      assert(cells[0].outputs.length === 1, `live cell has ${cells[0].outputs.length} outputs`);
      assert(rec1.calls.length === 3, "display and two updates");
      for (const c of cells) {
        const data = c.outputs[0].data as Record<string, string>;
        assert(data["image/png"]?.length > 1000, `${c.source}: static PNG in the bundle`);
      }
      const ipynb = join(dir, "figures.ipynb");
      const text = notebook(cells);
      assert(text.length < 400_000, `saved notebook is small: ${text.length} bytes`);
      writeFileSync(ipynb, text);
      const p = new Deno.Command("/usr/bin/jupyter", {
        args: ["nbconvert", "--to", "html", "--output-dir", dir, ipynb],
        stdout: "piped",
        stderr: "piped",
      }).outputSync();
      assert(p.success, `nbconvert failed: ${new TextDecoder().decode(p.stderr)}`);
      const htmlPath = join(dir, "figures.html");
      const html = readFileSync(htmlPath, "utf8");
      assert((html.match(/class="rul-plotly-figure"/g) ?? []).length === 3, "three figure divs");

      const keep = Deno.env.get("PLOTS_TEST_SCREENSHOT"); // debugging aid: save the screenshots
      // 1. No plotly.js reachable: the static images show every figure.
      const still = await r.screenshotPage(htmlPath, { timeoutMs: 60_000, waitFor: "images" });
      if (keep) writeFileSync(`${keep}-static.png`, still);
      checkColours(decodePng(still), "static");
      // 2. plotly.js beside the page (as in the notebook's folder): interactive charts.
      ensureNotebookPlotly(dir);
      const live = await r.screenshotPage(htmlPath, { timeoutMs: 60_000 });
      if (keep) writeFileSync(`${keep}-charts.png`, live);
      checkColours(decodePng(live), "charts");
    } finally {
      setDisplayTarget(undefined);
      setStaticRenderer(undefined);
      await r.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
});

function checkColours(img: ReturnType<typeof decodePng>, what: string): void {
  assert(img.height > 1200, `${what}: page too short (${img.height} px) for three figures`);
  // Scatter: every class colour (marker opacity 0.8 over white) is on the page.
  for (let c = 0; c < 7; c++) {
    const n = countColor(img, overWhite(hexRgb(OKABE_ITO[c]), 0.8), 6);
    assert(n > 100, `${what}: scatter class ${c} (${OKABE_ITO[c]}): ${n} pixels`);
  }
  // Live curves (run 0 colour, opaque lines) and ablation bars (second bar, opaque fill).
  const orange = countColor(img, hexRgb(OKABE_ITO[0]), 6);
  assert(orange > 2000, `${what}: orange curve + bar pixels: ${orange}`);
  const blue = countColor(img, hexRgb(OKABE_ITO[1]), 6);
  assert(blue > 2000, `${what}: second ablation bar: ${blue} pixels`);
}
