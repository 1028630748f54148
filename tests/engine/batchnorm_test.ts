import * as tf from "@tensorflow/tfjs-core";
import { batchNormTrain, runningStatsUpdate } from "../../lib/engine/mod.ts";
import { assertClose, onBackend, randomArray, setup } from "./_helpers.ts";
import { bnGrads, checkBatchNormEps } from "./_bn_grads.ts";
import { RUL_CHAN_AFFINE, RUL_CHAN_SUMS } from "../../lib/engine/wasm_gemm.ts";

await setup();

/**
 * Shapes: C % 16 = 0 runs on the engine's wasm channel kernels (blocked sums over > 128 rows, a
 * large mean), the others on TF.js kernels.
 */
const CASES = [
  { shape: [3, 5, 5, 4], affine: true, eps: 1e-5, offset: 2 },
  { shape: [2, 7, 6, 3], affine: false, eps: 2e-5, offset: 2 },
  { shape: [6, 4], affine: true, eps: 2e-5, offset: 2 },
  { shape: [8, 5], affine: false, eps: 2e-5, offset: 2 },
  { shape: [4, 13, 11, 32], affine: true, eps: 1e-5, offset: 2 },
  { shape: [2, 9, 9, 16], affine: false, eps: 1e-5, offset: 2 },
  { shape: [300, 48], affine: true, eps: 1e-5, offset: 2 },
  { shape: [5, 16], affine: false, eps: 1e-5, offset: 2 },
  { shape: [3, 6, 6, 16], affine: true, eps: 1e-5, offset: 50 },
];
for (const c of CASES) {
  Deno.test(`batchNormTrain [${c.shape}] affine=${c.affine}: fast wasm = stock cpu`, async () => {
    const n = c.shape.reduce((a, b) => a * b);
    // Offset and scale so that mean and variance are far from 0 and 1.
    const xv = randomArray(n, 3).map((v) => c.offset + 3 * v);
    const ref = onBackend("cpu", false, () => bnGrads(xv, c.shape, c.affine, c.eps));
    let got: ReturnType<typeof bnGrads> = [];
    const kernels = await onBackend("wasm", true, async () => {
      const info = await tf.profile(() => {
        got = bnGrads(xv, c.shape, c.affine, c.eps);
      });
      return info.kernelNames;
    });
    // which path ran, named by the kernels TF.js dispatched: the engine's wasm channel kernels
    // exactly when C % 16 = 0 (else wasm could be compared with TF.js itself)
    const channel = c.shape[c.shape.length - 1] % 16 === 0;
    for (const k of [RUL_CHAN_SUMS, RUL_CHAN_AFFINE]) {
      if (kernels.includes(k) !== channel) {
        throw new Error(`[${c.shape}]: ${k} ${channel ? "did not run" : "ran"}: ${kernels}`);
      }
    }
    const names = ["y", "mean", "variance", "dx", "dgamma", "dbeta"];
    ref.forEach((r, i) => assertClose(names[i], got[i], r));
  });
}

