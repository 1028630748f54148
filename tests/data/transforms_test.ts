import { assert, assertAlmostEquals, assertEquals } from "../_assert.ts";
import { Rng } from "../../lib/random.ts";
import {
  gaussianNoise,
  horizontalFlip,
  normalizeInto,
  randomErasing,
  sampleErasing,
  testTransform,
  trainTransform,
} from "../../lib/data/transforms.ts";

Deno.test("horizontalFlip: exact values on a 2x3 RGB image", () => {
  // Pixel (y, x) = [10y + x, 100 + x, 200 - x].
  const src = new Uint8Array(2 * 3 * 3);
  for (let y = 0; y < 2; y++) {
    for (let x = 0; x < 3; x++) src.set([10 * y + x, 100 + x, 200 - x], (y * 3 + x) * 3);
  }
  const out = horizontalFlip(src, 2, 3, 3);
  assertEquals(Array.from(out), [
    2,
    102,
    198,
    1,
    101,
    199,
    0,
    100,
    200,
    12,
    102,
    198,
    11,
    101,
    199,
    10,
    100,
    200,
  ]);
});

Deno.test("gaussianNoise: exact formula with the same seeded normals, clip and truncation", () => {
  const src = new Uint8Array([0, 1, 128, 254, 255, 100]);
  const out = gaussianNoise(src, new Rng(7), 30);
  const ref = new Rng(7);
  for (let i = 0; i < src.length; i++) {
    const v = src[i] + Math.sqrt(30) * ref.normal();
    assertEquals(out[i], Math.min(255, Math.max(0, Math.trunc(v))));
  }
});

Deno.test("gaussianNoise: statistics (variance 30, truncation shifts the mean by -0.5)", () => {
  const n = 100_000;
  const out = gaussianNoise(new Uint8Array(n).fill(128), new Rng(1), 30);
  let s = 0, s2 = 0;
  for (const v of out) {
    s += v;
    s2 += v * v;
  }
  const mean = s / n, variance = s2 / n - mean * mean;
  // trunc(128 + X), X ~ N(0, 30): mean 127.5, variance 30 + 1/12 (uniform fractional part).
  assertAlmostEquals(mean, 127.5, 0.1);
  assertAlmostEquals(variance, 30 + 1 / 12, 0.7);
  // At 0 the clip maps every negative draw and draws < 1 to 0: P = Phi(1/sqrt(30)) = 0.5724.
  const zeros = gaussianNoise(new Uint8Array(n), new Rng(2), 30).filter((v) => v === 0).length / n;
  assertAlmostEquals(zeros, 0.5724, 0.01);
});

Deno.test("normalizeInto / testTransform: equal torchvision ToTensor+Normalize (fixture)", async () => {
  const doc = JSON.parse(
    await Deno.readTextFile(new URL("./fixtures/pil_resize.json", import.meta.url)),
  );
  const src = Uint8Array.from(doc.normalize.src);
  const out = new Float32Array(12);
  normalizeInto(src, 3, out);
  for (let i = 0; i < 12; i++) assertAlmostEquals(out[i], doc.normalize.out[i], 1e-6);
  // By hand: 255 in R -> (1 - 0.485) / 0.229.
  assertAlmostEquals(out[2 * 3 + 0], (1 - 0.485) / 0.229, 1e-6);
  const viaTest = new Float32Array(12);
  testTransform(src, 2, 2, 3, { size: 2 }, viaTest);
  assertEquals(Array.from(viaTest), Array.from(out));
});

Deno.test("normalizeInto: grey images are replicated to 3 channels with per-channel stats", () => {
  const out = new Float32Array(3);
  normalizeInto(new Uint8Array([51]), 1, out, 0, undefined, undefined, 3);
  assertAlmostEquals(out[0], (0.2 - 0.485) / 0.229, 1e-6);
  assertAlmostEquals(out[1], (0.2 - 0.456) / 0.224, 1e-6);
  assertAlmostEquals(out[2], (0.2 - 0.406) / 0.225, 1e-6);
});

