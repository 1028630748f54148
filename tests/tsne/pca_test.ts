import { pca, symmetricEigen } from "../../lib/tsne/mod.ts";
import { createRng } from "../../lib/random.ts";
import { assert } from "../_assert.ts";

Deno.test("pca: hand-computed cross", () => {
  // Points (±2, 0), (0, ±1) shifted by (10, −3): axes x then y, variances 8/3 and 2/3 (n − 1 = 3).
  const x = [[12, -3], [8, -3], [10, -2], [10, -4]];
  const r = pca(x, 2);
  const c = r.components;
  assert(Math.abs(c[0] - 1) < 1e-12 && Math.abs(c[1]) < 1e-12, `axis 1 ${c[0]},${c[1]}`);
  assert(Math.abs(Math.abs(c[3]) - 1) < 1e-12 && Math.abs(c[2]) < 1e-12, `axis 2 ${c[2]},${c[3]}`);
  assert(Math.abs(r.explainedVariance[0] - 8 / 3) < 1e-12, `var 1 ${r.explainedVariance[0]}`);
  assert(Math.abs(r.explainedVariance[1] - 2 / 3) < 1e-12, `var 2 ${r.explainedVariance[1]}`);
  assert(Math.abs(r.projection[0] - 2) < 1e-12 && Math.abs(r.projection[2] + 2) < 1e-12, "proj");
  assert(Math.abs(r.mean[0] - 10) < 1e-12 && Math.abs(r.mean[1] + 3) < 1e-12, "mean");
});

Deno.test("symmetricEigen: A v = λ v on a hand matrix", () => {
  // [[2,1],[1,2]] has eigenvalues 3 (1,1)/√2 and 1 (1,−1)/√2.
  const e = symmetricEigen(new Float64Array([2, 1, 1, 2]), 2);
  assert(Math.abs(e.values[0] - 3) < 1e-14 && Math.abs(e.values[1] - 1) < 1e-14, `${e.values}`);
  assert(Math.abs(Math.abs(e.vectors[0]) - Math.SQRT1_2) < 1e-14, "vector");
});

Deno.test("pca: subspace iteration (D > 64) agrees with the full Jacobi eigensolver", () => {
  const n = 300, d = 80;
  const rng = createRng(9);
  const data = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const a = rng.normal() * 5, b = rng.normal() * 3, c = rng.normal() * 2;
    for (let j = 0; j < d; j++) {
      data[i * d + j] = a * Math.sin(j) + b * Math.cos(0.5 * j) + c * ((j % 7) - 3) / 3 +
        0.3 * rng.normal();
    }
  }
  const r = pca({ data, rows: n, cols: d }, 3);
  // Reference: covariance + full Jacobi (independent of the subspace iteration path).
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += data[i * d + j] / n;
  const C = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < d; a++) {
      for (let b = 0; b < d; b++) {
        C[a * d + b] += (data[i * d + a] - mean[a]) * (data[i * d + b] - mean[b]) / (n - 1);
      }
    }
  }
  const ref = symmetricEigen(C, d);
  for (let k = 0; k < 3; k++) {
    const rel = Math.abs(r.explainedVariance[k] - ref.values[k]) / ref.values[k];
    assert(rel < 1e-9, `eigenvalue ${k}: ${r.explainedVariance[k]} vs ${ref.values[k]}`);
    let dot = 0;
    for (let a = 0; a < d; a++) dot += r.components[k * d + a] * ref.vectors[a * d + k];
    assert(Math.abs(Math.abs(dot) - 1) < 1e-6, `component ${k} |cos| = ${Math.abs(dot)}`);
  }
});
