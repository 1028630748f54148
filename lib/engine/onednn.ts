/**
 * The native CPU engine: the heavy kernels of a training step run as oneDNN primitives (through
 * Deno FFI, {@link ./onednn_ffi.ts}) directly on TF.js wasm's heap. TF.js's wasm backend stays
 * the tensor store: a kernel takes the heap offsets of its inputs and outputs
 * (`getMemoryOffset`), adds the heap's native base address (`Deno.UnsafePointer.of` on a view of
 * the backend's `WebAssembly.Memory`, whose address does not move when it grows: V8 reserves
 * wasm32 memories whole) and hands those addresses to oneDNN, so no tensor is copied in or out.
 *
 * Kernels registered for the store's backend (wasm, or cpu with `RUL_ONEDNN_STORE=cpu`), one row
 * each of {@link OPS}, active while oneDNN is:
 *
 * - convolution forward (`RulConv2D` calls {@link dnnlConv2d}): src/dst `nhwc`, weights in the
 *   layout oneDNN prefers (`format_tag_any`), reordered from TF.js's HWIO at each call into a
 *   buffer cached per shape (the weights change at every step); no padding copy (oneDNN pads).
 * - `RulDnnConvGradInput` — backward-data, the same weights reorder.
 * - `RulDnnConvGradFilter` — backward-weights into oneDNN's preferred layout, reordered to HWIO
 *   into the TF.js output.
 * - `RulDnnBatchNorm` / `RulDnnBatchNormGrad` — batch normalisation with batch statistics
 *   (biased variance, as PyTorch's normalisation) and its backward (dx, dγ, dβ), one primitive
 *   each instead of the wasm engine's channel passes and ~15 small [C] ops; with `relu`, the ReLU
 *   after it fused into both passes (`fuse_norm_relu`, its mask in a workspace tensor).
 * - `RulDnnRelu` / `RulDnnReluGrad` — ReLU and its gradient from the output (dx = dy·[y > 0], as
 *   PyTorch), one multi-threaded pass each instead of TF.js wasm's single-threaded Relu, Step and
 *   Multiply.
 * - `RulDnnMaxPoolGrad` — max-pool backward: oneDNN's pooling forward re-run in training mode for
 *   its workspace (the arg-max of each window; a heap scratch freed before returning), then the
 *   backward primitive; replaces the engine's single-threaded JavaScript scatter.
 *
 * Primitives (and their reorders) are built through one helper (`DnnlLib.primitive`), created once
 * per shape and cached, each cache bounded (least recently used destroyed, see
 * {@link setOnednnCacheCapacity}); every kernel checks its inputs against the shapes its cached
 * primitive was built for ({@link expectShape}), since oneDNN reads raw addresses. PyTorch's padding is
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
import {
  type ArgMd,
  dims,
  DNNL,
  type DnnlLib,
  type Exec,
  loadDnnl,
  type PrimitiveSpec,
} from "./onednn_ffi.ts";

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
 * How many shapes each primitive cache holds before it destroys its least recently used entry
 * (primitives, memory objects and primitive descriptors). A ResNet-18 step has ~11 convolution
 * shapes, ~10 batch-norm and ReLU shapes and a few products per image size and batch, so 64
 * keeps several configurations warm (a benchmark, a notebook that changes its batch) while a long
 * session that keeps changing shapes holds a bounded set. Re-creating an evicted shape gives the
 * same implementation and the same results (oneDNN picks it from the shape, ISA and threads).
 */
const CACHE_CAPACITY_DEFAULT = 64;
let cacheCapacity = CACHE_CAPACITY_DEFAULT;

/** A cache entry: the primitives it owns (destroyed together on eviction, in creation order). */
interface Owned {
  execs: Exec[];
}

/** Primitives per shape key, least recently used first; bounded by {@link cacheCapacity}. */
class PrimCache<K, T extends Owned> {
  readonly map = new Map<K, T>();
  constructor(readonly name: string) {}
  /** The entry for `key` (now the most recently used), or undefined. */
  get(key: K): T | undefined {
    const hit = this.map.get(key);
    if (hit !== undefined) {
      this.map.delete(key);
      this.map.set(key, hit);
    }
    return hit;
  }
  set(key: K, value: T): void {
    this.map.set(key, value);
    this.trim();
  }
  /** Destroy the least recently used entries above the capacity. */
  trim(): void {
    for (const [key, old] of this.map) {
      if (this.map.size <= cacheCapacity) break;
      this.map.delete(key);
      (state as State).lib.destroy(old.execs);
    }
  }
}

/**
 * Set how many shapes each oneDNN primitive cache keeps (≥ 1; `undefined`: the default, 64);
 * entries above it are destroyed at once, least recently used first.
 */
