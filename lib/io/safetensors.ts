/**
 * Safetensors files (the format of Hugging Face's `safetensors`, readable by Python's
 * `safetensors.torch.load_file`): 8-byte little-endian header length, JSON header
 * (`{name: {dtype, shape, data_offsets}}` plus string-valued `__metadata__`), raw little-endian
 * data. Float32/int32/bool tensors round-trip bit-identically.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { writeBytesAtomic } from "./atomic_write.ts";
import { bfloat16ToFloat32, float16ToFloat32 } from "./half.ts";

/** Tensors and metadata of a safetensors file. */
export interface SafetensorsContent {
  /** Tensors in file order (caller disposes). */
  tensors: Map<string, tf.Tensor>;
  /** The `__metadata__` string map (empty when absent). */
  metadata: Record<string, string>;
}

const DTYPE_OUT: Record<string, string> = { float32: "F32", int32: "I32", bool: "BOOL" };
const ELEM: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/**
 * Serialise tensors (float32, int32, bool) and string metadata to safetensors bytes. `values`
 * holds already-read tensor data by name (what {@link writeSafetensors} reads asynchronously, as
 * WebGPU requires); tensors not in it are read with `dataSync`.
 */
export function encodeSafetensors(
  tensors: Map<string, tf.Tensor>,
  metadata: Record<string, string> = {},
  values?: Map<string, tf.TypedArray>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string") throw new Error(`safetensors metadata ${k} must be a string`);
    }
    header.__metadata__ = metadata;
  }
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === "__metadata__") throw new Error(`tensor name __metadata__ is reserved`);
    const dtype = DTYPE_OUT[t.dtype];
    if (!dtype) throw new Error(`safetensors: tensor ${name} has unsupported dtype ${t.dtype}`);
    const data = (values?.get(name) ?? t.dataSync()) as Float32Array | Int32Array | Uint8Array;
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let hb = enc.encode(json);
  const pad = (8 - (hb.length % 8)) % 8; // keep the data 8-byte aligned, as the Python writer
  if (pad) {
    json += " ".repeat(pad);
    hb = enc.encode(json);
  }
  const out = new Uint8Array(8 + hb.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let p = 8 + hb.length;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}

/**
 * Parse safetensors bytes into TF.js tensors (F32/I32/BOOL exact; F16/BF16/F64 → float32;
 * I64/I16/I8/U8 → int32 with a range check). `file` names the source in errors.
 */
