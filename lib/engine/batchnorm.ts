/**
 * Batch normalisation in training mode. With fast gradients active the whole layer is one custom
 * gradient with the closed-form backward
 *   dx = γ·inv·(dy − mean(dy) − x̂·mean(dy·x̂)),  dγ = Σ dy·x̂,  dβ = Σ dy,
 * per-channel sums use one average pool over [1, N·H, W, C] (on wasm ~25× faster than
 * `tf.sum` over axes [0,1,2]), and the normalisation itself is the backend's fused batch-norm
 * kernel. This replaces the ~15 small ops (and their gradients) of the composed version.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { fastGradientsActive } from "./fast_state.ts";
import { chanAffine, chanSums, wasmChanOpsSupported } from "./wasm_gemm.ts";
import { dnnlBatchNorm, dnnlBatchNormGrad, dnnlBatchNormSupported, relu } from "./onednn.ts";

/** Name of the engine's running-statistics kernel (wasm and cpu backends). */
export const RUL_BN_RUNNING = "RulBnRunningStats";

/** Output of {@link batchNormTrain}. */
export interface BatchNormResult<T extends tf.Tensor> {
  /** Normalised (and, with gamma/beta, affinely transformed) output, same shape as the input. */
  y: T;
  /** Per-channel batch mean [C], for running statistics (do not differentiate through it). */
  mean: tf.Tensor1D;
  /** Per-channel biased batch variance [C] (no gradient; scale by n/(n-1) for PyTorch's running var). */
  variance: tf.Tensor1D;
}

/** Per-channel mean of `x` ([N,C] or [N,H,W,C]) as [C]. */
export function channelMean(x: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const c = x.shape[x.rank - 1];
    if (x.rank === 2) return tf.mean(x, 0) as tf.Tensor1D;
    const [n, h, w] = x.shape;
    // One pooling window covering all N·H·W positions of a channel.
    const r = tf.reshape(x, [1, n * h, w, c]) as tf.Tensor4D;
    return tf.reshape(tf.avgPool(r, [n * h, w], 1, "valid"), [c]) as tf.Tensor1D;
  });
}

/** Composed reference version (TF.js stock gradients), used when fast gradients are off. */
function batchNormStock<T extends tf.Tensor2D | tf.Tensor4D>(
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
    return { y: y as T, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
  });
}

/**
 * Normalise `x` ([N,C] or [N,H,W,C]) with its own per-channel batch statistics, then apply
 * `gamma`/`beta` when given (pass `null` for PyTorch's `affine=False`). With `relu`, y is
 * max(that, 0), the ReLU of the engine (`relu` of onednn.ts): on the native engine with γ/β,
 * fused into batch-norm's own oneDNN passes (`fuse_norm_relu`: no separate ReLU pass either way
 * and no tensor for the values before the ReLU; the backward zeroes dy where y is 0, dy·[y > 0]
 * as PyTorch), elsewhere applied after it.
 */
