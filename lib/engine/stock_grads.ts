/**
 * TF.js's own convolution gradient kernels, called directly (they are not public ops): the
 * reference the fast gradients are tested and benchmarked against.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

function explicit(pad: number): [[0, 0], [number, number], [number, number], [0, 0]] {
  return [[0, 0], [pad, pad], [pad, pad], [0, 0]];
}

/** Stock `Conv2DBackpropInput` kernel of the active backend (grad of conv2d wrt x). */
export function stockConv2dGradInput(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  xShape: [number, number, number, number],
  stride: number,
  pad: number,
): tf.Tensor4D {
  return tf.engine().runKernel(
    "Conv2DBackpropInput",
    { dy, filter } as unknown as tf.NamedTensorMap,
    {
      strides: [stride, stride],
      pad: explicit(pad),
      dataFormat: "NHWC",
      dimRoundingMode: undefined,
      inputShape: xShape,
    } as unknown as tf.NamedAttrMap,
  ) as tf.Tensor4D;
}

/** Stock `Conv2DBackpropFilter` kernel of the active backend (none exists on wasm). */
export function stockConv2dGradFilter(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  stride: number,
  pad: number,
): tf.Tensor4D {
  return tf.engine().runKernel(
    "Conv2DBackpropFilter",
    { x, dy } as unknown as tf.NamedTensorMap,
    {
      strides: [stride, stride],
      pad: explicit(pad),
      dataFormat: "NHWC",
      dimRoundingMode: undefined,
      filterShape,
    } as unknown as tf.NamedAttrMap,
  ) as tf.Tensor4D;
}
