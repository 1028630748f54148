import {
  ablationBars,
  confusionCounts,
  confusionHeatmap,
  embeddingScatter,
  type Figure,
  imageToDataUri,
  meanStd,
  OKABE_ITO,
  RAF_DB_CLASS_NAMES,
  trainingCurves,
  uncertaintyGallery,
  uncertaintyHistogram,
} from "../../lib/plots/mod.ts";
import { Buffer } from "node:buffer";
import pngjs from "pngjs";
import { sampleFigures, starEmbedding, testImage } from "./samples.ts";
import { assert } from "../_assert.ts";

const TRACE_TYPES = new Set(["scatter", "bar", "heatmap", "histogram"]);

/** Structural validity: what Plotly needs, JSON-serialisable, paper defaults present. */
function checkSpec(name: string, fig: Figure): void {
  assert(Array.isArray(fig.data) && fig.data.length > 0, `${name}: no traces`);
  const round = JSON.parse(JSON.stringify(fig));
  assert(JSON.stringify(round) === JSON.stringify(fig), `${name}: not JSON-serialisable`);
  for (const [i, t] of fig.data.entries()) {
    assert(TRACE_TYPES.has(String(t.type)), `${name}: trace ${i} type ${t.type}`);
    if (Array.isArray(t.x) && Array.isArray(t.y) && t.type !== "heatmap") {
      assert(t.x.length === t.y.length, `${name}: trace ${i} x/y lengths`);
    }
    const s = JSON.stringify(t);
    assert(!/NaN|Infinity|null/.test(s), `${name}: trace ${i} has non-finite values`);
  }
  assert(
    fig.layout.paper_bgcolor === "#FFFFFF" && fig.layout.plot_bgcolor === "#FFFFFF",
    `${name}: bg`,
  );
  assert((fig.layout.font as { size: number }).size >= 12, `${name}: font size`);
}

Deno.test("every figure builder returns a valid spec for sample inputs", () => {
  const figs = sampleFigures();
  assert(Object.keys(figs).length >= 9, "all builders covered");
  for (const [name, fig] of Object.entries(figs)) checkSpec(name, fig);
});

Deno.test("scatter: one trace per class with RAF-DB names and Okabe-Ito colours", () => {
  const { embedding, labels } = starEmbedding();
  const fig = embeddingScatter(embedding, labels);
  assert(fig.data.length === 7, `${fig.data.length} traces`);
  fig.data.forEach((t, c) => {
    assert(t.name === RAF_DB_CLASS_NAMES[c], `trace ${c} name ${t.name}`);
    assert((t.marker as { color: string }).color === OKABE_ITO[c], `trace ${c} colour`);
    const xs = t.x as number[], ys = t.y as number[];
    assert(xs.length === 10, `class ${c} has ${xs.length} points`);
    // Point r of class c is at radius r + 1 along angle 2πc/7.
    assert(Math.abs(xs[2] - 3 * Math.cos((2 * Math.PI * c) / 7)) < 1e-12, "x value");
    assert(Math.abs(ys[2] - 3 * Math.sin((2 * Math.PI * c) / 7)) < 1e-12, "y value");
  });
  const u = Array.from(labels, (_, i) => i); // 0..69
  const bySize = embeddingScatter(embedding, labels, { uncertainty: u, markerSize: 4 });
  const sizes = (bySize.data[0].marker as { size: number[] }).size;
  assert(sizes[0] === 4 && Math.abs(sizes[9] - 4 * (1 + 3 * 63 / 69)) < 1e-12, `sizes ${sizes}`);
  const byOpacity = embeddingScatter(embedding, labels, {
    uncertainty: u,
    uncertaintyAs: "opacity",
  });
  const op = (byOpacity.data[6].marker as { opacity: number[] }).opacity;
  assert(Math.abs(op[9] - 0.15) < 1e-12, `most uncertain point opacity ${op[9]}`);
});

Deno.test("confusion matrix: counts and row-normalised values", () => {
  const m = confusionCounts([0, 0, 0, 1, 1, 2], [0, 1, 0, 1, 1, 0], 3);
  assert(JSON.stringify(m) === "[[2,1,0],[0,2,0],[1,0,0]]", `counts ${JSON.stringify(m)}`);
  const fig = confusionHeatmap(m, { mode: "both", classNames: ["a", "b", "c"] });
  assert(fig.data.length === 2, "two panels");
  const z = fig.data[1].z as number[][];
  assert(Math.abs(z[0][0] - 2 / 3) < 1e-15 && z[2][0] === 1 && z[1][1] === 1, `normalised ${z}`);
  assert((fig.data[1].text as string[][])[0][1] === "33.3", "percent text");
  assert(JSON.stringify(fig.data[0].x) === '["a","b","c"]', "class names");
  let err = "";
  try {
    confusionCounts([0, 7], [0, 1], 7);
  } catch (e) {
    err = String(e);
  }
  assert(/label at index 1 is 7/.test(err), `bad label error: ${err}`);
});

