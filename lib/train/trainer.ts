/**
 * The trainer: one {@link TrainConfig}, a train loop with progress, per-epoch evaluation on the
 * test set, a metrics log (`metrics.csv` + `metrics.jsonl`), best-epoch AND last-epoch test
 * accuracy (named as such), a checkpoint after every epoch (model + optimiser + schedule + epoch),
 * resume that continues bit for bit, hooks for live plots, and initialisation from a PyTorch
 * `.pth`.
 *
 * Reproducibility: every random draw depends only on (seed, epoch, position): the data order and
 * augmentation (lib/data's BatchLoader), the pairing and dropout (a generator seeded per epoch),
 * so restoring the weights, buffers, optimiser state and lr at an epoch boundary reproduces the
 * uninterrupted run exactly.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as path from "node:path";
import { BatchLoader } from "../data/batch.ts";
import type { ImageDataset } from "../data/dataset.ts";
import { mixSeed, mulberry32, type UniformRng } from "../random.ts";
import { createModel } from "../model/create.ts";
import type { FerModel } from "../model/types.ts";
import type { StateDictReport } from "../model/state.ts";
import { variantSwitches } from "../rul/variants.ts";
import { scnRelabel } from "../scn/step.ts";
import { type RelabelReport, RelabelTable } from "../scn/label_table.ts";
import { writeFileAtomicSync as writeFileAtomic } from "../io/atomic_write.ts";
import { noisyLabelDetection } from "../eval/audit.ts";
import { argmaxRows } from "../eval/metrics.ts";
import { MetricsLogger, type MetricsRecord } from "../eval/logger.ts";
import { Progress, type ProgressMode } from "../eval/progress.ts";
import { writeSampleTable } from "../eval/table.ts";
import { Adam } from "./adam.ts";
import { resolveTrainConfig, type TrainConfig, type TrainConfigInput } from "./config.ts";
import { type EvalResult, evaluateModel, sampleTableOf } from "./evaluate.ts";
import { ExponentialLR } from "./schedule.ts";
import {
  CHECKPOINT_STOPPED,
  findResumeCheckpoint,
  finishCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
} from "./checkpoint.ts";
import { loadWeights } from "./weights.ts";
import { loadRunData } from "./data.ts";
import { configDifferences, prepareRunFolder, startRun } from "./run_folder.ts";
import {
  checkStepMemory,
  estimateStepBytes,
  isOutOfMemory,
  memoryLimit,
  memoryMessage,
  type StepShape,
} from "./memory.ts";
import { fitOnednnStore } from "../backend.ts";
import { variableGradsFreeing } from "./grads.ts";

/** Reported after every optimiser step. */
export interface StepInfo {
  /** Epoch (1-based). */
  epoch: number;
  /** Step within the epoch (1-based). */
  step: number;
  /** Steps per epoch. */
  steps: number;
  /** Global step count since the start of training. */
  globalStep: number;
  /** Loss of this batch. */
  loss: number;
  /** Mean loss of the epoch so far. */
  meanLoss: number;
  /** Images per second of the epoch so far. */
  imagesPerSec: number;
}

/** Reported after every epoch (after evaluation and checkpointing). */
export interface EpochInfo {
  /** Epoch (1-based). */
  epoch: number;
  /** Total epochs of the run. */
  epochs: number;
  /** The metrics record written to the log for this epoch. */
  record: MetricsRecord;
  /** Test-set evaluation of this epoch. */
  test: EvalResult;
  /** Training-mode u of every training sample seen this epoch (RUL with σ head), else null. */
  trainU: Float32Array | null;
}

/** Hooks a notebook (or the CLI) can attach; awaited when they return a promise. */
export interface TrainHooks {
  /** After every optimiser step. */
  onStep?: (info: StepInfo) => void | Promise<void>;
  /** After every epoch. */
  onEpoch?: (info: EpochInfo) => void | Promise<void>;
}

/** What a training step sees: the model, one batch and its randomness. */
export interface StepContext {
  /** The model being trained (a `RulModel` or `BaselineModel`). */
  model: FerModel;
  /** Images of the batch [N, H, W, 3] (augmented, normalised). */
  x: tf.Tensor4D;
  /** Training labels of the batch (possibly noisy) [N]. */
  labels: Int32Array;
  /** Randomness of this epoch (pairing, dropout): seeded from (seed, epoch). */
  rng: UniformRng;
  /** Epoch (1-based). */
  epoch: number;
  /** Step within the epoch (1-based). */
  step: number;
}

/** What a training step returns (tensors made inside the step; the trainer disposes them). */
export interface StepOutput {
  /** The loss to minimise (a scalar). */
  loss: tf.Scalar;
  /** Logits of the batch [N, classes] (for the training accuracy). */
  logits: tf.Tensor2D;
  /** Per-sample uncertainty u [N] (for the u statistics), or null. */
  u?: tf.Tensor1D | null;
}

/**
 * One training step: forward pass and loss, differentiated by the trainer with respect to every
 * trainable variable (`variableGradsFreeing`: `tf.variableGrads`'s values, lower peak memory),
 * then Adam. Pass your own as `TrainerOptions.step` to
 * train a variant written in a notebook cell without touching lib/.
 */
export type TrainStep = (ctx: StepContext) => StepOutput;

