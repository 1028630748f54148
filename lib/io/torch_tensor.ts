/**
 * Tensors and storages of a PyTorch checkpoint as the restricted unpickler builds them, and
 * their conversion to contiguous host arrays or TF.js tensors (strides, offsets, float16,
 * bfloat16, float64 and int64 handled).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { bfloat16ToFloat32, float16ToFloat32 } from "./half.ts";

/** Element types of PyTorch storages we can read. */
export type TorchDType =
  | "float32"
  | "float64"
  | "float16"
  | "bfloat16"
  | "int64"
  | "int32"
  | "int16"
  | "int8"
  | "uint8"
  | "bool";

/** Bytes per element of each {@link TorchDType}. */
export const TORCH_ELEMENT_SIZE: Readonly<Record<TorchDType, number>> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** A storage: a flat typed buffer shared by one or more tensors. */
export class TorchStorage {
  /** Raw little-endian bytes; filled when the archive member / legacy record is read. */
  bytes: Uint8Array | null = null;

  /** Create a storage of `numel` elements of `dtype` identified by `key`. */
  constructor(
    readonly dtype: TorchDType,
    readonly key: string,
    readonly numel: number,
    readonly source: string,
  ) {}

  /** Bytes, or an error naming the file when the data was never found. */
  data(): Uint8Array {
    if (!this.bytes) throw new Error(`${this.source}: data of storage ${this.key} is missing`);
    return this.bytes;
  }
}

/** Host copy of a tensor in a TF.js-compatible dtype. */
export interface HostTensor {
  /** `float32`, `int32` or `bool`. */
  dtype: "float32" | "int32" | "bool";
  /** Shape. */
  shape: number[];
  /** Contiguous row-major values. */
  data: Float32Array | Int32Array | Uint8Array;
  /** The original PyTorch dtype. */
  sourceDtype: TorchDType;
}

/**
 * Check a tensor view against its storage before anything is allocated: shape, strides and
 * offset must be non-negative integers of the same rank, every element must lie inside the
 * storage's declared elements, and the view may not have more elements than its storage (a
 * stride-0 view of a few bytes claiming [400000000] elements would otherwise allocate GBs; state
 * dicts never hold such views). Errors name the storage's file.
 */
export function checkTensorView(
  storage: TorchStorage,
  offset: number,
  shape: readonly number[],
  stride: readonly number[],
): void {
  const what =
    `${storage.source}: tensor view [offset ${offset}, shape ${shape}, stride ${stride}]`;
  const ok = (v: number) => Number.isSafeInteger(v) && v >= 0;
  if (shape.length !== stride.length) throw new Error(`${what}: shape and stride differ in rank`);
  if (!ok(offset) || !shape.every(ok) || !stride.every(ok)) {
    throw new Error(`${what}: negative or non-integer shape, stride or offset (corrupt file?)`);
  }
  const n = shape.reduce((a, b) => a * b, 1);
  if (n === 0) return;
  let hi = offset;
  for (let d = 0; d < shape.length; d++) hi += (shape[d] - 1) * stride[d];
  if (hi >= storage.numel) {
    throw new Error(
      `${what} reaches element ${hi} of a storage of ${storage.numel} elements (corrupt file?)`,
    );
  }
  if (n > storage.numel) {
    throw new Error(
      `${what} has ${n} elements, more than its storage's ${storage.numel} (overlapping ` +
        "stride-0 view; refusing to materialise it)",
    );
  }
}

/** A tensor view (storage + offset + shape + strides, in elements) from a checkpoint. */
export class TorchTensor {
  /** Create the view; `storageOffset`, `shape` and `stride` count elements. */
  constructor(
    readonly storage: TorchStorage,
    readonly storageOffset: number,
    readonly shape: number[],
    readonly stride: number[],
    readonly requiresGrad = false,
  ) {}