export function batchNormTrain<T extends tf.Tensor2D | tf.Tensor4D>(
  x: T,
  gamma: tf.Tensor1D | null,
  beta: tf.Tensor1D | null,
  eps: number,
  { relu: withRelu = false }: { relu?: boolean } = {},
): BatchNormResult<T> {
  if (x.rank !== 2 && x.rank !== 4) {
    throw new Error(`batchNormTrain: expected x of rank 2 or 4, got shape ${x.shape}`);
  }
  const c = x.shape[x.rank - 1];
  for (const [name, t] of [["gamma", gamma], ["beta", beta]] as const) {
    if (t && (t.rank !== 1 || t.shape[0] !== c)) {
      throw new Error(`batchNormTrain: ${name} has shape ${t.shape}, expected [${c}]`);
    }
  }
  if ((gamma === null) !== (beta === null)) {
    throw new Error("batchNormTrain: pass both gamma and beta, or neither");
  }
  if (!fastGradientsActive()) {
    const r = batchNormStock(x, gamma, beta, eps);
    return withRelu ? { ...r, y: relu(r.y) } : r;
  }
  const count = x.size / c;
  let stats: [tf.Tensor1D, tf.Tensor1D] | undefined;
  // On wasm (C % 16 = 0) the statistics, the normalisation and the backward's sums and dx are
  // each one multi-threaded pass of the engine's kernels (wasm_gemm.ts) instead of 4-8 passes of
  // single-threaded TF.js kernels; the formulas are the same.
  const heap = wasmChanOpsSupported(x);
  // With the native CPU engine: one oneDNN primitive each way (same formulas).
  const dnnl = dnnlBatchNormSupported(x);
  // The ReLU fused into oneDNN's batch-norm (with γ/β, as every ResNet-18 layer has).
  const fused = withRelu && dnnl && gamma !== null;
  const forward = (
    xi: tf.Tensor,
    g: tf.Tensor1D | null,
    b: tf.Tensor1D | null,
  ): { y: tf.Tensor; mean: tf.Tensor1D; variance: tf.Tensor1D; ws?: tf.Tensor } => {
    if (dnnl) {
      const [y, mean, variance, ws] = dnnlBatchNorm(xi, g, b, eps, fused);
      stats = [tf.keep(mean), tf.keep(variance)];
      return { y, mean, variance, ws };
    }
    if (heap) {
      const mean = tf.div(chanSums(0, xi)[0], count) as tf.Tensor1D;
      const variance = tf.div(chanSums(1, xi, mean)[0], count) as tf.Tensor1D;
      stats = [tf.keep(mean), tf.keep(variance)];
      const inv = tf.rsqrt(tf.add(variance, eps)) as tf.Tensor1D;
      const scale = g ? tf.mul(g, inv) as tf.Tensor1D : inv;
      const y = chanAffine(xi, mean, scale, b ?? tf.zerosLike(mean));
      return { y, mean, variance };
    }
    const mean = channelMean(xi);
    const variance = channelMean(tf.squaredDifference(xi, mean));
    // Kept: they leave the custom gradient's scope; cloned and released below.
    stats = [tf.keep(mean), tf.keep(variance)];
    const y = tf.batchNorm(xi, mean, variance, b ?? undefined, g ?? undefined, eps);
    return { y, mean, variance };
  };
  /** Closed-form backward; returns [dx, dγ, dβ] (dγ, dβ only when affine). */
  const backward = (
    dy: tf.Tensor,
    xi: tf.Tensor,
    mean: tf.Tensor1D,
    variance: tf.Tensor1D,
    g: tf.Tensor1D | null,
    b: tf.Tensor1D | null,
    ws?: tf.Tensor,
  ): tf.Tensor[] => {
    if (dnnl) return dnnlBatchNormGrad(dy, xi, mean, variance, g, b, eps, ws);
    const inv = tf.rsqrt(tf.add(variance, eps));
    if (heap) {
      const [sumDy, sumDyX] = chanSums(2, xi, dy);
      const sumDyXhat = tf.mul(inv, tf.sub(sumDyX, tf.mul(mean, sumDy))) as tf.Tensor1D;
      const a = (g ? tf.mul(g, inv) : inv) as tf.Tensor1D;
      // dx = (x − mean)·(−a·inv·Σdy·x̂/M) + (−a·Σdy/M) + dy·a.
      const coefX = tf.neg(tf.div(tf.mul(tf.mul(a, inv), sumDyXhat), count)) as tf.Tensor1D;
      const offset = tf.neg(tf.div(tf.mul(a, sumDy), count)) as tf.Tensor1D;
      const dx = chanAffine(xi, mean, coefX, offset, dy, a);
      return g ? [dx, sumDyXhat, sumDy] : [dx];
    }
    const sumDy = tf.mul(channelMean(dy), count);
    // Σ dy·x̂ = inv·(Σ dy·x − mean·Σ dy): avoids materialising x̂.
    const sumDyX = tf.mul(channelMean(tf.mul(dy, xi)), count);
    const sumDyXhat = tf.mul(inv, tf.sub(sumDyX, tf.mul(mean, sumDy))) as tf.Tensor1D;
    const a = g ? tf.mul(g, inv) : inv; // γ·inv
    // dx = dy·a + x̂·(−a·Σdy·x̂/M) + (−a·Σdy/M); the last two terms in one fused batch-norm.
    const scale = tf.neg(tf.div(tf.mul(a, sumDyXhat), count)) as tf.Tensor1D;
    const offset = tf.neg(tf.div(tf.mul(a, sumDy), count)) as tf.Tensor1D;
    const rest = tf.batchNorm(xi, mean, variance, offset, scale, eps);
    const dx = tf.add(tf.mul(dy, a), rest);
    return g ? [dx, sumDyXhat, sumDy] : [dx];
  };
  let y: tf.Tensor;
  if (gamma && beta) {
    const f = tf.customGrad(
      (...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
        const [xi, g, b] = args as tf.Tensor[];
        const save = args[3] as tf.GradSaveFunc;
        const r = forward(xi, g as tf.Tensor1D, b as tf.Tensor1D);
        save([xi, r.mean, r.variance, g, b, ...(r.ws ? [r.ws] : [])]);
        return {
          value: r.y,
          gradFunc: (dy: tf.Tensor, s: tf.Tensor[]) =>
            backward(
              dy,
              s[0],
              s[1] as tf.Tensor1D,
              s[2] as tf.Tensor1D,
              s[3] as tf.Tensor1D,
              s[4] as tf.Tensor1D,
              s[5],
            ),
        };
      },
    );
    y = f(x, gamma, beta);
  } else {
    const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const xi = args[0] as tf.Tensor;
      const save = args[1] as tf.GradSaveFunc;
      const r = forward(xi, null, null);
      save([xi, r.mean, r.variance]);
      return {
        value: r.y,
        gradFunc: (dy: tf.Tensor, s: tf.Tensor[]) =>
          backward(dy, s[0], s[1] as tf.Tensor1D, s[2] as tf.Tensor1D, null, null)[0],
      };
    });
    y = f(x);
  }
  if (withRelu && !fused) y = relu(y);
  const [m, v] = stats!;
  // Clones join the caller's scope (tidy-able); the kept originals are released.
  const mean = tf.clone(m), variance = tf.clone(v);
  m.dispose();
  v.dispose();
  return { y: y as T, mean, variance };
}

