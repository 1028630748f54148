/**
 * Minimal safetensors encoder/decoder for the trainer's checkpoints (F32 and I32 tensors plus
 * string metadata). Kept private to lib/train so checkpoints work independently of lib/io; the
 * format is the standard one (8-byte little-endian header length, JSON header, raw
 * little-endian data), readable by Python's `safetensors` and `torch`.
 *
 * @module
 */

/** A host-side tensor: dtype, shape and data. */
export interface HostTensor {
  /** `F32` or `I32`. */
  dtype: "F32" | "I32";
  /** Shape. */
  shape: number[];
  /** Values. */
  data: Float32Array | Int32Array;
}

/** Encode named tensors and metadata as a safetensors file image. */
export function encodeSafetensors(
  tensors: Map<string, HostTensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) {
      throw new Error(`safetensors: "${name}" has ${t.data.length} values for shape [${t.shape}]`);
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + 4 * n] };
    offset += 4 * n;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + json.length) % 8)) % 8); // align data to 8 bytes
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let p = 8 + head.length;
  for (const t of tensors.values()) {
    // Typed arrays are little-endian on every platform Deno runs on.
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    out.set(bytes, p);
    p += bytes.length;
  }
  return out;
}

/**
 * Decode a safetensors file image (F32/I32 only).
 * @throws Error naming `file` on a truncated or malformed file or an unsupported dtype
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  file = "safetensors file",
): { tensors: Map<string, HostTensor>; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new Error(`${file}: truncated (${bytes.length} bytes)`);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  if (8 + n > bytes.length) throw new Error(`${file}: truncated header (${n} bytes declared)`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new Error(`${file}: header is not JSON (${(e as Error).message})`);
  }
  const base = 8 + n;
  const metadata = (header.__metadata__ ?? {}) as unknown as Record<string, string>;
  const tensors = new Map<string, HostTensor>();
  for (const [name, h] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    if (h.dtype !== "F32" && h.dtype !== "I32") {
      throw new Error(`${file}: tensor "${name}" has unsupported dtype ${h.dtype}`);
    }
    const [a, b] = h.data_offsets;
    const count = h.shape.reduce((x, y) => x * y, 1);
    if (b - a !== 4 * count || base + b > bytes.length) {
      throw new Error(`${file}: tensor "${name}" data [${a}, ${b}) is inconsistent or truncated`);
    }
    // A copy with its own buffer (Node Buffers' slice() is a view).
    const copy = new Uint8Array(bytes.subarray(base + a, base + b));
    const data = h.dtype === "F32" ? new Float32Array(copy.buffer) : new Int32Array(copy.buffer);
    tensors.set(name, { dtype: h.dtype, shape: h.shape, data });
  }
  return { tensors, metadata };
}
