/**
 * Batch normalisation in training mode (placeholder: composed TF.js ops until the engine issue
 * gives it a closed-form backward).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** Output of {@link batchNormTrain}. */
export interface BatchNormResult<T extends tf.Tensor> {
  /** Normalised (and, with gamma/beta, affinely transformed) output, same shape as the input. */
  y: T;
  /** Per-channel batch mean [C], for running statistics (do not differentiate through it). */
  mean: tf.Tensor1D;
  /** Per-channel biased batch variance [C] (no gradient; scale by n/(n-1) for PyTorch's running var). */
  variance: tf.Tensor1D;
}

/**
 * Normalise `x` ([N,C] or [N,H,W,C]) with its own per-channel batch statistics, then apply
 * `gamma`/`beta` when given (pass `null` for PyTorch's `affine=False`).
 */
export function batchNormTrain<T extends tf.Tensor2D | tf.Tensor4D>(
  x: T,
  gamma: tf.Tensor1D | null,
  beta: tf.Tensor1D | null,
  eps: number,
): BatchNormResult<T> {
  return tf.tidy(() => {
    const axes = x.rank === 4 ? [0, 1, 2] : [0];
    const { mean, variance } = tf.moments(x, axes);
    let y = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps)));
    if (gamma) y = tf.mul(y, gamma);
    if (beta) y = tf.add(y, beta);
    return {
      y: y as T,
      mean: mean as tf.Tensor1D,
      variance: variance as tf.Tensor1D,
    };
  });
}
