/**
 * The native CPU engine: the heavy kernels of a training step run as oneDNN primitives (through
 * Deno FFI, {@link ./onednn_ffi.ts}) directly on TF.js wasm's heap. TF.js's wasm backend stays
 * the tensor store: a kernel takes the heap offsets of its inputs and outputs
 * (`getMemoryOffset`), adds the heap's native base address (`Deno.UnsafePointer.of` on a view of
 * the backend's `WebAssembly.Memory`, whose address does not move when it grows: V8 reserves
 * wasm32 memories whole) and hands those addresses to oneDNN, so no tensor is copied in or out.
 *
 * Kernels registered for the wasm backend while oneDNN is active:
 *
 * - convolution forward (`RulConv2D` calls {@link dnnlConv2d}): src/dst `nhwc`, weights in the
 *   layout oneDNN prefers (`format_tag_any`), reordered from TF.js's HWIO at each call into a
 *   buffer cached per shape (the weights change at every step); no padding copy (oneDNN pads).
 * - `RulDnnConvGradInput` — backward-data, the same weights reorder.
 * - `RulDnnConvGradFilter` — backward-weights into oneDNN's preferred layout, reordered to HWIO
 *   into the TF.js output.
 * - `RulDnnBatchNorm` / `RulDnnBatchNormGrad` — batch normalisation with batch statistics
 *   (biased variance, as PyTorch's normalisation) and its backward (dx, dγ, dβ), one primitive
 *   each instead of the wasm engine's channel passes and ~15 small [C] ops.
 * - `RulDnnRelu` / `RulDnnReluGrad` — ReLU and its gradient from the output (dx = dy·[y > 0], as
 *   PyTorch), one multi-threaded pass each instead of TF.js wasm's single-threaded Relu, Step and
 *   Multiply.
 * - `RulDnnMaxPoolGrad` — max-pool backward: oneDNN's pooling forward re-run in training mode for
 *   its workspace (the arg-max of each window; a heap scratch freed before returning), then the
 *   backward primitive; replaces the engine's single-threaded JavaScript scatter.
 *
 * Primitives (and their reorders) are created once per shape and cached; PyTorch's padding is
 * symmetric, oneDNN's right padding is derived from the output size as PyTorch's ideep does
 * (it is negative for 1×1 stride-2 on even sizes: the last input row is never read).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { fastGradientsActive } from "./fast_state.ts";
import {
  type AdamConstants,
  checkAdamInputs,
  RUL_ADAM_STEP,
  type WasmBackendLike,
} from "./wasm_gemm.ts";
import { replaceKernel } from "./replace_kernel.ts";
import { col2im, colSize, type ConvGeometry, im2col } from "./im2col.ts";
import { check, dims, DNNL, type DnnlLib, type Exec, loadDnnl, opDesc } from "./onednn_ffi.ts";

/** Name of the grad-input kernel registered for wasm while oneDNN is active. */
export const RUL_DNNL_GRAD_INPUT = "RulDnnConvGradInput";
/** Name of the grad-filter kernel registered for wasm while oneDNN is active. */
export const RUL_DNNL_GRAD_FILTER = "RulDnnConvGradFilter";
/** Batch-norm forward (training: batch statistics) on oneDNN: outputs [y, mean, variance]. */
export const RUL_DNNL_BATCH_NORM = "RulDnnBatchNorm";
/** Batch-norm backward on oneDNN: outputs [dx] or [dx, dγ, dβ]. */
export const RUL_DNNL_BATCH_NORM_GRAD = "RulDnnBatchNormGrad";
/** ReLU forward on oneDNN (registered with its gradient, computed from the output). */
export const RUL_DNNL_RELU = "RulDnnRelu";
/** ReLU backward on oneDNN: dx = dy where y > 0, else 0. */
export const RUL_DNNL_RELU_GRAD = "RulDnnReluGrad";
/** Max-pool forward on oneDNN. */
export const RUL_DNNL_MAX_POOL = "RulDnnMaxPool";
/** Max-pool backward on oneDNN (first maximum of each window, padding never wins). */
export const RUL_DNNL_MAX_POOL_GRAD = "RulDnnMaxPoolGrad";

/** The part of TF.js's cpu backend the kernels use. */
interface CpuBackendLike {
  data: { get(dataId: unknown): { values?: ArrayBufferView } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: ArrayBufferView): tf.TensorInfo;
  disposeData(dataId: unknown, force?: boolean): boolean;
}

/**
 * Where the tensors live: TF.js wasm's heap (`wasm`: ≤ 4 GB in all, the wasm engine's fast
 * element-wise kernels for the other ops) or TF.js cpu's JavaScript typed arrays (`cpu`: no
 * size limit but the host's memory; the other ops are TF.js cpu's JavaScript kernels).
 */
export type OnednnStore = "wasm" | "cpu";

/** What {@link initOnednn} reports. */
export interface OnednnInfo {
  /** oneDNN version, e.g. `2.6.3`. */
  version: string;
  /** ISA oneDNN dispatches to, e.g. `avx512_core`. */
  isa: string;
  /** OpenMP threads of oneDNN's primitives. */
  threads: number;
  /** Where the tensors live (the TF.js backend: `wasm` or `cpu`). */
  store: OnednnStore;
}

interface State {
  lib: DnnlLib;
  store: OnednnStore;
  /** wasm store: the heap, its current buffer and that buffer's native address. */
  memory: WebAssembly.Memory | null;
  buffer: ArrayBufferLike | null;
  base: number;
}

let state: State | null = null;
let forced: boolean | undefined;
/** The backends whose kernels are registered (a store switch registers the new one's). */
const registered = new Set<string>();

/**
 * Load oneDNN with `threads` OpenMP threads and attach its kernels to the active TF.js backend,
 * which becomes the tensor store: `wasm` (kernels read and write the heap) or `cpu` (kernels
 * read and write its typed arrays). Idempotent. Throws with the reason when the library cannot
 * load or the backend is neither.
 */
export function initOnednn(threads: number): OnednnInfo {
  if (!state) {
    const name = tf.getBackend();
    let memory: WebAssembly.Memory | null = null;
    if (name === "wasm") {
      const backend = tf.backend() as unknown as WasmBackendLike;
      memory = backend.wasm.wasmMemory ?? backend.wasm.asm?.memory ?? null;
      if (!memory) throw new Error("initOnednn: cannot find the wasm backend's memory");
    } else if (name !== "cpu") {
      throw new Error(`initOnednn: the active backend is '${name}', not wasm or cpu`);
    }
    const lib = loadDnnl(threads);
    state = { lib, store: name, memory, buffer: null, base: 0 };
    ensureKernels(name);
  }
  return onednnInfo() as OnednnInfo;
}

