/**
 * 2-D convolution used by every model in the library (NHWC input, HWIO filter). When fast
 * gradients are active it runs as the custom kernel `RulConv2D`, which forwards to the backend's
 * own `Conv2D` kernel and carries the engine's gradients ({@link conv2dGradInput},
 * {@link conv2dGradFilter}). A registered kernel (rather than `tf.customGrad`) lets TF.js skip
 * the gradient of inputs that need none, e.g. grad-input of the stem convolution.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { conv2dGradFilter, conv2dGradInput } from "./conv_grad.ts";
import { fastGradientsActive } from "./fast_state.ts";
import { gemmConv2d, gemmConvSupported } from "./wasm_gemm.ts";
import { dnnlConv2d, dnnlConvSupported } from "./onednn.ts";

/** Name of the custom convolution kernel registered by the engine. */
export const RUL_CONV2D = "RulConv2D";

/** Attributes of {@link RUL_CONV2D}. */
interface ConvAttrs {
  stride: number;
  pad: number;
}

function explicitPad(pad: number): [[0, 0], [number, number], [number, number], [0, 0]] {
  return [[0, 0], [pad, pad], [pad, pad], [0, 0]];
}

let gradientRegistered = false;

/** Register `RulConv2D` (and its gradient) for the active backend, forwarding to its `Conv2D`. */
function ensureKernel(backendName: string): void {
  if (!gradientRegistered) {
    tf.registerGradient({
      kernelName: RUL_CONV2D,
      inputsToSave: ["x", "filter"],
      gradFunc: (dy, saved, attrs) => {
        const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
        const { stride, pad } = attrs as unknown as ConvAttrs;
        const g = dy as tf.Tensor4D;
        return {
          x: () => conv2dGradInput(g, filter, x.shape, stride, pad),
          filter: () => conv2dGradFilter(x, g, filter.shape, stride, pad),
        };
      },
    });
    gradientRegistered = true;
  }
  if (tf.getKernel(RUL_CONV2D, backendName)) return;
  const stock = tf.getKernel("Conv2D", backendName);
  if (!stock) throw new Error(`conv2d: backend '${backendName}' has no Conv2D kernel`);
  tf.registerKernel({
    kernelName: RUL_CONV2D,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { stride, pad } = attrs as unknown as ConvAttrs;
      const { x, filter } = inputs as unknown as { x: tf.TensorInfo; filter: tf.TensorInfo };
      if (dnnlConvSupported(x, filter)) {
        return dnnlConv2d(backend, x, filter, stride, pad);
      }
      if (backendName === "wasm" && gemmConvSupported(x, filter)) {
        return gemmConv2d(backend, x, filter, stride, pad);
      }
      return stock.kernelFunc({
        inputs,
        backend,
        attrs: {
          strides: [stride, stride],
          pad: explicitPad(pad),
          dataFormat: "NHWC",
          dilations: [1, 1],
        } as unknown as tf.NamedAttrMap,
      });
    },
  });
}

/**
 * Convolve `x` [N,H,W,Cin] with `filter` [kh,kw,Cin,Cout] at `stride` with symmetric zero
 * padding `pad` (PyTorch semantics), returning [N,Ho,Wo,Cout]. Square kernels use the engine's
 * fast gradients when they are active; other cases use TF.js's stock gradients.
 */
export function conv2d(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  stride: number,
  pad: number,
): tf.Tensor4D {
  if (x.rank !== 4 || filter.rank !== 4) {
    throw new Error(`conv2d: expected x and filter of rank 4, got ${x.shape} and ${filter.shape}`);
  }
  if (x.shape[3] !== filter.shape[2]) {
    throw new Error(`conv2d: x has ${x.shape[3]} channels but filter expects ${filter.shape[2]}`);
  }
  if (!fastGradientsActive() || filter.shape[0] !== filter.shape[1]) {
    return tf.conv2d(x, filter, stride, explicitPad(pad));
  }
  const backendName = tf.getBackend();
  ensureKernel(backendName);
  const attrs: ConvAttrs = { stride, pad };
  return tf.engine().runKernel(
    RUL_CONV2D,
    { x, filter } as unknown as tf.NamedTensorMap,
    attrs as unknown as tf.NamedAttrMap,
  ) as tf.Tensor4D;
}
