/**
 * Eval-mode pass of a model over a dataset: logits, softmax, predictions, features and u for
 * every sample, with accuracy, loss, per-class accuracy and the confusion matrix; and the
 * per-sample table built from it.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { ImageDataset } from "../data/dataset.ts";
import type { FerModel } from "../model/types.ts";
import {
  accuracy,
  argmaxRows,
  confusionMatrix,
  perClassAccuracy,
  softmaxRows,
} from "../eval/metrics.ts";
import { Progress, type ProgressMode } from "../eval/progress.ts";
import type { SampleTable } from "../eval/table.ts";
import { BatchLoader } from "../data/batch.ts";

/** Options of {@link evaluateModel}. */
export interface EvaluateOptions {
  /** Batch size (default 128). */
  batchSize?: number;
  /** Progress output (default `silent`). */
  progress?: ProgressMode;
  /** Label shown in the progress line. */
  label?: string;
  /** Labels to score against (default the dataset's `labels`). */
  labels?: Int32Array;
  /** Batch-preparation worker threads (default 1; 0 = inline). */
  workers?: number;
  /**
   * A test-transform loader over `ds` to reuse (not closed here; saves starting workers for
   * every pass). Must have `augment: false`, `shuffle: false` and the model's input size.
   */
  loader?: BatchLoader;
}

/** Everything an eval pass computes. */
export interface EvalResult {
  /** Number of samples. */
  n: number;
  /** Number of classes. */
  numClasses: number;
  /** Logits, row-major [n, classes]. */
  logits: Float32Array;
  /** Softmax, row-major [n, classes]. */
  softmax: Float32Array;
  /** Predicted classes. */
  predictions: Int32Array;
  /** Features (μ for RUL, pooled for the baseline), row-major [n, featureDim]. */
  features: Float32Array;
  /** Feature dimension. */
  featureDim: number;
  /** Uncertainty u per sample (RUL with σ head), else null. */
  u: Float32Array | null;
  /** Accuracy against the scored labels. */
  accuracy: number;
  /** Mean cross-entropy against the scored labels. */
  loss: number;
  /** Per-class accuracy (recall). */
  perClass: number[];
  /** Confusion matrix [true][predicted]. */
  confusion: number[][];
  /** Samples per second of the pass. */
  imagesPerSec: number;
}

/** Run `model` in eval mode over every sample of `ds` (dataset order). */
export async function evaluateModel(
  model: FerModel,
  ds: ImageDataset,
  options: EvaluateOptions = {},
): Promise<EvalResult> {
  const k = model.config.numClasses;
  if (ds.classNames.length !== k) {
    throw new Error(
      `evaluate: dataset (${ds.source}) has ${ds.classNames.length} classes, model has ${k}`,
    );
  }
  const labels = options.labels ?? ds.labels;
  const size = model.config.inputSize;
  const bs = options.batchSize ?? 128;
  const logits = new Float32Array(ds.n * k);
  let features = new Float32Array(0);
  let featureDim = 0;
  let u: Float32Array | null = null;
  const progress = new Progress({
    label: options.label ?? "eval",
    total: ds.n,
    mode: options.progress ?? "silent",
  });
  const t0 = performance.now();
  let done = 0;
  const ownLoader = !options.loader;
  if (options.loader) {
    const lo = options.loader.options;
    if (options.loader.dataset !== ds || lo.augment || lo.shuffle || lo.size !== size) {
      throw new Error("evaluate: the given loader must be a test-transform loader over ds");
    }
  }
  const loader = options.loader ?? new BatchLoader(ds, {
    size,
    batchSize: bs,
    augment: false,
    shuffle: false,
    workers: options.workers ?? 1,
  });
  try {
    for await (const batch of loader.epoch(0)) {
      const out = model.forwardEval(batch.x);
      const [lg, ft, uu] = await Promise.all([
        out.logits.data(),
        out.features.data(),
        out.u ? out.u.data() : Promise.resolve(null),
      ]);
      const m = batch.index.length;
      if (featureDim === 0) {
        featureDim = out.features.shape[1];
        features = new Float32Array(ds.n * featureDim);
        if (uu) u = new Float32Array(ds.n);
      }
      logits.set(lg as Float32Array, done * k);
      features.set(ft as Float32Array, done * featureDim);
      if (u && uu) u.set(uu as Float32Array, done);
      tf.dispose(
        [batch.x, batch.y, out.logits, out.features, out.u, out.logVar].filter((t) => t !== null),
      );
      done += m;
      progress.update(done);
    }
  } finally {
    if (ownLoader) loader.close();
  }
  progress.finish();
  const seconds = (performance.now() - t0) / 1000;
  const softmax = softmaxRows(logits, k);
  const predictions = argmaxRows(logits, k);
  let loss = 0; // cross-entropy from the logits in double precision (log-sum-exp)
  for (let i = 0; i < ds.n; i++) {
    let mx = -Infinity;
    for (let j = 0; j < k; j++) mx = Math.max(mx, logits[i * k + j]);
    let s = 0;
    for (let j = 0; j < k; j++) s += Math.exp(logits[i * k + j] - mx);
    loss += mx + Math.log(s) - logits[i * k + labels[i]];
  }
  return {
    n: ds.n,
    numClasses: k,
    logits,
    softmax,
    predictions,
    features,
    featureDim,
    u,
    accuracy: accuracy(predictions, labels),
    loss: ds.n ? loss / ds.n : NaN,
    perClass: perClassAccuracy(predictions, labels, k),
    confusion: confusionMatrix(predictions, labels, k),
    imagesPerSec: seconds > 0 ? ds.n / seconds : NaN,
  };
}

/** The per-sample table (file, labels, prediction, softmax, u, features) of an eval pass. */
export function sampleTableOf(ds: ImageDataset, r: EvalResult): SampleTable {
  return {
    classNames: ds.classNames,
    files: ds.fileNames,
    labels: ds.labels,
    cleanLabels: ds.cleanLabels,
    predictions: r.predictions,
    softmax: r.softmax,
    u: r.u ?? undefined,
    features: r.featureDim ? r.features : undefined,
    featureDim: r.featureDim || undefined,
  };
}

/**
 * Per-sample cross-entropy of an eval pass against `labels` (default: the pass's scored labels
 * must be given), computed in double precision from the logits; a common noisy-label score (the
 * "small-loss" criterion) for models without u.
 */
export function perSampleLoss(r: EvalResult, labels: ArrayLike<number>): Float64Array {
  const k = r.numClasses;
  if (labels.length !== r.n) {
    throw new Error(`perSampleLoss: ${labels.length} labels for ${r.n} samples`);
  }
  const out = new Float64Array(r.n);
  for (let i = 0; i < r.n; i++) {
    let mx = -Infinity;
    for (let j = 0; j < k; j++) mx = Math.max(mx, r.logits[i * k + j]);
    let s = 0;
    for (let j = 0; j < k; j++) s += Math.exp(r.logits[i * k + j] - mx);
    out[i] = mx + Math.log(s) - r.logits[i * k + labels[i]];
  }
  return out;
}
