/**
 * Eval-mode pass of a model over a dataset (or a tensor batch): logits, softmax, predictions,
 * features and u for every sample, with accuracy, loss, per-class accuracy and the confusion
 * matrix; and the per-sample table built from it.
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
  crossEntropyRows,
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
  /**
   * Also gather the model's per-sample scores that cost an extra pass (EAC's flip consistency;
   * SCN's α comes with every pass). Default false.
   */
  scores?: boolean;
}

/** The model's eval-mode outputs for every sample. */
export interface EvalOutputs {
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
  /** The method's per-sample score (SCN α; EAC flip consistency when asked), else null. */
  score: Float32Array | null;
}

/** Scores of eval outputs against labels ({@link scoreOutputs}). */
export interface EvalScores {
  /** Accuracy against the scored labels. */
  accuracy: number;
  /** Mean cross-entropy against the scored labels. */
  loss: number;
  /** Per-class accuracy (recall). */
  perClass: number[];
  /** Confusion matrix [true][predicted]. */
  confusion: number[][];
}

/** Everything an eval pass computes. */
export interface EvalResult extends EvalOutputs, EvalScores {
  /** Samples per second of the pass. */
  imagesPerSec: number;
}

/** One batch of NHWC images for {@link forwardEvalAll} (its tensors are disposed after use). */
interface EvalBatch {
  /** Images [m, size, size, 3]. */
  x: tf.Tensor4D;
  /** More tensors to dispose with the batch. */
  dispose: tf.Tensor[];
}

/** Eval-mode forward over batches in order, gathering logits, features and u on the host. */
async function forwardEvalAll(
  model: FerModel,
  n: number,
  batches: AsyncIterable<EvalBatch>,
  onBatch: (done: number) => void = () => {},
  scores = false,
): Promise<EvalOutputs> {
  const k = model.config.numClasses;
  const logits = new Float32Array(n * k);
  let features = new Float32Array(0);
  let featureDim = 0;
  let u: Float32Array | null = null;
  let score: Float32Array | null = null;
  let done = 0;
  for await (const batch of batches) {
    const out = model.forwardEval(batch.x, { scores });
    const [lg, ft, uu, sc] = await Promise.all([
      out.logits.data(),
      out.features.data(),
      out.u ? out.u.data() : Promise.resolve(null),
      out.score ? out.score.data() : Promise.resolve(null),
    ]);
    const m = batch.x.shape[0];
    if (featureDim === 0) {
      featureDim = out.features.shape[1];
      features = new Float32Array(n * featureDim);
      if (uu) u = new Float32Array(n);
      if (sc) score = new Float32Array(n);
    }
    logits.set(lg as Float32Array, done * k);
    features.set(ft as Float32Array, done * featureDim);
    if (u && uu) u.set(uu as Float32Array, done);
    if (score && sc) score.set(sc as Float32Array, done);
    tf.dispose(
      [batch.x, ...batch.dispose, out.logits, out.features, out.u, out.logVar, out.score].filter((
        t,
      ) => t != null) as tf.Tensor[],
    );
    done += m;
    onBatch(done);
  }
  const softmax = softmaxRows(logits, k);
  const predictions = argmaxRows(logits, k);
  return { n, numClasses: k, logits, softmax, predictions, features, featureDim, u, score };
}

/** Accuracy, mean cross-entropy (double precision), per-class accuracy and confusion matrix. */
export function scoreOutputs(r: EvalOutputs, labels: ArrayLike<number>): EvalScores {
  const k = r.numClasses;
  let loss = 0;
  for (const l of crossEntropyRows(r.logits, k, labels)) loss += l;
  return {
    accuracy: accuracy(r.predictions, labels),
    loss: r.n ? loss / r.n : NaN,
    perClass: perClassAccuracy(r.predictions, labels, k),
    confusion: confusionMatrix(r.predictions, labels, k),
  };
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
  const progress = new Progress({
    label: options.label ?? "eval",
    total: ds.n,
    mode: options.progress ?? "silent",
  });
  const t0 = performance.now();
  const ownLoader = !options.loader;
  if (options.loader) {
    const lo = options.loader.options;
    if (options.loader.dataset !== ds || lo.augment || lo.shuffle || lo.size !== size) {
      throw new Error("evaluate: the given loader must be a test-transform loader over ds");
    }
  }
  const loader = options.loader ?? new BatchLoader(ds, {
    size,
    batchSize: options.batchSize ?? 128,
    augment: false,
    shuffle: false,
    workers: options.workers ?? 1,
  });
  let out: EvalOutputs;
  try {
    const batches = async function* () {
      for await (const b of loader.epoch(0)) yield { x: b.x, dispose: [b.y] };
    };
    out = await forwardEvalAll(
      model,
      ds.n,
      batches(),
      (done) => progress.update(done),
      options.scores,
    );
  } finally {
    if (ownLoader) loader.close();
  }
  progress.finish();
  const seconds = (performance.now() - t0) / 1000;
  return {
    ...out,
    ...scoreOutputs(out, labels),
    imagesPerSec: seconds > 0 ? ds.n / seconds : NaN,
  };
}

/**
 * Run `model` in eval mode over a batch of NHWC images already normalised as the model expects
 * (in slices of `batchSize`); `x` is not disposed. Score the result with {@link scoreOutputs}.
 */
export async function evaluateTensor(
  model: FerModel,
  x: tf.Tensor4D,
  batchSize = 128,
): Promise<EvalOutputs> {
  const n = x.shape[0];
  const batches = async function* () {
    for (let i = 0; i < n; i += batchSize) {
      const m = Math.min(batchSize, n - i);
      yield { x: tf.slice(x, [i, 0, 0, 0], [m, -1, -1, -1]) as tf.Tensor4D, dispose: [] };
    }
  };
  return await forwardEvalAll(model, n, batches());
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
  if (labels.length !== r.n) {
    throw new Error(`perSampleLoss: ${labels.length} labels for ${r.n} samples`);
  }
  return crossEntropyRows(r.logits, r.numClasses, labels);
}