Deno.test("training curves: runs overlaid on shared colours, one legend entry per run", () => {
  const fig = trainingCurves([
    { name: "a", loss: [3, 2, 1], testAccuracy: [0.1, 0.2, 0.3] },
    { name: "b", epochs: [5, 10], testAccuracy: [0.4, 0.5], testAccuracyEpochs: [5, 10] },
  ]);
  assert(fig.data.length === 3, `${fig.data.length} traces`);
  assert(JSON.stringify(fig.data[0].x) === "[1,2,3]", "default epochs");
  assert(fig.data[1].xaxis === "x2" && fig.data[1].showlegend === false, "accuracy panel");
  assert(fig.data[2].showlegend === true && fig.data[2].xaxis === "x2", "run b only accuracy");
  let err = "";
  try {
    trainingCurves([{ name: "bad", epochs: [1, 2], loss: [1] }]);
  } catch (e) {
    err = String(e);
  }
  assert(/run "bad": 2 epochs but 1 values/.test(err), err);
});

Deno.test("training curves: one epoch gets axes around its point, not Plotly's wide padding", () => {
  const fig = trainingCurves([{ name: "a", loss: [1.2], testAccuracy: [0.686] }]);
  const l = fig.layout as Record<string, { range?: number[] }>;
  assert(JSON.stringify(l.xaxis.range) === "[0.5,1.5]", `epoch axis ${l.xaxis.range}`);
  const [a, b] = l.yaxis2.range!;
  assert(a >= 0.6 && a < 0.686 && b > 0.686 && b <= 0.75, `accuracy axis [${a}, ${b}]`);
  const [c, d] = l.yaxis.range!;
  assert(c < 1.2 && d > 1.2 && d - c < 0.2, `loss axis [${c}, ${d}]`);
  const many = trainingCurves([{ name: "a", loss: [3, 2, 1], testAccuracy: [0.1, 0.5, 0.7] }]);
  const m = many.layout as Record<string, { range?: number[] }>;
  assert(!m.yaxis2.range && !m.xaxis.range, "spread-out data keeps Plotly's autorange");
});

Deno.test("histogram: shared bins for clean and flipped", () => {
  const fig = uncertaintyHistogram([0, 1, 1], [2, 4], { bins: 4 });
  const b0 = fig.data[0].xbins as { start: number; size: number };
  assert(JSON.stringify(fig.data[0].xbins) === JSON.stringify(fig.data[1].xbins), "same bins");
  assert(b0.start === 0 && b0.size === 1, `bins ${JSON.stringify(b0)}`);
  assert(String(fig.data[1].name).includes("n=2"), "counts in legend");
});

Deno.test("ablation: mean ± sample s.d. per configuration", () => {
  assert(Math.abs(meanStd([1, 2, 3, 4]).std - Math.sqrt(5 / 3)) < 1e-15, "sample std");
  const fig = ablationBars([{ name: "x", values: [0.8, 0.9] }, { name: "y", values: [0.5] }], {
    zoom: true,
  });
  const bar = fig.data[0];
  assert(Math.abs((bar.y as number[])[0] - 0.85) < 1e-15, "mean");
  const sd = (bar.error_y as { array: number[] }).array;
  assert(Math.abs(sd[0] - Math.sqrt(0.005)) < 1e-15 && sd[1] === 0, `sd ${sd}`);
  assert((fig.data[1].y as number[]).length === 3, "seed dots");
  const range = (fig.layout.yaxis as { range: number[] }).range;
  assert(range[0] < 0.5 && range[1] > 0.9 && range[0] > 0.3, `zoomed range ${range}`);
});

