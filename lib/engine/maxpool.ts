/**
 * Max pooling with PyTorch semantics (placeholder: stock TF.js gradient until the engine issue
 * replaces it).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/**
 * Max-pool `x` [N,H,W,C] with a `k`×`k` window, `stride` and symmetric padding `pad`; padded cells
 * never win (PyTorch's `MaxPool2d(k, stride, pad)`).
 */
export function maxPool2d(x: tf.Tensor4D, k = 3, stride = 2, pad = 1): tf.Tensor4D {
  return tf.tidy(() => {
    const padded = pad > 0
      ? tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]], -3.4e38) as tf.Tensor4D
      : x;
    return tf.maxPool(padded, k, stride, "valid");
  });
}
