import { assert, assertEquals, assertThrowsWith } from "../_assert.ts";
import {
  generateSynthFer,
  injectSymmetricNoise,
  noiseFileText,
  withSymmetricNoise,
} from "../../lib/data/mod.ts";

const labels = Int32Array.from({ length: 1000 }, (_, i) => (i * 7919) % 7);

Deno.test("injectSymmetricNoise: flips exactly the fraction, never to the same class", () => {
  for (
    const [fraction, n] of [[0.1, 1000], [0.2, 1000], [0.3, 1000], [0.3, 7], [0, 50], [
      1,
      50,
    ]] as const
  ) {
    const src = labels.subarray(0, n);
    const { labels: noisy, flipped } = injectSymmetricNoise(src, fraction, 7, 42);
    const changed: number[] = [];
    for (let i = 0; i < n; i++) if (noisy[i] !== src[i]) changed.push(i);
    assertEquals(changed.length, Math.round(fraction * n), `fraction ${fraction} of ${n}`);
    assertEquals(Array.from(flipped), changed);
    for (const v of noisy) assert(v >= 0 && v < 7);
  }
});

Deno.test("injectSymmetricNoise: reproducible by seed, different across seeds", () => {
  const a = injectSymmetricNoise(labels, 0.2, 7, 1), b = injectSymmetricNoise(labels, 0.2, 7, 1);
  const c = injectSymmetricNoise(labels, 0.2, 7, 2);
  assertEquals(a, b);
  assert(a.flipped.some((v, i) => v !== c.flipped[i]));
});

Deno.test("injectSymmetricNoise: targets are uniform over the other classes", () => {
  const n = 60_000;
  const src = new Int32Array(n); // all class 0
  const { labels: noisy } = injectSymmetricNoise(src, 0.5, 7, 3);
  const counts = new Array(7).fill(0);
  for (const v of noisy) counts[v]++;
  assertEquals(counts[0], n / 2);
  // Each of the 6 other classes gets ~ n/12; binomial sd = sqrt(n/2 · 1/6 · 5/6).
  const sd = Math.sqrt((n / 2) * (1 / 6) * (5 / 6));
  for (let k = 1; k < 7; k++) {
    assert(Math.abs(counts[k] - n / 12) < 5 * sd, `class ${k}: ${counts[k]}`);
  }
});

Deno.test("injectSymmetricNoise: rejects bad arguments with the value", () => {
  assertThrowsWith(() => injectSymmetricNoise(labels, 1.5, 7, 0), "1.5");
  assertThrowsWith(() => injectSymmetricNoise(labels, 0.1, 1, 0), "2 classes");
});

Deno.test("withSymmetricNoise keeps clean labels and shares pixels; noiseFileText format", () => {
  const ds = generateSynthFer({ n: 50, size: 16, seed: 9 });
  const noisy = withSymmetricNoise(ds, 0.2, 4);
  assert(noisy.pixels === ds.pixels);
  assertEquals(noisy.cleanLabels, ds.labels);
  let flips = 0;
  for (let i = 0; i < 50; i++) if (noisy.labels[i] !== ds.labels[i]) flips++;
  assertEquals(flips, 10);
  const line0 = noiseFileText(noisy).split("\n")[0];
  assertEquals(line0, `${ds.fileNames[0]} ${noisy.labels[0] + 1}`);
});
