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
