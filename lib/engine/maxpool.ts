/**
 * Max pooling with PyTorch semantics. With fast gradients active the forward pass is the
 * backend's own `maxPool` and the backward pass a direct scatter written in TypeScript: the wasm
 * backend's `MaxPoolGrad` is a naive kernel (~0.4 s of a 224 px ResNet-18 step), and a typed-array
 * loop that recomputes each window's arg-max is ~10× faster.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { fastGradientsActive } from "./fast_state.ts";
import { convOutSize } from "./conv_grad.ts";
import { dnnlMaxPool, dnnlMaxPoolGrad, onednnActive } from "./onednn.ts";
import type { WasmBackendLike } from "./wasm_gemm.ts";

/**
 * Gradient of max pooling: each output's gradient goes to the first maximum of its window (in
 * row-major window order, as PyTorch and TF.js's cpu kernel do); padded cells never win. A NaN
 * always wins (the last NaN of the window), as in PyTorch's kernel
 * (`if (val > maxval || isnan(val))`).
 */
export function maxPool2dGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  k: number,
  stride: number,
  pad: number,
): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const [, ho, wo] = dy.shape;
  const xv = x.dataSync() as Float32Array;
  const dyv = dy.dataSync() as Float32Array;
  const dx = new Float32Array(xv.length);
  const best = new Float32Array(c);
  const arg = new Int32Array(c);
  for (let b = 0; b < n; b++) {
    for (let oh = 0; oh < ho; oh++) {
      const h0 = oh * stride - pad;
      for (let ow = 0; ow < wo; ow++) {
        const w0 = ow * stride - pad;
        best.fill(-Infinity);
        arg.fill(-1);
        for (let i = 0; i < k; i++) {
          const hh = h0 + i;
          if (hh < 0 || hh >= h) continue;
          for (let j = 0; j < k; j++) {
            const ww = w0 + j;
            if (ww < 0 || ww >= w) continue;
            const base = ((b * h + hh) * w + ww) * c;
            for (let ch = 0; ch < c; ch++) {
              const v = xv[base + ch];
              if (v > best[ch] || arg[ch] < 0 || v !== v) {
                best[ch] = v;
                arg[ch] = base + ch;
              }
            }
          }
        }
        const o = ((b * ho + oh) * wo + ow) * c;
        for (let ch = 0; ch < c; ch++) if (arg[ch] >= 0) dx[arg[ch]] += dyv[o + ch];
      }
    }
  }
  return tf.tensor4d(dx, [n, h, w, c]);
}

/**
 * PyTorch's max-pool propagates NaN: a window holding a NaN gives NaN. The TF.js kernels skip NaN
 * (`pixel > max` is false), giving the maximum of the other cells or −∞ on wasm and cpu, so a
 * NaN weight upstream could train on silently. `y` where the window of `x` holds a NaN is set
 * to NaN: y' = NaN if maxPool(isNaN(x)) > 0, else y.
 */
function propagateNaN(x: tf.Tensor4D, y: tf.Tensor4D, k: number, stride: number, pad: number) {
  // the NaN mask carries no gradient: dL/dy passes through, dL/dx gets nothing from here
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, yi] = args as tf.Tensor4D[];
    const value = tf.tidy(() => {
      const hit = tf.maxPool(tf.cast(tf.isNaN(xi), "float32"), k, stride, pad);
      return tf.where(tf.greater(hit, 0), tf.fill(yi.shape, NaN), yi) as tf.Tensor4D;
    });
    return { value, gradFunc: (dy: tf.Tensor) => [tf.zerosLike(xi), dy] };
  });
  return f(x, y) as tf.Tensor4D;
}

/**
 * Whether `x` may hold a NaN, to skip {@link propagateNaN}'s six mask kernels (~15 % of a 224 px,
 * batch 64 step on the cpu store) when it holds none. On cpu and wasm the values are scanned in
 * place (the cpu backend's array, a view of the wasm heap: no copy); elsewhere (e.g. WebGPU,
 * whose reads are asynchronous) the answer is always yes and the mask path decides.
 */
function mayHoldNaN(x: tf.Tensor): boolean {
  if (x.dtype !== "float32") return true;
  const name = tf.getBackend();
  let v: Float32Array | undefined;
  if (name === "cpu") {
    const data = (tf.backend() as unknown as {
      data: { get(id: unknown): { values?: Float32Array } | undefined };
    }).data;
    v = data.get(x.dataId)?.values;
  } else if (name === "wasm") {
    v = (tf.backend() as unknown as WasmBackendLike).typedArrayFromHeap(x);
  }
  if (!v || v.length !== x.size) return true;
  for (let i = 0; i < v.length; i++) if (v[i] !== v[i]) return true;
  return false;
}

/**
 * Max-pool `x` [N,H,W,C] with a `k`×`k` window, `stride` and symmetric padding `pad`; padded cells
 * never win and a window holding NaN gives NaN (PyTorch's `MaxPool2d(k, stride, pad)`).
 */
export function maxPool2d(x: tf.Tensor4D, k = 3, stride = 2, pad = 1): tf.Tensor4D {
  if (x.rank !== 4) throw new Error(`maxPool2d: expected x of rank 4, got shape ${x.shape}`);
  if (pad * 2 > k) throw new Error(`maxPool2d: pad ${pad} must be at most half of k=${k}`);
  if (!fastGradientsActive()) {
    return tf.tidy(() => {
      const padded = pad > 0
        ? tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]], -3.4e38) as tf.Tensor4D
        : x;
      return propagateNaN(x, tf.maxPool(padded, k, stride, "valid"), k, stride, pad);
    });
  }
  const ho = convOutSize(x.shape[1], k, stride, pad);
  const wo = convOutSize(x.shape[2], k, stride, pad);
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xi = args[0] as tf.Tensor4D;
    const save = args[1] as tf.GradSaveFunc;
    // A numeric pad keeps PyTorch's floor rounding; the backends treat padding as -inf.
    const raw = onednnActive() && xi.dtype === "float32"
      ? dnnlMaxPool(xi, k, stride, pad)
      : tf.maxPool(xi, k, stride, pad);
    if (raw.shape[1] !== ho || raw.shape[2] !== wo) {
      raw.dispose();
      throw new Error(`maxPool2d: backend gave ${raw.shape}, expected spatial ${ho}x${wo}`);
    }
    const y = mayHoldNaN(xi) ? propagateNaN(xi, raw, k, stride, pad) : raw;
    if (y !== raw) raw.dispose();
    save([xi]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        onednnActive() && saved[0].dtype === "float32"
          ? dnnlMaxPoolGrad(saved[0] as tf.Tensor4D, dy as tf.Tensor4D, k, stride, pad)
          : maxPool2dGrad(saved[0] as tf.Tensor4D, dy as tf.Tensor4D, k, stride, pad),
    };
  });
  return f(x) as tf.Tensor4D;
}
