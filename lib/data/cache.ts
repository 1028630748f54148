/**
 * Prepared-dataset cache: an {@link ImageDataset} stored as one raw uint8 pixel file
 * (`<base>.u8`, n·h·w·c bytes) plus a JSON manifest (`<base>.json`: sizes, labels, clean labels,
 * file names, class names, per-sample extras, a key describing how it was made). Both are written
 * atomically, pixels first, so a manifest always describes a complete pixel file. Loading is one
 * read straight into shared memory (usable by batch workers without a copy).
 *
 * @module
 */
import { dirname } from "node:path";
import { allocPixels, type ImageDataset, type SampleExtra, validateDataset } from "./dataset.ts";
import { DataError } from "./errors.ts";
import { writeFileAtomic } from "../io/atomic_write.ts";

const FORMAT = "rul-dataset-cache";
const VERSION = 1;

/** The JSON manifest beside the pixel file. */
export interface CacheManifest {
  /** Always "rul-dataset-cache". */
  format: string;
  /** Format version (1). */
  version: number;
  /** Free-form key (e.g. source + size); {@link cachedDataset} rebuilds when it differs. */
  key: string;
  /** Number of images. */
  n: number;
  /** Image height. */
  height: number;
  /** Image width. */
  width: number;
  /** Channels (1 or 3). */
  channels: number;
  /** Bytes of the pixel file. */
  bytes: number;
  /** FNV-1a 32-bit hash of the pixels (checked with `verify`). */
  fnv1a: number;
  /** Class names. */
  classNames: string[];
  /** Labels (0-based). */
  labels: number[];
  /** Clean labels, when present. */
  cleanLabels?: number[];
  /** File names. */
  fileNames: string[];
  /** Per-sample extras with their element type. */
  extra?: Record<string, { type: "int32" | "float32"; values: number[] }>;
  /** Source description. */
  source: string;
}

/** FNV-1a 32-bit hash of bytes. */
export function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}

/** The two file paths of a cache base path. */
export function cachePaths(base: string): { pixels: string; manifest: string } {
  return { pixels: `${base}.u8`, manifest: `${base}.json` };
}

/** Writes a dataset cache at `base` (`base.u8` + `base.json`), atomically. */
export async function saveDatasetCache(ds: ImageDataset, base: string, key = ""): Promise<void> {
  validateDataset(ds);
  const p = cachePaths(base);
  await Deno.mkdir(dirname(p.pixels), { recursive: true });
  const extra: CacheManifest["extra"] = {};
  for (const [k, v] of Object.entries(ds.extra ?? {})) {
    extra[k] = { type: v instanceof Int32Array ? "int32" : "float32", values: Array.from(v) };
  }
  const m: CacheManifest = {
    format: FORMAT,
    version: VERSION,
    key,
    n: ds.n,
    height: ds.height,
    width: ds.width,
    channels: ds.channels,
    bytes: ds.pixels.length,
    fnv1a: fnv1a(ds.pixels),
    classNames: ds.classNames,
    labels: Array.from(ds.labels),
    cleanLabels: ds.cleanLabels ? Array.from(ds.cleanLabels) : undefined,
    fileNames: ds.fileNames,
    extra: ds.extra ? extra : undefined,
    source: ds.source,
  };
  // A SharedArrayBuffer-backed view cannot be handed to Deno.writeFile directly in all versions.
  const bytes = ds.pixels.buffer instanceof ArrayBuffer ? ds.pixels : new Uint8Array(ds.pixels);
  await writeFileAtomic(p.pixels, bytes);
  await writeFileAtomic(p.manifest, JSON.stringify(m));
}

/** Reads just the manifest of a cache (undefined when absent). */
export async function readCacheManifest(base: string): Promise<CacheManifest | undefined> {
  const p = cachePaths(base);
  let text: string;
  try {
    text = await Deno.readTextFile(p.manifest);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw new DataError(p.manifest, (e as Error).message);
  }
  let m: CacheManifest;
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw new DataError(p.manifest, `corrupt manifest: ${(e as Error).message}`);
  }
  if (m.format !== FORMAT || m.version !== VERSION) {
    throw new DataError(p.manifest, `not a ${FORMAT} v${VERSION} manifest`);
  }
  return m;
}

/** Options of {@link loadDatasetCache}. */
export interface LoadCacheOptions {
  /** Recompute the pixel hash and compare with the manifest (slower). */
  verify?: boolean;
}

/**
 * Loads a dataset cache written by {@link saveDatasetCache}: one read of the pixel file.
 * @throws DataError naming the file when either file is missing, the sizes disagree or (with
 *   verify) the hash differs
 */
export async function loadDatasetCache(
  base: string,
  o: LoadCacheOptions = {},
): Promise<ImageDataset> {
  const p = cachePaths(base);
  const m = await readCacheManifest(base);
  if (!m) throw new DataError(p.manifest, "cache manifest not found");
  const pixels = allocPixels(m.bytes);
  let f: Deno.FsFile;
  try {
    f = await Deno.open(p.pixels, { read: true });
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "cache pixel file not found"
      : (e as Error).message;
    throw new DataError(p.pixels, why);
  }
  try {
    const size = (await f.stat()).size;
    if (size !== m.bytes) {
      throw new DataError(p.pixels, `has ${size} bytes, manifest says ${m.bytes}`);
    }
    let off = 0;
    while (off < m.bytes) {
      const r = await f.read(pixels.subarray(off));
      if (r === null) break;
      off += r;
    }
    if (off !== m.bytes) throw new DataError(p.pixels, `short read: ${off} of ${m.bytes} bytes`);
  } finally {
    f.close();
  }
  if (o.verify && fnv1a(pixels) !== m.fnv1a) {
    throw new DataError(p.pixels, "pixel hash differs from the manifest");
  }
  let extra: SampleExtra | undefined;
  if (m.extra) {
    extra = {};
    for (const [k, v] of Object.entries(m.extra)) {
      extra[k] = v.type === "int32" ? Int32Array.from(v.values) : Float32Array.from(v.values);
    }
  }
  const ds: ImageDataset = {
    pixels,
    n: m.n,
    height: m.height,
    width: m.width,
    channels: m.channels,
    labels: Int32Array.from(m.labels),
    cleanLabels: m.cleanLabels ? Int32Array.from(m.cleanLabels) : undefined,
    classNames: m.classNames,
    fileNames: m.fileNames,
    extra,
    source: m.source,
  };
  try {
    return validateDataset(ds);
  } catch (e) {
    throw new DataError(p.manifest, (e as Error).message);
  }
}

/**
 * Loads the cache at `base` if its manifest exists with the same `key`, else builds the dataset
 * with `build()`, saves it there and returns it (decode once, load fast afterwards).
 */
export async function cachedDataset(
  base: string,
  key: string,
  build: () => Promise<ImageDataset>,
): Promise<ImageDataset> {
  const m = await readCacheManifest(base).catch(() => undefined);
  if (m && m.key === key) {
    try {
      return await loadDatasetCache(base);
    } catch { /* rebuild below */ }
  }
  const ds = await build();
  await saveDatasetCache(ds, base, key);
  return ds;
}
