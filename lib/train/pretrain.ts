/**
 * Pretraining a backbone for a later `init`: the stand-in for the paper's MS-Celeb-1M start (the
 * paper and the official code always begin from a backbone pretrained on another, clean dataset).
 * One recipe for every pretraining script (tools/pretrain_synthfer.ts for the demo,
 * tools/pretrain_fashion.ts for the benchmark's pretrained regime): the baseline model (ResNet-18
 * layout + global pooling + Linear, cross-entropy) trained on clean labels with the official
 * optimiser, schedule and augmentations; the weights after the last epoch are kept (no selection on
 * the held-out split); the backbone (the state dict minus `fc`, torchvision names, PyTorch layout,
 * float32) is written as safetensors with metadata saying how it was made.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { ImageDataset } from "../data/dataset.ts";
import { writeSafetensors } from "../io/safetensors.ts";
import type { ProgressMode } from "../eval/progress.ts";
import type { TrainConfigInput } from "./config.ts";
import { Trainer } from "./trainer.ts";

/** What {@link pretrainBackbone} trains on and how long. */
export interface PretrainOptions {
  /** Clean training images and a clean held-out split (reported, never selected on). */
  data: { train: ImageDataset; test: ImageDataset };
  /** Model size (input size and widths). */
  model: NonNullable<TrainConfigInput["model"]>;
  /** The training data's description for the run's config (`source`, sizes). */
  dataConfig: NonNullable<TrainConfigInput["data"]>;
  /** Epochs, training seed and batch size. */
  epochs: number;
  seed: number;
  batchSize: number;
  /** Weights file to write (safetensors). */
  out: string;
  /** Run folder (metrics, checkpoints); null keeps it in memory. */
  runDir: string | null;
  /** Metadata saying how the weights were made; the recipe, accuracy and timing are added. */
  metadata: Record<string, string>;
  progress?: ProgressMode;
  workers?: number;
  /** Log lines (default `console.log`; null = quiet). */
  log?: ((line: string) => void) | null;
}

/** What {@link pretrainBackbone} wrote. */
export interface PretrainResult {
  lastTestAcc: number;
  bestTestAcc: number;
  bestEpoch: number;
  /** Tensors written (the backbone's parameters and batch-norm buffers). */
  tensors: number;
  bytes: number;
  seconds: number;
}

/** The two lines a pretraining script prints at its end: held-out accuracy, what it wrote. */
export function pretrainReport(r: PretrainResult, file: string): string {
  return `held-out clean test accuracy: ${(100 * r.lastTestAcc).toFixed(2)} % (last epoch), ` +
    `${(100 * r.bestTestAcc).toFixed(2)} % best (epoch ${r.bestEpoch})\n` +
    `wrote ${file} (${r.tensors} tensors, ${(r.bytes / 1e6).toFixed(1)} MB) in ` +
    `${Math.floor(r.seconds / 60)} min ${Math.round(r.seconds % 60)} s`;
}

/** Trains the baseline on clean data and writes its backbone (see the module doc). */
export async function pretrainBackbone(o: PretrainOptions): Promise<PretrainResult> {
  const t0 = performance.now();
  const trainer = await Trainer.create({
    config: {
      variant: "baseline",
      epochs: o.epochs,
      batchSize: o.batchSize,
      seed: o.seed,
      init: null,
      model: { ...o.model },
      data: { ...o.dataConfig, noise: 0, augment: true },
    },
    out: o.runDir,
    data: o.data,
    progress: o.progress,
    workers: o.workers,
    log: o.log,
  });
  try {
    const r = await trainer.run();
    const backbone = new Map<string, tf.Tensor>();
    for (const [k, t] of trainer.model.stateDict()) {
      if (k.startsWith("fc.")) t.dispose();
      else backbone.set(k, t);
    }
    const seconds = (performance.now() - t0) / 1000;
    const cfg = trainer.config;
    const metadata: Record<string, string> = {
      format: "pytorch state dict: torchvision ResNet-18 names and layouts, backbone only (fc " +
        "removed), float32",
      ...o.metadata,
      model: `baseline ResNet-18 layout, widths ${cfg.model.widths.join("-")}, input ` +
        `${cfg.model.inputSize} px`,
      widths: cfg.model.widths.join(","),
      input_size: String(cfg.model.inputSize),
      train_seed: String(o.seed),
      train_images: String(o.data.train.n),
      heldout_images: String(o.data.test.n),
      epochs: String(o.epochs),
      batch_size: String(o.batchSize),
      recipe: `Adam lr ${cfg.optim.lrBackbone} / ${cfg.optim.lrClassifier}, weight decay ` +
        `${cfg.optim.weightDecay}, ExponentialLR ${cfg.optim.gamma}, official augmentations; ` +
        "weights after the last epoch",
      heldout_clean_test_acc_last: r.lastTestAcc.toFixed(4),
      heldout_clean_test_acc_best: r.bestTestAcc.toFixed(4),
      heldout_best_epoch: String(r.bestEpoch),
      seconds: seconds.toFixed(0),
      created: new Date().toISOString(),
    };
    try {
      await writeSafetensors(o.out, backbone, metadata);
    } finally {
      tf.dispose([...backbone.values()]);
    }
    return {
      lastTestAcc: r.lastTestAcc,
      bestTestAcc: r.bestTestAcc,
      bestEpoch: r.bestEpoch,
      tensors: backbone.size,
      bytes: Deno.statSync(o.out).size,
      seconds,
    };
  } finally {
    trainer.dispose();
  }
}