/** The configured step: `model.forwardTrain` (RUL: lib/rul's `rulTrainingStep`) and its loss. */
export const defaultTrainStep: TrainStep = ({ model, x, labels, rng }) => {
  const out = model.forwardTrain(x, { labels, rng });
  return { loss: out.loss!, logits: out.logits, u: out.u };
};

/** Why a run stopped before its last epoch. */
export type StopReason = "interrupt" | "deadline" | "max-steps" | "condition" | "signal";

/** When to stop a run early (checked after every optimiser step and before every epoch). */
export interface StopOptions {
  /** Stop when this many optimiser steps have been done in total (`globalStep`). */
  maxSteps?: number;
  /** Stop at this wall-clock time (a `Date` or milliseconds since 1970). */
  deadline?: Date | number;
  /** Stop this many seconds after `run()` started. */
  maxSeconds?: number;
  /** Stop when this returns true (called after every step with the step's report). */
  when?: (info: StepInfo) => boolean | Promise<boolean>;
  /** Stop when this signal is aborted. */
  signal?: AbortSignal;
  /**
   * Stop on SIGINT (Jupyter's Kernel > Interrupt / ■, Ctrl-C in a terminal) instead of dying;
   * default true. The Deno kernel delivers the interrupt as SIGINT to `Deno.addSignalListener`.
   */
  interrupt?: boolean;
}

/** How and where a run stopped early (see {@link StopOptions}). */
export interface StopInfo {
  /** What stopped it. */
  reason: StopReason;
  /** Epoch being trained when it stopped (1-based). */
  epoch: number;
  /** Steps done in that epoch (0: stopped at an epoch boundary). */
  step: number;
  /** Steps per epoch. */
  steps: number;
  /** Optimiser steps in total. */
  globalStep: number;
  /** Mean training loss of the partial epoch (NaN at an epoch boundary). */
  meanLoss: number;
  /**
   * Checkpoint of the weights and optimiser state at the stop (`checkpoints/stopped.safetensors`,
   * mid-epoch only; null at an epoch boundary, where `last.safetensors` is that state, or without
   * a run folder). `--resume` restarts from `last.safetensors`, the last completed epoch.
   */
  checkpoint: string | null;
}

/** Options of {@link Trainer.create}. */
export interface TrainerOptions {
  /** The configuration (partial: defaults fill the rest). */
  config?: TrainConfigInput;
  /** Run folder for logs, checkpoints and tables; null = keep everything in memory. */
  out?: string | null;
  /**
   * Continue the run in `out` from its last checkpoint (its `config.json` is used; `config` may
   * only change `epochs`). Without `resume` or `overwrite`, a folder that already holds a run is
   * refused (lib/train/run_folder.ts).
   */
  resume?: boolean;
  /** Replace the run already in `out` (its files are deleted first). */
  overwrite?: boolean;
  /** Pre-loaded datasets (skip loading `config.data`). */
  data?: { train: ImageDataset; test: ImageDataset };
  /** Hooks. */
  hooks?: TrainHooks;
  /** Progress output (default `auto`). */
  progress?: ProgressMode;
  /** Log lines (default `console.log`; null = quiet). */
  log?: ((line: string) => void) | null;
  /** Batch-preparation worker threads (default 1). */
  workers?: number;
  /** Write checkpoints (default true when `out` is set). */
  checkpoints?: boolean;
  /** The training step (default {@link defaultTrainStep}, the configured variant). */
  step?: TrainStep;
  /** When to stop early (see {@link StopOptions}; `run()` can add more). */
  stop?: StopOptions;
  /**
   * After every epoch, also pass over the training set in eval mode (running BN statistics,
   * dropout off: u as the official code's `att = logvar.exp().mean(1)` would be computed on a
   * model in eval mode) and log, split by flipped / clean label (see {@link evalFitOfNoisyLabels}):
   * `eval_acc_flipped` / `eval_acc_clean` and, for a model with u, `eval_u_mean_flipped` /
   * `eval_u_mean_clean` and `eval_u_auroc_noisy`. Costs one eval pass over the training set per
   * epoch; changes nothing in the training itself. Default false.
   */
  auditEachEpoch?: boolean;
}

/** Final results of a run. */
export interface TrainResult {
  /** Run folder (null for in-memory runs). */
  runDir: string | null;
  /** Epochs trained in total (including before a resume). */
  epochs: number;
  /** Highest test accuracy over all epochs (the official script's number: selection on test). */
  bestTestAcc: number;
  /** Epoch of {@link bestTestAcc} (1-based). */
  bestEpoch: number;
  /** Test accuracy after the last epoch (the paper's noise tables' number). */
  lastTestAcc: number;
  /** Every metrics record of the run. */
  records: MetricsRecord[];
  /** How the run stopped early, or null when it trained every epoch asked for. */
  stopped: StopInfo | null;
}

