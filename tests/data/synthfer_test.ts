import { assert, assertEquals } from "../_assert.ts";
import {
  classCounts,
  drawSynthFerSample,
  generateSynthFer,
  RAF_DB_CLASSES,
  subsetDataset,
  synthFerSplits,
  validateDataset,
} from "../../lib/data/mod.ts";
import { mixSeed, permutation, Rng } from "../../lib/random.ts";

Deno.test("SynthFER: deterministic by seed, different across seeds, valid dataset", () => {
  const a = generateSynthFer({ n: 40, size: 32, seed: 3 });
  const b = generateSynthFer({ n: 40, size: 32, seed: 3 });
  const c = generateSynthFer({ n: 40, size: 32, seed: 4 });
  assertEquals(a.pixels, b.pixels);
  assertEquals(a.labels, b.labels);
  assert(a.pixels.some((v, i) => v !== c.pixels[i]));
  validateDataset(a);
  assertEquals(a.classNames, [...RAF_DB_CLASSES]);
  // Sample i depends only on (seed, i): a longer set starts with the same images.
  const longer = generateSynthFer({ n: 50, size: 32, seed: 3 });
  assertEquals(longer.pixels.subarray(0, a.pixels.length), a.pixels);
});

Deno.test("SynthFER: records ambiguity (blend class/weight) as configured", () => {
  const n = 2000;
  const o = { n, seed: 1, blendProb: 0.3, blendWeight: [0.15, 0.5] as [number, number] };
  let blended = 0;
  for (let i = 0; i < n; i++) {
    const s = drawSynthFerSample(i, o);
    if (s.blendClass >= 0) {
      blended++;
      assert(s.blendClass !== s.label, "blend with a different class");
      assert(s.blendWeight >= 0.15 && s.blendWeight < 0.5);
    } else {
      assertEquals(s.blendWeight, 0);
    }
  }
  // Binomial(2000, 0.3): sd ≈ 20.5.
  assert(Math.abs(blended - 600) < 5 * 20.5, `blended ${blended}`);
  const ds = generateSynthFer({ n: 30, size: 16, seed: 2 });
  for (let i = 0; i < 30; i++) {
    const s = drawSynthFerSample(i, { n: 30, seed: 2 });
    assertEquals(ds.extra!.blendClass[i], s.blendClass);
    assertEquals(ds.labels[i], s.label);
  }
});

Deno.test("SynthFER: every class appears, label noise keeps the clean labels", () => {
  const ds = generateSynthFer({ n: 700, size: 8, seed: 5, noise: 0.2 });
  const counts = classCounts(ds.cleanLabels!, 7);
  for (const c of counts) assert(c > 60, `counts ${counts}`);
  let flips = 0;
  for (let i = 0; i < ds.n; i++) if (ds.labels[i] !== ds.cleanLabels![i]) flips++;
  assertEquals(flips, 140);
});

Deno.test("SynthFER: classes differ on average (the expressions are drawn, not noise)", () => {
  // Mean image per class at 24 px, no blends/jitter: class means must differ clearly in the
  // mouth region (rows 15-21) between Happiness and Sadness.
  const ds = generateSynthFer({ n: 1400, size: 24, seed: 8, blendProb: 0, occlusionProb: 0 });
  const mean = (cls: number) => {
    const m = new Float64Array(24 * 24 * 3);
    let k = 0;
    for (let i = 0; i < ds.n; i++) {
      if (ds.labels[i] !== cls) continue;
      k++;
      for (let j = 0; j < m.length; j++) m[j] += ds.pixels[i * m.length + j];
    }
    return m.map((v) => v / k);
  };
  const h = mean(3), s = mean(4);
  let diff = 0;
  for (let y = 15; y < 22; y++) {
    for (let x = 6; x < 18; x++) diff += Math.abs(h[(y * 24 + x) * 3] - s[(y * 24 + x) * 3]);
  }
  assert(diff / (7 * 12) > 1, `mean |Happiness − Sadness| in the mouth region = ${diff / 84}`);
});

Deno.test("synthFerSplits: disjoint streams, clean test split; subsetDataset copies", () => {
  const { train, test } = synthFerSplits({ train: 20, test: 10, size: 16, seed: 1, noise: 0.3 });
  assertEquals([train.n, test.n], [20, 10]);
  assert(train.cleanLabels !== undefined && test.cleanLabels === undefined);
  assert(train.pixels.subarray(0, 768).some((v, i) => v !== test.pixels[i]));
  const sub = subsetDataset(train, [3, 1]);
  assertEquals(sub.labels, Int32Array.from([train.labels[3], train.labels[1]]));
  assertEquals(sub.pixels.subarray(0, 768), train.pixels.subarray(3 * 768, 4 * 768));
  assertEquals(sub.extra!.blendWeight[1], train.extra!.blendWeight[1]);
});

Deno.test("Rng: reproducible, uniform and normal moments, permutation is a permutation", () => {
  const a = new Rng(1), b = new Rng(1);
  for (let i = 0; i < 100; i++) assertEquals(a.nextUint32(), b.nextUint32());
  assert(mixSeed(1, 2) !== mixSeed(2, 1));
  const r = new Rng(9);
  const n = 100_000;
  let s = 0, s2 = 0, u = 0;
  for (let i = 0; i < n; i++) {
    const z = r.normal();
    s += z;
    s2 += z * z;
    u += r.next();
  }
  assert(Math.abs(s / n) < 0.02 && Math.abs(s2 / n - 1) < 0.03, `normal ${s / n} ${s2 / n}`);
  assert(Math.abs(u / n - 0.5) < 0.005, `uniform mean ${u / n}`);
  const p = permutation(1000, 3);
  assertEquals([...p].sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i));
});