/** The parts of the wasm and cpu backends' classes that {@link RUL_BN_RUNNING} uses. */
interface HostBackendLike {
  makeOutput?(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap?(t: tf.TensorInfo): Float32Array;
  data?: { get(id: tf.DataId): { values: tf.TypedArray } };
  makeTensorInfo?(shape: number[], dtype: tf.DataType, values: tf.TypedArray): tf.TensorInfo;
}

interface RunningAttrs {
  /** float32 factors: 1 − momentum, momentum, momentum·n/(n − 1). */
  keep: number;
  mean: number;
  variance: number;
}

let runningRegistered = false;

function registerRunning(): void {
  if (runningRegistered) return;
  for (const backendName of ["wasm", "cpu"]) {
    tf.registerKernel({
      kernelName: RUL_BN_RUNNING,
      backendName,
      kernelFunc: ({ inputs, backend, attrs }) => {
        const { runningMean, runningVar, mean, variance } = inputs as unknown as Record<
          string,
          tf.TensorInfo
        >;
        const a = attrs as unknown as RunningAttrs;
        const b = backend as unknown as HostBackendLike;
        const c = runningMean.shape[0];
        let outM: tf.TensorInfo, outV: tf.TensorInfo;
        let read: (t: tf.TensorInfo) => Float32Array;
        if (backendName === "wasm") {
          outM = b.makeOutput!([c], "float32");
          outV = b.makeOutput!([c], "float32");
          // Views taken after makeOutput: allocating may grow (and replace) the heap's buffer.
          read = (t) => b.typedArrayFromHeap!(t);
        } else {
          outM = b.makeTensorInfo!([c], "float32", new Float32Array(c));
          outV = b.makeTensorInfo!([c], "float32", new Float32Array(c));
          read = (t) => b.data!.get(t.dataId).values as Float32Array;
        }
        const rm = read(runningMean), rv = read(runningVar), m = read(mean), v = read(variance);
        const om = read(outM), ov = read(outV);
        const f = Math.fround;
        // Each product and sum rounded to float32, as TF.js's Multiply and Add: bit-identical.
        for (let i = 0; i < c; i++) {
          om[i] = f(f(rm[i] * a.keep) + f(m[i] * a.mean));
          ov[i] = f(f(rv[i] * a.keep) + f(v[i] * a.variance));
        }
        return [outM, outV];
      },
    });
  }
  runningRegistered = true;
}

/**
 * PyTorch's running-statistics update of batch normalisation in training mode, for batch
 * statistics over `n` values per channel (`variance` biased, as {@link batchNormTrain} returns
 * it):
 *   running_mean ← (1 − momentum)·running_mean + momentum·mean,
 *   running_var  ← (1 − momentum)·running_var + momentum·variance·n/(n − 1).
 * Returns the new values (the caller assigns them). With fast gradients on the wasm or cpu
 * backend this is one kernel ({@link RUL_BN_RUNNING}) without a gradient, in place of seven TF.js
 * ops that the gradient tape would record (and whose inputs it would clone) at every layer of
 * every step; its float32 arithmetic is the same, so the values are bit-identical.
 */
export function runningStatsUpdate(
  runningMean: tf.Tensor1D,
  runningVar: tf.Tensor1D,
  mean: tf.Tensor1D,
  variance: tf.Tensor1D,
  momentum: number,
  n: number,
): { mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const c = runningMean.shape[0];
  for (const [name, t] of [["runningVar", runningVar], ["mean", mean], ["variance", variance]]) {
    const u = t as tf.Tensor;
    if (u.rank !== 1 || u.shape[0] !== c) {
      throw new Error(`runningStatsUpdate: ${name} has shape ${u.shape}, expected [${c}]`);
    }
  }
  const keep = 1 - momentum, varFactor = (momentum * n) / (n - 1);
  const all = [runningMean, runningVar, mean, variance];
  const be = tf.getBackend();
  if (
    !fastGradientsActive() || (be !== "wasm" && be !== "cpu") ||
    all.some((t) => t.dtype !== "float32")
  ) {
    return tf.tidy(() => ({
      mean: tf.add(tf.mul(runningMean, keep), tf.mul(mean, momentum)) as tf.Tensor1D,
      variance: tf.add(tf.mul(runningVar, keep), tf.mul(variance, varFactor)) as tf.Tensor1D,
    }));
  }
  registerRunning();
  const f = Math.fround;
  const [m, v] = tf.engine().runKernel(
    RUL_BN_RUNNING,
    { runningMean, runningVar, mean, variance } as unknown as tf.NamedTensorMap,
    { keep: f(keep), mean: f(momentum), variance: f(varFactor) } as unknown as tf.NamedAttrMap,
  ) as tf.Tensor1D[];
  return { mean: m, variance: v };
}