/** Training-set audit (eval mode over the training set). */
export interface TrainAudit {
  /** Eval pass over the training set. */
  eval: EvalResult;
  /** AUROC of u for flipped vs clean labels (null without clean labels, noise or σ head). */
  noisyAuroc: number | null;
  /** Mean u of flipped / clean samples (null when not available). */
  meanU: { flipped: number; clean: number } | null;
  /**
   * Which per-sample score `noisyAuroc` is about: RUL's `u`, SCN's importance `alpha`, EAC's
   * flip `consistency` loss (eval mode); null for a model without one.
   */
  score: "u" | "alpha" | "consistency" | null;
  /** AUROC of that score for flipped vs clean labels (= noisyAuroc; null when not available). */
  scoreAuroc: number | null;
  /** SCN: which labels the relabelling changed (null for other models). */
  relabel: RelabelReport | null;
  /** Paths of the per-sample table, when written. */
  table: { csv: string; json: string } | null;
}

const DEFAULT_LOG = (line: string) => console.log(line);

/**
 * Per-epoch memorisation and uncertainty figures of the training pass, split by whether the
 * training label was flipped (`labels[i] ≠ cleanLabels[i]`), over the samples seen this epoch:
 * - `train_acc_flipped` / `train_acc_clean`: training-mode accuracy against the (noisy) training
 *   label, i.e. the fraction of flipped samples whose wrong label the model already predicts (for
 *   RUL the logits are those of the mixed feature, scored against the sample's own label; for SCN
 *   against the given label, not the relabelled one it trains on);
 * - `train_u_mean_flipped` / `train_u_mean_clean`: mean training-mode u of each group (models with
 *   u only).
 * Empty when no label (or every label) is flipped.
 */
export function fitOfNoisyLabels(
  hit: Uint8Array,
  u: Float32Array | null,
  data: Pick<ImageDataset, "labels" | "cleanLabels">,
): MetricsRecord {
  const clean = data.cleanLabels;
  if (!clean) return {};
  const n = [0, 0], hits = [0, 0], uSum = [0, 0], uN = [0, 0];
  for (let i = 0; i < hit.length; i++) {
    if (hit[i] === 255) continue;
    const g = data.labels[i] !== clean[i] ? 1 : 0;
    n[g]++;
    hits[g] += hit[i];
    if (u && !Number.isNaN(u[i])) {
      uSum[g] += u[i];
      uN[g]++;
    }
  }
  if (n[0] === 0 || n[1] === 0) return {};
  const r: MetricsRecord = { train_acc_flipped: hits[1] / n[1], train_acc_clean: hits[0] / n[0] };
  if (uN[0] > 0 && uN[1] > 0) {
    r.train_u_mean_flipped = uSum[1] / uN[1];
    r.train_u_mean_clean = uSum[0] / uN[0];
  }
  return r;
}

/**
 * Eval-mode memorisation and uncertainty figures of a pass over the whole training set, split by
 * whether the training label was flipped (`labels[i] ≠ cleanLabels[i]`):
 * - `eval_acc_flipped` / `eval_acc_clean`: eval-mode accuracy against the (noisy) training label
 *   (for RUL on μ alone, no mixing: comparable with the baseline's);
 * - `eval_u_mean_flipped` / `eval_u_mean_clean` and `eval_u_auroc_noisy`: mean eval-mode u of each
 *   group and the ROC AUC of u as the score for "flipped" (reported as computed: below 0.5 means
 *   the flipped labels get the lower u); models with u only;
 * - `eval_score_auroc_noisy`: the same AUROC for another method's per-sample `score` (SCN's α,
 *   EAC's flip consistency), when given.
 * Empty when the clean labels are unknown or no label (or every label) is flipped.
 */
export function evalFitOfNoisyLabels(
  predictions: ArrayLike<number>,
  u: ArrayLike<number> | null,
  data: Pick<ImageDataset, "labels" | "cleanLabels">,
  score: ArrayLike<number> | null = null,
): MetricsRecord {
  const clean = data.cleanLabels;
  if (!clean) return {};
  const hit = Uint8Array.from(data.labels, (y, i) => (predictions[i] === y ? 1 : 0));
  const fit = fitOfNoisyLabels(hit, u === null ? null : Float32Array.from(u), data);
  if (fit.train_acc_flipped === undefined) return {};
  const r: MetricsRecord = {
    eval_acc_flipped: fit.train_acc_flipped,
    eval_acc_clean: fit.train_acc_clean,
  };
  if (u !== null) {
    const d = noisyLabelDetection(u, data.labels, clean);
    r.eval_u_mean_flipped = d.meanUFlipped;
    r.eval_u_mean_clean = d.meanUClean;
    r.eval_u_auroc_noisy = d.auroc;
  }
  if (score !== null) {
    r.eval_score_auroc_noisy = noisyLabelDetection(score, data.labels, clean).auroc;
  }
  return r;
}

/**
 * Say how much of the model `--init` filled, and refuse a file that matched nothing (it would
 * train from scratch silently) or, unless `initPartial`, one with missing or shape-mismatched
 * tensors.
 */
function checkInitReport(
  r: StateDictReport,
  config: TrainConfig,
  log: (line: string) => void,
): void {
  const file = config.init;
  const counts = `${r.loaded.length} tensors loaded (${r.source}), ${r.missing.length} missing, ` +
    `${r.mismatched.length} shape-mismatched, ${r.unexpected.length} unexpected`;
  log(`init ${file}: ${counts}`);
  if (r.loaded.length === 0) {
    throw new Error(
      `--init ${file}: no tensor fits the model (${counts}); it would train from scratch. ` +
        "Is it the right file for this --variant / --widths / --input-size?",
    );
  }
  if ((r.missing.length || r.mismatched.length) && !config.initPartial) {
    const first = [...r.missing, ...r.mismatched.map((m) => m.name)].slice(0, 5).join(", ");
    throw new Error(
      `--init ${file} fills the model only partly (${counts}; e.g. ${first}); pass ` +
        "--init-partial (initPartial: true) to train from it anyway",
    );
  }
}

