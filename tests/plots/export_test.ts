import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  embeddingScatter,
  exportFigure,
  FigureRenderer,
  findChromium,
  OKABE_ITO,
} from "../../lib/plots/mod.ts";
import { countColor, countNonWhite, decodePng, hexRgb, overWhite } from "./pixels.ts";
import { sampleFigures, starEmbedding } from "./samples.ts";
import { assert } from "../_assert.ts";

Deno.test("static export through headless Chromium", async (t) => {
  const r = await FigureRenderer.launch();
  const { embedding, labels } = starEmbedding();
  const scatter = embeddingScatter(embedding, labels, { markerSize: 8 });
  try {
    await t.step("every sample figure passes Plotly.validate", async () => {
      const problems: string[] = [];
      for (const [name, fig] of Object.entries(sampleFigures())) {
        const errors = await r.validate(fig);
        if (errors.length) problems.push(`${name}: ${errors.join("; ")}`);
      }
      assert(problems.length === 0, problems.join("\n"));
      const errs = await r.validate({ data: [{ type: "scatter", bogus: 1 }], layout: {} });
      assert(errs.length > 0, "Plotly.validate must flag an unknown attribute");
    });

    await t.step("PNG of a scatter is a real image with the points in the plot area", async () => {
      const img = decodePng(await r.render(scatter, { format: "png", scale: 2 }));
      assert(img.width === 1280 && img.height === 1120, `size ${img.width}×${img.height}`);
      // Plot area: inside the margins (l 70, t 50, b 60 px) and left of the legend (~150 px).
      const box = { x0: 2 * 80, y0: 2 * 60, x1: 2 * 480, y1: 2 * 490 };
      const inside = countNonWhite(img, box);
      assert(inside > 2000, `plot area nearly blank: ${inside} non-white pixels`);
      for (let c = 0; c < 7; c++) {
        const n = countColor(img, overWhite(hexRgb(OKABE_ITO[c]), 0.8), 6, box);
        assert(n > 100, `class ${c} colour ${OKABE_ITO[c]}: ${n} pixels in the plot area`);
      }
      // Corners of the image are paper background (white).
      assert(countNonWhite(img, { x0: 0, y0: 0, x1: 20, y1: 20 }) === 0, "white background");
    });

    await t.step("scale factor multiplies the PNG size", async () => {
      const img = decodePng(await r.render(scatter, { scale: 1, width: 300, height: 200 }));
      assert(img.width === 300 && img.height === 200, `size ${img.width}×${img.height}`);
    });

    await t.step("SVG contains every point and the class names", async () => {
      const svg = new TextDecoder().decode(await r.render(scatter, { format: "svg" }));
      assert(svg.startsWith("<svg"), "SVG document");
      const points = svg.match(/class="point"/g)?.length ?? 0;
      assert(points === 70, `${points} points in the SVG, expected 70`);
      for (const name of ["Surprise", "Neutral"]) assert(svg.includes(name), `legend ${name}`);
    });

    await t.step("PDF is a one-page vector document", async () => {
      const pdf = await r.render(scatter, { format: "pdf" });
      const head = new TextDecoder().decode(pdf.slice(0, 8));
      assert(head.startsWith("%PDF-"), `PDF header ${head}`);
      const text = new TextDecoder("latin1").decode(pdf);
      const pages = text.match(/\/Type\s*\/Page[^s]/g)?.length ?? 0;
      assert(pages === 1, `${pages} pages`);
    });
  } finally {
    await r.close();
  }
});

Deno.test("exportFigure writes atomically by extension and rejects unknown formats", async () => {
  const dir = mkdtempSync(join(tmpdir(), "plots-export-"));
  try {
    const { embedding, labels } = starEmbedding();
    const fig = embeddingScatter(embedding, labels);
    const out = join(dir, "scatter.svg");
    await exportFigure(fig, out);
    assert(readFileSync(out, "utf8").startsWith("<svg"), "svg written");
    assert(readdirSync(dir).length === 1, `leftover files: ${readdirSync(dir)}`);
    let err = "";
    await exportFigure(fig, join(dir, "x.gif")).catch((e) => err = String(e));
    assert(/cannot tell the format of ".*x\.gif"/.test(err), err);
    assert(!existsSync(join(dir, "x.gif")), "no file for a failed export");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Deno.test("missing browser: the error names the install command", () => {
  const old = Deno.env.get("CHROMIUM_PATH");
  Deno.env.set("CHROMIUM_PATH", "/nonexistent/chromium");
  try {
    let err = "";
    try {
      findChromium();
    } catch (e) {
      err = String(e);
    }
    assert(/apt-get install chromium/.test(err) && err.includes("/nonexistent/chromium"), err);
  } finally {
    if (old === undefined) Deno.env.delete("CHROMIUM_PATH");
    else Deno.env.set("CHROMIUM_PATH", old);
  }
});
