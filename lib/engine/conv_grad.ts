/**
 * Convolution gradients written with operations that are fast on the wasm backend (forward
 * convolutions, transposes, contiguous slices, concat). The stock wasm backend
 * computes grad-input at ~1 GFLOP/s and has no grad-filter kernel at all (the cpu fallback runs at
 * ~0.01 GFLOP/s), so these hand-written formulations are what makes training possible there.
 *
 * Conventions: x [N,H,W,Ci] (NHWC), filter [k,k,Ci,Co] (HWIO), symmetric zero padding `pad`
 * (PyTorch semantics), square kernel and stride, dy [N,Ho,Wo,Co].
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { fastPad, fastSlice } from "./fast_slice.ts";
import { TILE_COLS } from "./gemm_jobs.ts";
import {
  type GemmPhasePart,
  RUL_GEMM_GRAD_FILTER,
  RUL_GEMM_GRAD_INPUT,
  wasmGemmActive,
} from "./wasm_gemm.ts";
import { onednnActive, RUL_DNNL_GRAD_FILTER, RUL_DNNL_GRAD_INPUT } from "./onednn.ts";

/** Output size of one spatial dimension (PyTorch: floor((n + 2p - k) / s) + 1). */
export function convOutSize(n: number, k: number, stride: number, pad: number): number {
  return Math.floor((n + 2 * pad - k) / stride) + 1;
}

/** One spatial dimension of one polyphase component of grad-input. */
interface Phase {
  /** Filter taps used by this phase, in the order the stride-1 correlation visits them. */
  taps: number[];
  /** Zero padding before dy (negative: rows of dy to drop). */
  before: number;
  /** Zero padding after dy (negative: rows of dy to drop). */
  after: number;
}

/**
 * Polyphase decomposition of grad-input along one dimension: output rows i = s·m + φ receive
 * dy[o]·w[t] for s·o + t = i + pad, i.e. a stride-1 correlation of dy with the taps t ≡ φ + pad
 * (mod s), reversed. Every phase yields `outLen` rows (rows past the input size are cropped later).
 */
function phases(k: number, stride: number, pad: number, dyLen: number, outLen: number): Phase[] {
  const out: Phase[] = [];
  for (let phi = 0; phi < stride; phi++) {
    const r = (phi + pad) % stride;
    const c = (phi + pad - r) / stride;
    const taps: number[] = [];
    for (let t = r; t < k; t += stride) taps.push(t);
    taps.reverse();
    const a = taps.length;
    const before = a - 1 - c;
    const after = outLen + a - 1 - dyLen - before;
    out.push({ taps, before, after });
  }
  return out;
}

/**
 * Sub-filters for grad-input: for each (th, tw) tap list, a [th.length, tw.length, Co, Ci] tensor
 * holding filter[th[i], tw[j]] with in/out channels swapped. Written as a blocked transpose over
 * one read of the filter: 2-4× faster than `transpose` + `split` + `concat` on wasm (whose
 * transpose is a naive single-threaded loop), and reverse/gather are slower still.
 */
export function reorderFilterTaps(
  filter: tf.Tensor4D,
  taps: { th: number[]; tw: number[] }[],
): tf.Tensor4D[] {
  const [k, , ci, co] = filter.shape;
  const src = filter.dataSync() as Float32Array;
  const block = 32;
  return taps.map(({ th, tw }) => {
    const out = new Float32Array(th.length * tw.length * co * ci);
    let t = 0;
    for (const a of th) {
      for (const b of tw) {
        const so = (a * k + b) * ci * co, d0 = t++ * co * ci;
        for (let i0 = 0; i0 < ci; i0 += block) {
          const i1 = Math.min(ci, i0 + block);
          for (let o0 = 0; o0 < co; o0 += block) {
            const o1 = Math.min(co, o0 + block);
            for (let i = i0; i < i1; i++) {
              const sr = so + i * co;
              for (let o = o0; o < o1; o++) out[d0 + o * ci + i] = src[sr + o];
            }
          }
        }
      }
    }
    return tf.tensor4d(out, [th.length, tw.length, co, ci]);
  });
}

