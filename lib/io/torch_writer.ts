/**
 * Writing PyTorch checkpoints without PyTorch: named tensors in nested dicts → the bytes
 * `torch.save` writes (PyTorch ≥ 1.6 zip format), which `torch.load` reads back — including its
 * safe `weights_only=True` loader, since only the globals a state dict needs are referenced.
 *
 * The file is an uncompressed zip archive (what `torch.save` writes):
 *
 * - `<name>/data.pkl`: the object, pickled with protocol 2 (torch's default). Dicts given as
 *   `Map`s become `collections.OrderedDict` (what `state_dict()` returns), plain objects and
 *   {@link PickleDict}s of class `builtins.dict` become dicts; every tensor becomes
 *   `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad,
 *   OrderedDict())` whose storage is the persistent id
 *   `("storage", torch.FloatStorage, "<key>", "cpu", numel)`;
 * - `<name>/byteorder` (`little`), `<name>/data/<key>` (each storage's raw little-endian bytes),
 *   `<name>/version` (`3`).
 *
 * As in torch's writer every entry's data starts at a multiple of 64 bytes (padding in a `FB`
 * extra field of the local header), so loaders that memory-map storages can use them in place.
 * The zip is written here rather than with fflate's `zipSync` because fflate cannot align
 * entries; the CRC-32 comes from `node:zlib`.
 *
 * @module
 */
import { crc32 } from "node:zlib";
import { writeBytesAtomic } from "./atomic_write.ts";
import { PickleDict } from "./pickle.ts";
import { TORCH_STORAGE_TYPES } from "./torch_globals.ts";
import { TORCH_ELEMENT_SIZE, type TorchDType, TorchStorage, TorchTensor } from "./torch_tensor.ts";

/**
 * A value {@link encodeTorchCheckpoint} can write: tensors, dicts (`Map` → OrderedDict, plain
 * object → dict), lists, strings, numbers (integers are written as Python ints, others as
 * floats), bigints, booleans and null (None).
 */
export type TorchSaveValue =
  | TorchTensor
  | Map<string, TorchSaveValue>
  | { [key: string]: TorchSaveValue }
  | TorchSaveValue[]
  | string
  | number
  | bigint
  | boolean
  | null;

/** Options of {@link encodeTorchCheckpoint}. */
export interface TorchSaveOptions {
  /** Folder name inside the zip (torch uses the file's stem; any name loads). Default `archive`. */
  archiveName?: string;
  /** Name used in error messages. */
  file?: string;
}

const STORAGE_CLASS: Partial<Record<TorchDType, string>> = {};
for (const [cls, dtype] of Object.entries(TORCH_STORAGE_TYPES)) {
  if (cls !== "UntypedStorage") STORAGE_CLASS[dtype] ??= cls;
}

/** Pickle opcodes used (protocol 2). */
const OP = {
  PROTO: 0x80,
  STOP: 0x2e,
  MARK: 0x28,
  NONE: 0x4e,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  BININT: 0x4a,
  BININT1: 0x4b,
  BININT2: 0x4d,
  LONG1: 0x8a,
  BINFLOAT: 0x47,
  BINUNICODE: 0x58,
  EMPTY_LIST: 0x5d,
  APPENDS: 0x65,
  EMPTY_TUPLE: 0x29,
  TUPLE: 0x74,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  EMPTY_DICT: 0x7d,
  SETITEMS: 0x75,
  GLOBAL: 0x63,
  REDUCE: 0x52,
  BUILD: 0x62,
  BINPERSID: 0x51,
  BINPUT: 0x71,
  LONG_BINPUT: 0x72,
  BINGET: 0x68,
  LONG_BINGET: 0x6a,
} as const;