Deno.test("batchNormTrain against hand-computed values (one channel, 4 samples)", () => {
  for (const backend of ["wasm", "cpu"] as const) {
    for (const fast of [true, false]) {
      onBackend(backend, fast, () => {
        // x = [1, 2, 3, 6]: mean 3, deviations [-2, -1, 0, 3], biased variance 14/4 = 3.5.
        // With eps = 0: x̂ = dev/√3.5; γ = 2, β = 1 → y = 2x̂ + 1.
        const s = Math.sqrt(3.5);
        const x = tf.tensor2d([1, 2, 3, 6], [4, 1]);
        const g = tf.tensor1d([2]), b = tf.tensor1d([1]);
        const r = batchNormTrain(x, g, b, 0);
        const tag = `${backend} fast=${fast}`;
        assertClose(`${tag} y`, r.y.dataSync(), [-2, -1, 0, 3].map((d) => 2 * d / s + 1), 1e-6);
        assertClose(`${tag} mean`, r.mean.dataSync(), [3], 1e-6);
        assertClose(`${tag} var`, r.variance.dataSync(), [3.5], 1e-6);
        // L = y[0] (dy = [1,0,0,0]): dβ = 1, dγ = x̂[0] = -2/√3.5,
        // dx = γ/√3.5·(dy − mean(dy) − x̂·mean(dy·x̂)) with mean(dy) = 1/4,
        // mean(dy·x̂) = -2/(4√3.5): dx_i = (2/√3.5)·(δ_i0 − 1/4 − dev_i·(−2)/(4·3.5)).
        const dy = tf.tensor2d([1, 0, 0, 0], [4, 1]);
        const [dx, dg, db] = tf.grads((a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
          tf.sum(
            tf.mul(batchNormTrain(a as tf.Tensor2D, gg as tf.Tensor1D, bb as tf.Tensor1D, 0).y, dy),
          )
        )([x, g, b]);
        const dev = [-2, -1, 0, 3];
        const dxHand = dev.map((d, i) => (2 / s) * ((i === 0 ? 1 : 0) - 0.25 + d * 2 / 14));
        assertClose(`${tag} dx`, dx.dataSync(), dxHand, 1e-5);
        assertClose(`${tag} dgamma`, dg.dataSync(), [-2 / s], 1e-6);
        assertClose(`${tag} dbeta`, db.dataSync(), [1], 1e-6);
        tf.dispose([x, g, b, r.y, r.mean, r.variance, dy, dx, dg, db]);
      });
    }
  }
});

Deno.test("batchNormTrain: eps changes the result as by hand (eps 0.5; a constant channel)", () => {
  for (const backend of ["wasm", "cpu"] as const) {
    for (const fast of [true, false]) {
      onBackend(backend, fast, () => checkBatchNormEps(`${backend} fast=${fast}`, assertClose));
    }
  }
});

Deno.test("batchNormTrain rejects mismatched gamma with a clear error", () => {
  const x = tf.zeros([2, 3]) as tf.Tensor2D;
  const g = tf.ones([4]) as tf.Tensor1D;
  let msg = "";
  try {
    batchNormTrain(x, g, g, 1e-5);
  } catch (e) {
    msg = (e as Error).message;
  }
  tf.dispose([x, g]);
  if (!msg.includes("gamma has shape 4")) throw new Error(`unexpected error: ${msg}`);
});

Deno.test("runningStatsUpdate: hand values; fused kernel bit-identical to the composed ops; no leak", () => {
  // Hand: momentum 0.1, n = 5 → running_var ← 0.9·rv + 0.1·v·5/4.
  // rm = [1, -2], mean = [3, 0] → [1.2, -1.8]; rv = [2, 1], v = [4, 0.8] → [2.3, 1.0].
  for (const backend of ["wasm", "cpu"] as const) {
    for (const fast of [true, false]) {
      onBackend(backend, fast, () => {
        const t = [[1, -2], [2, 1], [3, 0], [4, 0.8]].map((v) => tf.tensor1d(v));
        const r = runningStatsUpdate(t[0], t[1], t[2], t[3], 0.1, 5);
        assertClose(`${backend} fast=${fast} mean`, r.mean.dataSync(), [1.2, -1.8], 1e-6);
        assertClose(`${backend} fast=${fast} var`, r.variance.dataSync(), [2.3, 1.0], 1e-6);
        tf.dispose([...t, r.mean, r.variance]);
      });
    }
  }
  // Random values over 300 channels: the fused kernel (fast) equals the composed TF.js ops
  // (fast off) bit for bit on each backend, and leaks nothing.
  const vals = [0, 1, 2, 3].map((i) => randomArray(300, 40 + i).map((v) => (i % 2 ? 2 + v : v)));
  const run = () =>
    tf.tidy(() => {
      const t = vals.map((v) => tf.tensor1d(v));
      const r = runningStatsUpdate(t[0], t[1], t[2], t[3], 0.1, 37);
      return [r.mean.dataSync(), r.variance.dataSync()] as Float32Array[];
    });
  for (const backend of ["wasm", "cpu"] as const) {
    const ref = onBackend(backend, false, run);
    const before = tf.memory().numTensors;
    const got = onBackend(backend, true, run);
    if (tf.memory().numTensors !== before) throw new Error(`${backend}: tensors leaked`);
    assertClose(`${backend} mean`, got[0], ref[0], 0);
    assertClose(`${backend} variance`, got[1], ref[1], 0);
  }
});
