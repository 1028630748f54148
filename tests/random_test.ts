// The seeded generator family (lib/random.ts) against the PUBLISHED C forms of its generators
// (mulberry32, Tommy Ettinger; sfc32, PractRand; Box-Muller): tests/fixtures/random/vectors.json
// is printed by tools/random_vectors.c (gcc), not by the code under test. The same values are the
// sequences of the three generators lib/random.ts replaced (the old lib/rul/random.ts pairingRng,
// lib/tsne/random.ts createRng and lib/data/prng.ts Rng), so seeded results are unchanged.
import assert from "node:assert/strict";
import { createRng, mulberry32, normalSampler, Rng } from "../lib/random.ts";

const VECTORS = JSON.parse(
  Deno.readTextFileSync(new URL("./fixtures/random/vectors.json", import.meta.url)),
);

/** Uniforms exactly; normals to 1e-14 (C's libm and V8's log/sin/cos may differ in the last bit). */
function same(got: number[], want: number[], normals: number[], what: string) {
  got.forEach((g, i) => {
    const ok = normals.includes(i)
      ? Math.abs(g - want[i]) <= 1e-14 * Math.abs(want[i])
      : g === want[i];
    assert.ok(ok, `${what}[${i}]: ${g}, the C reference gives ${want[i]}`);
  });
}

Deno.test("mulberry32, createRng and Rng equal the published C generators (tools/random_vectors.c)", () => {
  const p = mulberry32(12345);
  same([p(), p(), p()], VECTORS.mulberry32_12345, [], "mulberry32(12345)");
  const t = createRng(42);
  same(
    [t.next(), t.normal(), t.normal(), t.normal()],
    VECTORS.createRng_42,
    [1, 2, 3],
    "createRng",
  );
  const r = new Rng(7);
  same([r.next(), r.normal(), r.normal(), r.int(10)], VECTORS.Rng_7, [1, 2], "Rng(7)");
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
