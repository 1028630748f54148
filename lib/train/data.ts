/**
 * Loading the datasets a {@link TrainConfig} names: embedded SynthFER, RAF-DB (official layout,
 * optional EAC noise file), a folder-per-class dataset (`<root>/train/<class>/*`,
 * `<root>/test/<class>/*`), Fashion-MNIST IDX files, or prepared caches (`<root>/train`,
 * `<root>/test`); then seeded symmetric label noise on the training split when asked.
 *
 * The data seed is fixed (0), independent of the training seed, so runs with different seeds see
 * the same images and the same flipped labels (as with the public noise files).
 *
 * @module
 */
import * as path from "node:path";
import type { ImageDataset } from "../data/dataset.ts";
import { loadDatasetCache } from "../data/cache.ts";
import { loadFashionMnist } from "../data/fashion_mnist.ts";
import { loadImageFolder } from "../data/image_folder.ts";
import { withSymmetricNoise } from "../data/noise.ts";
import { mixSeed } from "../random.ts";
import { loadRafDb } from "../data/rafdb.ts";
import { synthFerSplits } from "../data/synthfer.ts";
import type { TrainConfig } from "./config.ts";

/** Seed of dataset generation and label noise (fixed; see the module doc). */
export const DATA_SEED = 0;

/** Load the train and test splits described by `cfg.data` (sizes follow `cfg.model`). */
export async function loadRunData(
  cfg: TrainConfig,
  log: (line: string) => void = () => {},
): Promise<{ train: ImageDataset; test: ImageDataset }> {
  const d = cfg.data;
  const t0 = performance.now();
  let train: ImageDataset;
  let test: ImageDataset;
  const noiseFileUsed = d.noiseFile !== null;
  switch (d.source) {
    case "synthfer": {
      // Rendered at the model size up to 100 px (RAF-DB's aligned size), resized above that.
      const size = Math.min(100, cfg.model.inputSize);
      ({ train, test } = synthFerSplits({
        train: d.trainSize,
        test: d.testSize,
        size,
        seed: DATA_SEED,
      }));
      break;
    }
    case "rafdb": {
      const root = d.root!;
      train = await loadRafDb(root, { split: "train", noiseFile: d.noiseFile ?? undefined });
      test = await loadRafDb(root, { split: "test" });
      break;
    }
    case "folder": {
      const root = d.root!;
      // Decoded straight to the model size: one Pillow-bilinear resize from each image's own size,
      // as the official transforms.Resize((s, s)) (the batch pipeline then does not resize).
      const size = cfg.model.inputSize;
      // the same non-empty classes in both splits (errors name the class folder)
      const strictClasses = true;
      train = await loadImageFolder(path.join(root, "train"), { size, strictClasses });
      test = await loadImageFolder(path.join(root, "test"), {
        classNames: train.classNames,
        size,
        strictClasses,
      });
      break;
    }
    case "fashion-mnist": {
      const dir = d.root ?? undefined;
      train = await loadFashionMnist({ split: "train", dir, limit: d.trainSize });
      test = await loadFashionMnist({ split: "test", dir, limit: d.testSize });
      break;
    }
    case "cache": {
      train = await loadDatasetCache(path.join(d.root!, "train"));
      test = await loadDatasetCache(path.join(d.root!, "test"));
      break;
    }
  }
  if (noiseFileUsed && d.source !== "rafdb") {
    throw new Error(
      `data.noiseFile is only supported with data.source "rafdb" (got "${d.source}")`,
    );
  }
  if (d.noise > 0) {
    if (noiseFileUsed) {
      throw new Error("give either data.noise or data.noiseFile, not both");
    }
    train = withSymmetricNoise(train, d.noise, mixSeed(DATA_SEED, Math.round(d.noise * 1000)));
  }
  log(
    `data: train ${train.n} (${train.source}), test ${test.n} (${test.source}) in ` +
      `${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  return { train, test };
}
