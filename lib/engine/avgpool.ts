/**
 * Global average pooling of an NHWC feature map, y[n, c] = (1/(H·W)) Σ_{h,w} x[n, h, w, c], the
 * pooling before ResNet-18's classifier (PyTorch's `AdaptiveAvgPool2d(1)` + flatten), and its
 * gradient dx[n, h, w, c] = dy[n, c]/(H·W).
 *
 * With fast gradients on the cpu backend (the native CPU engine's cpu store) both are one
 * typed-array pass: TF.js cpu's `Mean` over axes [1, 2] transposes the whole map first and its
 * gradient broadcasts through a generic `Multiply` and `RealDiv`, 0.26 s of a 4.7 s step at 224 px,
 * batch 64. The passes round as those kernels do (each x/(H·W) rounded to float32, summed in
 * float64 over H·W in row-major order, the sum rounded to float32; dy/(H·W) rounded to float32), so
 * the results are bit-identical. Elsewhere (wasm, WebGPU, tfjs-node) this is `tf.mean(x, [1, 2])`,
 * whose kernels are fast there.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { fastGradientsActive } from "./fast_state.ts";

/** Name of the cpu backend's global average pooling kernel. */
export const RUL_GLOBAL_AVG_POOL = "RulGlobalAvgPool";
/** Name of its gradient kernel. */
export const RUL_GLOBAL_AVG_POOL_GRAD = "RulGlobalAvgPoolGrad";

/** The part of TF.js's cpu backend the kernels use. */
interface CpuBackendLike {
  data: { get(dataId: unknown): { values?: ArrayLike<number> } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.TypedArray): tf.TensorInfo;
}

let registered = false;

function register(): void {
  if (registered) return;
  tf.registerKernel({
    kernelName: RUL_GLOBAL_AVG_POOL,
    backendName: "cpu",
    kernelFunc: ({ inputs, backend }) => {
      const { x } = inputs as unknown as { x: tf.TensorInfo };
      const b = backend as unknown as CpuBackendLike;
      const [n, h, w, c] = x.shape;
      const xv = b.data.get(x.dataId).values as ArrayLike<number>;
      const hw = h * w;
      const y = new Float32Array(n * c);
      const sum = new Float64Array(c);
      for (let i = 0; i < n; i++) {
        sum.fill(0);
        for (let p = 0; p < hw; p++) {
          const o = (i * hw + p) * c;
          for (let ch = 0; ch < c; ch++) sum[ch] += Math.fround(xv[o + ch] / hw);
        }
        for (let ch = 0; ch < c; ch++) y[i * c + ch] = sum[ch];
      }
      return b.makeTensorInfo([n, c], "float32", y);
    },
  });
  tf.registerKernel({
    kernelName: RUL_GLOBAL_AVG_POOL_GRAD,
    backendName: "cpu",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { dy } = inputs as unknown as { dy: tf.TensorInfo };
      const { h, w } = attrs as unknown as { h: number; w: number };
      const b = backend as unknown as CpuBackendLike;
      const [n, c] = dy.shape;
      const dyv = b.data.get(dy.dataId).values as ArrayLike<number>;
      const hw = h * w;
      const dx = new Float32Array(n * hw * c);
      const row = new Float32Array(c);
      for (let i = 0; i < n; i++) {
        for (let ch = 0; ch < c; ch++) row[ch] = dyv[i * c + ch] / hw;
        for (let p = 0; p < hw; p++) dx.set(row, (i * hw + p) * c);
      }
      return b.makeTensorInfo([n, h, w, c], "float32", dx);
    },
  });
  registered = true;
}

/** Mean of `x` [N,H,W,C] over H and W: [N,C] (differentiable). */
export function globalAvgPool(x: tf.Tensor4D): tf.Tensor2D {
  if (x.rank !== 4) throw new Error(`globalAvgPool: expected [N,H,W,C], got shape ${x.shape}`);
  if (!fastGradientsActive() || tf.getBackend() !== "cpu" || x.dtype !== "float32") {
    return tf.mean(x, [1, 2]) as tf.Tensor2D;
  }
  register();
  const [, h, w] = x.shape;
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xi = args[0] as tf.Tensor;
    return {
      value: tf.engine().runKernel(
        RUL_GLOBAL_AVG_POOL,
        { x: xi } as unknown as tf.NamedTensorMap,
      ) as tf.Tensor,
      gradFunc: (dy: tf.Tensor) =>
        tf.engine().runKernel(
          RUL_GLOBAL_AVG_POOL_GRAD,
          { dy } as unknown as tf.NamedTensorMap,
          { h, w } as unknown as tf.NamedAttrMap,
        ) as tf.Tensor,
    };
  });
  return f(x) as tf.Tensor2D;
}
