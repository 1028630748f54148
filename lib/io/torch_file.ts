/**
 * Reading PyTorch checkpoints without Python: zip archives (`torch.save` since PyTorch 1.6) and
 * the legacy non-zip format (magic number + pickles + raw storages), through the restricted
 * unpickler. Errors name the file.
 *
 * @module
 */
import { unzipSync } from "fflate";
import { PickleDict, PickleError, unpickle } from "./pickle.ts";
import { type StorageTypeGlobal, torchSafeGlobals } from "./torch_globals.ts";
import { TORCH_ELEMENT_SIZE, TorchStorage } from "./torch_tensor.ts";

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

function storageFromPid(
  pid: unknown,
  file: string,
  storages: Map<string, TorchStorage>,
): { root: TorchStorage; view: [string, number, number] | null } {
  if (!Array.isArray(pid) || pid[0] !== "storage" || pid.length < 5) {
    throw new PickleError(
      `${file}: unsupported persistent id ${JSON.stringify(Array.isArray(pid) ? pid[0] : pid)}`,
    );
  }
  const st = pid[1] as StorageTypeGlobal;
  if (!st || typeof st.storageDtype !== "string") {
    throw new PickleError(`${file}: persistent id without a storage class`);
  }
  const key = String(pid[2]);
  const numel = Number(pid[4]);
  if (!Number.isSafeInteger(numel) || numel < 0) {
    throw new PickleError(`${file}: storage ${key} declares ${pid[4]} elements (corrupt?)`);
  }
  let root = storages.get(key);
  if (!root) {
    root = new TorchStorage(st.storageDtype, key, numel, file);
    storages.set(key, root);
  }
  const vm = pid[5];
  return {
    root,
    view: Array.isArray(vm) ? [String(vm[0]), Number(vm[1]), Number(vm[2])] : null,
  };
}

/** Largest `data.pkl` read (the pickle of a state dict is a few hundred kB). */
export const MAX_PICKLE_BYTES = 256 * 1024 ** 2;

/** A zip member as the central directory declares it. */
interface ZipMember {
  name: string;
  compression: number;
  size: number;
  originalSize: number;
}

/** Decompress (or copy) one member; `cap` bounds the memory it may take. */
function extractMember(bytes: Uint8Array, file: string, m: ZipMember, cap: number): Uint8Array {
  if (m.originalSize > cap) {
    throw new Error(
      `${file}: archive member ${m.name} declares ${m.originalSize} bytes, more than the ` +
        `${cap} it may hold (corrupt or crafted file?)`,
    );
  }
  try {
    // fflate inflates into a buffer of the declared size: a member cannot take more memory
    return unzipSync(bytes, { filter: (f) => f.name === m.name })[m.name];
  } catch (e) {
    throw new Error(
      `${file}: archive member ${m.name} is not readable (truncated or corrupt?): ${
        (e as Error).message
      }`,
    );
  }
}

/**
 * Parse a zip checkpoint (`<name>/data.pkl` + `<name>/data/<key>`): only `data.pkl` and the
 * storages its pickle references are decompressed, each capped by its declared size (a storage
 * by its element count); other members are never touched.
 */
function parseZip(bytes: Uint8Array, file: string): unknown {
  const members = new Map<string, ZipMember>();
  try {
    unzipSync(bytes, {
      filter: (f) => {
        members.set(f.name, { ...f });
        return false; // list only
      },
    });
  } catch (e) {
    throw new Error(
      `${file}: not a readable PyTorch zip checkpoint (truncated or corrupt?): ${
        (e as Error).message
      }`,
    );
  }
  const names = [...members.keys()];
  const pkl = names.find((n) => /^[^/]+\/data\.pkl$/.test(n)) ??
    names.find((n) => n.endsWith("data.pkl"));
  if (!pkl) throw new Error(`${file}: zip archive without data.pkl (not a torch.save file?)`);
  const prefix = pkl.slice(0, -"data.pkl".length);
  const storages = new Map<string, TorchStorage>();
  const { value } = unpickle(extractMember(bytes, file, members.get(pkl)!, MAX_PICKLE_BYTES), {
    globals: torchSafeGlobals(),
    source: `${file}:${pkl}`,
    persistentLoad: (pid) => storageFromPid(pid, file, storages).root,
  });
  // the storages the pickle referenced, and nothing else
  for (const root of storages.values()) {
    const name = `${prefix}data/${root.key}`;
    const m = members.get(name);
    if (!m) throw new Error(`${file}: archive member ${name} is missing`);
    const need = root.numel * TORCH_ELEMENT_SIZE[root.dtype];
    if (m.originalSize < need) {
      throw new Error(
        `${file}: ${name} has ${m.originalSize} bytes, expected ${need} (truncated?)`,
      );
    }
    const b = extractMember(bytes, file, m, need);
    if (b.length < need) {
      throw new Error(`${file}: ${name} has ${b.length} bytes, expected ${need} (truncated?)`);
    }
    root.bytes = b;
  }
  return value;
}