/** The shape of a training step of `config` for the memory estimate (lib/train/memory.ts). */
function stepShape(config: TrainConfig, numClasses: number): StepShape {
  return {
    inputSize: config.model.inputSize,
    // EAC runs every batch twice (the images and their flips), both kept for the backward pass
    batch: config.batchSize * (variantSwitches(config.variant).kind === "eac" ? 2 : 1),
    widths: config.model.widths,
    featureDim: variantSwitches(config.variant).kind === "rul" ? config.model.featureDim : 0,
    numClasses,
  };
}

/** A training run: build with {@link Trainer.create}, then {@link Trainer.run}. */
export class Trainer {
  /** Epochs completed so far (0 before training; restored on resume). */
  epochsDone = 0;
  /** Best test accuracy so far and its epoch (0 = none yet). */
  best = { acc: -1, epoch: 0 };
  /** Global optimiser steps so far. */
  globalStep = 0;
  private readonly logger: MetricsLogger | null;
  private readonly records: MetricsRecord[] = [];
  private lastTest: EvalResult | null = null;
  private stopper: Stopper | null = null;
  private stopped: StopInfo | null = null;
  private readonly loaders: { train?: BatchLoader; test?: BatchLoader; trainEval?: BatchLoader } =
    {};
  /**
   * SCN's label table (a copy of the training labels that its relabelling rewrites, saved in
   * every checkpoint), or null for the other models, which train on the dataset's labels.
   */
  readonly relabelTable: RelabelTable | null;

  private constructor(
    /** The resolved configuration. */
    readonly config: TrainConfig,
    /** The model being trained. */
    readonly model: FerModel,
    /** Adam with the two official parameter groups. */
    readonly optimizer: Adam,
    /** ExponentialLR stepped per epoch. */
    readonly scheduler: ExponentialLR,
    /** Training and test data. */
    readonly data: { train: ImageDataset; test: ImageDataset },
    /** Run folder or null. */
    readonly runDir: string | null,
    private readonly options: TrainerOptions,
  ) {
    this.logger = runDir
      ? new MetricsLogger(runDir, { keep: options.resume ? "existing" : "none" })
      : null;
    this.relabelTable = model.config.kind === "scn"
      ? new RelabelTable(data.train.labels, data.train.cleanLabels ?? null)
      : null;
  }

  /** Build model, optimiser, schedule and data from the options (and resume if asked). */
  static async create(options: TrainerOptions = {}): Promise<Trainer> {
    const log = options.log === undefined ? DEFAULT_LOG : (options.log ?? (() => {}));
    const runDir = options.out ?? null;
    if (options.resume && options.overwrite) {
      throw new Error("resume and overwrite exclude each other");
    }
    if (options.resume && !runDir) throw new Error("resume needs the run folder (--out)");
    // resume reads the run's config; a new run validates its config and memory first, so a
    // refused setting never touches the folder (overwrite deletes the earlier run only then)
    let folder = options.resume ? prepareRunFolder(runDir!, "resume") : null;
    let input: TrainConfigInput = options.config ?? {};
    let config: TrainConfig;
    if (options.resume) {
      const cfgPath = path.join(runDir!, "config.json");
      const saved = resolveTrainConfig(folder!.savedConfig as TrainConfigInput, cfgPath);
      // A resumed run may only extend the number of epochs.
      input = { ...saved, epochs: options.config?.epochs ?? saved.epochs };
      config = resolveTrainConfig(input, cfgPath);
      if (options.config) {
        const asked = resolveTrainConfig({ ...saved, ...options.config }, "resume config");
        const diff = configDifferences(saved, asked, ["epochs"]);
        if (diff.length) {
          throw new Error(
            `cannot resume ${runDir} with a different configuration (only epochs may change): ` +
              diff.join("; "),
          );
        }
      }
      if (config.epochs !== saved.epochs) {
        writeFileAtomic(cfgPath, JSON.stringify(config, null, 2) + "\n");
        log(`${cfgPath}: epochs ${saved.epochs} → ${config.epochs} (the resumed run is extended)`);
      }
    } else config = resolveTrainConfig(input, "config");
    const step = stepShape(config, 7);
    // the paper's 224 px, batch 64 does not fit the wasm heap: the native engine then keeps its
    // tensors on the cpu store by itself (one line says so) instead of refusing the step
    const heap = memoryLimit("wasm")!;
    const moved = await fitOnednnStore(
      estimateStepBytes(step),
      heap.bytes,
      `a training step of batch ${step.batch} at ${step.inputSize} px`,
    );
    if (moved) log(moved);
    checkStepMemory(step, tf.getBackend());
    if (runDir && !options.resume) {
      folder = prepareRunFolder(runDir, options.overwrite ? "overwrite" : "new");
    }
    if (folder?.removedRun.length) log(`overwrite: removed the earlier run in ${runDir}`);
    if (folder?.removedTemps.length) {
      log(`removed ${folder.removedTemps.length} stale temporary file(s) of an interrupted write`);
    }
    const data = options.data ?? await loadRunData(config, log);
    if (data.train.classNames.length !== data.test.classNames.length) {
      throw new Error(
        `train set has ${data.train.classNames.length} classes, test set ` +
          `${data.test.classNames.length}`,
      );
    }
    const model = createModel({
      ...variantSwitches(config.variant),
      ...config.model,
      numClasses: data.train.classNames.length,
      seed: config.seed,
    });
    try {
      if (config.init && !options.resume) {
        checkInitReport(await loadWeights(model, config.init, { log }), config, log);
      }
      const groups = model.trainableGroups();
      const named = model.namedParameters();
      const cls = new Set(groups.classifier);
      const backbone = new Map<string, tf.Variable>();
      const classifier = new Map<string, tf.Variable>();
      for (const [n, v] of named) (cls.has(v) ? classifier : backbone).set(n, v);
      const optimizer = new Adam([
        { name: "backbone", params: backbone, lr: config.optim.lrBackbone },
        { name: "classifier", params: classifier, lr: config.optim.lrClassifier },
      ], {
        beta1: config.optim.beta1,
        beta2: config.optim.beta2,
        eps: config.optim.eps,
        weightDecay: config.optim.weightDecay,
      });
      const scheduler = new ExponentialLR(optimizer, config.optim.gamma);
      const t = new Trainer(config, model, optimizer, scheduler, data, runDir, options);
      if (runDir && !options.resume) startRun(runDir, config);
      if (options.resume) await t.restore(log);
      return t;
    } catch (e) {
      model.dispose();
      throw e;
    }
  }

