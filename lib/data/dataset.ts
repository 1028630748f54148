/**
 * The one in-memory dataset type that every source produces (SynthFER, Fashion-MNIST, RAF-DB and
 * folder datasets after decoding, the prepared-dataset cache), so the trainer has one input type.
 *
 * @module
 */

/** Per-sample numeric side information (e.g. SynthFER's blend class and weight). */
export type SampleExtra = Record<string, Int32Array | Float32Array>;

/** Decoded images of equal size kept as compact uint8 pixels, plus labels. */
export interface ImageDataset {
  /** `n·height·width·channels` bytes: image i starts at `i·height·width·channels`, HWC order. */
  pixels: Uint8Array;
  /** Number of images. */
  n: number;
  /** Image height in pixels. */
  height: number;
  /** Image width in pixels. */
  width: number;
  /** 1 (grey) or 3 (RGB). */
  channels: number;
  /** Training labels 0..classNames.length-1 (noisy when label noise is applied). */
  labels: Int32Array;
  /** True labels when `labels` may be noisy; absent when labels are taken as clean. */
  cleanLabels?: Int32Array;
  /** Class names, index = label. */
  classNames: string[];
  /** Per-sample file name (or a generated name), for reports. */
  fileNames: string[];
  /** Per-sample side information (same length n). */
  extra?: SampleExtra;
  /** Human-readable description of where the data came from. */
  source: string;
}

/**
 * Allocates `bytes` zeroed bytes backed by a SharedArrayBuffer when available, so that batch
 * workers can read the pixels without a copy.
 */
export function allocPixels(bytes: number): Uint8Array {
  if (typeof SharedArrayBuffer !== "undefined") return new Uint8Array(new SharedArrayBuffer(bytes));
  return new Uint8Array(bytes);
}

/** Bytes per image of a dataset. */
export function imageBytes(ds: Pick<ImageDataset, "height" | "width" | "channels">): number {
  return ds.height * ds.width * ds.channels;
}

/** A view (no copy) of image `i`'s pixels. */
export function imageAt(ds: ImageDataset, i: number): Uint8Array {
  const b = imageBytes(ds);
  return ds.pixels.subarray(i * b, (i + 1) * b);
}

/**
 * Checks the internal consistency of a dataset (array lengths, label range) and returns it.
 * @throws Error naming the inconsistent field
 */
export function validateDataset(ds: ImageDataset): ImageDataset {
  const where = `dataset (${ds.source})`;
  if (ds.channels !== 1 && ds.channels !== 3) {
    throw new Error(`${where}: channels must be 1 or 3, got ${ds.channels}`);
  }
  if (ds.pixels.length !== ds.n * imageBytes(ds)) {
    throw new Error(
      `${where}: pixels has ${ds.pixels.length} bytes, expected ${ds.n * imageBytes(ds)}`,
    );
  }
  if (ds.labels.length !== ds.n) {
    throw new Error(`${where}: ${ds.labels.length} labels for ${ds.n} images`);
  }
  if (ds.cleanLabels && ds.cleanLabels.length !== ds.n) {
    throw new Error(`${where}: ${ds.cleanLabels.length} clean labels for ${ds.n} images`);
  }
  if (ds.fileNames.length !== ds.n) {
    throw new Error(`${where}: ${ds.fileNames.length} file names for ${ds.n} images`);
  }
  const k = ds.classNames.length;
  for (const arr of [ds.labels, ds.cleanLabels]) {
    if (!arr) continue;
    for (let i = 0; i < arr.length; i++) {
      if (!(arr[i] >= 0 && arr[i] < k)) {
        throw new Error(
          `${where}: sample ${i} (${ds.fileNames[i]}) has label ${arr[i]} outside 0-${k - 1}`,
        );
      }
    }
  }
  for (const [key, v] of Object.entries(ds.extra ?? {})) {
    if (v.length !== ds.n) {
      throw new Error(`${where}: extra.${key} has ${v.length} values for ${ds.n}`);
    }
  }
  return ds;
}

/** A new dataset holding copies of the samples at `indices`, in that order. */
export function subsetDataset(ds: ImageDataset, indices: ArrayLike<number>): ImageDataset {
  const b = imageBytes(ds);
  const m = indices.length;
  const pixels = allocPixels(m * b);
  const labels = new Int32Array(m);
  const clean = ds.cleanLabels ? new Int32Array(m) : undefined;
  const fileNames: string[] = new Array(m);
  const extra: SampleExtra = {};
  for (const [key, v] of Object.entries(ds.extra ?? {})) {
    extra[key] = v instanceof Int32Array ? new Int32Array(m) : new Float32Array(m);
  }
  for (let j = 0; j < m; j++) {
    const i = indices[j];
    if (!(i >= 0 && i < ds.n)) throw new Error(`subsetDataset: index ${i} outside 0-${ds.n - 1}`);
    pixels.set(ds.pixels.subarray(i * b, (i + 1) * b), j * b);
    labels[j] = ds.labels[i];
    if (clean) clean[j] = ds.cleanLabels![i];
    fileNames[j] = ds.fileNames[i];
    for (const [key, v] of Object.entries(ds.extra ?? {})) extra[key][j] = v[i];
  }
  return {
    ...ds,
    pixels,
    n: m,
    labels,
    cleanLabels: clean,
    fileNames,
    extra: ds.extra ? extra : undefined,
  };
}

/** Number of samples per class of `labels` (length `numClasses`). */
export function classCounts(labels: ArrayLike<number>, numClasses: number): number[] {
  const c = new Array(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) c[labels[i]]++;
  return c;
}

/**
 * Number of images of `a` whose pixels are identical to an image of one of `others` (compared
 * exactly, byte for byte, through a set keyed by the pixels as text: no hash collisions to argue
 * about). A disjointness check for pretraining data.
 */
export function identicalImageCount(a: ImageDataset, others: readonly ImageDataset[]): number {
  // WHATWG's latin1 (windows-1252) decoder maps each of the 256 bytes to its own code point, so
  // two images give the same text exactly when their bytes are equal.
  const dec = new TextDecoder("latin1");
  const key = (ds: ImageDataset, i: number) => dec.decode(imageAt(ds, i));
  const seen = new Set<string>();
  for (const o of others) for (let i = 0; i < o.n; i++) seen.add(key(o, i));
  let n = 0;
  for (let i = 0; i < a.n; i++) if (seen.has(key(a, i))) n++;
  return n;
}