  /**
   * A contiguous tensor with its own storage, for writing checkpoints: `values` are converted to
   * `dtype` (e.g. int32 values to int64, as PyTorch stores `num_batches_tracked`); `source` names
   * the tensor in errors. Float values given for an integer dtype must be integers.
   */
  static fromArray(
    dtype: TorchDType,
    shape: readonly number[],
    values: ArrayLike<number> | BigInt64Array,
    source = "tensor",
  ): TorchTensor {
    const n = shape.reduce((a, b) => a * b, 1);
    if (values.length !== n) {
      throw new Error(`${source}: ${values.length} values for shape [${shape}]`);
    }
    const es = TORCH_ELEMENT_SIZE[dtype];
    const bytes = new Uint8Array(n * es);
    const dv = new DataView(bytes.buffer);
    const num = (i: number): number => Number(values[i]);
    const int = (i: number): number => {
      const v = num(i);
      if (!Number.isInteger(v)) throw new Error(`${source}: ${v} is not an integer (${dtype})`);
      return v;
    };
    switch (dtype) {
      case "float32":
        if (values instanceof Float32Array) bytes.set(new Uint8Array(values.slice().buffer));
        else for (let i = 0; i < n; i++) dv.setFloat32(i * 4, num(i), true);
        break;
      case "float64":
        for (let i = 0; i < n; i++) dv.setFloat64(i * 8, num(i), true);
        break;
      case "float16":
      case "bfloat16":
        throw new Error(`${source}: writing ${dtype} is not supported (use float32)`);
      case "int64":
        for (let i = 0; i < n; i++) {
          dv.setBigInt64(i * 8, values instanceof BigInt64Array ? values[i] : BigInt(int(i)), true);
        }
        break;
      case "int32":
        for (let i = 0; i < n; i++) dv.setInt32(i * 4, int(i), true);
        break;
      case "int16":
        for (let i = 0; i < n; i++) dv.setInt16(i * 2, int(i), true);
        break;
      case "int8":
        for (let i = 0; i < n; i++) dv.setInt8(i, int(i));
        break;
      case "uint8":
        for (let i = 0; i < n; i++) dv.setUint8(i, int(i));
        break;
      case "bool":
        for (let i = 0; i < n; i++) dv.setUint8(i, num(i) ? 1 : 0);
        break;
    }
    const storage = new TorchStorage(dtype, "0", n, source);
    storage.bytes = bytes;
    const stride = new Array<number>(shape.length);
    for (let d = shape.length - 1, s = 1; d >= 0; d--) {
      stride[d] = s;
      s *= shape[d];
    }
    return new TorchTensor(storage, 0, [...shape], stride);
  }

  /** PyTorch dtype. */
  get dtype(): TorchDType {
    return this.storage.dtype;
  }