  private get log(): (line: string) => void {
    return this.options.log === undefined ? DEFAULT_LOG : (this.options.log ?? (() => {}));
  }

  private async restore(log: (line: string) => void): Promise<void> {
    const runDir = this.runDir!;
    const file = findResumeCheckpoint(runDir);
    if (!file) {
      // killed before the first checkpoint: the run starts again from its first epoch
      this.logger?.truncateAfter("epoch", 0);
      log(`resume: ${runDir} has no checkpoint yet; training starts from epoch 1`);
      return;
    }
    const ck = loadCheckpoint(file, this.model, this.optimizer, (stored) => {
      const diff = configDifferences(resolveTrainConfig(stored, file), this.config, ["epochs"]);
      if (diff.length) {
        throw new Error(
          `cannot resume: checkpoint ${file} belongs to another run than ` +
            `${path.join(runDir, "config.json")} (${diff.join("; ")}); refusing to mix them`,
        );
      }
    });
    if (path.basename(path.dirname(file)).startsWith("epoch-")) {
      await finishCheckpoint(runDir, ck.epoch, ck.best.epoch === ck.epoch);
    }
    if (this.relabelTable && ck.labels) this.relabelTable.restore(ck.labels, file);
    this.epochsDone = ck.epoch;
    this.best = ck.best;
    this.globalStep = ck.globalStep;
    this.scheduler.setLastEpoch(ck.epoch);
    this.logger?.truncateAfter("epoch", ck.epoch);
    this.records.push(...(this.logger?.records ?? []));
    log(
      `resumed ${file} after epoch ${ck.epoch} (best test acc ${ck.best.acc} @ ${ck.best.epoch})`,
    );
  }