/** Crop the negative parts of a padding spec off `t` (rows/cols) and return the rest as pads. */
function cropForPadding(
  t: tf.Tensor4D,
  top: number,
  bottom: number,
  left: number,
  right: number,
): { t: tf.Tensor4D; pad: [[0, 0], [number, number], [number, number], [0, 0]] } {
  const [, h, w] = t.shape;
  const r0 = Math.max(0, -top), r1 = h - Math.max(0, -bottom);
  const c0 = Math.max(0, -left), c1 = w - Math.max(0, -right);
  const cropped = r0 > 0 || r1 < h || c0 > 0 || c1 < w
    ? fastSlice(t, [0, r0, c0, 0], [t.shape[0], r1 - r0, c1 - c0, t.shape[3]])
    : t;
  return {
    t: cropped,
    pad: [
      [0, 0],
      [Math.max(0, top), Math.max(0, bottom)],
      [Math.max(0, left), Math.max(0, right)],
      [0, 0],
    ],
  };
}

/**
 * Gradient of `conv2d(x, filter, stride, pad)` with respect to x, for an input of shape `xShape`.
 * Stride 1: one stride-1 convolution of dy with the 180°-rotated, in/out-swapped filter. Stride s:
 * s² stride-1 convolutions with the polyphase sub-filters (no multiplications by interleaved
 * zeros), concatenated on channels and interleaved with one transpose.
 */
export function conv2dGradInput(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  xShape: [number, number, number, number],
  stride: number,
  pad: number,
): tf.Tensor4D {
  if (onednnActive() && dy.dtype === "float32" && filter.shape[0] === filter.shape[1]) {
    return tf.engine().runKernel(
      RUL_DNNL_GRAD_INPUT,
      { dy, filter } as unknown as tf.NamedTensorMap,
      { xShape, stride, pad } as unknown as tf.NamedAttrMap,
    ) as tf.Tensor4D;
  }
  return tf.tidy(() => {
    const [n, h, w, ci] = xShape;
    const k = filter.shape[0];
    const [, ho, wo] = dy.shape;
    const mh = Math.ceil(h / stride), mw = Math.ceil(w / stride);
    const ph = phases(k, stride, pad, ho, mh);
    const pw = phases(k, stride, pad, wo, mw);
    const used: { th: number[]; tw: number[] }[] = [];
    for (const a of ph) {
      for (const b of pw) if (a.taps.length && b.taps.length) used.push({ th: a.taps, tw: b.taps });
    }
    if (wasmGemmActive() && ci % TILE_COLS === 0 && filter.shape[3] % 4 === 0) {
      return gemmGradInput(dy, filter, xShape, stride, ph, pw);
    }
    const filters = reorderFilterTaps(filter, used);
    const parts: (tf.Tensor4D | null)[] = [];
    let next = 0;
    for (const a of ph) {
      for (const b of pw) {
        if (a.taps.length === 0 || b.taps.length === 0) {
          parts.push(null); // this phase receives no gradient (e.g. 1x1 stride 2)
          continue;
        }
        const { t, pad: p } = cropForPadding(dy, a.before, a.after, b.before, b.after);
        parts.push(tf.conv2d(t, filters[next++], 1, p));
      }
    }
    if (stride === 1) return parts[0] as tf.Tensor4D;
    // Interleave the phases into [N·Mh, s(φh), Mw, s(φw)·Ci] = [N, s·Mh, s·Mw, Ci] with two levels
    // of concat (φw on channels, then φh on axis 1): wasm's Concat is a block copy on the heap,
    // where a rank-4 transpose of the whole gradient is a naive single-threaded loop (and
    // depthToSpace slower still). Phases that receive no gradient (1×1 stride 2) become zero
    // padding when trailing, zeros otherwise.
    const joinZeroPadded = (qs: (tf.Tensor4D | null)[], axis: 1 | 3, zero: () => tf.Tensor4D) => {
      let trailing = 0;
      while (trailing < qs.length && qs[qs.length - 1 - trailing] === null) trailing++;
      const head = qs.slice(0, qs.length - trailing).map((q) => q ?? zero());
      let out = head.length === 1 ? head[0] : tf.concat(head, axis);
      if (trailing > 0) {
        const p: [number, number][] = [[0, 0], [0, 0], [0, 0], [0, 0]];
        p[axis] = [0, trailing * (axis === 3 ? ci : 1)];
        out = fastPad(out, p);
      }
      return out;
    };
    const interleaveRows = (): tf.Tensor4D => {
      const rows: (tf.Tensor4D | null)[] = [];
      for (let a = 0; a < stride; a++) {
        const qs = parts.slice(a * stride, (a + 1) * stride);
        if (qs.every((q) => q === null)) {
          rows.push(null);
          continue;
        }
        const row = joinZeroPadded(qs, 3, () => tf.zeros([n, mh, mw, ci]));
        rows.push(tf.reshape(row, [n * mh, 1, mw, stride * ci]));
      }
      return joinZeroPadded(rows, 1, () => tf.zeros([n * mh, 1, mw, stride * ci]));
    };
    let joined: tf.Tensor4D;
    if (parts.slice(1).every((q) => q === null)) {
      // Only phase (0, 0) receives gradient (1×1 stride 2): one pad puts it in place.
      const q = tf.reshape(parts[0] as tf.Tensor4D, [n * mh, 1, mw, ci]) as tf.Tensor4D;
      joined = fastPad(q, [[0, 0], [0, stride - 1], [0, 0], [0, (stride - 1) * ci]]);
    } else {
      joined = interleaveRows();
    }
    const inter = tf.reshape(joined, [n, stride * mh, stride * mw, ci]) as tf.Tensor4D;
    return inter.shape[1] === h && inter.shape[2] === w
      ? inter
      : fastSlice(inter, [0, 0, 0, 0], [n, h, w, ci]);
  });
}

