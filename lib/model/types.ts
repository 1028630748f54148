/**
 * The model interface every trainer, evaluator and notebook uses, and its outputs.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import * as tfc from "@tensorflow/tfjs-core";
import type { ModelConfig } from "./config.ts";
import type { HostLabels } from "../rul/pairing.ts";
import type { LabelsLike } from "../rul/loss.ts";
import type { UniformRng } from "../random.ts";
import type { LoadStateDictOptions, StateDictReport } from "./state.ts";

/** Options of a training-mode forward pass. */
export interface TrainForwardOptions {
  /**
   * Labels of the batch: needed by the `different-label` and `hardest` pairings; when given, the
   * output carries the training loss.
   */
  labels?: HostLabels;
  /** Explicit pairing p (p(i) = partner of i); overrides the configured pairing (tests). */
  perm?: ArrayLike<number>;
  /** Randomness for pairing and dropout (default: the model's own seeded generator). */
  rng?: UniformRng;
}

/**
 * Everything a training-mode forward pass produces. RUL-only fields are `null` for the baseline
 * (and `logVar`/`u` are `null` for RUL without σ head). Dispose with {@link disposeModelOutput}.
 */
export interface TrainOutput {
  /** Backbone feature map [N, h, w, C] (before pooling). */
  featureMap: tf.Tensor4D;
  /** RUL: μ [N, D]. */
  mu: tf.Tensor2D | null;
  /** RUL: log σ² [N, D]. */
  logVar: tf.Tensor2D | null;
  /** RUL: uncertainty u = mean(exp(log σ²)) [N]. */
  u: tf.Tensor1D | null;
  /**
   * RUL: pairing used (p(i) = partner of sample i): on the host, except the `hardest` pairing
   * on a backend without synchronous reads (WebGPU), where it stays on the device as an int32
   * tensor [N] (read it with `await perm.data()`; disposed with the output).
   */
  perm: Int32Array | tf.Tensor1D | null;
  /** RUL: mix weight w_i = u_i/(u_i+u_p(i)) [N] (0.5 without σ head). */
  w: tf.Tensor1D | null;
  /** RUL: partner share u_p(i)/(u_i+u_p(i)) [N]. */
  wPartner: tf.Tensor1D | null;
  /** RUL: mixed features [N, D]. */
  mixed: tf.Tensor2D | null;
  /** Classifier output [N, classes] (on the mixed features for RUL). */
  logits: tf.Tensor2D;
  /**
   * The training loss for `options.labels` (RUL add-up loss; baseline cross-entropy), or null
   * when no labels were given.
   */
  loss: tf.Scalar | null;
  /**
   * The method's per-sample score, when it has one: SCN's importance α [N], EAC's per-sample
   * flip-consistency loss [N]; absent or null otherwise.
   */
  score?: tf.Tensor1D | null;
}

/** Outputs of an eval-mode forward pass (BN running statistics, no dropout, no mixing). */
export interface EvalOutput {
  /** Logits [N, classes]. */
  logits: tf.Tensor2D;
  /** Features: μ [N, D] for RUL, pooled [N, 512] for the baseline (for t-SNE etc.). */
  features: tf.Tensor2D;
  /** Uncertainty u [N] (RUL with σ head), else null. */
  u: tf.Tensor1D | null;
  /** log σ² [N, D] (RUL with σ head), else null. */
  logVar: tf.Tensor2D | null;
  /**
   * The method's per-sample score (SCN: importance α; EAC with `scores`: flip-consistency of the
   * CAMs); absent or null otherwise.
   */
  score?: tf.Tensor1D | null;
}

/** Options of an eval-mode forward pass. */
export interface EvalForwardOptions {
  /**
   * Also compute per-sample scores that cost an extra pass (EAC's flip consistency; the audit
   * asks for them, the per-epoch test evaluation does not).
   */
  scores?: boolean;
}

/** Trainable variables split into the two official learning-rate groups. */
export interface TrainableGroups {
  /** Backbone and RUL heads (official lr 2e-4). */
  backbone: tf.Variable[];
  /** Final classifier (official lr 2e-3). */
  classifier: tf.Variable[];
}

/** A facial-expression model (RUL or baseline) built by `createModel`. */
export interface FerModel {
  /** The resolved configuration (store it in checkpoints to rebuild the model). */
  readonly config: Readonly<ModelConfig>;
  /** Trainable variables by group, for per-group learning rates. */
  trainableGroups(): TrainableGroups;
  /** All trainable variables (pass to `tf.variableGrads`: never rely on its global default). */
  trainableVariables(): tf.Variable[];
  /** Trainable variables by PyTorch name (internal layout; key optimiser state by these names). */
  namedParameters(): Map<string, tf.Variable>;
  /** Buffers (BN running stats, num_batches_tracked) by PyTorch name. */
  namedBuffers(): Map<string, tf.Variable>;
  /** Parameters AND buffers by PyTorch name, in PyTorch layout (new tensors; caller disposes). */
  stateDict(): Map<string, tf.Tensor>;
  /**
   * Convert a tensor in the internal layout of parameter `name` (e.g. its gradient or an
   * optimiser moment) to PyTorch's layout (new tensor; caller disposes).
   */
  toTorchLayout(name: string, t: tf.Tensor): tf.Tensor;
  /** Load a PyTorch-named, PyTorch-layout state dict; reports (and prints) every mismatch. */
  loadStateDict(sd: Map<string, tf.Tensor>, options?: LoadStateDictOptions): StateDictReport;
  /** Backbone feature map of NHWC images (updates BN running stats when `training`). */
  backboneFeatures(x: tf.Tensor4D, training: boolean): tf.Tensor4D;
  /** Training-mode forward (BN batch stats + running-stat update, dropout, RUL mixing). */
  forwardTrain(x: tf.Tensor4D, options?: TrainForwardOptions): TrainOutput;
  /** Eval-mode forward. */
  forwardEval(x: tf.Tensor4D, options?: EvalForwardOptions): EvalOutput;
  /** The configured training loss of a train output (RUL add-up loss; baseline cross-entropy). */
  loss(out: TrainOutput, labels: LabelsLike): tf.Scalar;
  /** Release every variable. */
  dispose(): void;
}

/**
 * A {@link TrainOutput} of a model without RUL's mixing (baseline, SCN, EAC): the RUL-only fields
 * are null.
 */
export function unmixedTrainOutput(
  parts: Pick<TrainOutput, "featureMap" | "logits" | "loss" | "score">,
): TrainOutput {
  return {
    mu: null,
    logVar: null,
    u: null,
    perm: null,
    w: null,
    wPartner: null,
    mixed: null,
    ...parts,
  };
}

/** Dispose every tensor of a {@link TrainOutput} or {@link EvalOutput}. */
export function disposeModelOutput(out: TrainOutput | EvalOutput): void {
  for (const v of Object.values(out)) if (v instanceof tfc.Tensor) v.dispose();
}