/**
 * Move the loaded engine's store to the cpu backend (TF.js cpu must be active already): its
 * kernels are registered there and read and write its typed arrays from now on; tensors still
 * on the wasm heap move when a kernel first reads them (TF.js moves data between backends).
 * Used when a training step does not fit the wasm heap (lib/backend.ts's `fitOnednnStore`).
 */
export function moveOnednnStoreToCpu(): OnednnInfo {
  if (!state) throw new Error("moveOnednnStoreToCpu: oneDNN is not loaded (initOnednn first)");
  if (tf.getBackend() !== "cpu") {
    throw new Error(`moveOnednnStoreToCpu: the active backend is '${tf.getBackend()}', not cpu`);
  }
  state.store = "cpu";
  state.memory = null;
  state.buffer = null;
  ensureKernels("cpu");
  return onednnInfo() as OnednnInfo;
}

/** Use oneDNN's kernels (`true`/`undefined`: whenever loaded) or not (`false`). */
export function setOnednn(on: boolean | undefined): void {
  forced = on;
}

/**
 * Whether the oneDNN kernels are in use now: loaded, not turned off, their store backend active
 * and the engine's fast gradients on (`setFastGradients(false)` gives TF.js's stock kernels).
 */
export function onednnActive(): boolean {
  return state !== null && forced !== false && tf.getBackend() === state.store &&
    fastGradientsActive();
}

/** The loaded oneDNN's version, ISA and threads, or null before {@link initOnednn}. */
export function onednnInfo(): OnednnInfo | null {
  return state
    ? {
      version: state.lib.version,
      isa: state.lib.isa,
      threads: state.lib.threads,
      store: state.store,
    }
    : null;
}

/** Native address of heap offset `off` of the wasm backend. */
function heapAddr(off: number): number {
  const s = state as State;
  const buf = (s.memory as WebAssembly.Memory).buffer;
  if (buf !== s.buffer) {
    s.buffer = buf;
    s.base = Number(
      Deno.UnsafePointer.value(
        Deno.UnsafePointer.of(new Uint8Array(buf) as Uint8Array<ArrayBuffer>),
      ),
    );
  }
  return s.base + off;
}

/** Native address of a typed array's first element. */
function viewAddr(v: ArrayBufferView): number {
  return Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(v as Uint8Array<ArrayBuffer>)));
}

/**
 * Tensor `t`'s typed array on the cpu store. TF.js cpu's cast of int32 or bool to float32 shares
 * the input's array (no encoding loss), so a float32 tensor can hold an Int32Array or Uint8Array:
 * oneDNN and the JavaScript loops need float32, so such an input is read through a float32 copy,
 * kept alive until the kernel's next calls (a kernel reads at most a few inputs). Outputs are
 * always Float32Array ({@link newOutput}).
 */
function cpuValues(backend: unknown, t: tf.TensorInfo): ArrayBufferView {
  let v = (backend as CpuBackendLike).data.get(t.dataId).values;
  if (!v || v.byteLength === 0) throw new Error(`oneDNN: tensor [${t.shape}] has no data`);
  if (t.dtype === "float32" && !(v instanceof Float32Array)) {
    v = Float32Array.from(v as unknown as ArrayLike<number>);
    converted[convertedNext] = v;
    convertedNext = (convertedNext + 1) % converted.length;
  }
  return v;
}

/** Native address of tensor `t`'s data in the active store. */
function at(backend: unknown, t: tf.TensorInfo): number {
  if ((state as State).store === "wasm") {
    return heapAddr((backend as WasmBackendLike).getMemoryOffset(t.dataId));
  }
  return viewAddr(cpuValues(backend, t));
}

/** A float32 view of float32 tensor `t`'s data in the active store (for im2col's loops). */
function view(backend: unknown, t: tf.TensorInfo): Float32Array {
  const s = state as State;
  if (s.store === "wasm") {
    const off = (backend as WasmBackendLike).getMemoryOffset(t.dataId);
    return new Float32Array(
      (s.memory as WebAssembly.Memory).buffer,
      off,
      tf.util.sizeFromShape(t.shape),
    );
  }
  return cpuValues(backend, t) as Float32Array;
}

/** float32 copies of cpu-store inputs held in another element type (see {@link at}). */
const converted: (ArrayBufferView | null)[] = new Array(8).fill(null);
let convertedNext = 0;

/** A new output tensor of the active store (uninitialised on wasm, zeros on cpu). */
function newOutput(backend: unknown, shape: number[], dtype: "float32" | "int32"): tf.TensorInfo {
  if ((state as State).store === "wasm") {
    return (backend as WasmBackendLike).makeOutput(shape, dtype);
  }
  const n = tf.util.sizeFromShape(shape);
  const values = dtype === "int32" ? new Int32Array(n) : new Float32Array(n);
  return (backend as CpuBackendLike).makeTensorInfo(shape, dtype, values);
}

/** Free a kernel's scratch tensor. */
function free(backend: unknown, t: tf.TensorInfo): void {
  (backend as WasmBackendLike | CpuBackendLike).disposeData(t.dataId);
}

/** A native scratch buffer (a JavaScript ArrayBuffer kept alive by the cache) and its address. */
interface Scratch {
  buf: Uint8Array;
  /** Native address of the first 64-byte aligned byte, and that byte's offset in `buf`. */
  addr: number;
  off: number;
}

let shared: Scratch | null = null;

/**
 * The native scratch buffer of at least `bytes` (64-byte aligned for AVX-512), shared by every
 * kernel: a kernel uses it for one tensor at a time (reordered weights, an im2col matrix) and
 * kernels run one after the other, so one buffer (grown to the largest) serves every shape.
 */
function scratch(bytes: number): Scratch {
  if (!shared || shared.buf.byteLength < bytes + 64) {
    const buf = new Uint8Array(bytes + 64);
    const raw = viewAddr(buf);
    const off = (64 - (raw % 64)) % 64;
    shared = { buf, addr: raw + off, off };
  }
  return shared;
}

/** Address of the shared {@link scratch} for `bytes`. */
function scratchAddr(bytes: number): number {
  return scratch(bytes).addr;
}

