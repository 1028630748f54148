/**
 * Fills one batch's float32 NHWC buffer from uint8 images (tensor-free, shared by the inline path
 * and the batch worker so both give identical results).
 *
 * @module
 */
import { mixSeed, Rng } from "../random.ts";
import { testTransform, trainTransform, type TransformOptions } from "./transforms.ts";

/** Everything needed to transform a batch, serialisable to a worker. */
export interface BatchSpec extends TransformOptions {
  /** Apply the official train augmentation (else the test transform). */
  augment: boolean;
  /** Base seed of the loader. */
  seed: number;
}

/** Geometry of the source images. */
export interface SourceShape {
  /** Image height. */
  height: number;
  /** Image width. */
  width: number;
  /** Channels (1 or 3). */
  channels: number;
}

/** Seed of the augmentation of the sample at `position` of epoch `epoch`'s order. */
export function sampleSeed(seed: number, epoch: number, position: number): number {
  return mixSeed(seed, epoch, position);
}

/**
 * Writes the transformed images `indices` into `out` (`indices.length·size·size·outChannels`).
 * Sample k uses the RNG seeded by `sampleSeed(spec.seed, epoch, firstPosition + k)`.
 */
export function fillBatch(
  pixels: Uint8Array,
  src: SourceShape,
  indices: Int32Array,
  epoch: number,
  firstPosition: number,
  spec: BatchSpec,
  out: Float32Array,
): void {
  const { height: h, width: w, channels: c } = src;
  const bpi = h * w * c;
  const oc = spec.outChannels ?? Math.max(c, 3);
  const per = spec.size * spec.size * oc;
  if (out.length < indices.length * per) {
    throw new Error(`fillBatch: output holds ${out.length} floats, need ${indices.length * per}`);
  }
  const scratch = new Uint8Array(spec.size * spec.size * c);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    const img = pixels.subarray(i * bpi, (i + 1) * bpi);
    if (spec.augment) {
      const rng = new Rng(sampleSeed(spec.seed, epoch, firstPosition + k));
      trainTransform(img, h, w, c, spec, rng, out, k * per);
    } else {
      testTransform(img, h, w, c, spec, out, k * per, scratch);
    }
  }
}
