/**
 * Cross-entropy and RUL's add-up loss.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { AddUpWeighting } from "./variants.ts";
import type { Pairing } from "./pairing.ts";
import { permuteRows } from "./mixing.ts";

/** Class labels: on the host or as an int32 tensor [N]. */
export type LabelsLike = Int32Array | readonly number[] | tf.Tensor1D;

function labelTensor(labels: LabelsLike): tf.Tensor1D {
  return labels instanceof tf.Tensor
    ? tf.cast(labels, "int32")
    : tf.tensor1d(Array.from(labels), "int32");
}

/** Per-sample cross-entropy −log softmax(logits)_y, [N,K] × [N] → [N]. */
export function perSampleCrossEntropy(logits: tf.Tensor2D, labels: LabelsLike): tf.Tensor1D {
  return tf.tidy(() => {
    const [n, k] = logits.shape;
    const y = labelTensor(labels);
    if (y.shape[0] !== n) throw new Error(`cross-entropy: ${y.shape[0]} labels for ${n} rows`);
    const oh = tf.cast(tf.oneHot(y, k), "float32");
    return tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), oh), 1)) as tf.Tensor1D;
  });
}

/** Mean cross-entropy (PyTorch's `CrossEntropyLoss()`), a scalar. */
export function crossEntropy(logits: tf.Tensor2D, labels: LabelsLike): tf.Scalar {
  return tf.tidy(() => tf.mean(perSampleCrossEntropy(logits, labels)) as tf.Scalar);
}

/**
 * RUL's add-up loss on mixed-feature logits. `"half"` (official):
 * 0.5·CE(logits, y) + 0.5·CE(logits, y[p]); `"w"` (variant): mean_i w_i·CE_i(y_i) +
 * (1 − w_i)·CE_i(y_p(i)), where the gradient also flows into w.
 */
export function addUpLoss(
  logits: tf.Tensor2D,
  labels: LabelsLike,
  perm: Pairing,
  weighting: AddUpWeighting = "half",
  w?: tf.Tensor1D,
): tf.Scalar {
  return tf.tidy(() => {
    const y = labelTensor(labels);
    const n = y.shape[0];
    const m = perm instanceof tf.Tensor ? perm.shape[0] : perm.length;
    if (m !== n) throw new Error(`add-up loss: pairing of ${m} for ${n}`);
    // y[p] on the device (WebGPU has no synchronous read), as a one-hot product rather than a
    // gather: a pairing computed from the features is on the gradient tape, and gather's
    // gradient refuses int32 indices. Labels < 2^24 are exact in float32.
    const yp = tf.cast(permuteRows(tf.cast(y, "float32") as tf.Tensor1D, perm), "int32");
    const ceA = perSampleCrossEntropy(logits, y);
    const ceB = perSampleCrossEntropy(logits, yp);
    if (weighting === "half") {
      return tf.add(tf.mul(tf.mean(ceA), 0.5), tf.mul(tf.mean(ceB), 0.5)) as tf.Scalar;
    }
    if (!w) throw new Error(`add-up loss weighting "w" needs the mix weights w`);
    return tf.mean(tf.add(tf.mul(w, ceA), tf.mul(tf.sub(1, w), ceB))) as tf.Scalar;
  });
}