/** The shared {@link scratch} for `floats` float32 values: its address and a view of them. */
function scratchF32(floats: number): { addr: number; f32: Float32Array } {
  const { addr, buf, off } = scratch(floats * 4);
  return { addr, f32: new Float32Array(buf.buffer, buf.byteOffset + off, floats) };
}

/**
 * A convolution with few output positions run as matrix products on the HWIO weights as they are
 * ({@link ./im2col.ts}): forward col·W, backward-data dy·Wᵀ then col2im, backward-weights colᵀ·dy.
 */
interface GemmConv {
  g: ConvGeometry;
  fwd: MatMulPrims;
  bwdData: MatMulPrims;
  bwdWeights: MatMulPrims;
}

/** The primitives of one direct convolution shape: forward, backward-data, backward-weights. */
interface DirectConv {
  gemm: null;
  fwd: Exec;
  bwdData: Exec;
  bwdWeights: Exec;
  /** HWIO → the forward's weights layout (null: oneDNN takes HWIO as it is), and its bytes. */
  fwdWReorder: Exec | null;
  fwdWBytes: number;
  bwdWReorder: Exec | null;
  bwdWBytes: number;
  /** The backward-weights layout → HWIO. */
  diffWReorder: Exec | null;
  diffWBytes: number;
  /** Descriptors kept alive for the primitives' lifetime. */
  keep: unknown[];
}

/** One convolution shape's primitives: as matrix products ({@link GemmConv}) or direct. */
type ConvPrims = { gemm: GemmConv } | DirectConv;

const convCache = new Map<string, ConvPrims>();

/**
 * Work below which a primitive runs on one thread when `RUL_ONEDNN_SMALL_ONE_THREAD=1` (the
 * rule for a machine shared with other busy jobs): multiply-adds of a convolution or matrix
 * product, elements of the other (memory-bound) primitives. Off by default: on a machine with
 * idle cores, switching OpenMP's team between one and all threads from one primitive to the next
 * costs more than the small primitives save (a 64 px, batch 16 step: 155-178 ms with the rule,
 * 115-140 ms without, 2 threads, idle machine). On a busy 2-core machine it is the other way
 * round (the demo's `--quick` setting took 55-75 s with every primitive on 2 threads and 18 s
 * with the rule, load average ~20; batch-norm and ReLU, which synchronise their threads several
 * times per call, took 10.3 s of an 18.9 s step at 112 px, batch 16 on 2 threads and < 0.2 s on
 * one, load average > 100).
 */
const SMALL_CONV_MACS = 5e6;

const SMALL_ELEMENTS = 1 << 22;
const smallOnOneThread = Deno.env.get("RUL_ONEDNN_SMALL_ONE_THREAD") === "1";

/**
 * Convolutions with at most this many output positions (N·Ho·Wo) run as matrix products on the
 * HWIO weights ({@link GemmConv}); the others as oneDNN's direct convolutions. A direct
 * convolution reorders the weights at every call (forward and backward-data) and the weight
 * gradient back to HWIO, whose cost grows with the weights alone, while its arithmetic grows with
 * N·Ho·Wo times the weights: so the reorders dominate where N·Ho·Wo is small. Measured on a
 * 3×3 512→512 convolution at N·Ho·Wo = 64 (ResNet-18's last stage at 64 px, batch 16; 2 threads,
 * idle machine, ONEDNN_VERBOSE): direct 10.7 ms for the three passes (5.0 of them reorders),
 * matrix products 6.3 ms; 3×3 256→256 at 256: even (4.9 ms each way). The limit sits between.
 */
const GEMM_MAX_M_DEFAULT = 128;
let gemmMaxM = GEMM_MAX_M_DEFAULT;

/**
 * Set the largest N·Ho·Wo that runs a convolution as matrix products (0: never, Infinity:
 * always; `undefined`: the default, 128). For tests and benchmarks of the two paths.
 */
export function setConvGemmLimit(m: number | undefined): void {
  gemmMaxM = m ?? GEMM_MAX_M_DEFAULT;
}

/** Threads for a primitive of `work` units against its small-work limit. */
function threadsFor(work: number, small: number): number {
  return smallOnOneThread && work < small ? 1 : (state as State).lib.threads;
}

/** Output size of one spatial dimension (PyTorch: floor((n + 2p - k) / s) + 1). */
function outSize(n: number, k: number, s: number, p: number): number {
  return Math.floor((n + 2 * p - k) / s) + 1;
}

/**
 * The primitives cached under `key` in `cache`; on first use made by `make` for the thread count
 * a primitive of `work` units gets against its small-work limit `small` (see {@link threadsFor}).
 */
function cachedPrims<K, T>(
  cache: Map<K, T>,
  key: K,
  work: number,
  small: number,
  make: (lib: DnnlLib) => T,
): T {
  const hit = cache.get(key);
  if (hit) return hit;
  const lib = (state as State).lib;
  const made = lib.withThreads(threadsFor(work, small), () => make(lib));
  cache.set(key, made);
  return made;
}