  /** Number of elements. */
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  /**
   * Contiguous host copy: float16/bfloat16/float64 → float32, int64/int16/int8/uint8 → int32
   * (int64 values outside the int32 range throw), bool stays bool. `name` is used in errors.
   */
  toHost(name = "tensor"): HostTensor {
    const what = `${this.storage.source}: ${name}`;
    const n = this.size;
    const es = TORCH_ELEMENT_SIZE[this.dtype];
    const bytes = this.storage.data();
    if (this.shape.length !== this.stride.length) {
      throw new Error(`${what}: shape ${this.shape} and stride ${this.stride} differ in rank`);
    }
    // highest element index touched must lie inside the storage
    let hi = this.storageOffset;
    for (let d = 0; d < this.shape.length; d++) {
      if (this.shape[d] === 0) hi = -1;
      if (hi >= 0) hi += (this.shape[d] - 1) * Math.max(0, this.stride[d]);
      if (this.stride[d] < 0) throw new Error(`${what}: negative stride`);
    }
    const available = Math.floor(bytes.length / es);
    if (n > 0 && (hi >= available || this.storageOffset < 0)) {
      throw new Error(
        `${what}: view [offset ${this.storageOffset}, shape ${this.shape}, stride ${this.stride}]` +
          ` exceeds its storage of ${available} elements (truncated or corrupt file?)`,
      );
    }
    const shape = [...this.shape];
    if (this.dtype === "float32" && this.isContiguous()) {
      // fast path: one aligned copy (little-endian hosts, as every platform TF.js runs on)
      const start = bytes.byteOffset + this.storageOffset * 4;
      const data = new Float32Array(bytes.buffer.slice(start, start + n * 4));
      return { dtype: "float32", shape, data, sourceDtype: this.dtype };
    }
    const idx = this.elementIndices(n);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    switch (this.dtype) {
      case "float32": {
        const out = new Float32Array(n);
        for (let i = 0; i < n; i++) out[i] = dv.getFloat32(idx[i] * 4, true);
        return { dtype: "float32", shape, data: out, sourceDtype: this.dtype };
      }
      case "float64": {
        const out = new Float32Array(n);
        for (let i = 0; i < n; i++) out[i] = dv.getFloat64(idx[i] * 8, true);
        return { dtype: "float32", shape, data: out, sourceDtype: this.dtype };
      }
      case "float16":
      case "bfloat16": {
        const h = new Uint16Array(n);
        for (let i = 0; i < n; i++) h[i] = dv.getUint16(idx[i] * 2, true);
        const data = this.dtype === "float16" ? float16ToFloat32(h) : bfloat16ToFloat32(h);
        return { dtype: "float32", shape, data, sourceDtype: this.dtype };
      }
      case "int64": {
        const out = new Int32Array(n);
        for (let i = 0; i < n; i++) {
          const v = dv.getBigInt64(idx[i] * 8, true);
          if (v > 2147483647n || v < -2147483648n) {
            throw new Error(`${what}: int64 value ${v} does not fit int32`);
          }
          out[i] = Number(v);
        }
        return { dtype: "int32", shape, data: out, sourceDtype: this.dtype };
      }
      case "int32":
      case "int16":
      case "int8":
      case "uint8": {
        const out = new Int32Array(n);
        const get = this.dtype === "int32"
          ? (o: number) => dv.getInt32(o * 4, true)
          : this.dtype === "int16"
          ? (o: number) => dv.getInt16(o * 2, true)
          : this.dtype === "int8"
          ? (o: number) => dv.getInt8(o)
          : (o: number) => dv.getUint8(o);
        for (let i = 0; i < n; i++) out[i] = get(idx[i]);
        return { dtype: "int32", shape, data: out, sourceDtype: this.dtype };
      }
      case "bool": {
        const out = new Uint8Array(n);
        for (let i = 0; i < n; i++) out[i] = dv.getUint8(idx[i]) ? 1 : 0;
        return { dtype: "bool", shape, data: out, sourceDtype: this.dtype };
      }
    }
  }

  /** A TF.js tensor with this tensor's values (see {@link toHost} for dtype mapping). */
  toTf(name?: string): tf.Tensor {
    const h = this.toHost(name);
    return tf.tensor(h.data, h.shape, h.dtype);
  }

  /** Whether the strides are row-major contiguous. */
  isContiguous(): boolean {
    let expect = 1;
    for (let d = this.shape.length - 1; d >= 0; d--) {
      if (this.shape[d] !== 1 && this.stride[d] !== expect) return false;
      expect *= this.shape[d];
    }
    return true;
  }

  /** Storage element index of every element in row-major order. */
  private elementIndices(n: number): Float64Array {
    const idx = new Float64Array(n);
    const rank = this.shape.length;
    if (n === 0) return idx;
    const counter = new Array(rank).fill(0);
    let off = this.storageOffset;
    for (let i = 0; i < n; i++) {
      idx[i] = off;
      for (let d = rank - 1; d >= 0; d--) {
        counter[d]++;
        off += this.stride[d];
        if (counter[d] < this.shape[d]) break;
        off -= this.stride[d] * this.shape[d];
        counter[d] = 0;
      }
    }
    return idx;
  }
}