  /**
   * Train one epoch, evaluate, log, checkpoint; returns the epoch's info, or null when a stop
   * condition of `run()` ended the epoch early (see {@link Trainer.run}).
   */
  async runEpoch(): Promise<EpochInfo | null> {
    const c = this.config;
    const epochIdx = this.epochsDone; // 0-based index of the epoch being trained
    const epoch = epochIdx + 1;
    const train = this.data.train;
    const lrs = this.scheduler.lrs();
    const loader = this.trainLoader();
    const steps = loader.numBatches;
    const rng = mulberry32(mixSeed(c.seed, epochIdx, 0x7a11));
    const vars = this.model.trainableVariables();
    const progress = new Progress({
      label: `epoch ${epoch}/${c.epochs}`,
      total: steps * c.batchSize > train.n ? train.n : steps * c.batchSize,
      mode: this.options.progress ?? "auto",
    });
    let trainU: Float32Array | null = null; // training-mode u of every sample (models with u)
    // Training-mode hit (prediction = training label) of every sample seen: 1, 0; 255 = unseen.
    const trainHit = new Uint8Array(train.n).fill(255);
    const t0 = performance.now();
    let lossSum = 0;
    let seen = 0;
    let correct = 0;
    let step = 0;
    const stepFn = this.options.step ?? defaultTrainStep;
    let current = 0; // the step being run (for error messages)
    try {
      for await (const batch of loader.epoch(epochIdx)) {
        current = step + 1;
        const labels = new Int32Array(batch.index.length);
        const table = this.relabelTable?.labels ?? train.labels;
        for (let k = 0; k < labels.length; k++) labels[k] = table[batch.index[k]];
        let uT: tf.Tensor1D | null = null;
        let logitsT: tf.Tensor2D | null = null;
        const ctx = { model: this.model, x: batch.x, labels, rng, epoch, step: step + 1 };
        const { value, grads } = variableGradsFreeing(() => {
          const out = stepFn(ctx);
          if (!out?.loss || out.loss.rank !== 0 || !out.logits) {
            throw new Error(
              `epoch ${epoch} step ${step + 1}: the training step must return { loss: scalar, ` +
                `logits }, got ${out?.loss ? `a loss of shape [${out.loss.shape}]` : "no loss"}`,
            );
          }
          uT = out.u ? tf.keep(out.u) : null;
          logitsT = tf.keep(out.logits);
          return out.loss;
        }, vars);
        this.optimizer.step(grads);
        const [lossArr, uArr, lgArr] = await Promise.all([
          value.data(),
          uT ? (uT as tf.Tensor1D).data() : Promise.resolve(null),
          (logitsT as unknown as tf.Tensor2D).data(),
        ]);
        const predicted = argmaxRows(lgArr, this.model.config.numClasses);
        if (this.relabelTable && epoch >= c.relabelEpoch) {
          // SCN: from the forward's weighted logits (src/train.py L250-258), persistently
          const k = this.model.config.numClasses;
          this.relabelTable.apply(batch.index, scnRelabel(lgArr, k, labels));
        }
        if (uArr) trainU ??= new Float32Array(train.n).fill(NaN);
        for (let i = 0; i < labels.length; i++) {
          const hit = predicted[i] === labels[i];
          if (hit) correct++;
          // the fit of the GIVEN label (SCN trains on its relabelled table, not on the given one)
          const j = batch.index[i];
          trainHit[j] = (this.relabelTable ? predicted[i] === train.labels[j] : hit) ? 1 : 0;
          if (trainU && uArr) trainU[batch.index[i]] = uArr[i];
        }
        tf.dispose([value, batch.x, batch.y, uT, logitsT].filter((t) => t !== null));
        tf.dispose(Object.values(grads));
        const loss = lossArr[0];
        lossSum += loss * labels.length;
        seen += labels.length;
        step++;
        this.globalStep++;
        const ips = seen / ((performance.now() - t0) / 1000);
        progress.update(seen, { loss: lossSum / seen });
        if (!Number.isFinite(loss)) {
          throw new Error(`epoch ${epoch} step ${step}: loss is ${loss} (diverged)`);
        }
        const info: StepInfo = {
          epoch,
          step,
          steps,
          globalStep: this.globalStep,
          loss,
          meanLoss: lossSum / seen,
          imagesPerSec: ips,
        };
        await this.options.hooks?.onStep?.(info);
        const reason = await this.stopper?.check(info);
        if (reason && step < steps) {
          progress.finish({ loss: lossSum / seen });
          await this.stopMidEpoch(reason, info);
          return null;
        }
      }
    } catch (e) {
      // a wasm trap or allocation failure says nothing about what to change: say it
      if (!isOutOfMemory(e)) throw e;
      const shape = stepShape(c, this.model.config.numClasses);
      throw new Error(
        `epoch ${epoch} step ${current}: out of memory (${(e as Error).message}): ` +
          memoryMessage(shape, tf.getBackend()),
        { cause: e },
      );
    }
    const trainSeconds = (performance.now() - t0) / 1000;
    progress.finish({ loss: lossSum / seen });
    this.scheduler.step();
    const test = await evaluateModel(this.model, this.data.test, {
      batchSize: c.evalBatchSize,
      loader: this.evalLoader("test"),
    });
    this.lastTest = test;
    this.epochsDone = epoch;
    if (test.accuracy > this.best.acc) this.best = { acc: test.accuracy, epoch };
    const record: MetricsRecord = {
      epoch,
      lr_backbone: lrs.backbone,
      lr_classifier: lrs.classifier,
      train_loss: lossSum / seen,
      train_acc: correct / seen,
      test_loss: test.loss,
      test_acc: test.accuracy,
      best_test_acc: this.best.acc,
      best_epoch: this.best.epoch,
      train_seconds: trainSeconds,
      train_images_per_s: seen / trainSeconds,
    };
    if (train.cleanLabels) Object.assign(record, fitOfNoisyLabels(trainHit, trainU, train));
    if (this.relabelTable) Object.assign(record, this.relabelTable.epochRecord());
    if (trainU && train.cleanLabels) {
      const seenIdx: number[] = [];
      for (let i = 0; i < train.n; i++) if (!Number.isNaN(trainU[i])) seenIdx.push(i);
      const u = seenIdx.map((i) => trainU[i]);
      const y = seenIdx.map((i) => train.labels[i]);
      const yc = seenIdx.map((i) => train.cleanLabels![i]);
      const flipped = y.some((v, i) => v !== yc[i]) && y.some((v, i) => v === yc[i]);
      record.train_u_mean = u.reduce((a, b) => a + b, 0) / Math.max(1, u.length);
      record.train_u_auroc_noisy = flipped ? noisyLabelDetection(u, y, yc).auroc : null;
    }
    if (this.options.auditEachEpoch && train.cleanLabels) {
      const ev = await this.evalTrainingSet("silent");
      Object.assign(record, evalFitOfNoisyLabels(ev.predictions, ev.u, train, ev.score));
    }
    this.records.push(record);
    this.logger?.log(record);
    if (this.runDir && this.options.checkpoints !== false) {
      await saveCheckpoint(this.runDir, this.model, this.optimizer, {
        config: this.config,
        epoch,
        best: this.best,
        globalStep: this.globalStep,
        isBest: this.best.epoch === epoch,
        labels: this.relabelTable?.labels,
      });
    }
    this.log(
      `epoch ${epoch}/${c.epochs}: train loss ${fmt(record.train_loss)} acc ${
        fmt(record.train_acc)
      }` +
        ` | test loss ${fmt(test.loss)} acc ${fmt(test.accuracy)} | best ${fmt(this.best.acc)} @ ` +
        `${this.best.epoch} | ${fmt(record.train_images_per_s, 1)} img/s | epoch ${
          fmt((performance.now() - t0) / 1000, 1)
        } s (train ${fmt(trainSeconds, 1)} s)`,
    );
    const info: EpochInfo = { epoch, epochs: c.epochs, record, test, trainU };
    await this.options.hooks?.onEpoch?.(info);
    return info;
  }