function convPrims(
  n: number,
  h: number,
  w: number,
  ci: number,
  co: number,
  k: number,
  stride: number,
  pad: number,
): ConvPrims {
  const ho = outSize(h, k, stride, pad), wo = outSize(w, k, stride, pad);
  const gemm = n * ho * wo <= gemmMaxM;
  const key = `${n},${h},${w},${ci},${co},${k},${stride},${pad}${gemm ? ",gemm" : ""}`;
  return cachedPrims(
    convCache,
    key,
    n * ho * wo * co * k * k * ci,
    SMALL_CONV_MACS,
    (lib): ConvPrims => {
      if (gemm) {
        const m = n * ho * wo, kk = k * k * ci;
        return {
          gemm: {
            g: { n, h, w, ci, k, stride, pad, ho, wo },
            fwd: matMulPrims(1, m, kk, co, false, false),
            bwdData: matMulPrims(1, m, co, kk, false, true),
            bwdWeights: matMulPrims(1, kk, m, co, true, false),
          },
        };
      }
      const what = `conv ${key}`;
      const src = lib.md([n, ci, h, w], DNNL.nhwc);
      const dst = lib.md([n, co, ho, wo], DNNL.nhwc);
      const wHwio = lib.md([co, ci, k, k], DNNL.hwio);
      const wAny = lib.md([co, ci, k, k], DNNL.tagAny);
      const strides = dims([stride, stride]);
      const padL = dims([pad, pad]);
      // oneDNN's right padding from the output size (as ideep does; may be negative).
      const padR = dims([(ho - 1) * stride + k - h - pad, (wo - 1) * stride + k - w - pad]);
      const p = lib.ptr;
      const fwdOp = opDesc();
      check(
        lib.sym.dnnl_convolution_forward_desc_init(
          fwdOp,
          DNNL.forwardTraining,
          DNNL.convolutionDirect,
          src,
          wAny,
          null,
          dst,
          strides,
          padL,
          padR,
        ),
        `${what} op desc`,
      );
      const fwdPd = lib.pd(fwdOp, null, `${what} forward`);
      const fwdWmd = lib.query(fwdPd, DNNL.queryWeightsMd);
      const fwd = lib.exec(fwdPd, [[DNNL.argSrc, p(src)], [DNNL.argWeights, fwdWmd], [
        DNNL.argDst,
        p(dst),
      ]], `${what} forward`);
      const bdOp = opDesc();
      check(
        lib.sym.dnnl_convolution_backward_data_desc_init(
          bdOp,
          DNNL.convolutionDirect,
          src,
          wAny,
          dst,
          strides,
          padL,
          padR,
        ),
        `${what} op desc`,
      );
      const bdPd = lib.pd(bdOp, fwdPd, `${what} backward-data`);
      const bdWmd = lib.query(bdPd, DNNL.queryWeightsMd);
      const bwdData = lib.exec(bdPd, [[DNNL.argDiffDst, p(dst)], [DNNL.argWeights, bdWmd], [
        DNNL.argDiffSrc,
        p(src),
      ]], `${what} backward-data`);
      const bwOp = opDesc();
      check(
        lib.sym.dnnl_convolution_backward_weights_desc_init(
          bwOp,
          DNNL.convolutionDirect,
          src,
          wAny,
          null,
          dst,
          strides,
          padL,
          padR,
        ),
        `${what} op desc`,
      );
      const bwPd = lib.pd(bwOp, fwdPd, `${what} backward-weights`);
      const bwWmd = lib.query(bwPd, DNNL.queryDiffWeightsMd);
      const bwdWeights = lib.exec(bwPd, [[DNNL.argSrc, p(src)], [DNNL.argDiffDst, p(dst)], [
        DNNL.argDiffWeights,
        bwWmd,
      ]], `${what} backward-weights`);
      const hwio = p(wHwio);
      const toLayout = (md: Deno.PointerValue, dir: "in" | "out", label: string) => {
        if (lib.equal(md, hwio)) return { r: null, s: 0 };
        const r = dir === "in"
          ? lib.reorder(hwio, md, `${what} ${label}`)
          : lib.reorder(md, hwio, `${what} ${label}`);
        return { r, s: lib.size(md) };
      };
      const a = toLayout(fwdWmd, "in", "weights reorder (forward)");
      const b = toLayout(bdWmd, "in", "weights reorder (backward-data)");
      const c = toLayout(bwWmd, "out", "diff-weights reorder");
      const made: DirectConv = {
        gemm: null,
        fwd,
        bwdData,
        bwdWeights,
        fwdWReorder: a.r,
        fwdWBytes: a.s,
        bwdWReorder: b.r,
        bwdWBytes: b.s,
        diffWReorder: c.r,
        diffWBytes: c.s,
        keep: [src, dst, wHwio, wAny, fwdPd, bdPd, bwPd],
      };
      return made;
    },
  );
}

/** Implementation names oneDNN chose for the convolutions created so far (for reports). */
export function onednnConvImpls(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of convCache) {
    const g = v.gemm;
    out[k] = g
      ? `im2col + matmul: fwd ${g.fwd.exec.impl}, bwd-data ${g.bwdData.exec.impl}, ` +
        `bwd-weights ${g.bwdWeights.exec.impl}`
      : `fwd ${v.fwd.impl}, bwd-data ${v.bwdData.impl}, bwd-weights ${v.bwdWeights.impl}`;
  }
  return out;
}

/** Memory descriptor of a TF.js tensor: [N,H,W,C] as `nhwc`, [N,C] as `ab`. */
function dataMd(lib: DnnlLib, shape: number[]) {
  if (shape.length === 4) {
    const [n, h, w, c] = shape;
    return lib.md([n, c, h, w], DNNL.nhwc);
  }
  if (shape.length === 2) return lib.md(shape, DNNL.ab);
  throw new Error(`oneDNN: expected a tensor of rank 2 or 4, got shape ${shape}`);
}

interface BnPrims {
  fwd: Exec;
  bwd: Exec;
  keep: unknown[];
}
const bnCache = new Map<string, BnPrims>();

function bnPrims(shape: number[], affine: boolean, eps: number): BnPrims {
  const key = `${shape},${affine},${eps}`;
  return cachedPrims(
    bnCache,
    key,
    tf.util.sizeFromShape(shape),
    SMALL_ELEMENTS,
    (lib) => {
      const what = `batch-norm ${key}`;
      const data = dataMd(lib, shape);
      const cmd = lib.md([shape[shape.length - 1]], DNNL.a);
      const flags = affine ? DNNL.useScale | DNNL.useShift : 0;
      const p = lib.ptr;
      const fwdOp = opDesc();
      check(
        lib.sym.dnnl_batch_normalization_forward_desc_init(
          fwdOp,
          DNNL.forwardTraining,
          data,
          eps,
          flags,
        ),
        `${what} op desc`,
      );
      const fwdPd = lib.pd(fwdOp, null, `${what} forward`);
      const fwd = lib.exec(
        fwdPd,
        [
          [DNNL.argSrc, p(data)],
          ...(affine
            ? [[DNNL.argScale, p(cmd)], [DNNL.argShift, p(cmd)]] as [number, Deno.PointerValue][]
            : []),
          [DNNL.argDst, p(data)],
          [DNNL.argMean, p(cmd)],
          [DNNL.argVariance, p(cmd)],
        ],
        `${what} forward`,
      );
      const bwdOp = opDesc();
      check(
        lib.sym.dnnl_batch_normalization_backward_desc_init(
          bwdOp,
          affine ? DNNL.backward : DNNL.backwardData,
          data,
          data,
          eps,
          flags,
        ),
        `${what} backward op desc`,
      );
      const bwdPd = lib.pd(bwdOp, fwdPd, `${what} backward`);
      const bwd = lib.exec(
        bwdPd,
        [
          [DNNL.argSrc, p(data)],
          [DNNL.argMean, p(cmd)],
          [DNNL.argVariance, p(cmd)],
          [DNNL.argDiffDst, p(data)],
          // oneDNN 2.6 lists the shift among the backward's inputs (read only with a fused ReLU).
          ...(affine
            ? [[DNNL.argScale, p(cmd)], [DNNL.argShift, p(cmd)], [DNNL.argDiffScale, p(cmd)], [
              DNNL.argDiffShift,
              p(cmd),
            ]]
            : []) as [number, Deno.PointerValue][],
          [DNNL.argDiffSrc, p(data)],
        ],
        `${what} backward`,
      );
      return { fwd, bwd, keep: [data, cmd, fwdPd, bwdPd] };
    },
  );
}