Deno.test("gallery: sorted by uncertainty, PNG data URIs decode to the input pixels", () => {
  const samples = [0.2, 0.9, 0.5].map((u, i) => ({
    image: testImage(i),
    label: i,
    prediction: 1,
    uncertainty: u,
  }));
  const fig = uncertaintyGallery(samples, { limit: 2 });
  const imgs = fig.layout.images as { source: string }[];
  const notes = fig.layout.annotations as { text: string; font: { color: string } }[];
  assert(imgs.length === 2, "limit");
  // One line each (label, prediction, u): neighbouring captions cannot run together.
  assert(notes[0].text === "Fear<br>→ Fear<br>u = 0.900", notes[0].text);
  assert(
    notes[1].text === "Disgust<br>→ Fear<br>u = 0.500" && notes[1].font.color === "#D55E00",
    notes[1].text,
  );
  const extra = uncertaintyGallery([{ image: testImage(0), label: 0, caption: "#0 (flipped)" }]);
  const note = (extra.layout.annotations as { text: string }[])[0].text;
  assert(note === "#0 (flipped)<br>Surprise", note);
  const uri = imageToDataUri(testImage(1));
  assert(uri === imgs[0].source, "first tile is sample 1");
  const png = (pngjs as unknown as {
    PNG: { sync: { read(b: Buffer): { data: Uint8Array; width: number } } };
  })
    .PNG.sync.read(Buffer.from(uri.split(",")[1], "base64"));
  const src = testImage(1);
  assert(png.width === 12, "width");
  for (let p = 0; p < 120; p++) {
    for (let c = 0; c < 3; c++) {
      assert(png.data[p * 4 + c] === src.data[p * 3 + c], `pixel ${p} channel ${c}`);
    }
  }
  // Float images in [0, 1] are scaled to 0–255.
  const f = imageToDataUri({
    data: new Float32Array([0, 0.5, 1, 1]),
    width: 2,
    height: 2,
    channels: 1,
  });
  const g = (pngjs as unknown as { PNG: { sync: { read(b: Buffer): { data: Uint8Array } } } })
    .PNG.sync.read(Buffer.from(f.split(",")[1], "base64"));
  assert(g.data[0] === 0 && g.data[4] === 128 && g.data[8] === 255, `float pixels ${g.data}`);
});

Deno.test("builders reject bad input with clear errors", () => {
  const bad = (f: () => unknown, re: RegExp) => {
    try {
      f();
    } catch (e) {
      assert(re.test(String(e)), `wrong error: ${e}`);
      return;
    }
    throw new Error(`no error for ${re}`);
  };
  bad(() => embeddingScatter([0, 0, 1], [0, 1]), /3 values, expected 2 × 2 labels/);
  bad(() => embeddingScatter([0, 0, 1, NaN], [0, 1]), /index 3 is NaN/);
  bad(() => embeddingScatter([0, 0, 1, 1], [0, 1.5]), /label at index 1 is 1.5/);
  bad(() => ablationBars([{ name: "e", values: [] }]), /"e" has no values/);
  bad(() => uncertaintyHistogram([], []), /no values/);
});

Deno.test("uncertaintyByEpoch: flipped solid / clean dashed as mean ± s.d. over runs, runs faint, AUROC with chance line", async () => {
  const { uncertaintyByEpoch } = await import("../../lib/plots/mod.ts");
  const run = (name: string, a: number[]) => ({
    name,
    epochs: [1, 2],
    meanUFlipped: [1, 2],
    meanUClean: [3, 4],
    auroc: a,
  });
  const fig = uncertaintyByEpoch([run("s0", [0.4, 0.3]), run("s1", [0.6, 0.9])]);
  const names = fig.data.map((t) => t.name);
  assert(
    JSON.stringify(names) ===
      JSON.stringify([
        "flipped seed s0",
        "flipped seed s1",
        "flipped band",
        "flipped (mean ± s.d., 2 seeds)",
        "clean seed s0",
        "clean seed s1",
        "clean band",
        "clean (mean ± s.d., 2 seeds)",
        "RUL AUROC of u seed s0",
        "RUL AUROC of u seed s1",
        "RUL AUROC of u band",
        "RUL AUROC of u (mean ± s.d., 2 seeds)",
        "chance",
      ]),
    `names ${names}`,
  );
  const dash = (i: number) => (fig.data[i].line as { dash?: string }).dash;
  assert(dash(3) === "solid" && dash(7) === "dash", "flipped solid, clean dashed");
  // values are plotted as given: an AUROC below 0.5 is not flipped to 1 − AUROC
  assert(JSON.stringify(fig.data[8].y) === "[0.4,0.3]", `AUROC ${fig.data[8].y}`);
  // the mean over runs, by hand: (0.4 + 0.6) / 2, (0.3 + 0.9) / 2
  const mean = fig.data[11].y as number[];
  assert(Math.abs(mean[0] - 0.5) < 1e-12 && Math.abs(mean[1] - 0.6) < 1e-12, `mean ${mean}`);
  assert(fig.data[11].xaxis === "x2" && JSON.stringify(fig.data[12].y) === "[0.5,0.5]", "chance");
  let threw = false;
  try {
    uncertaintyByEpoch([{ ...run("bad", [0.5]), auroc: [0.5] }]);
  } catch {
    threw = true;
  }
  assert(threw, "mismatched lengths refused");
});