export function setOnednnCacheCapacity(n: number | undefined): void {
  if (n !== undefined && (!Number.isInteger(n) || n < 1)) {
    throw new Error(`setOnednnCacheCapacity: a whole number ≥ 1, got ${n}`);
  }
  cacheCapacity = n ?? CACHE_CAPACITY_DEFAULT;
  for (const c of caches) c.trim();
}

/** Entries in each primitive cache (convolution, batch-norm, ReLU, max-pool, matmul). */
export function onednnCacheSizes(): Record<string, number> {
  return Object.fromEntries(caches.map((c) => [c.name, c.map.size]));
}

/**
 * A convolution with few output positions run as matrix products on the HWIO weights as they are
 * ({@link ./im2col.ts}): forward col·W, backward-data dy·Wᵀ then col2im, backward-weights colᵀ·dy.
 */
interface GemmConv {
  g: ConvGeometry;
  fwd: Exec;
  bwdData: Exec;
  bwdWeights: Exec;
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
}

/** One convolution shape's primitives: as matrix products ({@link GemmConv}) or direct. */
type ConvPrims = ({ gemm: GemmConv } | DirectConv) & Owned & {
  /** The shapes of x [N,H,W,Ci], the HWIO filter and dy [N,Ho,Wo,Co] it was built for. */
  xShape: number[];
  wShape: number[];
  dyShape: number[];
};