interface ReluPrims {
  fwd: Exec;
  bwd: Exec;
  keep: unknown[];
}
const reluCache = new Map<number, ReluPrims>();

/** ReLU on `size` contiguous floats (a 1-D descriptor: the layout does not matter). */
function reluPrims(size: number): ReluPrims {
  return cachedPrims(reluCache, size, size, SMALL_ELEMENTS, (lib) => {
    const what = `relu ${size}`;
    const data = lib.md([size], DNNL.a);
    const p = lib.ptr;
    const fwdOp = opDesc();
    check(
      lib.sym.dnnl_eltwise_forward_desc_init(
        fwdOp,
        DNNL.forwardTraining,
        DNNL.eltwiseReluUseDst,
        data,
        0,
        0,
      ),
      `${what} op desc`,
    );
    const fwdPd = lib.pd(fwdOp, null, `${what} forward`);
    const fwd = lib.exec(fwdPd, [[DNNL.argSrc, p(data)], [DNNL.argDst, p(data)]], `${what} fwd`);
    const bwdOp = opDesc();
    check(
      lib.sym.dnnl_eltwise_backward_desc_init(bwdOp, DNNL.eltwiseReluUseDst, data, data, 0, 0),
      `${what} backward op desc`,
    );
    const bwdPd = lib.pd(bwdOp, fwdPd, `${what} backward`);
    const bwd = lib.exec(
      bwdPd,
      [[DNNL.argDst, p(data)], [DNNL.argDiffDst, p(data)], [DNNL.argDiffSrc, p(data)]],
      `${what} bwd`,
    );
    return { fwd, bwd, keep: [data, fwdPd, bwdPd] };
  });
}

interface PoolPrims {
  fwd: Exec;
  bwd: Exec;
  dstShape: number[];
  wsBytes: number;
  keep: unknown[];
}
const poolCache = new Map<string, PoolPrims>();

function poolPrims(shape: number[], k: number, stride: number, pad: number): PoolPrims {
  const key = `${shape},${k},${stride},${pad}`;
  return cachedPrims(
    poolCache,
    key,
    tf.util.sizeFromShape(shape),
    SMALL_ELEMENTS,
    (lib) => {
      const what = `max-pool ${key}`;
      const [n, h, w, c] = shape;
      const ho = outSize(h, k, stride, pad), wo = outSize(w, k, stride, pad);
      const src = lib.md([n, c, h, w], DNNL.nhwc);
      const dst = lib.md([n, c, ho, wo], DNNL.nhwc);
      const strides = dims([stride, stride]), kernel = dims([k, k]), padL = dims([pad, pad]);
      const padR = dims([(ho - 1) * stride + k - h - pad, (wo - 1) * stride + k - w - pad]);
      const p = lib.ptr;
      const fwdOp = opDesc();
      check(
        lib.sym.dnnl_pooling_forward_desc_init(
          fwdOp,
          DNNL.forwardTraining,
          DNNL.poolingMax,
          src,
          dst,
          strides,
          kernel,
          padL,
          padR,
        ),
        `${what} op desc`,
      );
      const fwdPd = lib.pd(fwdOp, null, `${what} forward`);
      const ws = lib.query(fwdPd, DNNL.queryWorkspaceMd);
      const fwd = lib.exec(
        fwdPd,
        [[DNNL.argSrc, p(src)], [DNNL.argDst, p(dst)], [DNNL.argWorkspace, ws]],
        `${what} forward`,
      );
      const bwdOp = opDesc();
      check(
        lib.sym.dnnl_pooling_backward_desc_init(
          bwdOp,
          DNNL.poolingMax,
          src,
          dst,
          strides,
          kernel,
          padL,
          padR,
        ),
        `${what} backward op desc`,
      );
      const bwdPd = lib.pd(bwdOp, fwdPd, `${what} backward`);
      const bwd = lib.exec(
        bwdPd,
        [[DNNL.argDiffDst, p(dst)], [DNNL.argWorkspace, ws], [DNNL.argDiffSrc, p(src)]],
        `${what} backward`,
      );
      const made = {
        fwd,
        bwd,
        dstShape: [n, ho, wo, c],
        wsBytes: lib.size(ws),
        keep: [src, dst, fwdPd, bwdPd],
      };
      return made;
    },
  );
}

interface MatMulPrims {
  exec: Exec;
  keep: unknown[];
}
const matMulCache = new Map<string, MatMulPrims>();

/**
 * C[b] = op(A[b])·op(B[b]) for `batch` matrices: A is [M,K] (stored [K,M] when `ta`), B is [K,N]
 * (stored [N,K] when `tb`), C is [M,N], all row-major; the transposes are strides of oneDNN's
 * memory descriptors, so nothing is copied.
 */
function matMulPrims(
  batch: number,
  m: number,
  k: number,
  n: number,
  ta: boolean,
  tb: boolean,
): MatMulPrims {
  const key = `${batch},${m},${k},${n},${ta},${tb}`;
  return cachedPrims(
    matMulCache,
    key,
    batch * m * k * n,
    SMALL_CONV_MACS,
    (lib) => {
      const what = `matmul ${key}`;
      const a = lib.mdStrided([batch, m, k], ta ? [m * k, 1, m] : [m * k, k, 1]);
      const b = lib.mdStrided([batch, k, n], tb ? [k * n, 1, k] : [k * n, n, 1]);
      const c = lib.mdStrided([batch, m, n], [m * n, n, 1]);
      const op = opDesc();
      check(lib.sym.dnnl_matmul_desc_init(op, a, b, null, c), `${what} op desc`);
      const pd = lib.pd(op, null, what);
      const p = lib.ptr;
      const exec = lib.exec(
        pd,
        [[DNNL.argSrc, p(a)], [DNNL.argWeights, p(b)], [DNNL.argDst, p(c)]],
        what,
      );
      return { exec, keep: [a, b, c, pd] };
    },
  );
}

