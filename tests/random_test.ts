// The seeded generator family (lib/random.ts) reproduces, to the last bit, the sequences of the
// three generators it replaced (values printed by the old lib/rul/random.ts pairingRng,
// lib/tsne/random.ts createRng and lib/data/prng.ts Rng before they were gathered), so every
// seeded result of the library (pairings, dropout masks, augmentation, t-SNE) is unchanged.
import assert from "node:assert/strict";
import { createRng, mulberry32, normalSampler, Rng } from "../lib/random.ts";

Deno.test("mulberry32, createRng and Rng give the sequences of the generators they replaced", () => {
  const p = mulberry32(12345);
  assert.deepEqual([p(), p(), p()], [0.9797282677609473, 0.3067522644996643, 0.484205421525985]);
  const t = createRng(42);
  assert.deepEqual(
    [t.next(), t.normal(), t.normal(), t.normal()],
    [0.4813160905614495, -0.013073716613255468, -0.17187620524358735, -0.28421348790145684],
  );
  const r = new Rng(7);
  assert.deepEqual(
    [r.next(), r.normal(), r.normal(), r.int(10)],
    [0.6994900319259614, -0.18717860580106718, -0.3253835914276647, 9],
  );
});

Deno.test("normalSampler: Box-Muller pairs from two uniforms, second value cached", () => {
  const u = [0.25, 0.125, 0.5, 0.75];
  const z = normalSampler(() => u.shift()!);
  const r1 = Math.sqrt(-2 * Math.log(0.25));
  const r2 = Math.sqrt(-2 * Math.log(0.5));
  assert.deepEqual([z(), z(), z(), z()], [
    r1 * Math.cos(2 * Math.PI * 0.125),
    r1 * Math.sin(2 * Math.PI * 0.125),
    r2 * Math.cos(2 * Math.PI * 0.75),
    r2 * Math.sin(2 * Math.PI * 0.75),
  ]);
  assert.throws(() => createRng(NaN), /seed must be finite/);
});
