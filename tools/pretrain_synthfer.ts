/**
 * `deno task pretrain`: pretrains the demo's backbone on a clean SynthFER split, the stand-in for
 * the paper's MS-Celeb-1M initialisation (the paper and the official code always start from a
 * backbone pretrained on another, clean face dataset; `deno task demo` does the same).
 *
 * Fixed protocol (chosen before any demo result; do not tune it to change the demo's outcome):
 * - data: SynthFER from data seed {@link PRETRAIN_DATA_SEED} (the demo's data seed is 0, so every
 *   sample comes from a different random stream), {@link PRETRAIN_SETTING} clean training images
 *   and a clean held-out test split, no label noise; rendered at the demo's input size; the script
 *   checks that no image is identical to one of the demo's training or test images;
 * - model: the baseline (ResNet-18 layout + global pooling + Linear, cross-entropy) at the demo's
 *   widths and input size;
 * - recipe: the official optimiser and schedule (Adam 2e-4 / 2e-3, weight decay 1e-4,
 *   ExponentialLR 0.9), batch 64, the official augmentations, training seed 0; the weights after
 *   the last epoch are kept (no selection on the held-out split).
 *
 * Writes the backbone (the baseline's state dict minus `fc`, torchvision names, PyTorch layout,
 * float32) as safetensors to {@link QUICK_INIT} (or `--out`), with metadata saying how it was made
 * (script, seeds, images, epochs, held-out clean test accuracy). The run folder (metrics,
 * checkpoints) goes to `runs/pretrain_synthfer/`.
 *
 * @module
 */
import * as path from "node:path";
import { identicalImageCount } from "../lib/data/dataset.ts";
import { synthFerSplits } from "../lib/data/synthfer.ts";
import { pretrainBackbone, pretrainReport } from "../lib/train/pretrain.ts";
import {
  DEMO_CONFIG,
  loadRunData,
  QUICK_INIT,
  QUICK_PRESET,
  resolveTrainConfig,
} from "../lib/train/mod.ts";
import { type CliFlag, type Command, runCommand } from "../cli/args.ts";

/** Data seed of the pretraining splits (the demo's data seed is 0: disjoint sample streams). */
export const PRETRAIN_DATA_SEED = 1;

/** The fixed pretraining budget. */
export const PRETRAIN_SETTING = {
  /** Clean training images. */
  trainSize: 10000,
  /** Clean held-out test images (same seed, its own stream: never trained on). */
  testSize: 2000,
  /** Epochs. */
  epochs: 5,
  /** Training seed (initialisation, shuffling, augmentation). */
  seed: 0,
  /** Batch size. */
  batchSize: 64,
} as const;

/** Path of this script as recorded in the weights' metadata. */
export const PRETRAIN_SCRIPT = "tools/pretrain_synthfer.ts";

const FLAGS: CliFlag[] = [
  {
    flag: "out",
    type: "string",
    help: "weights file to write",
    defaultText: "data/fixtures/<demo init file>",
  },
  {
    flag: "run-dir",
    type: "string",
    help: "run folder (metrics, checkpoints)",
    defaultText: "runs/pretrain_synthfer",
  },
];

async function main(args: Command): Promise<void> {
  const outFile = args.text("out") ?? QUICK_INIT;
  const runDir = args.text("run-dir") ?? "runs/pretrain_synthfer";
  await args.startBackend();

  const S = PRETRAIN_SETTING;
  const model = QUICK_PRESET.model!;
  const size = model.inputSize!;
  const data = synthFerSplits({
    train: S.trainSize,
    test: S.testSize,
    size,
    seed: PRETRAIN_DATA_SEED,
  });
  // Disjointness from the demo's data (and between the two pretraining splits), checked exactly.
  const demo = await loadRunData(resolveTrainConfig(DEMO_CONFIG, "demo"));
  const shared = identicalImageCount(data.train, [demo.train, demo.test]) +
    identicalImageCount(data.test, [demo.train, demo.test]);
  const inner = identicalImageCount(data.test, [data.train]);
  if (shared || inner) {
    throw new Error(
      `pretraining data not disjoint: ${shared} images identical to demo images, ${inner} ` +
        "test images identical to pretraining training images",
    );
  }
  console.log(
    `data: ${data.train.source} (train), ${data.test.source} (held-out test); no image in ` +
      `common with the demo's ${demo.train.n} + ${demo.test.n} images`,
  );

  const r = await pretrainBackbone({
    data,
    model: { ...model },
    dataConfig: { source: "synthfer", trainSize: S.trainSize, testSize: S.testSize },
    epochs: S.epochs,
    seed: S.seed,
    batchSize: S.batchSize,
    out: outFile,
    runDir,
    progress: args.progress,
    workers: args.workers,
    metadata: {
      script: PRETRAIN_SCRIPT,
      command: "deno task pretrain",
      purpose: "initialisation of `deno task demo` (stand-in for MS-Celeb-1M pretraining)",
      data: `SynthFER synthFerSplits(seed ${PRETRAIN_DATA_SEED}), clean labels, ${S.trainSize} ` +
        `train / ${S.testSize} held-out test images at ${size} px; 0 images identical to the ` +
        "demo's (data seed 0) train/test images",
      data_seed: String(PRETRAIN_DATA_SEED),
    },
  });
  console.log(`\n${pretrainReport(r, path.relative(Deno.cwd(), outFile))}`);
}

if (import.meta.main) {
  await runCommand({
    usage: "deno task pretrain [options]",
    description: "Pretrain the demo's backbone on clean SynthFER (data seed 1, 10,000 train / " +
      "2,000\nheld-out images, 5 epochs, baseline model at the demo's size) and write it as\n" +
      "safetensors (PyTorch names, fc removed) for `deno task demo`'s --init.",
    flags: FLAGS,
  }, main);
}