/** The matrix products oneDNN has run (`batch,M,K,N,transposeA,transposeB`, one per shape). */
export function onednnMatMulShapes(): string[] {
  return [...matMulCache.keys()];
}

/**
 * TF.js's `BatchMatMul` kernel on the store's backend replaced by oneDNN's matmul while oneDNN is
 * active, for float32 operands of rank 2, or rank 3 with equal batch sizes; anything else (and
 * oneDNN off) goes to the stock kernel. TF.js wasm's kernel is slow for the transposed products
 * of the gradients (a head's [1024,64] weight gradient took 13 ms of a 146 ms step at the demo's
 * shapes; TF.js cpu's is a JavaScript loop).
 */
function registerMatMul(backendName: string): void {
  replaceKernel("BatchMatMul", backendName, (stock) => (args) => {
    const { a, b } = args.inputs as unknown as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as {
      transposeA: boolean;
      transposeB: boolean;
    };
    const r = a.shape.length;
    if (
      !onednnActive() || a.dtype !== "float32" || b.dtype !== "float32" ||
      r !== b.shape.length || (r !== 2 && r !== 3) || (r === 3 && a.shape[0] !== b.shape[0])
    ) {
      return stock.kernelFunc(args);
    }
    const batch = r === 3 ? a.shape[0] : 1;
    const [a0, a1] = a.shape.slice(r - 2), [b0, b1] = b.shape.slice(r - 2);
    const [m, k] = transposeA ? [a1, a0] : [a0, a1];
    const [kb, n] = transposeB ? [b1, b0] : [b0, b1];
    if (k !== kb) {
      throw new Error(`BatchMatMul: inner sizes differ: a [${a.shape}], b [${b.shape}]`);
    }
    if (k === 0) return stock.kernelFunc(args);
    const be = args.backend;
    const out = newOutput(be, r === 3 ? [batch, m, n] : [m, n], "float32");
    if (batch * m * n === 0) return out;
    const pr = matMulPrims(batch, m, k, n, transposeA, transposeB);
    (state as State).lib.run(pr.exec, [at(be, a), at(be, b), at(be, out)]);
    return out;
  });
}

/** Weights (HWIO at `addr`) in the layout `r` expects: reordered into the scratch, or as is. */
function weightsFor(lib: DnnlLib, r: Exec | null, bytes: number, addr: number): number {
  if (!r) return addr;
  const dst = scratchAddr(bytes);
  lib.run(r, [addr, dst]);
  return dst;
}

/**
 * Forward convolution on oneDNN, for use inside a wasm kernel function: x [N,H,W,Ci] (NHWC),
 * filter [k,k,Ci,Co] (HWIO), symmetric zero padding `pad`; returns [N,Ho,Wo,Co].
 */
export function dnnlConv2d(
  backend: unknown,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  stride: number,
  pad: number,
): tf.TensorInfo {
  const b = backend;
  const [n, h, w, ci] = x.shape;
  const [k, , , co] = filter.shape;
  const ho = outSize(h, k, stride, pad), wo = outSize(w, k, stride, pad);
  const out = newOutput(b, [n, ho, wo, co], "float32");
  if (n * ho * wo * co === 0) return out;
  const c = convPrims(n, h, w, ci, co, k, stride, pad);
  const lib = (state as State).lib;
  if (c.gemm) {
    const col = scratchF32(colSize(c.gemm.g));
    im2col(view(b, x), c.gemm.g, col.f32);
    lib.run(c.gemm.fwd.exec, [col.addr, at(b, filter), at(b, out)]);
    return out;
  }
  const wt = weightsFor(lib, c.fwdWReorder, c.fwdWBytes, at(b, filter));
  lib.run(c.fwd, [
    at(b, x),
    wt,
    at(b, out),
  ]);
  return out;
}

/** Whether {@link dnnlConv2d} can run this convolution now (oneDNN active, float32, square). */
export function dnnlConvSupported(x: tf.TensorInfo, filter: tf.TensorInfo): boolean {
  return onednnActive() && x.dtype === "float32" && filter.dtype === "float32" &&
    filter.shape[0] === filter.shape[1];
}

/** Whether the oneDNN batch-norm kernels can run on `x` now (active, float32, rank 2 or 4). */
export function dnnlBatchNormSupported(x: tf.Tensor): boolean {
  return onednnActive() && x.dtype === "float32" && (x.rank === 2 || x.rank === 4) && x.size > 0;
}

/**
 * Batch normalisation with batch statistics on oneDNN: y = (x − mean)·γ/√(var + eps) + β (no
 * γ/β: y = x̂), mean and biased variance per channel. Check {@link dnnlBatchNormSupported}.
 */
export function dnnlBatchNorm(
  x: tf.Tensor,
  gamma: tf.Tensor1D | null,
  beta: tf.Tensor1D | null,
  eps: number,
): [tf.Tensor, tf.Tensor1D, tf.Tensor1D] {
  const inputs: Record<string, tf.Tensor> = { x };
  if (gamma && beta) Object.assign(inputs, { gamma, beta });
  return tf.engine().runKernel(
    RUL_DNNL_BATCH_NORM,
    inputs as unknown as tf.NamedTensorMap,
    { eps } as unknown as tf.NamedAttrMap,
  ) as unknown as [tf.Tensor, tf.Tensor1D, tf.Tensor1D];
}

/**
 * Backward of {@link dnnlBatchNorm}: dx = γ·inv·(dy − mean(dy) − x̂·mean(dy·x̂)), dγ = Σ dy·x̂,
 * dβ = Σ dy (inv = 1/√(var + eps)); returns [dx] without γ/β, else [dx, dγ, dβ] (β is an input
 * oneDNN 2.6 asks for, not read).
 */
export function dnnlBatchNormGrad(
  dy: tf.Tensor,
  x: tf.Tensor,
  mean: tf.Tensor1D,
  variance: tf.Tensor1D,
  gamma: tf.Tensor1D | null,
  beta: tf.Tensor1D | null,
  eps: number,
): tf.Tensor[] {
  const inputs: Record<string, tf.Tensor> = { x, dy, mean, variance };
  if (gamma && beta) Object.assign(inputs, { gamma, beta });
  const out = tf.engine().runKernel(
    RUL_DNNL_BATCH_NORM_GRAD,
    inputs as unknown as tf.NamedTensorMap,
    { eps } as unknown as tf.NamedAttrMap,
  );
  return Array.isArray(out) ? out : [out];
}

