/**
 * The official RUL train/test transforms on typed arrays (no tensors, usable in a worker).
 *
 * Train (official `RafDataset.__getitem__` + torchvision pipeline), per image:
 * 1. with probability 0.5 (`uniform(0,1) > 0.5`) apply one of {horizontal flip, Gaussian noise of
 *    variance 30 on the 0-255 scale then clip and truncate to uint8}, chosen uniformly, on the
 *    source-size uint8 image;
 * 2. resize to the model size (Pillow bilinear, {@link resizeBilinear});
 * 3. scale to [0, 1] and normalise with the ImageNet mean/std;
 * 4. RandomErasing (p 0.5, scale 0.02-0.25, ratio 0.3-3.3, value 0; torchvision semantics).
 *
 * Test: resize, scale, normalise.
 *
 * @module
 */
import type { Rng } from "../random.ts";
import { resizeBilinear } from "./resize.ts";

/** ImageNet channel means (RGB), on the [0, 1] scale. */
export const IMAGENET_MEAN: readonly number[] = Object.freeze([0.485, 0.456, 0.406]);
/** ImageNet channel standard deviations (RGB), on the [0, 1] scale. */
export const IMAGENET_STD: readonly number[] = Object.freeze([0.229, 0.224, 0.225]);

/** Mirrors a uint8 HWC image left-right into `out` (may not alias `src`); returns `out`. */
export function horizontalFlip(
  src: Uint8Array,
  h: number,
  w: number,
  c: number,
  out: Uint8Array = new Uint8Array(src.length),
): Uint8Array {
  for (let y = 0; y < h; y++) {
    const row = y * w * c;
    for (let x = 0; x < w; x++) {
      const a = row + x * c, b = row + (w - 1 - x) * c;
      for (let k = 0; k < c; k++) out[a + k] = src[b + k];
    }
  }
  return out;
}

/**
 * Adds Gaussian noise (mean 0, variance `variance` on the 0-255 scale), clips to [0, 255] and
 * truncates to uint8 like the official `np.clip(img + noise, 0, 255).astype(np.uint8)`.
 * Writes into `out` (may alias `src`) and returns it.
 */
export function gaussianNoise(
  src: Uint8Array,
  rng: Rng,
  variance = 30,
  out: Uint8Array = new Uint8Array(src.length),
): Uint8Array {
  const sd = Math.sqrt(variance);
  for (let i = 0; i < src.length; i++) {
    const v = src[i] + sd * rng.normal();
    out[i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v);
  }
  return out;
}

/**
 * Converts a uint8 HWC image to float32 `(v/255 − mean)/std` per channel, written at
 * `out[offset..]`. A grey image (c = 1) is replicated to `outChannels` = 3 channels when asked.
 */
export function normalizeInto(
  src: Uint8Array,
  c: number,
  out: Float32Array,
  offset = 0,
  mean: readonly number[] = IMAGENET_MEAN,
  std: readonly number[] = IMAGENET_STD,
  outChannels = c,
): void {
  if (outChannels !== c && !(c === 1 && outChannels === 3)) {
    throw new Error(`normalizeInto: cannot map ${c} channels to ${outChannels}`);
  }
  // Per-channel lookup tables: 256 entries, one multiply-free pass over the pixels.
  const luts: Float32Array[] = [];
  for (let k = 0; k < outChannels; k++) {
    const lut = new Float32Array(256);
    for (let v = 0; v < 256; v++) lut[v] = (v / 255 - mean[k]) / std[k];
    luts.push(lut);
  }
  const px = src.length / c;
  if (c === outChannels) {
    for (let p = 0, i = 0; p < px; p++) {
      for (let k = 0; k < c; k++, i++) out[offset + i] = luts[k][src[i]];
    }
  } else {
    for (let p = 0; p < px; p++) {
      const v = src[p];
      for (let k = 0; k < 3; k++) out[offset + p * 3 + k] = luts[k][v];
    }
  }
}

/** Python's round(): half to even (torchvision's `int(round(...))`). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** RandomErasing options (torchvision names and defaults as used by RUL). */
export interface ErasingOptions {
  /** Probability of erasing (0.5). */
  p?: number;
  /** Range of the erased area as a fraction of the image (0.02, 0.25). */
  scale?: [number, number];
  /** Range of the aspect ratio h/w, sampled log-uniformly (0.3, 3.3). */
  ratio?: [number, number];
  /** Fill value, in the normalised space (0). */
  value?: number;
}

/** The rectangle RandomErasing chose (`null` when it did not erase). */
export interface EraseBox {
  /** Top row. */
  i: number;
  /** Left column. */
  j: number;
  /** Height. */
  h: number;
  /** Width. */
  w: number;
}