/**
 * grad-input on the engine's wasm GEMM kernels: dy zero-padded once (by the largest padding any
 * phase needs), the filter's taps transposed per phase on the heap, then one correlation per
 * polyphase component written in place into dx.
 */
function gemmGradInput(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  xShape: [number, number, number, number],
  stride: number,
  ph: Phase[],
  pw: Phase[],
): tf.Tensor4D {
  const top = Math.max(0, ...ph.map((p) => p.before));
  const bottom = Math.max(0, ...ph.map((p) => p.after));
  const left = Math.max(0, ...pw.map((p) => p.before));
  const right = Math.max(0, ...pw.map((p) => p.after));
  const dyp = top || bottom || left || right
    ? fastPad(dy, [[0, 0], [top, bottom], [left, right], [0, 0]])
    : dy;
  const parts: GemmPhasePart[] = [];
  let zeroFirst = false;
  ph.forEach((a, phiH) =>
    pw.forEach((b, phiW) => {
      if (a.taps.length === 0 || b.taps.length === 0) {
        zeroFirst = true;
        return;
      }
      parts.push({
        phiH,
        phiW,
        tapsH: a.taps,
        tapsW: b.taps,
        beforeH: a.before,
        beforeW: b.before,
      });
    })
  );
  const k = filter.shape[0];
  return tf.engine().runKernel(
    RUL_GEMM_GRAD_INPUT,
    { dy: dyp, filter } as unknown as tf.NamedTensorMap,
    { xShape, k, stride, top, left, parts, zeroFirst } as unknown as tf.NamedAttrMap,
  ) as tf.Tensor4D;
}

/**
 * Gradient of `conv2d(x, filter, stride, pad)` with respect to the filter of shape
 * [k,k,Ci,Co]: a convolution in which the channels play the batch, x as [Ci,H,W,N] convolved
 * with dy as [Ho,Wo,N,Co] at dilation = stride, giving [Ci,k,k,Co]; 1×1 filters use a plain
 * matrix product of the (sub-sampled) input and dy instead.
 *
 * Why this formulation (the rule is fixed per shape: k = 1 and pad = 0 → matMul, else the
 * channels-as-batch convolution). Hand-written because the wasm backend has no grad-filter kernel;
 * XNNPACK (behind wasm's Conv2D and MatMul) always re-packs its "weights" operand, and here both
 * operands are activations, so one of them is re-packed at every call. The convolution packs dy
 * once and reads x through an indirection buffer (no im2col copy). With a cached dy its GEMM runs
 * at ~1.3× the forward rate for the stem and ~0.75× for layers 1-2 (a 576-deep product over
 * 12544 positions instead of the reverse); the rest of the shortfall is the re-packing of dy (plus
 * TF.js's HWIO→OHWI transpose before it) and the two layout transposes, all single-threaded
 * memory passes.
 * Measured and rejected on 2 cores (112 px, batch 16; see docs/engine.md): splitting the
 * reduction into cache-sized row chunks (0.50-0.71× vs 0.60-0.72× unsplit), folding spatial
 * positions into the channel depth (no change), polyphase sub-convolutions instead of dilation
 * (0.52-0.56× vs 0.71-0.74×), im2col + one matMul (the GEMM alone is 0.74-0.94×, but the 9×
 * im2col copy costs more than the whole budget), JavaScript heap transposes (not faster), and,
 * for 1×1 stride 2, an identity-filter convolution or stridedSlice to sub-sample and dyᵀ·x
 * orientations (all slower than the path below).
 */