/** Growable byte buffer. */
class ByteSink {
  private buf = new Uint8Array(1 << 16);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.length));
    this.buf = b;
  }

  byte(v: number): void {
    this.reserve(1);
    this.buf[this.length++] = v;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  u16(v: number): void {
    this.bytes(new Uint8Array([v & 0xff, (v >>> 8) & 0xff]));
  }

  u32(v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    this.bytes(b);
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Protocol-2 pickler for state-dict objects; collects the storages it references. */
class TorchPickler {
  readonly out = new ByteSink();
  /** Storages in order of first use, with their archive keys. */
  readonly storages = new Map<TorchStorage, string>();
  private readonly memo = new Map<string, number>();

  constructor(private readonly file: string) {}

  dump(value: TorchSaveValue): Uint8Array {
    this.out.byte(OP.PROTO);
    this.out.byte(2);
    this.value(value, "<root>");
    this.out.byte(OP.STOP);
    return this.out.result();
  }

  private put(id: number): void {
    if (id < 256) {
      this.out.byte(OP.BINPUT);
      this.out.byte(id);
    } else {
      this.out.byte(OP.LONG_BINPUT);
      this.out.u32(id);
    }
  }

  /** A global, memoised as torch's pickler does (GLOBAL once, then BINGET). */
  private global(module: string, name: string): void {
    const key = `${module}\n${name}\n`;
    const id = this.memo.get(key);
    if (id !== undefined) {
      if (id < 256) {
        this.out.byte(OP.BINGET);
        this.out.byte(id);
      } else {
        this.out.byte(OP.LONG_BINGET);
        this.out.u32(id);
      }
      return;
    }
    this.out.byte(OP.GLOBAL);
    this.out.bytes(new TextEncoder().encode(key));
    const nid = this.memo.size;
    this.memo.set(key, nid);
    this.put(nid);
  }

  private str(s: string): void {
    const b = new TextEncoder().encode(s);
    this.out.byte(OP.BINUNICODE);
    this.out.u32(b.length);
    this.out.bytes(b);
  }

  private int(v: number | bigint, where: string): void {
    if (typeof v === "number" && v >= 0 && v < 256) {
      this.out.byte(OP.BININT1);
      this.out.byte(v);
    } else if (typeof v === "number" && v >= 0 && v < 65536) {
      this.out.byte(OP.BININT2);
      this.out.u16(v);
    } else if (typeof v === "number" && v >= -(2 ** 31) && v < 2 ** 31) {
      this.out.byte(OP.BININT);
      const b = new Uint8Array(4);
      new DataView(b.buffer).setInt32(0, v, true);
      this.out.bytes(b);
    } else {
      // LONG1: little-endian two's complement, as few bytes as keep the sign
      let x = BigInt(v);
      if (typeof v === "number" && !Number.isSafeInteger(v)) {
        throw new Error(`${this.file}: ${where}: ${v} is not a safe integer (pass a bigint)`);
      }
      const bytes: number[] = [];
      for (;;) {
        const b = Number(x & 0xffn);
        bytes.push(b);
        x >>= 8n;
        if ((x === 0n && (b & 0x80) === 0) || (x === -1n && (b & 0x80) !== 0)) break;
      }
      if (bytes.length > 255) throw new Error(`${this.file}: ${where}: integer too large`);
      this.out.byte(OP.LONG1);
      this.out.byte(bytes.length);
      this.out.bytes(Uint8Array.from(bytes));
    }
  }

  private tuple(items: (() => void)[]): void {
    if (items.length === 0) {
      this.out.byte(OP.EMPTY_TUPLE);
      return;
    }
    if (items.length > 3) this.out.byte(OP.MARK);
    for (const f of items) f();
    this.out.byte(
      items.length === 1
        ? OP.TUPLE1
        : items.length === 2
        ? OP.TUPLE2
        : items.length === 3
        ? OP.TUPLE3
        : OP.TUPLE,
    );
  }

  private tensor(t: TorchTensor, where: string): void {
    const cls = STORAGE_CLASS[t.dtype];
    if (!cls) throw new Error(`${this.file}: ${where}: cannot write dtype ${t.dtype}`);
    const st = t.storage;
    const need = st.numel * TORCH_ELEMENT_SIZE[st.dtype];
    if (st.data().length < need) {
      throw new Error(`${this.file}: ${where}: storage has ${st.data().length} of ${need} bytes`);
    }
    let key = this.storages.get(st);
    if (key === undefined) {
      key = String(this.storages.size);
      this.storages.set(st, key);
    }
    const k = key;
    this.global("torch._utils", "_rebuild_tensor_v2");
    this.out.byte(OP.MARK);
    this.tuple([
      () => this.str("storage"),
      () => this.global("torch", cls),
      () => this.str(k),
      () => this.str("cpu"),
      () => this.int(st.numel, where),
    ]);
    this.out.byte(OP.BINPERSID);
    this.int(t.storageOffset, where);
    this.tuple(t.shape.map((d) => () => this.int(d, where)));
    this.tuple(t.stride.map((d) => () => this.int(d, where)));
    this.out.byte(t.requiresGrad ? OP.NEWTRUE : OP.NEWFALSE);
    this.global("collections", "OrderedDict");
    this.out.byte(OP.EMPTY_TUPLE);
    this.out.byte(OP.REDUCE);
    this.out.byte(OP.TUPLE);
    this.out.byte(OP.REDUCE);
  }

  private dict(entries: [string, TorchSaveValue][], ordered: boolean, where: string): void {
    if (ordered) {
      this.global("collections", "OrderedDict");
      this.out.byte(OP.EMPTY_TUPLE);
      this.out.byte(OP.REDUCE);
    } else this.out.byte(OP.EMPTY_DICT);
    for (let i = 0; i < entries.length; i += 1000) {
      this.out.byte(OP.MARK);
      for (const [k, v] of entries.slice(i, i + 1000)) {
        if (typeof k !== "string") throw new Error(`${this.file}: ${where}: non-string key`);
        this.str(k);
        this.value(v, where === "<root>" ? k : `${where}.${k}`);
      }
      this.out.byte(OP.SETITEMS);
    }
  }

  private value(v: TorchSaveValue, where: string): void {
    if (v instanceof TorchTensor) this.tensor(v, where);
    else if (v instanceof Map) {
      const ordered = !(v instanceof PickleDict && v.pyClass === "builtins.dict");
      this.dict([...v.entries()], ordered, where);
      if (v instanceof PickleDict && Object.keys(v.attrs).length) {
        // attributes (e.g. a state dict's `_metadata`) as BUILD state, as pickle does
        this.dict(Object.entries(v.attrs) as [string, TorchSaveValue][], false, where);
        this.out.byte(OP.BUILD);
      }
    } else if (Array.isArray(v)) {
      this.out.byte(OP.EMPTY_LIST);
      if (v.length) {
        this.out.byte(OP.MARK);
        v.forEach((x, i) => this.value(x, `${where}[${i}]`));
        this.out.byte(OP.APPENDS);
      }
    } else if (v === null) this.out.byte(OP.NONE);
    else if (typeof v === "boolean") this.out.byte(v ? OP.NEWTRUE : OP.NEWFALSE);
    else if (typeof v === "string") this.str(v);
    else if (typeof v === "bigint") this.int(v, where);
    else if (typeof v === "number") {
      if (Number.isInteger(v)) this.int(v, where);
      else {
        this.out.byte(OP.BINFLOAT);
        const b = new Uint8Array(8);
        new DataView(b.buffer).setFloat64(0, v, false); // big-endian, as pickle's BINFLOAT
        this.out.bytes(b);
      }
    } else if (typeof v === "object") this.dict(Object.entries(v), false, where);
    else throw new Error(`${this.file}: ${where}: cannot pickle ${typeof v}`);
  }
}

/** An entry of {@link storedZip}. */
interface ZipEntry {
  name: string;
  data: Uint8Array;
}

const ZIP_ALIGN = 64;

/**
 * An uncompressed zip archive whose entries' data start at multiples of 64 bytes (the padding
 * is a `FB` extra field of the local header, as torch's writer does). No zip64: archives over
 * 4 GiB are refused with an error.
 */
function storedZip(entries: ZipEntry[], file: string): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const central = new ByteSink();
  let pos = 0;
  for (const e of entries) {
    const name = enc.encode(e.name);
    const headerEnd = pos + 30 + name.length;
    let pad = (ZIP_ALIGN - (headerEnd % ZIP_ALIGN)) % ZIP_ALIGN;
    if (pad > 0 && pad < 4) pad += ZIP_ALIGN; // the extra field needs 4 header bytes
    const crc = crc32(e.data) >>> 0;
    if (pos + 30 + name.length + pad + e.data.length >= 2 ** 32) {
      throw new Error(`${file}: checkpoint over 4 GiB (zip64 is not written)`);
    }
    const local = new ByteSink();
    local.u32(0x04034b50);
    local.u16(20); // version needed: 2.0
    local.u16(0x0800); // flags: UTF-8 names
    local.u16(0); // stored
    local.u16(0); // time
    local.u16(0x21); // date: 1980-01-01
    local.u32(crc);
    local.u32(e.data.length);
    local.u32(e.data.length);
    local.u16(name.length);
    local.u16(pad);
    local.bytes(name);
    if (pad) {
      local.u16(0x4246); // "FB"
      local.u16(pad - 4);
      local.bytes(new Uint8Array(pad - 4).fill(0x5a)); // "Z", as torch
    }
    const header = local.result();
    parts.push(header, e.data);
    central.u32(0x02014b50);
    central.u16(20); // version made by
    central.u16(20);
    central.u16(0x0800);
    central.u16(0);
    central.u16(0);
    central.u16(0x21);
    central.u32(crc);
    central.u32(e.data.length);
    central.u32(e.data.length);
    central.u16(name.length);
    central.u16(0); // extra
    central.u16(0); // comment
    central.u16(0); // disk
    central.u16(0); // internal attributes
    central.u32(0); // external attributes
    central.u32(pos);
    central.bytes(name);
    pos += header.length + e.data.length;
  }
  const cd = central.result();
  if (entries.length > 0xffff || pos + cd.length + 22 >= 2 ** 32) {
    throw new Error(`${file}: checkpoint too large for a zip without zip64`);
  }
  const end = new ByteSink();
  end.u32(0x06054b50);
  end.u16(0);
  end.u16(0);
  end.u16(entries.length);
  end.u16(entries.length);
  end.u32(cd.length);
  end.u32(pos);
  end.u16(0);
  parts.push(cd, end.result());
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * The bytes of `torch.save(value, f)` (zip format): see the module documentation. Tensors
 * sharing a {@link TorchStorage} share it in the file, as in PyTorch.
 * @throws Error naming the file and the entry for values that cannot be written
 */
export function encodeTorchCheckpoint(
  value: TorchSaveValue,
  options: TorchSaveOptions = {},
): Uint8Array {
  const file = options.file ?? "checkpoint";
  const name = options.archiveName ?? "archive";
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`${file}: bad archive name ${name}`);
  const p = new TorchPickler(file);
  const pkl = p.dump(value);
  const entries: ZipEntry[] = [
    { name: `${name}/data.pkl`, data: pkl },
    { name: `${name}/byteorder`, data: new TextEncoder().encode("little") },
  ];
  for (const [st, key] of p.storages) {
    const n = st.numel * TORCH_ELEMENT_SIZE[st.dtype];
    entries.push({ name: `${name}/data/${key}`, data: st.data().subarray(0, n) });
  }
  entries.push({ name: `${name}/version`, data: new TextEncoder().encode("3\n") });
  return storedZip(entries, file);
}

/**
 * Write `value` as a PyTorch checkpoint to `file` (atomically: temp file + fsync + rename), e.g.
 * `new Map([["model_state_dict", sd], ["fc_state_dict", fc]])`. The archive folder is named
 * after the file's stem, as `torch.save` does.
 */
export async function writeTorchCheckpoint(file: string, value: TorchSaveValue): Promise<void> {
  const stem = (file.split(/[\\/]/).pop() ?? "archive").replace(/\.[^.]*$/, "")
    .replace(/[^A-Za-z0-9_.-]/g, "_") || "archive";
  await writeBytesAtomic(file, encodeTorchCheckpoint(value, { archiveName: stem, file }));
}
