/**
 * Per-sample relative uncertainty of RUL.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** u_i = mean over the feature dimensions of exp(log σ²_i) (official reduction); [N,D] → [N]. */
export function uncertainty(logVar: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.mean(tf.exp(logVar), 1) as tf.Tensor1D);
}