export function conv2dGradFilter(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  stride: number,
  pad: number,
): tf.Tensor4D {
  if (onednnActive() && x.dtype === "float32" && filterShape[0] === filterShape[1]) {
    return tf.engine().runKernel(
      RUL_DNNL_GRAD_FILTER,
      { x, dy } as unknown as tf.NamedTensorMap,
      { k: filterShape[0], stride, pad } as unknown as tf.NamedAttrMap,
    ) as tf.Tensor4D;
  }
  return tf.tidy(() => {
    const [k, , ci, co] = filterShape;
    const [n, h, w] = x.shape;
    const [, ho, wo] = dy.shape;
    if (wasmGemmActive() && co % TILE_COLS === 0 && x.dtype === "float32") {
      return tf.engine().runKernel(
        RUL_GEMM_GRAD_FILTER,
        { x, dy } as unknown as tf.NamedTensorMap,
        { k, stride, pad } as unknown as tf.NamedAttrMap,
      ) as tf.Tensor4D;
    }
    if (k === 1 && pad === 0) {
      const xs = subsample(x, stride, ho, wo);
      const a = tf.reshape(tf.transpose(xs, [3, 0, 1, 2]), [ci, n * ho * wo]) as tf.Tensor2D;
      const b = tf.reshape(dy, [n * ho * wo, co]) as tf.Tensor2D;
      return tf.reshape(tf.matMul(a, b), [1, 1, ci, co]) as tf.Tensor4D;
    }
    const xt = tf.transpose(x, [3, 1, 2, 0]) as tf.Tensor4D; // [Ci,H,W,N]
    const dyt = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [Ho,Wo,N,Co]
    // Bottom/right padding so that the output is exactly k×k (negative: crop x).
    const pb = k + stride * (ho - 1) - h - pad;
    const pr = k + stride * (wo - 1) - w - pad;
    const { t, pad: p } = cropForPadding(xt, pad, pb, pad, pr);
    const g = tf.conv2d(t, dyt, 1, p, "NHWC", stride); // [Ci,k,k,Co]
    return tf.transpose(g, [1, 2, 0, 3]) as tf.Tensor4D;
  });
}

/** x[:, ::s, ::s, :] cropped to [N,ho,wo,C], via reshape + contiguous slice (no strided slice). */
function subsample(x: tf.Tensor4D, s: number, ho: number, wo: number): tf.Tensor4D {
  if (s === 1) {
    return x.shape[1] === ho && x.shape[2] === wo
      ? x
      : fastSlice(x, [0, 0, 0, 0], [x.shape[0], ho, wo, x.shape[3]]);
  }
  const [n, h, w, c] = x.shape;
  const hp = ho * s, wp = wo * s;
  // Pad or crop to exactly ho·s × wo·s so the reshape to [N,ho,s,wo,s,C] is exact.
  let t: tf.Tensor4D = x;
  if (h < hp || w < wp) {
    t = fastPad(t, [[0, 0], [0, Math.max(0, hp - h)], [0, Math.max(0, wp - w)], [0, 0]]);
  }
  if (t.shape[1] > hp || t.shape[2] > wp) t = fastSlice(t, [0, 0, 0, 0], [n, hp, wp, c]);
  const r = tf.reshape(t, [n * ho, s, wo, s * c]);
  const rows = fastSlice(r, [0, 0, 0, 0], [n * ho, 1, wo, c]);
  return tf.reshape(rows, [n, ho, wo, c]);
}
