/**
 * The engine's own GEMM kernels on the wasm backend's heap: the tile module of
 * {@link ./gemm_wat.ts} compiled once (with the `wabt` npm package, from its WebAssembly text),
 * instantiated on the same `WebAssembly.Memory` as TF.js wasm, and run by the main thread plus
 * one pool worker per extra backend thread (`node:worker_threads`, woken through an atomic
 * counter: ~6 µs per job round trip). It registers five TF.js kernels for the wasm backend: the
 * two convolution gradients below, and the single-threaded element-wise `RulAdamStep` (fused
 * Adam update), `RulChanSums` (per-channel sums: batch-norm statistics) and `RulChanAffine`
 * (per-channel affine: batch-norm forward and backward). The convolution gradients:
 *
 * - `RulGemmGradFilter` — inputs `x` and `dy`; attrs `k`, `stride`, `pad`; output the filter
 *   gradient [k,k,Ci,Co] (x zero-padded into a heap scratch buffer first, as in the forward).
 * - `RulGemmGradInput` — inputs `dy` (zero-padded by `top`/`left` and enough at the far side)
 *   and `filter`; attrs `xShape`, `k`, `stride`, `top`, `left`, `parts` (the polyphase
 *   components, see {@link GemmPhasePart}) and `zeroFirst`; output the input gradient. The
 *   filter's taps are transposed and packed into a heap scratch buffer (freed before returning),
 *   then each phase is written in place into dx (no concat, no interleave).
 *
 * Threads spin for ~20-50 µs before sleeping on the atomic counter: a layer's gradient is 2-3
 * jobs in a row, and waking a sleeping thread costs 5-50 µs, which halved the speed of the
 * smallest layers (1×1 stride 2: 0.05 GFLOP, ~0.6 ms) before the spin.
 *
 * {@link initWasmGemm} is called by `initBackend` after the wasm backend starts; when it fails
 * (no relaxed SIMD, no wasm backend) the engine keeps its XNNPACK-based formulations.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as wasmBackend from "@tensorflow/tfjs-backend-wasm";
import { Worker } from "node:worker_threads";
import { gemmModuleText } from "./gemm_wat.ts";
import {
  CHAN_GROUP,
  CONTROL_WORDS,
  encodeJob,
  ERROR_BASE,
  type Job,
  JOB_ADAM,
  JOB_CHAN_AFFINE,
  JOB_CHAN_SUM,
  JOB_CORRELATE,
  JOB_GRAD_FILTER,
  JOB_PACK,
  JOB_PAD,
  JOB_REORDER,
  JOB_WORDS,
  JOB_ZERO,
  type Kernels,
  kernelsOf,
  MAX_REORDER_TAPS,
  runJob,
  SPIN,
  TILE_COLS,
} from "./gemm_jobs.ts";

/** Name of the grad-filter kernel registered for the wasm backend. */
export const RUL_GEMM_GRAD_FILTER = "RulGemmGradFilter";
/** Name of the grad-input kernel registered for the wasm backend. */
export const RUL_GEMM_GRAD_INPUT = "RulGemmGradInput";
/** Name of the fused Adam update kernel registered for the wasm backend. */
export const RUL_ADAM_STEP = "RulAdamStep";
/** Name of the per-channel sums kernel (batch-norm statistics) registered for wasm. */
export const RUL_CHAN_SUMS = "RulChanSums";
/** Name of the per-channel affine kernel (batch-norm forward and backward) registered for wasm. */
export const RUL_CHAN_AFFINE = "RulChanAffine";

/** Throw unless the Adam step's p, g, m, v are float32 tensors of p's shape. */
export function checkAdamInputs(...ts: tf.TensorInfo[]): void {
  for (const t of ts) {
    if (t.dtype !== "float32" || !tf.util.arraysEqual(t.shape, ts[0].shape)) {
      throw new Error(`${RUL_ADAM_STEP}: needs float32 tensors of one shape, got ${t.shape}`);
    }
  }
}