/**
 * Draws RandomErasing's rectangle with torchvision semantics: with probability p, up to 10
 * attempts of area = A·U(scale), ratio = exp(U(log r0, log r1)), h = round(√(area·ratio)),
 * w = round(√(area/ratio)), accepted if h < H and w < W, then top-left uniform.
 */
export function sampleErasing(
  H: number,
  W: number,
  rng: Rng,
  o: ErasingOptions = {},
): EraseBox | null {
  const p = o.p ?? 0.5;
  const [s0, s1] = o.scale ?? [0.02, 0.25];
  const [r0, r1] = o.ratio ?? [0.3, 3.3];
  if (!(rng.next() < p)) return null;
  const area = H * W;
  const l0 = Math.log(r0), l1 = Math.log(r1);
  for (let attempt = 0; attempt < 10; attempt++) {
    const eraseArea = area * rng.uniform(s0, s1);
    const ar = Math.exp(rng.uniform(l0, l1));
    const h = roundHalfEven(Math.sqrt(eraseArea * ar));
    const w = roundHalfEven(Math.sqrt(eraseArea / ar));
    if (!(h < H && w < W)) continue;
    const i = rng.int(H - h + 1);
    const j = rng.int(W - w + 1);
    return { i, j, h, w };
  }
  return null;
}

/**
 * RandomErasing on a float32 HWC image at `out[offset..]`: fills the sampled box with `value`.
 * @returns the box erased, or null
 */
export function randomErasing(
  out: Float32Array,
  offset: number,
  H: number,
  W: number,
  C: number,
  rng: Rng,
  o: ErasingOptions = {},
): EraseBox | null {
  const box = sampleErasing(H, W, rng, o);
  if (!box) return null;
  const v = o.value ?? 0;
  for (let y = box.i; y < box.i + box.h; y++) {
    const a = offset + (y * W + box.j) * C;
    out.fill(v, a, a + box.w * C);
  }
  return box;
}

/** Which of the optional source-level augmentations the train transform applied. */
export type PixelAug = "none" | "flip" | "noise";

/** Options of the train/test transforms. */
export interface TransformOptions {
  /** Output (model) size: height = width. */
  size: number;
  /** Output channels (3; grey sources are replicated). */
  outChannels?: number;
  /** Per-channel mean on the [0, 1] scale (ImageNet). */
  mean?: readonly number[];
  /** Per-channel std on the [0, 1] scale (ImageNet). */
  std?: readonly number[];
  /** Gaussian noise variance on the 0-255 scale (30). */
  noiseVariance?: number;
  /** Probability of applying flip-or-noise (0.5). */
  pixelAugP?: number;
  /** RandomErasing options; `false` disables erasing. */
  erasing?: ErasingOptions | false;
}

/** What the train transform did to one image (for tests and inspection). */
export interface TransformTrace {
  /** Flip, noise or none. */
  pixel: PixelAug;
  /** The erased rectangle, if any. */
  erase: EraseBox | null;
}

/**
 * Test transform: resize to `o.size` and normalise, written to `out[offset..]`
 * (`size·size·outChannels` floats). `scratch` (optional) avoids an allocation for the resize.
 */
export function testTransform(
  src: Uint8Array,
  h: number,
  w: number,
  c: number,
  o: TransformOptions,
  out: Float32Array,
  offset = 0,
  scratch?: Uint8Array,
): void {
  const buf = scratch && scratch.length === o.size * o.size * c ? scratch : undefined;
  const r = resizeBilinear(src, h, w, c, o.size, o.size, buf);
  normalizeInto(r, c, out, offset, o.mean, o.std, o.outChannels ?? Math.max(c, 3));
}

/**
 * Official train transform (see the module doc), written to `out[offset..]`.
 * Random draws, in order: one uniform for "augment?", one integer for flip/noise, the noise
 * normals, then RandomErasing's draws.
 */
export function trainTransform(
  src: Uint8Array,
  h: number,
  w: number,
  c: number,
  o: TransformOptions,
  rng: Rng,
  out: Float32Array,
  offset = 0,
): TransformTrace {
  let img = src;
  let pixel: PixelAug = "none";
  if (rng.next() > 1 - (o.pixelAugP ?? 0.5)) {
    if (rng.int(2) === 0) {
      img = horizontalFlip(src, h, w, c);
      pixel = "flip";
    } else {
      img = gaussianNoise(src, rng, o.noiseVariance ?? 30);
      pixel = "noise";
    }
  }
  const oc = o.outChannels ?? Math.max(c, 3);
  const r = resizeBilinear(img, h, w, c, o.size, o.size);
  normalizeInto(r, c, out, offset, o.mean, o.std, oc);
  const erase = o.erasing === false
    ? null
    : randomErasing(out, offset, o.size, o.size, oc, rng, o.erasing);
  return { pixel, erase };
}