  /**
   * Train until `config.epochs` epochs are done (or `untilEpoch`, e.g. to test resuming), then
   * return the results. Stops early, at the next step boundary, when a condition of `stop` (or of
   * `TrainerOptions.stop`) holds: an interrupt (SIGINT: Jupyter's Kernel > Interrupt), a deadline,
   * a step budget, a condition or an abort signal. Mid-epoch it then writes the weights and
   * optimiser state to `checkpoints/stopped.safetensors` (last.safetensors keeps the last
   * completed epoch, so `--resume` stays exact), logs the stop and returns the partial result
   * (`result.stopped` says why and where); the trainer and the kernel stay usable.
   */
  async run(untilEpoch?: number, stop?: StopOptions): Promise<TrainResult> {
    const end = Math.min(untilEpoch ?? this.config.epochs, this.config.epochs);
    this.stopped = null;
    this.stopper = new Stopper({ ...this.options.stop, ...stop }, this.log);
    try {
      while (this.epochsDone < end) {
        const reason = await this.stopper.check(null);
        if (reason) {
          this.recordStop(reason, this.epochsDone + 1, 0, this.trainLoader().numBatches, NaN, null);
          break;
        }
        if (!(await this.runEpoch())) break;
      }
    } finally {
      this.stopper.dispose();
      this.stopper = null;
    }
    return this.result();
  }

  private async stopMidEpoch(reason: StopReason, info: StepInfo): Promise<void> {
    let file: string | null = null;
    if (this.runDir && this.options.checkpoints !== false) {
      await saveCheckpoint(this.runDir, this.model, this.optimizer, {
        config: this.config,
        epoch: this.epochsDone,
        best: this.best,
        globalStep: this.globalStep,
        stoppedAtStep: info.step,
        labels: this.relabelTable?.labels,
      }, CHECKPOINT_STOPPED);
      file = path.join(this.runDir, CHECKPOINT_STOPPED);
    }
    this.recordStop(reason, info.epoch, info.step, info.steps, info.meanLoss, file);
  }

  private recordStop(
    reason: StopReason,
    epoch: number,
    step: number,
    steps: number,
    meanLoss: number,
    checkpoint: string | null,
  ): void {
    this.stopped = {
      reason,
      epoch,
      step,
      steps,
      globalStep: this.globalStep,
      meanLoss,
      checkpoint,
    };
    const where = step > 0 ? `epoch ${epoch} step ${step}/${steps}` : `before epoch ${epoch}`;
    this.log(
      `stopped (${reason}) at ${where} after ${this.epochsDone} complete epoch(s)` +
        (checkpoint ? `; weights + optimiser state at the stop: ${checkpoint}` : ""),
    );
    if (this.runDir) {
      writeFileAtomic(
        path.join(this.runDir, "stopped.json"),
        JSON.stringify({ ...this.stopped, epochsDone: this.epochsDone, time: new Date() }) + "\n",
      );
    }
  }

  /** Results so far. */
  result(): TrainResult {
    const last = this.records[this.records.length - 1];
    return {
      runDir: this.runDir,
      epochs: this.epochsDone,
      bestTestAcc: this.best.acc,
      bestEpoch: this.best.epoch,
      lastTestAcc: last ? Number(last.test_acc) : NaN,
      records: [...this.records],
      stopped: this.stopped,
    };
  }

  /** Test-set evaluation of the last epoch (null before the first epoch of this process). */
  lastTestEval(): EvalResult | null {
    return this.lastTest;
  }

  /**
   * Eval-mode pass over the training set: per-sample table (`samples_train.*` in the run folder)
   * and the AUROC of u for flipped labels when the clean labels are known.
   */
  async auditTrainingSet(options: { writeTable?: boolean } = {}): Promise<TrainAudit> {
    const train = this.data.train;
    const ev = await this.evalTrainingSet(this.options.progress ?? "auto");
    let noisyAuroc: number | null = null;
    let meanU: TrainAudit["meanU"] = null;
    const kind = this.model.config.kind;
    const score = ev.u ? "u" : ev.score ? (kind === "scn" ? "alpha" : "consistency") : null;
    const values = ev.u ?? ev.score;
    if (values && train.cleanLabels) {
      const nf = train.labels.reduce((a, v, i) => a + (v !== train.cleanLabels![i] ? 1 : 0), 0);
      if (nf > 0 && nf < train.n) {
        // flipped = the given label differs from the clean one (SCN's relabelling aside)
        const d = noisyLabelDetection(values, train.labels, train.cleanLabels);
        noisyAuroc = d.auroc;
        if (ev.u) meanU = { flipped: d.meanUFlipped, clean: d.meanUClean };
      }
    }
    let table: TrainAudit["table"] = null;
    if (this.runDir && options.writeTable !== false) {
      table = writeSampleTable(this.runDir, sampleTableOf(train, ev), "samples_train");
    }
    const relabel = this.relabelTable?.report() ?? null;
    if (relabel && this.runDir) {
      writeFileAtomic(path.join(this.runDir, "scn_relabel.json"), JSON.stringify(relabel) + "\n");
    }
    return { eval: ev, noisyAuroc, meanU, score, scoreAuroc: noisyAuroc, relabel, table };
  }

