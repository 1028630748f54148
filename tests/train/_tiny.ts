/**
 * The tiny training setting shared by the trainer tests: a 32 px ResNet-18 layout at widths
 * 4-4-8-8, 3 epochs of batch 16, on 40 SynthFER training images (30 % of the labels flipped) and
 * 16 test images.
 *
 * @module
 */
import { synthFerSplits } from "../../lib/data/synthfer.ts";
import { withSymmetricNoise } from "../../lib/data/noise.ts";
import type { TrainConfigInput } from "../../lib/train/mod.ts";

/** The tiny configuration (3 epochs, batch 16, 32 px, widths 4-4-8-8, feature dimension 8). */
export const TINY: TrainConfigInput = {
  epochs: 3,
  batchSize: 16,
  evalBatchSize: 32,
  seed: 3,
  model: { inputSize: 32, widths: [4, 4, 8, 8], featureDim: 8 },
};

/** 40 training images (30 % of the labels flipped, noise seed 5) and 16 test images, 32 px. */
export function tinyData() {
  const { train, test } = synthFerSplits({ train: 40, test: 16, size: 32, seed: 1 });
  return { train: withSymmetricNoise(train, 0.3, 5), test };
}
