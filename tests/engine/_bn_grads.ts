/**
 * Shared helper of the batch-norm tests (wasm engine and oneDNN): y, mean, variance and the
 * gradients of L = Σ batchNormTrain(x)·dy on the active backend.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { batchNormTrain } from "../../lib/engine/mod.ts";
import { randomArray } from "./_helpers.ts";

/** y, mean, variance and dL/d(x, γ, β) of L = Σ batchNormTrain(x)·dy. */
export function bnGrads(xv: Float32Array, shape: number[], affine: boolean, eps: number) {
  return tf.tidy(() => {
    const c = shape[shape.length - 1];
    const x: tf.Tensor = tf.tensor(xv, shape);
    const g = tf.tensor1d(randomArray(c, 5).map((v) => 1 + 0.5 * v));
    const b = tf.tensor1d(randomArray(c, 6));
    const { y, mean, variance } = batchNormTrain(
      x as tf.Tensor4D,
      affine ? g : null,
      affine ? b : null,
      eps,
    );
    const dy = tf.tensor(randomArray(y.size, 8), y.shape);
    const f = (a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(
        tf.mul(batchNormTrain(a as tf.Tensor4D, gg as tf.Tensor1D, bb as tf.Tensor1D, eps).y, dy),
      );
    const grads = affine
      ? tf.grads(f)([x, g, b])
      : tf.grads((a: tf.Tensor) =>
        tf.sum(tf.mul(batchNormTrain(a as tf.Tensor4D, null, null, eps).y, dy))
      )([x]);
    return [y, mean, variance, ...grads].map((t) => t.dataSync());
  });
}

/**
 * Batch norm where eps changes the answer, by hand, on the active backend and engine (throws on a
 * mismatch). 16 identical channels (so the wasm engine's channel kernels run too), 4 samples:
 * - x = [1, 2, 3, 6], eps = 0.5: mean 3, biased variance 3.5, √(3.5 + 0.5) = 2, so with γ = 2,
 *   β = 1: y = dev + 1 = [−1, 0, 1, 4]; for L = y[0]: dβ = 1, dγ = x̂[0] = −1 and
 *   dx_i = (γ/2)·(δ_i0 − 1/4 − x̂_i·x̂_0/4) = [0.5, −0.375, −0.25, 0.125]. Without eps:
 *   y[0] = −2·2/√3.5 + 1 (7 % off).
 * - a constant channel x = [5, 5, 5, 5], eps = 1e-5: variance 0, y = β = 1, dx =
 *   (2/√1e-5)·[0.75, −0.25, −0.25, −0.25]; without eps: 0/0 = NaN.
 */
export function checkBatchNormEps(
  tag: string,
  assertClose: (what: string, a: ArrayLike<number>, ref: ArrayLike<number>, tol?: number) => void,
): void {
  const C = 16;
  const cases = [
    {
      x: [1, 2, 3, 6],
      eps: 0.5,
      y: [-1, 0, 1, 4],
      variance: 3.5,
      dx: [0.5, -0.375, -0.25, 0.125],
      dg: -1,
    },
    {
      x: [5, 5, 5, 5],
      eps: 1e-5,
      y: [1, 1, 1, 1],
      variance: 0,
      dx: [0.75, -0.25, -0.25, -0.25].map((v) => v * 2 / Math.sqrt(1e-5)),
      dg: 0,
    },
  ];
  const tile = (v: number[]) => v.flatMap((a) => new Array(C).fill(a));
  for (const c of cases) {
    tf.tidy(() => {
      const x = tf.tensor2d(tile(c.x), [4, C]);
      const g = tf.fill([C], 2) as tf.Tensor1D, b = tf.fill([C], 1) as tf.Tensor1D;
      const r = batchNormTrain(x, g, b, c.eps);
      const what = `${tag} eps=${c.eps} x=[${c.x}]`;
      assertClose(`${what} y`, r.y.dataSync(), tile(c.y), 1e-5);
      assertClose(`${what} mean`, r.mean.dataSync(), new Array(C).fill(c.x[0] === 5 ? 5 : 3), 1e-6);
      if (c.variance === 0) {
        const v = r.variance.dataSync();
        if (!v.every((a) => Math.abs(a) < 1e-6)) throw new Error(`${what} variance ${v}`);
      } else assertClose(`${what} variance`, r.variance.dataSync(), new Array(C).fill(3.5), 1e-6);
      const dy = tf.tensor2d(tile([1, 0, 0, 0]), [4, C]);
      const [dx, dg, db] = tf.grads((a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
        tf.sum(
          tf.mul(
            batchNormTrain(a as tf.Tensor2D, gg as tf.Tensor1D, bb as tf.Tensor1D, c.eps).y,
            dy,
          ),
        )
      )([x, g, b]);
      assertClose(`${what} dx`, dx.dataSync(), tile(c.dx), 1e-5);
      const dgv = dg.dataSync();
      if (!dgv.every((a) => Math.abs(a - c.dg) < 1e-5)) throw new Error(`${what} dgamma ${dgv}`);
      assertClose(`${what} dbeta`, db.dataSync(), new Array(C).fill(1), 1e-6);
    });
  }
}