/** Parse a legacy (pre-1.6, non-zip) checkpoint. */
function parseLegacy(bytes: Uint8Array, file: string): unknown {
  const globals = torchSafeGlobals();
  let pos = 0;
  const next = (what: string, persistentLoad?: (pid: unknown) => unknown) => {
    const r = unpickle(bytes, { globals, source: `${file} (${what})`, persistentLoad }, pos);
    pos = r.end;
    return r.value;
  };
  const magic = next("magic number");
  if (magic !== LEGACY_MAGIC) {
    throw new Error(`${file}: not a PyTorch checkpoint (bad magic number)`);
  }
  const proto = next("protocol version");
  if (proto !== 1001) throw new Error(`${file}: unsupported legacy protocol version ${proto}`);
  const sysInfo = next("sys info");
  if (sysInfo instanceof PickleDict && sysInfo.get("little_endian") === false) {
    throw new Error(`${file}: big-endian checkpoints are not supported`);
  }
  const storages = new Map<string, TorchStorage>();
  const views: [TorchStorage, TorchStorage, number][] = [];
  const viewByKey = new Map<string, TorchStorage>();
  const value = next("object", (pid) => {
    const { root, view } = storageFromPid(pid, file, storages);
    if (!view) return root;
    const [vkey, offset, size] = view;
    let v = viewByKey.get(vkey);
    if (!v) {
      v = new TorchStorage(root.dtype, vkey, size, file);
      viewByKey.set(vkey, v);
      views.push([v, root, offset]);
    }
    return v;
  });
  const keys = next("storage keys");
  if (!Array.isArray(keys)) throw new Error(`${file}: storage key list is missing`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const k of keys) {
    const s = storages.get(String(k));
    if (!s) throw new Error(`${file}: storage ${k} listed but never referenced`);
    if (pos + 8 > bytes.length) {
      throw new Error(`${file}: file ends before storage ${k} (truncated?)`);
    }
    const numel = Number(dv.getBigInt64(pos, true));
    pos += 8;
    const nb = numel * TORCH_ELEMENT_SIZE[s.dtype];
    if (numel !== s.numel) {
      throw new Error(
        `${file}: storage ${k} has ${numel} elements, ${s.numel} expected (corrupt?)`,
      );
    }
    if (pos + nb > bytes.length) {
      throw new Error(
        `${file}: file ends inside storage ${k} (${bytes.length - pos} of ${nb} bytes; truncated?)`,
      );
    }
    s.bytes = bytes.subarray(pos, pos + nb);
    pos += nb;
  }
  for (const [v, root, offset] of views) {
    const es = TORCH_ELEMENT_SIZE[root.dtype];
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + v.numel > root.numel) {
      throw new Error(
        `${file}: storage view ${v.key} [${offset}, +${v.numel}] exceeds storage ${root.key} ` +
          `of ${root.numel} elements (corrupt?)`,
      );
    }
    v.bytes = root.data().subarray(offset * es, (offset + v.numel) * es);
  }
  return value;
}

/**
 * Parse the bytes of a `.pth`/`.pt` file (zip or legacy format) into plain values: dicts are
 * {@link PickleDict}s, tensors `TorchTensor`s. Only state-dict globals are allowed.
 */
export function parseTorchCheckpoint(bytes: Uint8Array, file = "<bytes>"): unknown {
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03) {
    return parseZip(bytes, file);
  }
  if (bytes.length > 262 && new TextDecoder().decode(bytes.subarray(257, 262)) === "ustar") {
    throw new Error(`${file}: tar-format checkpoint (PyTorch < 0.4) is not supported`);
  }
  if (bytes.length >= 2 && bytes[0] === 0x80) return parseLegacy(bytes, file);
  throw new Error(`${file}: not a PyTorch checkpoint (neither zip nor legacy pickle format)`);
}

/** Read and parse a PyTorch checkpoint file (see {@link parseTorchCheckpoint}). */
export async function readTorchCheckpoint(file: string): Promise<unknown> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(file);
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
  return parseTorchCheckpoint(bytes, file);
}
