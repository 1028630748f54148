/**
 * 2-D convolution used by every model in the library (NHWC input, HWIO filter).
 * Placeholder: stock TF.js gradients until the engine issue replaces them.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/**
 * Convolve `x` [N,H,W,Cin] with `filter` [kh,kw,Cin,Cout] at `stride` with symmetric zero
 * padding `pad` (PyTorch semantics), returning [N,Ho,Wo,Cout].
 */
export function conv2d(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  stride: number,
  pad: number,
): tf.Tensor4D {
  return tf.conv2d(x, filter, stride, [[0, 0], [pad, pad], [pad, pad], [0, 0]]);
}