  /** Eval-mode pass over the training set (test transform, in order). */
  private evalTrainingSet(progress: ProgressMode): Promise<EvalResult> {
    return evaluateModel(this.model, this.data.train, {
      batchSize: this.config.evalBatchSize,
      loader: this.evalLoader("train"),
      progress,
      label: "audit train set",
      scores: true,
    });
  }

  /** Write the test set's per-sample table (`samples_test.*`) from a fresh eval pass. */
  async writeTestTable(): Promise<{ csv: string; json: string } | null> {
    if (!this.runDir) return null;
    const ev = await evaluateModel(this.model, this.data.test, {
      batchSize: this.config.evalBatchSize,
      loader: this.evalLoader("test"),
    });
    return writeSampleTable(this.runDir, sampleTableOf(this.data.test, ev), "samples_test");
  }

  /** The training-set loader (augmenting, shuffling), created once. */
  private trainLoader(): BatchLoader {
    if (!this.loaders.train) {
      const c = this.config;
      this.loaders.train = new BatchLoader(this.data.train, {
        batchSize: c.batchSize,
        size: c.model.inputSize,
        augment: c.data.augment,
        shuffle: true,
        seed: c.seed,
        // PyTorch's loader keeps the last partial batch; a batch of 1 cannot train batch norm.
        dropLast: this.data.train.n % c.batchSize === 1,
        workers: this.options.workers ?? 1,
      });
    }
    return this.loaders.train;
  }

  /** A test-transform loader over the train or test split, created once. */
  private evalLoader(split: "train" | "test"): BatchLoader {
    const key = split === "train" ? "trainEval" : "test";
    if (!this.loaders[key]) {
      this.loaders[key] = new BatchLoader(this.data[split], {
        batchSize: this.config.evalBatchSize,
        size: this.config.model.inputSize,
        augment: false,
        shuffle: false,
        workers: this.options.workers ?? 1,
      });
    }
    return this.loaders[key]!;
  }

  /** Release the model, the optimiser state and the loaders' workers. */
  dispose(): void {
    for (const l of Object.values(this.loaders)) l?.close();
    this.optimizer.dispose();
    this.model.dispose();
  }
}

/**
 * Evaluates {@link StopOptions} during one `run()`: holds the SIGINT listener (and yields to the
 * event loop at each check, which is when Deno delivers the signal to the listener).
 */
class Stopper {
  private interrupted = false;
  private readonly onSigint = () => {
    if (this.interrupted) {
      this.log("interrupt: still stopping, at the end of the current step");
    } else {
      this.log("interrupt: stopping at the end of the current step");
    }
    this.interrupted = true;
  };
  private listening = false;
  private readonly t0 = Date.now();

  constructor(private readonly o: StopOptions, private readonly log: (line: string) => void) {
    if (o.interrupt !== false) {
      try {
        Deno.addSignalListener("SIGINT", this.onSigint);
        this.listening = true;
      } catch {
        // No signals here (e.g. a platform without SIGINT listeners): interrupts kill as before.
      }
    }
  }

  /** The reason to stop now, if any (`info` is null at an epoch boundary). */
  async check(info: StepInfo | null): Promise<StopReason | null> {
    if (this.listening) await new Promise((r) => setTimeout(r, 0)); // let a SIGINT arrive
    const o = this.o;
    if (this.interrupted) return "interrupt";
    if (o.signal?.aborted) return "signal";
    const now = Date.now();
    const deadline = o.deadline instanceof Date ? o.deadline.getTime() : o.deadline;
    if (deadline !== undefined && now >= deadline) return "deadline";
    if (o.maxSeconds !== undefined && now - this.t0 >= o.maxSeconds * 1000) return "deadline";
    const global = info?.globalStep;
    if (o.maxSteps !== undefined && global !== undefined && global >= o.maxSteps) {
      return "max-steps";
    }
    if (info && o.when && await o.when(info)) return "condition";
    return null;
  }

  /** Removes the SIGINT listener. */
  dispose(): void {
    if (this.listening) Deno.removeSignalListener("SIGINT", this.onSigint);
    this.listening = false;
  }
}

function fmt(v: unknown, digits = 4): string {
  return typeof v === "number" ? v.toFixed(digits) : String(v);
}

/** Convenience: create a {@link Trainer}, run it to the end, dispose it, return the results. */
export async function train(options: TrainerOptions = {}): Promise<TrainResult> {
  const t = await Trainer.create(options);
  try {
    return await t.run();
  } finally {
    t.dispose();
  }
}