export function decodeSafetensors(bytes: Uint8Array, file = "<bytes>"): SafetensorsContent {
  const fail = (why: string) => new Error(`${file}: not a valid safetensors file (${why})`);
  if (bytes.length < 8) throw fail(`only ${bytes.length} bytes`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) throw fail(`header length ${n} exceeds file size`);
  const hlen = Number(n);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + hlen)),
    );
  } catch (e) {
    throw fail(`header is not JSON: ${(e as Error).message}`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw fail("header is not an object");
  }
  const dataStart = 8 + hlen;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: [string, { dtype: string; shape: number[]; data_offsets: [number, number] }][] =
    [];
  for (const [name, v] of Object.entries(header)) {
    if (name === "__metadata__") {
      if (typeof v !== "object" || v === null || Array.isArray(v)) {
        throw fail(`__metadata__ is ${v === null ? "null" : typeof v}, not an object of strings`);
      }
      for (const [k, s] of Object.entries(v as Record<string, unknown>)) {
        if (typeof s !== "string") throw fail(`metadata ${k} is not a string`);
        metadata[k] = s;
      }
      continue;
    }
    const e = v as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const size = ELEM[e?.dtype];
    if (!size) throw fail(`tensor ${name} has unsupported dtype ${e?.dtype}`);
    if (!Array.isArray(e.shape) || e.shape.some((d) => !Number.isInteger(d) || d < 0)) {
      throw fail(`tensor ${name} has a bad shape ${JSON.stringify(e.shape)}`);
    }
    const [a, b] = Array.isArray(e.data_offsets) ? e.data_offsets : [NaN, NaN];
    const count = e.shape.reduce((x, y) => x * y, 1);
    if (
      !Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b > dataLen || b - a !== count * size
    ) {
      throw fail(
        `tensor ${name} has bad data offsets ${JSON.stringify(e.data_offsets)}` +
          ` for ${e.dtype}[${e.shape}] (data section ${dataLen} bytes; truncated?)`,
      );
    }
    entries.push([name, e]);
  }
  entries.sort((x, y) => x[1].data_offsets[0] - y[1].data_offsets[0]);
  for (let i = 1; i < entries.length; i++) {
    const [pn, p] = entries[i - 1];
    const [cn, c] = entries[i];
    if (c.data_offsets[0] < p.data_offsets[1]) {
      throw fail(
        `tensors ${pn} ${JSON.stringify(p.data_offsets)} and ${cn} ` +
          `${JSON.stringify(c.data_offsets)} overlap`,
      );
    }
  }
  const tensors = new Map<string, tf.Tensor>();
  for (const [name, e] of entries) {
    const [a, b] = e.data_offsets;
    // Copy into a fresh buffer: the slice may be unaligned for typed-array views, and a Node
    // Buffer's slice() is a view into a shared pool (its .buffer is the whole pool).
    const buf = new Uint8Array(bytes.subarray(dataStart + a, dataStart + b)).buffer;
    tensors.set(name, toTensor(buf, e.dtype, e.shape, `${file}: tensor ${name}`));
  }
  return { tensors, metadata };
}

function toTensor(buf: ArrayBuffer, dtype: string, shape: number[], what: string): tf.Tensor {
  switch (dtype) {
    case "F32":
      return tf.tensor(new Float32Array(buf), shape, "float32");
    case "F16":
      return tf.tensor(float16ToFloat32(new Uint16Array(buf)), shape, "float32");
    case "BF16":
      return tf.tensor(bfloat16ToFloat32(new Uint16Array(buf)), shape, "float32");
    case "F64":
      return tf.tensor(Float32Array.from(new Float64Array(buf)), shape, "float32");
    case "I32":
      return tf.tensor(new Int32Array(buf), shape, "int32");
    case "I16":
      return tf.tensor(Int32Array.from(new Int16Array(buf)), shape, "int32");
    case "I8":
      return tf.tensor(Int32Array.from(new Int8Array(buf)), shape, "int32");
    case "U8":
      return tf.tensor(Int32Array.from(new Uint8Array(buf)), shape, "int32");
    case "BOOL":
      return tf.tensor(new Uint8Array(buf), shape, "bool");
    case "I64": {
      const src = new BigInt64Array(buf);
      const out = new Int32Array(src.length);
      for (let i = 0; i < src.length; i++) {
        const v = src[i];
        if (v > 2147483647n || v < -2147483648n) {
          throw new Error(`${what}: int64 value ${v} out of int32 range`);
        }
        out[i] = Number(v);
      }
      return tf.tensor(out, shape, "int32");
    }
  }
  throw new Error(`${what}: unsupported dtype ${dtype}`);
}

/**
 * Write tensors + metadata to `file` atomically (temp file + rename). Tensor data is read with
 * `await tensor.data()` (works on every backend, WebGPU included).
 */
export async function writeSafetensors(
  file: string,
  tensors: Map<string, tf.Tensor>,
  metadata: Record<string, string> = {},
): Promise<void> {
  const entries = [...tensors];
  const data = await Promise.all(entries.map(([, t]) => t.data()));
  const values = new Map(entries.map(([name], i) => [name, data[i] as tf.TypedArray]));
  await writeBytesAtomic(file, encodeSafetensors(tensors, metadata, values));
}

/** Read a safetensors file (errors name the file). */
export async function readSafetensors(file: string): Promise<SafetensorsContent> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(file);
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
  return decodeSafetensors(bytes, file);
}