/**
 * Max pooling of `x` ([N,H,W,C]; k×k window, stride, symmetric pad; padding never wins) on
 * oneDNN (TF.js cpu's maxPool is a JavaScript loop).
 */
export function dnnlMaxPool(x: tf.Tensor4D, k: number, stride: number, pad: number): tf.Tensor4D {
  return tf.engine().runKernel(
    RUL_DNNL_MAX_POOL,
    { x } as unknown as tf.NamedTensorMap,
    { k, stride, pad } as unknown as tf.NamedAttrMap,
  ) as tf.Tensor4D;
}

/** Whether the fused Adam update of the cpu store runs (oneDNN active on the cpu store). */
export function onednnCpuAdamActive(): boolean {
  return onednnActive() && (state as State).store === "cpu";
}

/** Gradient of max pooling `x` ([N,H,W,C]; k×k window, stride, symmetric pad) on oneDNN. */
export function dnnlMaxPoolGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  k: number,
  stride: number,
  pad: number,
): tf.Tensor4D {
  return tf.engine().runKernel(
    RUL_DNNL_MAX_POOL_GRAD,
    { x, dy } as unknown as tf.NamedTensorMap,
    { k, stride, pad } as unknown as tf.NamedAttrMap,
  ) as tf.Tensor4D;
}

/**
 * max(x, 0) (float32). With oneDNN active it runs as `RulDnnRelu`, whose gradient is dy·[y > 0]
 * from the output (`RulDnnReluGrad`); otherwise `tf.relu`.
 */
export function relu<T extends tf.Tensor>(x: T): T {
  if (!onednnActive() || x.dtype !== "float32" || x.size === 0) return tf.relu(x);
  return tf.engine().runKernel(RUL_DNNL_RELU, { x } as unknown as tf.NamedTensorMap) as T;
}

/**
 * The fused Adam update (`RulAdamStep`, see wasm_gemm.ts) for the cpu store: one JavaScript pass
 * per parameter whose float32 operations (each rounded with Math.fround, exactly as TF.js cpu
 * stores every op's result) are those of lib/train/adam.ts's TF.js ops, in the same order, so
 * the results are bit-identical to them; it replaces ~14 element-wise kernels.
 */
function registerCpuAdam(): void {
  tf.registerKernel({
    kernelName: RUL_ADAM_STEP,
    backendName: "cpu",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { p, g, m, v } = inputs as unknown as Record<string, tf.TensorInfo>;
      const c = attrs as unknown as AdamConstants;
      const b = backend as unknown as CpuBackendLike;
      checkAdamInputs(p, g, m, v);
      const [pv, gv, mv, vv] = [p, g, m, v].map((t) => b.data.get(t.dataId).values as Float32Array);
      const n = pv.length;
      const po = new Float32Array(n), mo = new Float32Array(n), vo = new Float32Array(n);
      const f = Math.fround;
      const b1 = f(c.beta1), omb1 = f(1 - c.beta1), b2 = f(c.beta2), omb2 = f(1 - c.beta2);
      const eps = f(c.eps), wd = f(c.weightDecay), bc2 = f(c.bc2Sqrt), step = f(c.stepSize);
      const hasWd = c.weightDecay > 0;
      for (let i = 0; i < n; i++) {
        const gi = hasWd ? f(gv[i] + f(pv[i] * wd)) : gv[i];
        const mi = f(f(mv[i] * b1) + f(gi * omb1));
        const vi = f(f(vv[i] * b2) + f(f(gi * gi) * omb2));
        const denom = f(f(f(Math.sqrt(vi)) / bc2) + eps);
        po[i] = f(pv[i] - f(f(mi / denom) * step));
        mo[i] = mi;
        vo[i] = vi;
      }
      return [po, mo, vo].map((a) => b.makeTensorInfo(p.shape, "float32", a));
    },
  });
}

/**
 * TF.js cpu's `Add` for two float32 tensors of one shape, while oneDNN is active on the cpu store,
 * as one typed-array loop: TF.js cpu's kernel goes through its broadcasting path (index
 * arithmetic per element), 2.0 s of an 8.2 s step at 224 px, batch 64 (the residual additions and
 * the gradient sums). a + b in double precision rounded to float32 is the correctly rounded
 * float32 sum, as TF.js's kernel stores it: bit-identical. Other shapes and dtypes: stock kernel.
 */
function registerCpuAdd(): void {
  replaceKernel("Add", "cpu", (stock) => (args) => {
    const { a, b } = args.inputs as unknown as { a: tf.TensorInfo; b: tf.TensorInfo };
    if (
      !onednnActive() || a.dtype !== "float32" || b.dtype !== "float32" ||
      !tf.util.arraysEqual(a.shape, b.shape)
    ) {
      return stock.kernelFunc(args);
    }
    const be = args.backend as unknown as CpuBackendLike;
    const av = be.data.get(a.dataId).values as Float32Array;
    const bv = be.data.get(b.dataId).values as Float32Array;
    const out = new Float32Array(av.length);
    for (let i = 0; i < out.length; i++) out[i] = av[i] + bv[i];
    return be.makeTensorInfo(a.shape, "float32", out);
  });
}

