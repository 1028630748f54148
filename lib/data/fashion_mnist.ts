/**
 * Fashion-MNIST from its IDX files (gzipped or not), e.g. as Debian's `dataset-fashion-mnist`
 * installs them in `/usr/share/datasets/fashion-mnist`: a real public dataset for noisy-label
 * experiments that needs no registration.
 *
 * @module
 */
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { FASHION_MNIST_CLASSES } from "./classes.ts";
import { allocPixels, type ImageDataset } from "./dataset.ts";
import { DataError } from "./errors.ts";

/** Where Debian's `dataset-fashion-mnist` puts the files. */
export const FASHION_MNIST_DEBIAN_DIR = "/usr/share/datasets/fashion-mnist";

/** A parsed IDX array of unsigned bytes. */
export interface IdxArray {
  /** Dimensions, e.g. [60000, 28, 28]. */
  shape: number[];
  /** The values, row-major. */
  data: Uint8Array;
}

/**
 * Parses IDX bytes (type 0x08 = unsigned byte only).
 * @throws DataError naming `file` for a bad magic number, an unsupported type or a truncated file
 */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = new Uint8Array(gunzipSync(bytes));
    } catch (e) {
      throw new DataError(file, `corrupt gzip data: ${(e as Error).message}`);
    }
  }
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataError(file, "not an IDX file (bad magic number)");
  }
  if (bytes[2] !== 0x08) {
    throw new DataError(
      file,
      `IDX element type 0x${bytes[2].toString(16)} unsupported (need 0x08, ubyte)`,
    );
  }
  const ndim = bytes[3];
  const head = 4 + 4 * ndim;
  if (ndim === 0 || bytes.length < head) throw new DataError(file, "truncated IDX header");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let d = 0; d < ndim; d++) shape.push(dv.getUint32(4 + 4 * d, false));
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.length - head !== count) {
    throw new DataError(
      file,
      `IDX shape [${shape}] needs ${count} bytes of data, file has ${bytes.length - head}`,
    );
  }
  return { shape, data: bytes.subarray(head) };
}

async function readIdxFile(dir: string, base: string): Promise<IdxArray> {
  for (const name of [`${base}.gz`, base]) {
    const path = join(dir, name);
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue;
      throw new DataError(path, (e as Error).message);
    }
    return parseIdx(bytes, path);
  }
  throw new DataError(
    join(dir, `${base}.gz`),
    `file not found (nor ${base}); install Debian's dataset-fashion-mnist or pass dir`,
  );
}

/** Options of {@link loadFashionMnist}. */
export interface FashionMnistOptions {
  /** `train` (60,000) or `test` (10,000). */
  split: "train" | "test";
  /** Folder holding the IDX files (default: Debian's). */
  dir?: string;
  /** Skip the first `offset` samples (default 0): a split disjoint from another's first ones. */
  offset?: number;
  /** Keep only the first `limit` samples (after `offset`). */
  limit?: number;
}

/**
 * Loads a Fashion-MNIST split as a 28 × 28 grey {@link ImageDataset}.
 * @throws DataError naming the file for a missing/corrupt file or mismatched image/label counts
 */
export async function loadFashionMnist(o: FashionMnistOptions): Promise<ImageDataset> {
  const dir = o.dir ?? FASHION_MNIST_DEBIAN_DIR;
  const prefix = o.split === "train" ? "train" : "t10k";
  const imgName = `${prefix}-images-idx3-ubyte`, lblName = `${prefix}-labels-idx1-ubyte`;
  const images = await readIdxFile(dir, imgName);
  const labels = await readIdxFile(dir, lblName);
  const imgPath = join(dir, imgName);
  if (images.shape.length !== 3) {
    throw new DataError(imgPath, `expected 3 dimensions, got [${images.shape}]`);
  }
  if (labels.shape.length !== 1) {
    throw new DataError(join(dir, lblName), `expected 1 dimension, got [${labels.shape}]`);
  }
  if (images.shape[0] !== labels.shape[0]) {
    throw new DataError(
      imgPath,
      `${images.shape[0]} images but ${labels.shape[0]} labels in ${lblName}`,
    );
  }
  const off = o.offset ?? 0;
  if (!Number.isInteger(off) || off < 0 || off >= images.shape[0]) {
    throw new DataError(
      imgPath,
      `offset ${off} is not a sample index (0-${images.shape[0] - 1} in ${imgName})`,
    );
  }
  const n = Math.min(images.shape[0] - off, o.limit ?? Infinity);
  if (n === 0) throw new DataError(imgPath, "no images (empty split)");
  const [, h, w] = images.shape;
  const lab = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = labels.data[off + i];
    if (v >= FASHION_MNIST_CLASSES.length) {
      throw new DataError(
        join(dir, lblName),
        `label ${v} of sample ${off + i} out of range 0-9 (byte ${8 + off + i})`,
      );
    }
    lab[i] = v;
  }
  const pixels = allocPixels(n * h * w);
  pixels.set(images.data.subarray(off * h * w, (off + n) * h * w));
  return {
    pixels,
    n,
    height: h,
    width: w,
    channels: 1,
    labels: lab,
    classNames: [...FASHION_MNIST_CLASSES],
    fileNames: Array.from(
      { length: n },
      (_, i) => `${prefix}_${String(off + i).padStart(5, "0")}`,
    ),
    source: `Fashion-MNIST ${dir} ${o.split}${off ? ` from sample ${off}` : ""}`,
  };
}