/** The part of TF.js's wasm backend that the engine's kernels (wasm and oneDNN) use. */
export interface WasmBackendLike {
  wasm: { wasmMemory?: WebAssembly.Memory; asm?: { memory?: WebAssembly.Memory } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  getMemoryOffset(dataId: unknown): number;
  disposeData(dataId: unknown, force?: boolean): boolean;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

interface GemmState {
  kernels: Kernels;
  threads: number;
  workers: Worker[];
  control: Int32Array;
  words: Int32Array;
  seq: number;
}

let state: GemmState | null = null;
let forced: boolean | undefined;
let registered = false;

/** What {@link initWasmGemm} reports. */
export interface WasmGemmInfo {
  /** Threads that run a job (the main thread plus the pool's workers). */
  threads: number;
  /** Whether the heap is a shared memory (threaded wasm backend). */
  shared: boolean;
}

/**
 * Compile the tile module, instantiate it on the active wasm backend's heap and start
 * `threads − 1` workers (`threads` defaults to the backend's thread count; a heap that is not
 * shared runs single-threaded). Idempotent. Throws (with the reason) when the backend is not wasm
 * or the runtime lacks wasm SIMD with relaxed multiply-add.
 */
export async function initWasmGemm(threads?: number): Promise<WasmGemmInfo> {
  if (state) return { threads: state.threads, shared: state.threads > 1 };
  if (tf.getBackend() !== "wasm") {
    throw new Error(`initWasmGemm: the active backend is '${tf.getBackend()}', not wasm`);
  }
  const backend = tf.backend() as unknown as WasmBackendLike;
  const memory = backend.wasm.wasmMemory ?? backend.wasm.asm?.memory;
  if (!memory) throw new Error("initWasmGemm: cannot find the wasm backend's memory");
  const shared = typeof SharedArrayBuffer !== "undefined" &&
    memory.buffer instanceof SharedArrayBuffer;
  const { default: wabtInit } = await import("wabt");
  const wabt = await wabtInit();
  const parsed = wabt.parseWat("rul_gemm.wat", gemmModuleText(shared), {
    simd: true,
    threads: true,
    relaxed_simd: true,
    bulk_memory: true,
  });
  let bytes: Uint8Array;
  try {
    bytes = parsed.toBinary({}).buffer;
  } finally {
    parsed.destroy();
  }
  const module = new WebAssembly.Module(bytes as BufferSource);
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const want = shared ? Math.max(1, threads ?? wasmBackend.getThreadsCount()) : 1;
  const control = new Int32Array(new SharedArrayBuffer(4 * CONTROL_WORDS));
  const words = new Int32Array(new SharedArrayBuffer(4 * JOB_WORDS));
  const workers: Worker[] = [];
  try {
    for (let index = 1; index < want; index++) {
      const w = new Worker(new URL("./gemm_worker.ts", import.meta.url));
      workers.push(w);
      await new Promise<void>((resolve, reject) => {
        w.once("message", () => resolve());
        w.once("error", reject);
        w.postMessage({
          bytes,
          memory,
          control: control.buffer,
          words: words.buffer,
          index,
          threads: want,
        });
      });
      w.unref();
    }
  } catch (e) {
    for (const w of workers) w.terminate();
    throw new Error(`initWasmGemm: a pool worker failed to start: ${e}`);
  }
  state = { kernels: kernelsOf(instance.exports), threads: want, workers, control, words, seq: 0 };
  ensureKernels();
  return { threads: want, shared };
}

/**
 * Use the GEMM kernels (`true`), the XNNPACK-based formulations (`false`), or the default
 * (`undefined`: GEMM whenever {@link initWasmGemm} succeeded).
 */
export function setWasmGemm(on: boolean | undefined): void {
  forced = on;
}

/** Whether the convolution gradients currently run on the GEMM kernels. */
export function wasmGemmActive(): boolean {
  return state !== null && forced !== false && tf.getBackend() === "wasm";
}

/** Threads of the GEMM pool (0 before {@link initWasmGemm}). */
export function wasmGemmThreads(): number {
  return state?.threads ?? 0;
}

/** Run one job on every thread of the pool (the main thread takes share 0) and wait for it. */
function run(kind: number, job: Job): void {
  const s = state as GemmState;
  encodeJob(s.words, kind, job);
  if (s.threads > 1) {
    s.seq = (s.seq + 1) | 0;
    Atomics.store(s.control, 0, s.seq);
    Atomics.notify(s.control, 0);
  }
  let mainError: unknown = null;
  try {
    runJob(s.kernels, s.words, 0, s.threads);
  } catch (e) {
    mainError = e;
  }
  // Even when the main thread's share failed, wait for the workers: the next job must not start
  // while one of them still runs this one.
  const failed: number[] = [];
  for (let i = 1; i < s.threads; i++) {
    // Spin first: the worker usually finishes within microseconds of the main thread's share.
    for (let spin = 0; spin < SPIN && Atomics.load(s.control, 1 + i) !== s.seq; spin++) {
      /* spin */
    }
    for (;;) {
      const done = Atomics.load(s.control, 1 + i);
      if (done === s.seq) break;
      Atomics.wait(s.control, 1 + i, done);
    }
    if (Atomics.load(s.control, ERROR_BASE + i) !== 0) failed.push(i);
  }
  if (mainError !== null) throw mainError;
  if (failed.length > 0) {
    throw new Error(`wasm GEMM: worker(s) ${failed.join(", ")} failed on job kind ${kind}`);
  }
}

interface GradFilterAttrs {
  k: number;
  stride: number;
  pad: number;
}

interface GradInputAttrs {
  xShape: [number, number, number, number];
  k: number;
  stride: number;
  top: number;
  left: number;
  parts: GemmPhasePart[];
  zeroFirst: boolean;
}

/**
 * One polyphase component of grad-input: output rows s·m + phiH and columns s·m + phiW receive
 * the stride-1 correlation of dy (zero-padded by beforeH/beforeW, negative: cropped) with the
 * [ah, aw, Co, Ci] sub-filter that is the kernel's input `f<index>`.
 */
export interface GemmPhasePart {
  phiH: number;
  phiW: number;
  /** Filter rows (kh) of the sub-filter, in the order the correlation visits them. */
  tapsH: number[];
  /** Filter columns (kw) of the sub-filter, likewise. */
  tapsW: number[];
  beforeH: number;
  beforeW: number;
}

/**
 * `x` [N,H,W,C] zero-padded by `pad` on every side into a heap scratch buffer (one multi-threaded
 * pad job), which is pushed onto `scratch` for the caller to free; `x` itself when `pad` is 0.
 */
function padToScratch(
  b: WasmBackendLike,
  x: tf.TensorInfo,
  pad: number,
  scratch: tf.TensorInfo[],
): tf.TensorInfo {
  if (pad === 0) return x;
  const [n, h, w, c] = x.shape;
  const xp = b.makeOutput([n, h + 2 * pad, w + 2 * pad, c], "float32");
  scratch.push(xp);
  run(JOB_PAD, {
    src: b.getMemoryOffset(x.dataId),
    dst: b.getMemoryOffset(xp.dataId),
    n,
    h,
    w,
    c,
    pad,
  });
  return xp;
}

/**
 * Forward convolution on the GEMM kernels, for use inside a wasm kernel function: x [N,H,W,Ci]
 * zero-padded into a heap scratch buffer, the filter [k,k,Ci,Co] packed into panels of 8 output
 * channels (XNNPACK re-packs a new filter too, single-threaded and ~5× slower on layer 4), then
 * one correlation job. Co must be a multiple of 8 (check {@link gemmConvSupported}).
 */
export function gemmConv2d(
  backend: unknown,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  stride: number,
  pad: number,
): tf.TensorInfo {
  const b = backend as WasmBackendLike;
  const [n, h, w, ci] = x.shape;
  const [k, , , co] = filter.shape;
  const hp = h + 2 * pad, wp = w + 2 * pad;
  const ho = Math.floor((hp - k) / stride) + 1, wo = Math.floor((wp - k) / stride) + 1;
  const scratch: tf.TensorInfo[] = [];
  try {
    const xp = padToScratch(b, x, pad, scratch);
    const rows = k * k * ci;
    const packed = b.makeOutput([co / TILE_COLS, rows, TILE_COLS], "float32");
    scratch.push(packed);
    const bPtr = b.getMemoryOffset(packed.dataId);
    run(JOB_PACK, { src: b.getMemoryOffset(filter.dataId), dst: bPtr, rows, cols: co });
    const out = b.makeOutput([n, ho, wo, co], "float32");
    if (n * ho * wo === 0) return out;
    run(JOB_CORRELATE, {
      a: b.getMemoryOffset(xp.dataId),
      aImg: hp * wp * ci * 4,
      aRow: stride * wp * ci * 4,
      aCol: stride * ci * 4,
      aO: wp * ci * 4,
      b: bPtr,
      bO: k * ci * TILE_COLS * 4,
      bQ: TILE_COLS * 4,
      bTile: rows * TILE_COLS * 4,
      nO: k,
      nQ: k * ci,
      c: b.getMemoryOffset(out.dataId),
      cImg: ho * wo * co * 4,
      cRow: wo * co * 4,
      cCol: co * 4,
      nImg: n,
      outRows: ho,
      outCols: wo,
      cout: co,
    });
    return out;
  } finally {
    for (const t of scratch) b.disposeData(t.dataId);
  }
}

/** Whether {@link gemmConv2d} can run this convolution now (GEMM active, float32, Co % 8 = 0). */
export function gemmConvSupported(x: tf.TensorInfo, filter: tf.TensorInfo): boolean {
  return wasmGemmActive() && x.dtype === "float32" && filter.dtype === "float32" &&
    filter.shape[3] % TILE_COLS === 0 && filter.shape[0] === filter.shape[1];
}

/** Constants of one Adam update (see {@link adamStepFused}). */
export interface AdamConstants {
  beta1: number;
  beta2: number;
  eps: number;
  /** 0: no weight decay term. */
  weightDecay: number;
  /** √(1 − β2^t). */
  bc2Sqrt: number;
  /** lr / (1 − β1^t). */
  stepSize: number;
}

/**
 * One Adam update of a float32 parameter as a single multi-threaded pass on the wasm heap,
 * returning [p', m', v'] (new tensors). Every operation is the float32 operation, in the order,
 * of lib/train/adam.ts's TF.js ops, so the results are bit-identical to them; it replaces ~14
 * single-threaded element-wise kernels (one memory pass each). Only while
 * {@link wasmGemmActive}.
 */
export function adamStepFused(
  p: tf.Tensor,
  g: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  c: AdamConstants,
): [tf.Tensor, tf.Tensor, tf.Tensor] {
  return tf.engine().runKernel(
    RUL_ADAM_STEP,
    { p, g, m, v } as unknown as tf.NamedTensorMap,
    c as unknown as tf.NamedAttrMap,
  ) as unknown as [tf.Tensor, tf.Tensor, tf.Tensor];
}

/**
 * Whether {@link chanSums} and {@link chanAffine} can run on `x` ([rows, C] or [N,H,W,C]): the
 * engine's wasm kernels active, float32, C a multiple of 16.
 */
export function wasmChanOpsSupported(x: tf.Tensor): boolean {
  return wasmGemmActive() && x.dtype === "float32" && (x.rank === 2 || x.rank === 4) &&
    x.shape[x.rank - 1] % CHAN_GROUP === 0 && x.size > 0;
}

/**
 * Per-channel sums over every position of `x` (C channels last), in blocks of 128 rows:
 * mode 0: [Σ x]; mode 1: [Σ (x − mean)²] (`other` = mean [C]); mode 2: [Σ other, Σ other·x]
 * (`other` = dy, shaped like x). Check {@link wasmChanOpsSupported} first.
 */
export function chanSums(mode: 0 | 1 | 2, x: tf.Tensor, other?: tf.Tensor): tf.Tensor1D[] {
  const inputs: Record<string, tf.Tensor> = { x };
  if (other) inputs.other = other;
  const out = tf.engine().runKernel(
    RUL_CHAN_SUMS,
    inputs as unknown as tf.NamedTensorMap,
    { mode } as unknown as tf.NamedAttrMap,
  );
  return (Array.isArray(out) ? out : [out]) as tf.Tensor1D[];
}

/**
 * out = (x − u)·a + k, plus y·b with `y`/`b`, per channel (u, a, b, k: [C]); out has x's shape.
 * Check {@link wasmChanOpsSupported} first.
 */
export function chanAffine(
  x: tf.Tensor,
  u: tf.Tensor1D,
  a: tf.Tensor1D,
  k: tf.Tensor1D,
  y?: tf.Tensor,
  b?: tf.Tensor1D,
): tf.Tensor {
  const inputs: Record<string, tf.Tensor> = { x, u, a, k };
  if (y && b) Object.assign(inputs, { y, b });
  return tf.engine().runKernel(RUL_CHAN_AFFINE, inputs as unknown as tf.NamedTensorMap, {});
}

function ensureKernels(): void {
  if (registered) return;
  tf.registerKernel({
    kernelName: RUL_CHAN_SUMS,
    backendName: "wasm",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, other } = inputs as unknown as Record<string, tf.TensorInfo>;
      const { mode } = attrs as unknown as { mode: 0 | 1 | 2 };
      const b = backend as unknown as WasmBackendLike;
      const c = x.shape[x.shape.length - 1];
      if (c % CHAN_GROUP !== 0 || x.dtype !== "float32") {
        throw new Error(`${RUL_CHAN_SUMS}: needs float32 with C % 16 = 0, got ${x.shape}`);
      }
      if (mode > 0 && !other) throw new Error(`${RUL_CHAN_SUMS}: mode ${mode} needs a 2nd input`);
      const outs = Array.from({ length: mode === 2 ? 2 : 1 }, () => b.makeOutput([c], "float32"));
      const at = (t: tf.TensorInfo) => b.getMemoryOffset(t.dataId);
      run(JOB_CHAN_SUM, {
        mode,
        x: at(x),
        y: mode === 2 ? at(other) : 0,
        rows: tf.util.sizeFromShape(x.shape) / c,
        c,
        mean: mode === 1 ? at(other) : 0,
        out: at(outs[0]),
        out2: mode === 2 ? at(outs[1]) : 0,
      });
      return outs;
    },
  });
  tf.registerKernel({
    kernelName: RUL_CHAN_AFFINE,
    backendName: "wasm",
    kernelFunc: ({ inputs, backend }) => {
      const { x, y, u, a, b: bb, k } = inputs as unknown as Record<string, tf.TensorInfo>;
      const be = backend as unknown as WasmBackendLike;
      const c = x.shape[x.shape.length - 1];
      if (c % 4 !== 0 || x.dtype !== "float32") {
        throw new Error(`${RUL_CHAN_AFFINE}: needs float32 with C % 4 = 0, got ${x.shape}`);
      }
      const out = be.makeOutput(x.shape, "float32");
      const at = (t: tf.TensorInfo) => be.getMemoryOffset(t.dataId);
      run(JOB_CHAN_AFFINE, {
        x: at(x),
        y: y ? at(y) : 0,
        out: at(out),
        rows: tf.util.sizeFromShape(x.shape) / c,
        c,
        u: at(u),
        a: at(a),
        b: bb ? at(bb) : 0,
        k: at(k),
        useY: !!y,
      });
      return out;
    },
  });
  tf.registerKernel({
    kernelName: RUL_ADAM_STEP,
    backendName: "wasm",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { p, g, m, v } = inputs as unknown as Record<string, tf.TensorInfo>;
      const c = attrs as unknown as AdamConstants;
      const b = backend as unknown as WasmBackendLike;
      checkAdamInputs(p, g, m, v);
      const outs = [0, 1, 2].map(() => b.makeOutput(p.shape, "float32"));
      const at = (t: tf.TensorInfo) => b.getMemoryOffset(t.dataId);
      run(JOB_ADAM, {
        p: at(p),
        g: at(g),
        m: at(m),
        v: at(v),
        po: at(outs[0]),
        mo: at(outs[1]),
        vo: at(outs[2]),
        n: tf.util.sizeFromShape(p.shape),
        hasWd: c.weightDecay > 0,
        b1: c.beta1,
        omb1: 1 - c.beta1,
        b2: c.beta2,
        omb2: 1 - c.beta2,
        eps: c.eps,
        wd: c.weightDecay,
        bc2: c.bc2Sqrt,
        step: c.stepSize,
      });
      return outs;
    },
  });
  tf.registerKernel({
    kernelName: RUL_GEMM_GRAD_FILTER,
    backendName: "wasm",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as unknown as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const { k, stride, pad } = attrs as unknown as GradFilterAttrs;
      const b = backend as unknown as WasmBackendLike;
      const [n, h, w, ci] = x.shape;
      const [, ho, wo, co] = dy.shape;
      const hp = h + 2 * pad, wp = w + 2 * pad;
      if (co % TILE_COLS !== 0) throw new Error(`${RUL_GEMM_GRAD_FILTER}: Co ${co} % 8 ≠ 0`);
      if (stride * (ho - 1) + k > hp || stride * (wo - 1) + k > wp) {
        throw new Error(`${RUL_GEMM_GRAD_FILTER}: x ${x.shape} too small for dy ${dy.shape}`);
      }
      const scratch: tf.TensorInfo[] = [];
      try {
        const xp = padToScratch(b, x, pad, scratch);
        const out = b.makeOutput([k, k, ci, co], "float32");
        run(JOB_GRAD_FILTER, {
          x: b.getMemoryOffset(xp.dataId),
          dy: b.getMemoryOffset(dy.dataId),
          out: b.getMemoryOffset(out.dataId),
          n,
          hp,
          wp,
          ci,
          ho,
          wo,
          co,
          k,
          stride,
        });
        return out;
      } finally {
        for (const t of scratch) b.disposeData(t.dataId);
      }
    },
  });
  tf.registerKernel({
    kernelName: RUL_GEMM_GRAD_INPUT,
    backendName: "wasm",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const named = inputs as unknown as Record<string, tf.TensorInfo>;
      const { xShape, k, stride: s, top, left, parts, zeroFirst } =
        attrs as unknown as GradInputAttrs;
      const b = backend as unknown as WasmBackendLike;
      const { dy, filter } = named;
      const [n, h, w, ci] = xShape;
      const [, hd, wd, co] = dy.shape;
      if (ci % TILE_COLS !== 0 || co % 4 !== 0) {
        throw new Error(
          `${RUL_GEMM_GRAD_INPUT}: needs Ci % 8 = 0 and Co % 4 = 0, got ${ci}, ${co}`,
        );
      }
      // The sub-filters, each tap transposed to [Co,Ci] and packed in panels of 8 input
      // channels (see ReorderJob), in a scratch buffer.
      const taps = parts.flatMap((p) => p.tapsH.flatMap((a) => p.tapsW.map((c) => a * k + c)));
      const scratch = b.makeOutput([taps.length, co, ci], "float32");
      const out = b.makeOutput([n, h, w, ci], "float32");
      try {
        const src = b.getMemoryOffset(filter.dataId), dst = b.getMemoryOffset(scratch.dataId);
        for (let t0 = 0; t0 < taps.length; t0 += MAX_REORDER_TAPS) {
          run(JOB_REORDER, {
            src,
            dst,
            ci,
            co,
            first: t0,
            total: taps.length,
            taps: taps.slice(t0, t0 + MAX_REORDER_TAPS),
          });
        }
        const dyPtr = b.getMemoryOffset(dy.dataId), outPtr = b.getMemoryOffset(out.dataId);
        if (zeroFirst) run(JOB_ZERO, { ptr: outPtr, bytes: n * h * w * ci * 4 });
        let tap = 0;
        for (const p of parts) {
          const ah = p.tapsH.length, aw = p.tapsW.length;
          const sub = dst + tap * co * TILE_COLS * 4; // panel 0 of this part's sub-filter
          tap += ah * aw;
          const outRows = Math.ceil((h - p.phiH) / s), outCols = Math.ceil((w - p.phiW) / s);
          if (outRows <= 0 || outCols <= 0) continue;
          const r0 = top - p.beforeH, c0 = left - p.beforeW;
          if (r0 < 0 || c0 < 0 || r0 + outRows + ah - 1 > hd || c0 + outCols + aw - 1 > wd) {
            throw new Error(`${RUL_GEMM_GRAD_INPUT}: dy ${dy.shape} is not padded enough`);
          }
          run(JOB_CORRELATE, {
            a: dyPtr + (r0 * wd + c0) * co * 4,
            aImg: hd * wd * co * 4,
            aRow: wd * co * 4,
            aCol: co * 4,
            aO: wd * co * 4,
            b: sub,
            bO: aw * co * TILE_COLS * 4,
            bQ: TILE_COLS * 4,
            bTile: taps.length * co * TILE_COLS * 4,
            nO: ah,
            nQ: aw * co,
            c: outPtr + (p.phiH * w + p.phiW) * ci * 4,
            cImg: h * w * ci * 4,
            cRow: s * w * ci * 4,
            cCol: s * ci * 4,
            nImg: n,
            outRows,
            outCols,
            cout: ci,
          });
        }
      } finally {
        b.disposeData(scratch.dataId);
      }
      return out;
    },
  });
  registered = true;
}
