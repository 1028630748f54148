/**
 * Synthetic symmetric label noise: flip exactly round(fraction·n) labels, each to a different
 * class chosen uniformly among the other K−1, seeded; the clean labels are kept.
 *
 * @module
 */
import type { ImageDataset } from "./dataset.ts";
import { formatLabelList } from "./label_file.ts";
import { permutation, Rng } from "../random.ts";

/** Result of {@link injectSymmetricNoise}. */
export interface NoiseResult {
  /** The noisy labels. */
  labels: Int32Array;
  /** Sorted indices of the flipped samples (length round(fraction·n)). */
  flipped: Int32Array;
}

/**
 * Flips exactly `Math.round(fraction·n)` of `labels` (chosen by a seeded permutation) to a
 * different class, uniformly among the other `numClasses − 1`.
 * @throws Error if fraction is outside [0, 1] or numClasses < 2
 */
export function injectSymmetricNoise(
  labels: ArrayLike<number>,
  fraction: number,
  numClasses: number,
  seed: number,
): NoiseResult {
  if (!(fraction >= 0 && fraction <= 1)) {
    throw new Error(`noise fraction ${fraction} outside [0, 1]`);
  }
  if (numClasses < 2) throw new Error(`noise needs at least 2 classes, got ${numClasses}`);
  const n = labels.length;
  const m = Math.round(fraction * n);
  const out = Int32Array.from(labels);
  const flipped = permutation(n, seed).slice(0, m).sort();
  const rng = new Rng(seed ^ 0x5bd1e995);
  for (const i of flipped) out[i] = (out[i] + 1 + rng.int(numClasses - 1)) % numClasses;
  return { labels: out, flipped };
}

/**
 * A dataset sharing `ds`'s pixels whose labels carry symmetric noise, drawn from the clean labels
 * (`ds.cleanLabels` if present, else `ds.labels`), which are kept in `cleanLabels`.
 */
export function withSymmetricNoise(ds: ImageDataset, fraction: number, seed: number): ImageDataset {
  const clean = ds.cleanLabels ?? ds.labels;
  const { labels } = injectSymmetricNoise(clean, fraction, ds.classNames.length, seed);
  return {
    ...ds,
    labels,
    cleanLabels: Int32Array.from(clean),
    source: `${ds.source} +${Math.round(fraction * 100)}% symmetric noise (seed ${seed})`,
  };
}

/**
 * Label-list text (`name label1based` lines, the EAC `noise0X.txt` layout) of a dataset's
 * training labels, for writing a noise file.
 */
export function noiseFileText(ds: ImageDataset): string {
  return formatLabelList(ds.fileNames.map((name, i) => ({ name, label: ds.labels[i] })));
}