function ensureKernels(backendName: string): void {
  if (registered.has(backendName)) return;
  tf.registerKernel({
    kernelName: RUL_DNNL_RELU,
    backendName,
    kernelFunc: ({ inputs, backend }) => {
      const { x } = inputs as unknown as { x: tf.TensorInfo };
      const b = backend;
      const y = newOutput(b, x.shape, "float32");
      (state as State).lib.run(reluPrims(tf.util.sizeFromShape(x.shape)).fwd, [at(b, x), at(b, y)]);
      return y;
    },
  });
  tf.registerGradient({
    kernelName: RUL_DNNL_RELU,
    outputsToSave: [true],
    gradFunc: (dy, saved) => {
      const [y] = saved;
      return {
        x: () =>
          tf.engine().runKernel(
            RUL_DNNL_RELU_GRAD,
            { dy, y } as unknown as tf.NamedTensorMap,
          ) as tf.Tensor,
      };
    },
  });
  tf.registerKernel({
    kernelName: RUL_DNNL_RELU_GRAD,
    backendName,
    kernelFunc: ({ inputs, backend }) => {
      const { dy, y } = inputs as unknown as { dy: tf.TensorInfo; y: tf.TensorInfo };
      const b = backend;
      const dx = newOutput(b, y.shape, "float32");
      (state as State).lib.run(reluPrims(tf.util.sizeFromShape(y.shape)).bwd, [
        at(b, y),
        at(b, dy),
        at(b, dx),
      ]);
      return dx;
    },
  });
  tf.registerKernel({
    kernelName: RUL_DNNL_BATCH_NORM,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, gamma, beta } = inputs as unknown as Record<string, tf.TensorInfo>;
      const { eps } = attrs as unknown as { eps: number };
      const b = backend;
      const affine = gamma !== undefined && beta !== undefined;
      const c = x.shape[x.shape.length - 1];
      const pr = bnPrims(x.shape, affine, eps);
      const y = newOutput(b, x.shape, "float32");
      const mean = newOutput(b, [c], "float32"), variance = newOutput(b, [c], "float32");
      (state as State).lib.run(pr.fwd, [
        at(b, x),
        ...(affine ? [at(b, gamma), at(b, beta)] : []),
        at(b, y),
        at(b, mean),
        at(b, variance),
      ]);
      return [y, mean, variance];
    },
  });
  tf.registerKernel({
    kernelName: RUL_DNNL_BATCH_NORM_GRAD,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy, mean, variance, gamma, beta } = inputs as unknown as Record<
        string,
        tf.TensorInfo
      >;
      const { eps } = attrs as unknown as { eps: number };
      const b = backend;
      const affine = gamma !== undefined;
      const c = x.shape[x.shape.length - 1];
      const pr = bnPrims(x.shape, affine, eps);
      const dx = newOutput(b, x.shape, "float32");
      const outs = [dx];
      if (affine) outs.push(newOutput(b, [c], "float32"), newOutput(b, [c], "float32"));
      (state as State).lib.run(pr.bwd, [
        at(b, x),
        at(b, mean),
        at(b, variance),
        at(b, dy),
        ...(affine ? [at(b, gamma), at(b, beta), at(b, outs[1]), at(b, outs[2])] : []),
        at(b, dx),
      ]);
      return outs;
    },
  });
  tf.registerKernel({
    kernelName: RUL_DNNL_MAX_POOL,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x } = inputs as unknown as { x: tf.TensorInfo };
      const { k, stride, pad } = attrs as unknown as { k: number; stride: number; pad: number };
      const b = backend;
      const pr = poolPrims(x.shape, k, stride, pad);
      const y = newOutput(b, pr.dstShape, "float32");
      const ws = newOutput(b, [Math.ceil(pr.wsBytes / 4)], "int32");
      try {
        (state as State).lib.run(pr.fwd, [at(b, x), at(b, y), at(b, ws)]);
      } finally {
        free(b, ws);
      }
      return y;
    },
  });
  if (backendName === "cpu") {
    registerCpuAdam();
    registerCpuAdd();
  }
  registerMatMul(backendName);
  tf.registerKernel({
    kernelName: RUL_DNNL_MAX_POOL_GRAD,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as unknown as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const { k, stride, pad } = attrs as unknown as { k: number; stride: number; pad: number };
      const b = backend;
      const pr = poolPrims(x.shape, k, stride, pad);
      if (!tf.util.arraysEqual(dy.shape, pr.dstShape)) {
        throw new Error(`${RUL_DNNL_MAX_POOL_GRAD}: dy ${dy.shape}, expected ${pr.dstShape}`);
      }
      const y = newOutput(b, pr.dstShape, "float32");
      const ws = newOutput(b, [Math.ceil(pr.wsBytes / 4)], "int32");
      try {
        const dx = newOutput(b, x.shape, "float32");
        const lib = (state as State).lib;
        lib.run(pr.fwd, [at(b, x), at(b, y), at(b, ws)]);
        lib.run(pr.bwd, [at(b, dy), at(b, ws), at(b, dx)]);
        return dx;
      } finally {
        free(b, y);
        free(b, ws);
      }
    },
  });
  tf.registerKernel({
    kernelName: RUL_DNNL_GRAD_INPUT,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { dy, filter } = inputs as unknown as { dy: tf.TensorInfo; filter: tf.TensorInfo };
      const { xShape, stride, pad } = attrs as unknown as {
        xShape: [number, number, number, number];
        stride: number;
        pad: number;
      };
      const b = backend;
      const [n, h, w, ci] = xShape;
      const [k, , , co] = filter.shape;
      const c = convPrims(n, h, w, ci, co, k, stride, pad);
      const out = newOutput(b, [n, h, w, ci], "float32");
      const lib = (state as State).lib;
      if (c.gemm) {
        const col = scratchF32(colSize(c.gemm.g));
        lib.run(c.gemm.bwdData.exec, [at(b, dy), at(b, filter), col.addr]);
        col2im(col.f32, c.gemm.g, view(b, out));
        return out;
      }
      const wt = weightsFor(
        lib,
        c.bwdWReorder,
        c.bwdWBytes,
        at(b, filter),
      );
      lib.run(c.bwdData, [
        at(b, dy),
        wt,
        at(b, out),
      ]);
      return out;
    },
  });
  tf.registerKernel({
    kernelName: RUL_DNNL_GRAD_FILTER,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as unknown as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const { k, stride, pad } = attrs as unknown as { k: number; stride: number; pad: number };
      const b = backend;
      const [n, h, w, ci] = x.shape;
      const co = dy.shape[3];
      const c = convPrims(n, h, w, ci, co, k, stride, pad);
      const out = newOutput(b, [k, k, ci, co], "float32");
      const lib = (state as State).lib;
      const outAddr = at(b, out);
      if (c.gemm) {
        const col = scratchF32(colSize(c.gemm.g));
        im2col(view(b, x), c.gemm.g, col.f32);
        lib.run(c.gemm.bwdWeights.exec, [col.addr, at(b, dy), outAddr]);
        return out;
      }
      const target = c.diffWReorder ? scratchAddr(c.diffWBytes) : outAddr;
      lib.run(c.bwdWeights, [
        at(b, x),
        at(b, dy),
        target,
      ]);
      if (c.diffWReorder) lib.run(c.diffWReorder, [target, outAddr]);
      return out;
    },
  });
  registered.add(backendName);
}
