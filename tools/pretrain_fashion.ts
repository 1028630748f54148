/**
 * `deno task pretrain:fashion`: the backbone of the benchmark's pretrained regime (docs/results.md,
 * issue 23). The paper and the official code always start from a backbone pretrained on another,
 * clean dataset (MS-Celeb-1M); this is the same on Fashion-MNIST: pretrained on a clean part of the
 * training set that the benchmark never uses, then `bench:noisy --init` trains on the noisy subset.
 *
 * Fixed protocol (written in docs/results.md before any pretrained-regime run; do not tune it to
 * change an outcome):
 * - data: Fashion-MNIST training samples {@link FASHION_PRETRAIN}.trainOffset onwards (the last
 *   10,000, samples 50,000-59,999, clean labels) and held-out test samples from `testOffset` (2,000): disjoint by index
 *   from the benchmark's images (the first 5,000 training and 2,000 test samples; the script also
 *   counts pixel-identical images across the sets and prints the count);
 * - model and recipe (lib/train/pretrain.ts): the baseline at the memorisation setting's size
 *   (32 px, widths 32-64-128-256), the official optimiser, schedule and augmentations, batch 64,
 *   seed 0, 5 epochs (as tools/pretrain_synthfer.ts), the weights after the last epoch.
 *
 * Writes the backbone as safetensors (torchvision names, fc removed) to
 * `docs/measurements/bench-noisy-memo-pretrained/backbone.safetensors` (or `--out`); the PyTorch
 * twin (tools/bench_noisy_torch.py --init) loads the same file, so both sides start from the same
 * weights.
 *
 * @module
 */
import * as path from "node:path";
import { identicalImageCount } from "../lib/data/dataset.ts";
import { FASHION_MNIST_DEBIAN_DIR, loadFashionMnist } from "../lib/data/fashion_mnist.ts";
import { pretrainBackbone, pretrainReport } from "../lib/train/pretrain.ts";
import { type CliFlag, type Command, runCommand } from "../cli/args.ts";

/** The fixed pretraining protocol of the benchmark's pretrained regime. */
export const FASHION_PRETRAIN = {
  /** First training sample used (the benchmark uses samples 0-4,999). */
  trainOffset: 50000,
  trainSize: 10000,
  /** First held-out test sample (the benchmark uses test samples 0-1,999). */
  testOffset: 8000,
  testSize: 2000,
  /** The benchmark's images, which must not be pretrained on. */
  benchTrain: 5000,
  benchTest: 2000,
  inputSize: 32,
  widths: [32, 64, 128, 256] as [number, number, number, number],
  epochs: 5,
  seed: 0,
  batchSize: 64,
} as const;

const DEFAULT_OUT = "docs/measurements/bench-noisy-memo-pretrained/backbone.safetensors";

const FLAGS: CliFlag[] = [
  { flag: "out", type: "string", help: "weights file to write", defaultText: DEFAULT_OUT },
  {
    flag: "run-dir",
    type: "string",
    help: "run folder (metrics, checkpoints)",
    defaultText: "runs/pretrain_fashion",
  },
  {
    flag: "root",
    type: "string",
    help: "Fashion-MNIST folder",
    defaultText: FASHION_MNIST_DEBIAN_DIR,
  },
];

async function main(args: Command): Promise<void> {
  const outFile = args.text("out") ?? DEFAULT_OUT;
  const runDir = args.text("run-dir") ?? "runs/pretrain_fashion";
  const dir = args.text("root") ?? FASHION_MNIST_DEBIAN_DIR;
  await args.startBackend();
  const P = FASHION_PRETRAIN;
  const [train, test, benchTrain, benchTest] = await Promise.all([
    loadFashionMnist({ split: "train", dir, offset: P.trainOffset, limit: P.trainSize }),
    loadFashionMnist({ split: "test", dir, offset: P.testOffset, limit: P.testSize }),
    loadFashionMnist({ split: "train", dir, limit: P.benchTrain }),
    loadFashionMnist({ split: "test", dir, limit: P.benchTest }),
  ]);
  // Disjoint by index; pixel-identical images (the dataset has a few duplicates) are counted.
  const same = identicalImageCount(train, [benchTrain, benchTest]);
  const sameHeld = identicalImageCount(test, [benchTrain, benchTest]);
  console.log(
    `data: ${train.n} training images from sample ${P.trainOffset}, ${test.n} held-out test ` +
      `images from sample ${P.testOffset}; pixel-identical to one of the benchmark's ` +
      `${P.benchTrain} + ${P.benchTest} images: ${same} training, ${sameHeld} held-out`,
  );
  await Deno.mkdir(path.dirname(outFile), { recursive: true });
  const r = await pretrainBackbone({
    data: { train, test },
    model: { inputSize: P.inputSize, widths: [...P.widths] },
    dataConfig: { source: "fashion-mnist", trainSize: P.trainSize, testSize: P.testSize },
    epochs: P.epochs,
    seed: P.seed,
    batchSize: P.batchSize,
    out: outFile,
    runDir,
    progress: args.progress,
    workers: args.workers,
    metadata: {
      script: "tools/pretrain_fashion.ts",
      command: "deno task pretrain:fashion",
      purpose: "initialisation of bench:noisy's pretrained regime (--init), both implementations",
      data: `Fashion-MNIST ${dir}: training samples ${P.trainOffset}-` +
        `${P.trainOffset + P.trainSize - 1} (clean labels), held-out test samples ` +
        `${P.testOffset}-${P.testOffset + P.testSize - 1}; benchmark images (training 0-` +
        `${P.benchTrain - 1}, test 0-${P.benchTest - 1}) not used; pixel-identical to a ` +
        `benchmark image: ${same} training, ${sameHeld} held-out`,
      train_offset: String(P.trainOffset),
      test_offset: String(P.testOffset),
    },
  });
  console.log(`\n${pretrainReport(r, outFile)}`);
}

if (import.meta.main) {
  await runCommand({
    usage: "deno task pretrain:fashion [options]",
    description: "Pretrain the benchmark's backbone on clean Fashion-MNIST (training samples " +
      "50,000-59,999,\n5 epochs, baseline at 32 px, widths 32-64-128-256) and write it as " +
      "safetensors\n(PyTorch names, fc removed) for `bench:noisy --init` and the PyTorch twin.",
    flags: FLAGS,
  }, main);
}