const convCache = new PrimCache<string, ConvPrims>("conv");

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
function cachedPrims<K, T extends Owned>(
  cache: PrimCache<K, T>,
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

/**
 * Throw unless kernel `kernel`'s input `name` has the shape `want` its cached primitive was built
 * for: oneDNN reads raw addresses, so a tensor of another shape would be read out of bounds.
 */
function expectShape(kernel: string, name: string, t: tf.TensorInfo, want: number[]): void {
  if (!tf.util.arraysEqual(t.shape, want)) {
    throw new Error(
      `${kernel}: ${name} has shape [${t.shape}], but its oneDNN primitive was built for [${want}]`,
    );
  }
}

/** Throw unless `t` is [N,H,W,C] (the convolutions' and pooling's layout). */
function expectRank4(kernel: string, name: string, t: tf.TensorInfo): void {
  if (t.shape.length !== 4) {
    throw new Error(`${kernel}: ${name} must be [N,H,W,C], got shape [${t.shape}]`);
  }
}

/**
 * Primitives made together (and destroyed together): `build` makes them one after the other; if
 * one fails, those made before it are destroyed and the error goes on.
 */
function group<T>(lib: DnnlLib, build: (keep: (e: Exec) => Exec) => T): T & Owned {
  const execs: Exec[] = [];
  try {
    const made = build((e) => {
      execs.push(e);
      return e;
    });
    return { ...made, execs };
  } catch (e) {
    lib.destroy(execs);
    throw e;
  }
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
  const shapes = { xShape: [n, h, w, ci], wShape: [k, k, ci, co], dyShape: [n, ho, wo, co] };
  return cachedPrims(
    convCache,
    key,
    n * ho * wo * co * k * k * ci,
    SMALL_CONV_MACS,
    (lib): ConvPrims => {
      if (gemm) {
        const m = n * ho * wo, kk = k * k * ci;
        return {
          ...shapes,
          ...group(lib, (keep) => ({
            gemm: {
              g: { n, h, w, ci, k, stride, pad, ho, wo },
              fwd: keep(matMul(lib, [1, m, kk, co, false, false])),
              bwdData: keep(matMul(lib, [1, m, co, kk, false, true])),
              bwdWeights: keep(matMul(lib, [1, kk, m, co, true, false])),
            },
          })),
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
      const sym = lib.sym;
      const hwio = lib.ptr(wHwio);
      // The geometry every convolution descriptor ends with.
      const geo = [dst, strides, padL, padR] as const;
      const alg = DNNL.convolutionDirect;
      return {
        ...shapes,
        ...group(lib, (keep) => {
          const fwd = keep(lib.primitive({
            what: `${what} forward`,
            init: (op) =>
              sym.dnnl_convolution_forward_desc_init(
                op,
                DNNL.forwardTraining,
                alg,
                src,
                wAny,
                null,
                ...geo,
              ),
            args: [[DNNL.argSrc, src], [DNNL.argWeights, DNNL.queryWeightsMd], [DNNL.argDst, dst]],
          }));
          const bwdData = keep(lib.primitive({
            what: `${what} backward-data`,
            init: (op) => sym.dnnl_convolution_backward_data_desc_init(op, alg, src, wAny, ...geo),
            hint: fwd,
            args: [
              [DNNL.argDiffDst, dst],
              [DNNL.argWeights, DNNL.queryWeightsMd],
              [DNNL.argDiffSrc, src],
            ],
          }));
          const bwdWeights = keep(lib.primitive({
            what: `${what} backward-weights`,
            init: (op) =>
              sym.dnnl_convolution_backward_weights_desc_init(op, alg, src, wAny, null, ...geo),
            hint: fwd,
            args: [
              [DNNL.argSrc, src],
              [DNNL.argDiffDst, dst],
              [DNNL.argDiffWeights, DNNL.queryDiffWeightsMd],
            ],
          }));
          /** A reorder between HWIO and the weights layout `e` chose (none when it is HWIO). */
          const toLayout = (e: Exec, query: number, dir: "in" | "out", label: string) => {
            const md = lib.query(e.pd, query);
            if (lib.equal(md, hwio)) return { r: null, s: 0 };
            const r = dir === "in"
              ? lib.reorder(hwio, md, `${what} ${label}`)
              : lib.reorder(md, hwio, `${what} ${label}`);
            return { r: keep(r), s: lib.size(md) };
          };
          const a = toLayout(fwd, DNNL.queryWeightsMd, "in", "weights reorder (forward)");
          const b = toLayout(bwdData, DNNL.queryWeightsMd, "in", "weights reorder (backward-data)");
          const c = toLayout(bwdWeights, DNNL.queryDiffWeightsMd, "out", "diff-weights reorder");
          return {
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
          };
        }),
      };
    },
  );
}

/** Implementation names oneDNN chose for the convolutions created so far (for reports). */
export function onednnConvImpls(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of convCache.map) {
    const g = v.gemm;
    out[k] = g
      ? `im2col + matmul: fwd ${g.fwd.impl}, bwd-data ${g.bwdData.impl}, ` +
        `bwd-weights ${g.bwdWeights.impl}`
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

/** A forward primitive and the backward one made against it (batch-norm, ReLU, max-pool). */
interface FwdBwd extends Owned {
  fwd: Exec;
  bwd: Exec;
}

/** What a forward/backward pair needs: the op descriptor and arguments of each pass. */
type PassSpec = Omit<PrimitiveSpec, "what" | "hint">;

/**
 * The forward primitive of `fwd`, then the backward one of `bwd` (given the forward, e.g. for
 * its workspace) created against it, owned together; `what` names them in errors.
 */
function fwdBwd(lib: DnnlLib, what: string, fwd: PassSpec, bwd: (f: Exec) => PassSpec): FwdBwd {
  return group(lib, (keep) => {
    const f = keep(lib.primitive({ what: `${what} forward`, ...fwd }));
    return { fwd: f, bwd: keep(lib.primitive({ what: `${what} backward`, hint: f, ...bwd(f) })) };
  });
}

/** Batch-norm's primitives; with a fused ReLU, the bytes of the workspace (the ReLU mask). */
interface BnPrims extends FwdBwd {
  wsBytes: number;
}
const bnCache = new PrimCache<string, BnPrims>("batchNorm");

/**
 * Batch-norm forward (training) and backward on `shape`; with `relu`, oneDNN's fused ReLU
 * (`fuse_norm_relu`): y = max(bn(x), 0) in the same pass, the mask kept in a workspace that the
 * backward reads to zero dy where y was not positive before its own pass.
 */
function bnPrims(shape: number[], affine: boolean, eps: number, relu: boolean): BnPrims {
  const key = `${shape},${affine},${eps}${relu ? ",relu" : ""}`;
  return cachedPrims(bnCache, key, tf.util.sizeFromShape(shape), SMALL_ELEMENTS, (lib) => {
    const data = dataMd(lib, shape);
    const cmd = lib.md([shape[shape.length - 1]], DNNL.a);
    const flags = (affine ? DNNL.useScale | DNNL.useShift : 0) | (relu ? DNNL.fuseNormRelu : 0);
    const sym = lib.sym;
    const scaleShift: [number, ArgMd][] = affine
      ? [[DNNL.argScale, cmd], [DNNL.argShift, cmd]]
      : [];
    const diffScaleShift: [number, ArgMd][] = affine
      ? [[DNNL.argDiffScale, cmd], [DNNL.argDiffShift, cmd]]
      : [];
    const stats: [number, ArgMd][] = [[DNNL.argMean, cmd], [DNNL.argVariance, cmd]];
    const workspace = (f: Exec): [number, ArgMd][] =>
      relu ? [[DNNL.argWorkspace, lib.query(f.pd, DNNL.queryWorkspaceMd)]] : [];
    const made = fwdBwd(lib, `batch-norm ${key}`, {
      init: (op) =>
        sym.dnnl_batch_normalization_forward_desc_init(op, DNNL.forwardTraining, data, eps, flags),
      args: [
        [DNNL.argSrc, data],
        ...scaleShift,
        [DNNL.argDst, data],
        ...stats,
        ...(relu ? [[DNNL.argWorkspace, DNNL.queryWorkspaceMd]] as [number, ArgMd][] : []),
      ],
    }, (f) => ({
      init: (op) =>
        sym.dnnl_batch_normalization_backward_desc_init(
          op,
          affine ? DNNL.backward : DNNL.backwardData,
          data,
          data,
          eps,
          flags,
        ),
      // oneDNN 2.6 lists the shift among the backward's inputs (read only with a fused ReLU).
      args: [
        [DNNL.argSrc, data],
        ...stats,
        [DNNL.argDiffDst, data],
        ...scaleShift,
        ...workspace(f),
        ...diffScaleShift,
        [DNNL.argDiffSrc, data],
      ],
    }));
    const wsBytes = relu ? lib.size(lib.query(made.fwd.pd, DNNL.queryWorkspaceMd)) : 0;
    return { ...made, wsBytes };
  });
}

const reluCache = new PrimCache<number, FwdBwd>("relu");

/** ReLU on `size` contiguous floats (a 1-D descriptor: the layout does not matter). */
function reluPrims(size: number): FwdBwd {
  return cachedPrims(reluCache, size, size, SMALL_ELEMENTS, (lib) => {
    const data = lib.md([size], DNNL.a);
    const sym = lib.sym;
    const relu = DNNL.eltwiseReluUseDst;
    return fwdBwd(lib, `relu ${size}`, {
      init: (op) => sym.dnnl_eltwise_forward_desc_init(op, DNNL.forwardTraining, relu, data, 0, 0),
      args: [[DNNL.argSrc, data], [DNNL.argDst, data]],
    }, () => ({
      init: (op) => sym.dnnl_eltwise_backward_desc_init(op, relu, data, data, 0, 0),
      args: [[DNNL.argDst, data], [DNNL.argDiffDst, data], [DNNL.argDiffSrc, data]],
    }));
  });
}

interface PoolPrims extends FwdBwd {
  dstShape: number[];
  wsBytes: number;
}
const poolCache = new PrimCache<string, PoolPrims>("maxPool");

function poolPrims(shape: number[], k: number, stride: number, pad: number): PoolPrims {
  const key = `${shape},${k},${stride},${pad}`;
  return cachedPrims(poolCache, key, tf.util.sizeFromShape(shape), SMALL_ELEMENTS, (lib) => {
    const [n, h, w, c] = shape;
    const ho = outSize(h, k, stride, pad), wo = outSize(w, k, stride, pad);
    const src = lib.md([n, c, h, w], DNNL.nhwc);
    const dst = lib.md([n, c, ho, wo], DNNL.nhwc);
    const strides = dims([stride, stride]), kernel = dims([k, k]), padL = dims([pad, pad]);
    const padR = dims([(ho - 1) * stride + k - h - pad, (wo - 1) * stride + k - w - pad]);
    const sym = lib.sym;
    const geo = [src, dst, strides, kernel, padL, padR] as const;
    const made = fwdBwd(lib, `max-pool ${key}`, {
      init: (op) =>
        sym.dnnl_pooling_forward_desc_init(op, DNNL.forwardTraining, DNNL.poolingMax, ...geo),
      args: [[DNNL.argSrc, src], [DNNL.argDst, dst], [DNNL.argWorkspace, DNNL.queryWorkspaceMd]],
    }, (f) => ({
      init: (op) => sym.dnnl_pooling_backward_desc_init(op, DNNL.poolingMax, ...geo),
      args: [
        [DNNL.argDiffDst, dst],
        [DNNL.argWorkspace, lib.query(f.pd, DNNL.queryWorkspaceMd)],
        [DNNL.argDiffSrc, src],
      ],
    }));
    return {
      ...made,
      dstShape: [n, ho, wo, c],
      wsBytes: lib.size(lib.query(made.fwd.pd, DNNL.queryWorkspaceMd)),
    };
  });
}

/** batch, M, K, N, transposeA, transposeB of a matrix product ({@link matMul}). */
type MatMulShape = [number, number, number, number, boolean, boolean];

/**
 * C[b] = op(A[b])·op(B[b]) for `batch` matrices: A is [M,K] (stored [K,M] when `ta`), B is [K,N]
 * (stored [N,K] when `tb`), C is [M,N], all row-major; the transposes are strides of oneDNN's
 * memory descriptors, so nothing is copied.
 */
function matMul(lib: DnnlLib, [batch, m, k, n, ta, tb]: MatMulShape): Exec {
  const a = lib.mdStrided([batch, m, k], ta ? [m * k, 1, m] : [m * k, k, 1]);
  const b = lib.mdStrided([batch, k, n], tb ? [k * n, 1, k] : [k * n, n, 1]);
  const c = lib.mdStrided([batch, m, n], [m * n, n, 1]);
  return lib.primitive({
    what: `matmul ${batch},${m},${k},${n},${ta},${tb}`,
    init: (op) => lib.sym.dnnl_matmul_desc_init(op, a, b, null, c),
    args: [[DNNL.argSrc, a], [DNNL.argWeights, b], [DNNL.argDst, c]],
  });
}

interface MatMulPrims extends Owned {
  exec: Exec;
}
const matMulCache = new PrimCache<string, MatMulPrims>("matMul");

/** {@link matMul}'s primitive, cached per shape (TF.js's `BatchMatMul`). */
function matMulPrims(shape: MatMulShape): MatMulPrims {
  const [batch, m, k, n] = shape;
  return cachedPrims(matMulCache, shape.join(), batch * m * k * n, SMALL_CONV_MACS, (lib) => {
    const exec = matMul(lib, shape);
    return { exec, execs: [exec] };
  });
}

/** Every primitive cache (for {@link setOnednnCacheCapacity} and {@link onednnCacheSizes}). */
const caches: PrimCache<unknown, Owned>[] = [
  convCache,
  bnCache,
  reluCache,
  poolCache,
  matMulCache,
] as PrimCache<unknown, Owned>[];

/** The matrix products oneDNN has run (`batch,M,K,N,transposeA,transposeB`, one per shape). */
export function onednnMatMulShapes(): string[] {
  return [...matMulCache.map.keys()];
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
  expectRank4("conv2d", "x", x);
  expectRank4("conv2d", "filter", filter);
  const [n, h, w, ci] = x.shape;
  const [k, , , co] = filter.shape;
  expectShape("conv2d", "filter", filter, [k, k, ci, co]);
  const ho = outSize(h, k, stride, pad), wo = outSize(w, k, stride, pad);
  const out = newOutput(b, [n, ho, wo, co], "float32");
  if (n * ho * wo * co === 0) return out;
  const c = convPrims(n, h, w, ci, co, k, stride, pad);
  const lib = (state as State).lib;
  if (c.gemm) {
    const col = scratchF32(colSize(c.gemm.g));
    im2col(view(b, x), c.gemm.g, col.f32);
    lib.run(c.gemm.fwd, [col.addr, at(b, filter), at(b, out)]);
    return out;
  }
  const wt = weightsFor(lib, c.fwdWReorder, c.fwdWBytes, at(b, filter));
  lib.run(c.fwd, [at(b, x), wt, at(b, out)]);
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
 * With `relu`, y = max(that, 0) in the same pass (oneDNN's fused ReLU), and a fourth output: the
 * workspace (the ReLU's mask) that {@link dnnlBatchNormGrad} needs.
 */
export function dnnlBatchNorm(
  x: tf.Tensor,
  gamma: tf.Tensor1D | null,
  beta: tf.Tensor1D | null,
  eps: number,
  relu = false,
): [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.Tensor?] {
  const inputs: Record<string, tf.Tensor> = { x };
  if (gamma && beta) Object.assign(inputs, { gamma, beta });
  return tf.engine().runKernel(
    RUL_DNNL_BATCH_NORM,
    inputs as unknown as tf.NamedTensorMap,
    { eps, relu } as unknown as tf.NamedAttrMap,
  ) as unknown as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.Tensor?];
}

/**
 * Backward of {@link dnnlBatchNorm}: dx = γ·inv·(dy − mean(dy) − x̂·mean(dy·x̂)), dγ = Σ dy·x̂,
 * dβ = Σ dy (inv = 1/√(var + eps)); returns [dx] without γ/β, else [dx, dγ, dβ] (β is an input
 * oneDNN 2.6 asks for, not read). With the forward's fused-ReLU workspace `ws`, dy is first zeroed
 * where the ReLU's input was not positive (dy·[y > 0], PyTorch's rule at 0).
 */
export function dnnlBatchNormGrad(
  dy: tf.Tensor,
  x: tf.Tensor,
  mean: tf.Tensor1D,
  variance: tf.Tensor1D,
  gamma: tf.Tensor1D | null,
  beta: tf.Tensor1D | null,
  eps: number,
  ws?: tf.Tensor,
): tf.Tensor[] {
  const inputs: Record<string, tf.Tensor> = { x, dy, mean, variance };
  if (gamma && beta) Object.assign(inputs, { gamma, beta });
  if (ws) inputs.ws = ws;
  const out = tf.engine().runKernel(
    RUL_DNNL_BATCH_NORM_GRAD,
    inputs as unknown as tf.NamedTensorMap,
    { eps, relu: ws !== undefined } as unknown as tf.NamedAttrMap,
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

/** A kernel's inputs by name. */
type Inputs = Record<string, tf.TensorInfo>;
/** The attributes of the batch-norm kernels (`relu`: oneDNN's fused ReLU after it). */
type BnAttrs = { eps: number; relu?: boolean };
/** The attributes of the pooling kernels. */
type PoolAttrs = { k: number; stride: number; pad: number };

/**
 * One row of {@link OPS}: a kernel the engine registers on its store's backend (TF.js's own
 * wasm backend registers its kernels from such a list of kernel configs).
 */
interface OnednnOp {
  /** The kernel's name: the engine's own, or TF.js's when {@link OnednnOp.replaces}. */
  name: string;
  /** The stores it is registered for (default: both). */
  stores?: OnednnStore[];
  /**
   * It replaces TF.js's stock kernel of that name ({@link replaceKernel}): `run` returns null
   * for the cases it leaves to the stock kernel, which also runs while oneDNN is not active.
   */
  replaces?: boolean;
  /** The kernel: its outputs (or null, see {@link OnednnOp.replaces}). */
  run(inputs: Inputs, attrs: unknown, backend: unknown): tf.TensorInfo | tf.TensorInfo[] | null;
  /** Its gradient (TF.js `registerGradient`), where TF.js differentiates through the kernel. */
  grad?: Omit<tf.GradConfig, "kernelName">;
}

/**
 * The fused Adam update (`RulAdamStep`, see wasm_gemm.ts) for the cpu store: one JavaScript pass
 * per parameter whose float32 operations (each rounded with Math.fround, exactly as TF.js cpu
 * stores every op's result) are those of lib/train/adam.ts's TF.js ops, in the same order, so
 * the results are bit-identical to them; it replaces ~14 element-wise kernels.
 */
function cpuAdam(inputs: Inputs, attrs: unknown, backend: unknown): tf.TensorInfo[] {
  const { p, g, m, v } = inputs;
  const c = attrs as AdamConstants;
  const b = backend as CpuBackendLike;
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
}

/**
 * TF.js cpu's `Add` for two float32 tensors of one shape as one typed-array loop: TF.js cpu's
 * kernel goes through its broadcasting path (index arithmetic per element), 2.0 s of an 8.2 s
 * step at 224 px, batch 64 (the residual additions and the gradient sums). a + b in double
 * precision rounded to float32 is the correctly rounded float32 sum, as TF.js's kernel stores
 * it: bit-identical. Other shapes and dtypes: null (the stock kernel).
 */
function cpuAdd(inputs: Inputs, _attrs: unknown, backend: unknown): tf.TensorInfo | null {
  const { a, b } = inputs;
  if (a.dtype !== "float32" || b.dtype !== "float32" || !tf.util.arraysEqual(a.shape, b.shape)) {
    return null;
  }
  const be = backend as CpuBackendLike;
  const av = be.data.get(a.dataId).values as Float32Array;
  const bv = be.data.get(b.dataId).values as Float32Array;
  const out = new Float32Array(av.length);
  for (let i = 0; i < out.length; i++) out[i] = av[i] + bv[i];
  return be.makeTensorInfo(a.shape, "float32", out);
}

/**
 * TF.js's `BatchMatMul` on oneDNN's matmul, for float32 operands of rank 2, or rank 3 with equal
 * batch sizes; anything else: null (the stock kernel). TF.js wasm's kernel is slow for the
 * transposed products of the gradients (a head's [1024,64] weight gradient took 13 ms of a 146
 * ms step at the demo's shapes; TF.js cpu's is a JavaScript loop).
 */
function batchMatMul(inputs: Inputs, attrs: unknown, be: unknown): tf.TensorInfo | null {
  const { a, b } = inputs;
  const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
  const r = a.shape.length;
  if (
    a.dtype !== "float32" || b.dtype !== "float32" || r !== b.shape.length ||
    (r !== 2 && r !== 3) || (r === 3 && a.shape[0] !== b.shape[0])
  ) {
    return null;
  }
  const batch = r === 3 ? a.shape[0] : 1;
  const [a0, a1] = a.shape.slice(r - 2), [b0, b1] = b.shape.slice(r - 2);
  const [m, k] = transposeA ? [a1, a0] : [a0, a1];
  const [kb, n] = transposeB ? [b1, b0] : [b0, b1];
  if (k !== kb) throw new Error(`BatchMatMul: inner sizes differ: a [${a.shape}], b [${b.shape}]`);
  if (k === 0) return null;
  const out = newOutput(be, r === 3 ? [batch, m, n] : [m, n], "float32");
  if (batch * m * n === 0) return out;
  const pr = matMulPrims([batch, m, k, n, transposeA, transposeB]);
  (state as State).lib.run(pr.exec, [at(be, a), at(be, b), at(be, out)]);
  return out;
}

/**
 * The engine's oneDNN kernels, one row each (a new op is one row here and its primitives above).
 * Every kernel checks the inputs it hands oneDNN against the shapes its cached primitive was
 * built for ({@link expectShape}).
 */
const OPS: OnednnOp[] = [
  {
    name: RUL_DNNL_RELU,
    run: ({ x }, _attrs, b) => {
      const y = newOutput(b, x.shape, "float32");
      (state as State).lib.run(reluPrims(tf.util.sizeFromShape(x.shape)).fwd, [at(b, x), at(b, y)]);
      return y;
    },
    grad: {
      outputsToSave: [true],
      gradFunc: (dy, saved) => ({
        x: () =>
          tf.engine().runKernel(
            RUL_DNNL_RELU_GRAD,
            { dy, y: saved[0] } as unknown as tf.NamedTensorMap,
          ) as tf.Tensor,
      }),
    },
  },
  {
    name: RUL_DNNL_RELU_GRAD,
    run: ({ dy, y }, _attrs, b) => {
      expectShape(RUL_DNNL_RELU_GRAD, "dy", dy, y.shape);
      const dx = newOutput(b, y.shape, "float32");
      const pr = reluPrims(tf.util.sizeFromShape(y.shape));
      (state as State).lib.run(pr.bwd, [at(b, y), at(b, dy), at(b, dx)]);
      return dx;
    },
  },
  {
    name: RUL_DNNL_BATCH_NORM,
    run: ({ x, gamma, beta }, attrs, b) => {
      const { eps, relu } = attrs as BnAttrs;
      const affine = gamma !== undefined && beta !== undefined;
      const c = x.shape[x.shape.length - 1];
      const pr = bnPrims(x.shape, affine, eps, relu === true);
      if (affine) {
        expectShape(RUL_DNNL_BATCH_NORM, "gamma", gamma, [c]);
        expectShape(RUL_DNNL_BATCH_NORM, "beta", beta, [c]);
      }
      const y = newOutput(b, x.shape, "float32");
      const mean = newOutput(b, [c], "float32"), variance = newOutput(b, [c], "float32");
      const outs = [y, mean, variance];
      if (relu) outs.push(newOutput(b, [Math.ceil(pr.wsBytes / 4)], "int32"));
      (state as State).lib.run(pr.fwd, [
        at(b, x),
        ...(affine ? [at(b, gamma), at(b, beta)] : []),
        at(b, y),
        at(b, mean),
        at(b, variance),
        ...(relu ? [at(b, outs[3])] : []),
      ]);
      return outs;
    },
  },
  {
    name: RUL_DNNL_BATCH_NORM_GRAD,
    run: ({ x, dy, mean, variance, gamma, beta, ws }, attrs, b) => {
      const { eps, relu } = attrs as BnAttrs;
      const affine = gamma !== undefined && beta !== undefined;
      const c = x.shape[x.shape.length - 1];
      const pr = bnPrims(x.shape, affine, eps, relu === true);
      const k = RUL_DNNL_BATCH_NORM_GRAD;
      expectShape(k, "dy", dy, x.shape);
      expectShape(k, "mean", mean, [c]);
      expectShape(k, "variance", variance, [c]);
      if (affine) {
        expectShape(k, "gamma", gamma, [c]);
        expectShape(k, "beta", beta, [c]);
      }
      if (relu) {
        if (ws === undefined) throw new Error(`${k}: the fused ReLU's workspace is missing`);
        expectShape(k, "workspace", ws, [Math.ceil(pr.wsBytes / 4)]);
      }
      const dx = newOutput(b, x.shape, "float32");
      const outs = [dx];
      if (affine) outs.push(newOutput(b, [c], "float32"), newOutput(b, [c], "float32"));
      (state as State).lib.run(pr.bwd, [
        at(b, x),
        at(b, mean),
        at(b, variance),
        at(b, dy),
        ...(affine ? [at(b, gamma), at(b, beta)] : []),
        ...(relu ? [at(b, ws)] : []),
        ...(affine ? [at(b, outs[1]), at(b, outs[2])] : []),
        at(b, dx),
      ]);
      return outs;
    },
  },
  {
    name: RUL_DNNL_MAX_POOL,
    run: ({ x }, attrs, b) => {
      const { k, stride, pad } = attrs as PoolAttrs;
      expectRank4(RUL_DNNL_MAX_POOL, "x", x);
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
  },
  {
    name: RUL_DNNL_MAX_POOL_GRAD,
    run: ({ x, dy }, attrs, b) => {
      const { k, stride, pad } = attrs as PoolAttrs;
      expectRank4(RUL_DNNL_MAX_POOL_GRAD, "x", x);
      const pr = poolPrims(x.shape, k, stride, pad);
      expectShape(RUL_DNNL_MAX_POOL_GRAD, "dy", dy, pr.dstShape);
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
  },
  {
    name: RUL_DNNL_GRAD_INPUT,
    run: ({ dy, filter }, attrs, b) => {
      const { xShape, stride, pad } = attrs as {
        xShape: [number, number, number, number];
        stride: number;
        pad: number;
      };
      const [n, h, w, ci] = xShape;
      expectRank4(RUL_DNNL_GRAD_INPUT, "filter", filter);
      const [k, , , co] = filter.shape;
      const c = convPrims(n, h, w, ci, co, k, stride, pad);
      expectShape(RUL_DNNL_GRAD_INPUT, "filter", filter, c.wShape);
      expectShape(RUL_DNNL_GRAD_INPUT, "dy", dy, c.dyShape);
      const out = newOutput(b, [n, h, w, ci], "float32");
      const lib = (state as State).lib;
      if (c.gemm) {
        const col = scratchF32(colSize(c.gemm.g));
        lib.run(c.gemm.bwdData, [at(b, dy), at(b, filter), col.addr]);
        col2im(col.f32, c.gemm.g, view(b, out));
        return out;
      }
      const wt = weightsFor(lib, c.bwdWReorder, c.bwdWBytes, at(b, filter));
      lib.run(c.bwdData, [at(b, dy), wt, at(b, out)]);
      return out;
    },
  },
  {
    name: RUL_DNNL_GRAD_FILTER,
    run: ({ x, dy }, attrs, b) => {
      const { k, stride, pad } = attrs as PoolAttrs;
      expectRank4(RUL_DNNL_GRAD_FILTER, "x", x);
      expectRank4(RUL_DNNL_GRAD_FILTER, "dy", dy);
      const [n, h, w, ci] = x.shape;
      const co = dy.shape[3];
      const c = convPrims(n, h, w, ci, co, k, stride, pad);
      expectShape(RUL_DNNL_GRAD_FILTER, "dy", dy, c.dyShape);
      const out = newOutput(b, [k, k, ci, co], "float32");
      const lib = (state as State).lib;
      const outAddr = at(b, out);
      if (c.gemm) {
        const col = scratchF32(colSize(c.gemm.g));
        im2col(view(b, x), c.gemm.g, col.f32);
        lib.run(c.gemm.bwdWeights, [col.addr, at(b, dy), outAddr]);
        return out;
      }
      const target = c.diffWReorder ? scratchAddr(c.diffWBytes) : outAddr;
      lib.run(c.bwdWeights, [at(b, x), at(b, dy), target]);
      if (c.diffWReorder) lib.run(c.diffWReorder, [target, outAddr]);
      return out;
    },
  },
  { name: "BatchMatMul", replaces: true, run: batchMatMul },
  { name: RUL_ADAM_STEP, stores: ["cpu"], run: cpuAdam },
  { name: "Add", stores: ["cpu"], replaces: true, run: cpuAdd },
];

/** Register {@link OPS} for the store's backend (once). */
function ensureKernels(store: OnednnStore): void {
  if (registered.has(store)) return;
  for (const op of OPS) {
    if (op.stores && !op.stores.includes(store)) continue;
    const run = (args: Parameters<tf.KernelFunc>[0]) =>
      op.run(args.inputs as unknown as Inputs, args.attrs, args.backend);
    if (op.replaces) {
      replaceKernel(op.name, store, (stock) => (args) => {
        const out = onednnActive() ? run(args) : null;
        return out ?? stock.kernelFunc(args);
      });
    } else {
      tf.registerKernel({
        kernelName: op.name,
        backendName: store,
        kernelFunc: (args) => run(args) as tf.TensorInfo | tf.TensorInfo[],
      });
    }
    if (op.grad) tf.registerGradient({ kernelName: op.name, ...op.grad });
  }
  registered.add(store);
}
