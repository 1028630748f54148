import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ablationBars,
  displayFigure,
  embeddingScatter,
  FigureRenderer,
  JUPYTER_DISPLAY,
  LiveTrainingCurves,
  OKABE_ITO,
  resetPlotlyInlining,
  setDisplayTarget,
  show,
} from "../../lib/plots/mod.ts";
import { countColor, decodePng, hexRgb, overWhite } from "./pixels.ts";
import { notebook, Recorder } from "./recorder.ts";
import { starEmbedding } from "./samples.ts";

function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

Deno.test("notebook outputs render after `jupyter nbconvert --to html`, offline, in Chromium", async () => {
  const dir = mkdtempSync(join(tmpdir(), "plots-nb-"));
  try {
    // Cell 1: live training curves (3 epochs, updated in place; first figure, so a separate
    // output carries plotly.js). Cell 2: a scatter (reuses window.Plotly). Cell 3: an ablation
    // chart as the cell's value.
    resetPlotlyInlining();
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
          data: ablation[JUPYTER_DISPLAY](),
          metadata: {},
        }],
      },
    ];
    assert(cells[0].outputs.length === 2, `live cell has ${cells[0].outputs.length} outputs`);
    assert(rec1.calls.length === 4, "loader, display, two updates");
    const ipynb = join(dir, "figures.ipynb");
    writeFileSync(ipynb, notebook(cells));
    const p = new Deno.Command("/usr/bin/jupyter", {
      args: ["nbconvert", "--to", "html", "--output-dir", dir, ipynb],
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
    assert(p.success, `nbconvert failed: ${new TextDecoder().decode(p.stderr)}`);
    const htmlPath = join(dir, "figures.html");
    const html = readFileSync(htmlPath, "utf8");
    assert((html.match(/class="rul-plotly-figure"/g) ?? []).length === 3, "three figure divs");

    const r = await FigureRenderer.launch();
    let shot: Uint8Array;
    try {
      shot = await r.screenshotPage(htmlPath, { width: 1200, height: 900, timeoutMs: 60_000 });
    } finally {
      await r.close();
    }
    const keep = Deno.env.get("PLOTS_TEST_SCREENSHOT"); // debugging aid: save the screenshot
    if (keep) writeFileSync(keep, shot);
    const img = decodePng(shot);
    assert(img.height > 1200, `page too short (${img.height} px) for three figures`);
    // Scatter: every class colour (marker opacity 0.8 over white) is on the page.
    for (let c = 0; c < 7; c++) {
      const n = countColor(img, overWhite(hexRgb(OKABE_ITO[c]), 0.8), 6);
      assert(n > 100, `scatter class ${c} (${OKABE_ITO[c]}): ${n} pixels`);
    }
    // Live curves (run 0 colour, opaque lines) and ablation bars (second bar, opaque fill).
    const orange = countColor(img, hexRgb(OKABE_ITO[0]), 6);
    assert(orange > 2000, `orange curve + bar pixels: ${orange}`);
    const blue = countColor(img, hexRgb(OKABE_ITO[1]), 6);
    assert(blue > 2000, `second ablation bar: ${blue} pixels`);
  } finally {
    setDisplayTarget(undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});
