/**
 * Slicing and zero padding of float32 tensors as block copies on the wasm heap. Hand-written
 * because TF.js wasm's own kernels are slow for the data movement of the convolution gradients:
 * its `Slice` first copies the entire input out of the wasm heap (`readSync`) and then copies
 * each contiguous run, so a slice that keeps a quarter of a large tensor (the sub-sampling
 * x[:, ::2, ::2, :] of a 1×1 stride-2 grad-filter) spends most of its time on that first copy;
 * its `PadV2` (and `zeros`) take ~1.3-1.7 ms for the 0.8 M-element gradient of a 1×1 stride-2
 * grad-input at 112 px, where a zero fill plus run copies takes a fraction of that. The kernels
 * `RulSlice` and `RulPad` copy the runs directly between views of the wasm heap; other backends
 * (and other dtypes) use `tf.slice` / `tf.pad`. They carry no gradient: the engine uses them inside
 * gradient functions only (use `tf.slice` / `tf.pad` in code that is differentiated).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** Name of the engine's wasm slice kernel. */
export const RUL_SLICE = "RulSlice";
/** Name of the engine's wasm zero-padding kernel. */
export const RUL_PAD = "RulPad";

/** The part of the wasm backend's class that the kernel uses. */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

interface SliceAttrs {
  begin: number[];
  size: number[];
}

interface PadAttrs {
  before: number[];
  after: number[];
}

/** Row-major strides of `shape`. */
function stridesOf(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    st[d] = acc;
    acc *= shape[d];
  }
  return st;
}

/**
 * Copy the block of extent `size` at `srcBegin` of `src` (shape `srcShape`) to `dstBegin` of
 * `dst` (shape `dstShape`), one contiguous run at a time.
 */
export function copyBlock(
  src: Float32Array,
  srcShape: readonly number[],
  srcBegin: readonly number[],
  dst: Float32Array,
  dstShape: readonly number[],
  dstBegin: readonly number[],
  size: readonly number[],
): void {
  const rank = size.length;
  if (size.some((s) => s === 0)) return;
  const ss = stridesOf(srcShape), ds = stridesOf(dstShape);
  // Innermost dimension not taken whole on both sides: everything inside it is one run.
  let d = rank - 1;
  while (
    d > 0 && srcBegin[d] === 0 && dstBegin[d] === 0 && size[d] === srcShape[d] &&
    size[d] === dstShape[d]
  ) d--;
  const run = size[d] * ss[d];
  const idx = new Array<number>(d).fill(0);
  for (;;) {
    let so = srcBegin[d] * ss[d], dO = dstBegin[d] * ds[d];
    for (let i = 0; i < d; i++) {
      so += (srcBegin[i] + idx[i]) * ss[i];
      dO += (dstBegin[i] + idx[i]) * ds[i];
    }
    if (run >= 16) {
      dst.set(src.subarray(so, so + run), dO);
    } else {
      for (let j = 0; j < run; j++) dst[dO + j] = src[so + j];
    }
    let i = d - 1;
    while (i >= 0 && ++idx[i] === size[i]) idx[i--] = 0;
    if (i < 0) break;
  }
}

/** Copy the slice (begin, size) of `src` (shape `shape`) into the dense `dst`. */
export function copySlice(
  src: Float32Array,
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
  dst: Float32Array,
): void {
  copyBlock(src, shape, begin, dst, size, size.map(() => 0), size);
}

let registered = false;

function ensureKernel(): void {
  if (registered) return;
  tf.registerKernel({
    kernelName: RUL_SLICE,
    backendName: "wasm",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x } = inputs as unknown as { x: tf.TensorInfo };
      const { begin, size } = attrs as unknown as SliceAttrs;
      const b = backend as unknown as WasmHeapBackend;
      const out = b.makeOutput(size, "float32");
      // Views taken after makeOutput: allocating may grow (and replace) the heap's buffer.
      if (size.every((s) => s > 0)) {
        copySlice(b.typedArrayFromHeap(x), x.shape, begin, size, b.typedArrayFromHeap(out));
      }
      return out;
    },
  });
  tf.registerKernel({
    kernelName: RUL_PAD,
    backendName: "wasm",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x } = inputs as unknown as { x: tf.TensorInfo };
      const { before, after } = attrs as unknown as PadAttrs;
      const b = backend as unknown as WasmHeapBackend;
      const shape = x.shape.map((s, d) => before[d] + s + after[d]);
      const out = b.makeOutput(shape, "float32");
      const dst = b.typedArrayFromHeap(out);
      dst.fill(0);
      copyBlock(
        b.typedArrayFromHeap(x),
        x.shape,
        x.shape.map(() => 0),
        dst,
        shape,
        before,
        x.shape,
      );
      return out;
    },
  });
  registered = true;
}

/**
 * `tf.slice(x, begin, size)` with explicit (non-negative, in-range) begin and size; on the wasm
 * backend a float32 slice runs as the heap-to-heap kernel {@link RUL_SLICE}.
 */
export function fastSlice<T extends tf.Tensor>(x: T, begin: number[], size: number[]): T {
  if (begin.length !== x.rank || size.length !== x.rank) {
    throw new Error(`fastSlice: begin ${begin} / size ${size} do not match shape ${x.shape}`);
  }
  for (let d = 0; d < x.rank; d++) {
    if (begin[d] < 0 || size[d] < 0 || begin[d] + size[d] > x.shape[d]) {
      throw new Error(`fastSlice: begin ${begin} size ${size} out of range for shape ${x.shape}`);
    }
  }
  if (tf.getBackend() !== "wasm" || x.dtype !== "float32") return tf.slice(x, begin, size);
  ensureKernel();
  return tf.engine().runKernel(
    RUL_SLICE,
    { x } as unknown as tf.NamedTensorMap,
    { begin, size } as unknown as tf.NamedAttrMap,
  ) as T;
}

/**
 * `tf.pad(x, paddings)` with zeros and non-negative paddings; on the wasm backend a float32 pad
 * runs as the heap-to-heap kernel {@link RUL_PAD}.
 */
export function fastPad<T extends tf.Tensor>(x: T, paddings: [number, number][]): T {
  if (paddings.length !== x.rank || paddings.some(([a, b]) => a < 0 || b < 0)) {
    throw new Error(`fastPad: paddings ${JSON.stringify(paddings)} invalid for shape ${x.shape}`);
  }
  if (tf.getBackend() !== "wasm" || x.dtype !== "float32") return tf.pad(x, paddings);
  ensureKernel();
  return tf.engine().runKernel(
    RUL_PAD,
    { x } as unknown as tf.NamedTensorMap,
    {
      before: paddings.map((p) => p[0]),
      after: paddings.map((p) => p[1]),
    } as unknown as tf.NamedAttrMap,
  ) as T;
}