Deno.test("randomErasing: fills exactly the sampled box with the value, nothing else", () => {
  const H = 20, W = 30, C = 3;
  for (let seed = 0; seed < 20; seed++) {
    const img = new Float32Array(H * W * C).fill(5);
    const box = randomErasing(img, 0, H, W, C, new Rng(seed), { p: 1, value: -1 });
    if (box === null) throw new Error("p = 1 must erase");
    assertEquals(box, sampleErasing(H, W, new Rng(seed), { p: 1 }));
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const inside = y >= box.i && y < box.i + box.h && x >= box.j && x < box.j + box.w;
        for (let k = 0; k < C; k++) assertEquals(img[(y * W + x) * C + k], inside ? -1 : 5);
      }
    }
  }
});

Deno.test("sampleErasing: torchvision statistics (p, area, log-uniform ratio, bounds)", () => {
  const H = 224, W = 224, rng = new Rng(3);
  let hits = 0, areaSum = 0, logRatioSum = 0;
  const n = 20_000;
  for (let t = 0; t < n; t++) {
    const b = sampleErasing(H, W, rng);
    if (!b) continue;
    hits++;
    assert(b.i >= 0 && b.j >= 0 && b.i + b.h <= H && b.j + b.w <= W);
    const a = (b.h * b.w) / (H * W);
    // Rounding h and w to integers moves the area slightly outside [0.02, 0.25].
    assert(a > 0.017 && a < 0.27, `area ${a}`);
    const r = b.h / b.w;
    assert(r > 0.28 && r < 3.5, `ratio ${r}`);
    areaSum += a;
    logRatioSum += Math.log(r);
  }
  // At 224 px every first attempt fits, so exactly p = 0.5 of the images are erased.
  assertAlmostEquals(hits / n, 0.5, 0.02);
  assertAlmostEquals(areaSum / hits, (0.02 + 0.25) / 2, 0.005);
  assertAlmostEquals(logRatioSum / hits, (Math.log(0.3) + Math.log(3.3)) / 2, 0.03);
});

Deno.test("sampleErasing: gives up after 10 failed attempts (box can never fit)", () => {
  // On a 2x2 image an area >= 0.9 rounds to h = w = 2, never < 2.
  const rng = new Rng(4);
  for (let t = 0; t < 50; t++) {
    assertEquals(sampleErasing(2, 2, rng, { p: 1, scale: [0.9, 1], ratio: [1, 1] }), null);
  }
});

Deno.test("trainTransform: flip / noise / none chosen with probabilities 1/4, 1/4, 1/2", () => {
  const src = new Uint8Array(4 * 4 * 3).map((_, i) => (i * 37) % 256);
  const out = new Float32Array(4 * 4 * 3);
  const counts = { none: 0, flip: 0, noise: 0 };
  const n = 4000;
  for (let s = 0; s < n; s++) {
    const tr = trainTransform(src, 4, 4, 3, { size: 4, erasing: false }, new Rng(s), out);
    counts[tr.pixel]++;
  }
  // 5 standard deviations of a binomial count.
  assert(Math.abs(counts.none - n / 2) < 5 * Math.sqrt(n / 4), JSON.stringify(counts));
  assert(Math.abs(counts.flip - n / 4) < 5 * Math.sqrt(n * 3 / 16), JSON.stringify(counts));
  assert(Math.abs(counts.noise - n / 4) < 5 * Math.sqrt(n * 3 / 16), JSON.stringify(counts));
});

Deno.test("trainTransform: deterministic by seed, and 'flip' equals test transform of the mirror", () => {
  const src = new Uint8Array(6 * 6 * 3).map((_, i) => (i * 53) % 256);
  const a = new Float32Array(8 * 8 * 3), b = new Float32Array(8 * 8 * 3);
  for (let s = 0; s < 40; s++) {
    const ta = trainTransform(src, 6, 6, 3, { size: 8 }, new Rng(s), a);
    const tb = trainTransform(src, 6, 6, 3, { size: 8 }, new Rng(s), b);
    assertEquals(ta, tb);
    assertEquals(a, b);
    if (ta.pixel === "flip" && ta.erase === null) {
      const ref = new Float32Array(8 * 8 * 3);
      testTransform(horizontalFlip(src, 6, 6, 3), 6, 6, 3, { size: 8 }, ref);
      assertEquals(a, ref);
    }
    if (ta.pixel === "none" && ta.erase === null) {
      const ref = new Float32Array(8 * 8 * 3);
      testTransform(src, 6, 6, 3, { size: 8 }, ref);
      assertEquals(a, ref);
    }
  }
});
