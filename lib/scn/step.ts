/**
 * The SCN (Self-Cure Network, Wang et al., CVPR 2020) training step in one function, and its
 * relabelling rule, as the official `kaiwang960112/Self-Cure-Network` `src/train.py` implements
 * them (line numbers refer to that file; docs/methods.md lists them all).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { crossEntropy, type LabelsLike } from "../rul/loss.ts";
import { detached } from "../engine/no_grad.ts";

/** The official SCN hyper-parameters (`src/train.py` L22-25). */
export const SCN_DEFAULTS = Object.freeze({
  /** Share of the batch in the high-importance group (`--beta`, L22). */
  beta: 0.7,
  /** First epoch (1-based) that relabels (`--relabel_epoch`, L23; `if i >= relabel_epoch`, L250). */
  relabelEpoch: 10,
  /** Rank-regularisation margin (`--margin_1`, L24). */
  margin1: 0.15,
  /** Relabelling margin (`--margin_2`, L25). */
  margin2: 0.2,
});

/** SCN's switches (all official by default: {@link SCN_DEFAULTS}). */
export interface ScnSwitches {
  /** β: share of the batch in the high-importance group. */
  beta: number;
  /** margin_1 of the rank regularisation. */
  margin1: number;
}

/** Inputs of {@link scnTrainingStep}. */
export interface ScnStepInput {
  /** Pooled backbone features x [N, C] (train mode; after dropout when the model has one). */
  features: tf.Tensor2D;
  /** The importance branch's linear layer (official `alpha[0]`, Linear(C → 1)). */
  importance: (features: tf.Tensor2D) => tf.Tensor2D;
  /** The classifier (official `fc`, Linear(C → K)). */
  classifier: (features: tf.Tensor2D) => tf.Tensor2D;
  /** Labels y [N] (the training set's current label table); without them no loss. */
  labels?: LabelsLike;
}

/** Everything {@link scnTrainingStep} computes (new tensors; the caller disposes them). */
export interface ScnStepOutput {
  /** Importance weights α_i = σ(alpha(x_i)) [N]. */
  alpha: tf.Tensor1D;
  /** Weighted logits α_i · fc(x_i) [N, K] (official `out`). */
  logits: tf.Tensor2D;
  /** 1 for the ⌊βN⌋ samples of largest α (the high group), else 0 [N]. */
  highMask: tf.Tensor1D;
  /** Rank-regularisation loss max(0, margin_1 − (mean α_high − mean α_low)) (a scalar). */
  rankLoss: tf.Scalar;
  /** Cross-entropy of the weighted logits against y (a scalar), or null without labels. */
  ceLoss: tf.Scalar | null;
  /** The SCN loss CE + rank loss (a scalar), or null without labels. */
  loss: tf.Scalar | null;
}

/**
 * One SCN training step after the backbone (`src/train.py` L94-103 and L216-240):
 *
 * 1. importance α_i = sigmoid(w_αᵀ x_i + b_α) (L92, L101);
 * 2. weighted logits z_i = α_i · (W x_i + b) (L102; also at evaluation, L272);
 * 3. rank regularisation: with M = ⌊β·N⌋ (L218), H = the M samples of largest α and L the other
 *    N − M (L224-225), L_RR = max(0, margin_1 − (mean_{i∈H} α_i − mean_{i∈L} α_i)) (L229-237);
 *    the split itself carries no gradient, the two means do;
 * 4. loss L = (1/N) Σ_i CE(z_i, y_i) + L_RR (L240).
 *
 * With N − M = 0 or M = 0 (a batch of one) a group is empty, PyTorch's mean is NaN, `diff > 0`
 * is false and L_RR = 0: so here. Ties in α are split by `tf.topk` (lower index first); PyTorch's
 * `topk` leaves their order unspecified.
 */
export function scnTrainingStep(
  input: ScnStepInput,
  switches: ScnSwitches = SCN_DEFAULTS,
): ScnStepOutput {
  const { features, labels } = input;
  const n = features.shape[0];
  return tf.tidy(() => {
    const alpha = tf.reshape(tf.sigmoid(input.importance(features)), [n]) as tf.Tensor1D;
    const logits = tf.mul(tf.reshape(alpha, [n, 1]), input.classifier(features)) as tf.Tensor2D;
    const { highMask, rankLoss } = rankRegularisation(alpha, switches);
    const ceLoss = labels !== undefined ? crossEntropy(logits, labels) : null;
    const loss = ceLoss ? tf.add(ceLoss, rankLoss) as tf.Scalar : null;
    return { alpha, logits, highMask, rankLoss, ceLoss, loss } as unknown as tf.TensorContainer;
  }) as unknown as ScnStepOutput;
}

/**
 * SCN's rank regularisation of importance weights α [N] (step 3 of {@link scnTrainingStep}):
 * the high-group mask (no gradient) and L_RR = max(0, margin_1 − (mean α_high − mean α_low)).
 */
export function rankRegularisation(
  alpha: tf.Tensor1D,
  switches: ScnSwitches = SCN_DEFAULTS,
): { highMask: tf.Tensor1D; rankLoss: tf.Scalar } {
  const n = alpha.shape[0];
  const high = Math.floor(n * switches.beta);
  return tf.tidy(() => {
    if (high === 0 || high === n) {
      return { highMask: tf.fill([n], high === n ? 1 : 0), rankLoss: tf.scalar(0) };
    }
    // which samples are high: no gradient (PyTorch's topk indices); the two means: gradient into α
    const highMask = detached(
      alpha,
      (a) => tf.cast(tf.sum(tf.oneHot(tf.topk(a, high).indices, n), 0), "float32"),
    );
    const meanHigh = tf.div(tf.sum(tf.mul(alpha, highMask)), high);
    const meanLow = tf.div(tf.sum(tf.mul(alpha, tf.sub(1, highMask))), n - high);
    const rankLoss = tf.relu(tf.add(tf.sub(meanLow, meanHigh), switches.margin1));
    return { highMask, rankLoss };
  }) as { highMask: tf.Tensor1D; rankLoss: tf.Scalar };
}

/** What {@link scnRelabel} decided for one batch. */
export interface ScnRelabelDecision {
  /** Positions in the batch whose label changes. */
  positions: Int32Array;
  /** The new label of each of `positions` (the predicted class). */
  newLabels: Int32Array;
}

/**
 * SCN's relabelling rule (`src/train.py` L250-258), on the host: with p = softmax(z_i) of the
 * weighted logits of the training forward, sample i takes the label argmax_k p_k when
 * max_k p_k − p_{y_i} > margin_2. The caller writes the new labels into the training set's label
 * table (persistently: later epochs train on them) from epoch {@link SCN_DEFAULTS}.relabelEpoch on.
 *
 * @param logits weighted logits, row-major [N, K]
 * @param labels the labels the step trained on [N]
 */
export function scnRelabel(
  logits: ArrayLike<number>,
  numClasses: number,
  labels: ArrayLike<number>,
  margin2: number = SCN_DEFAULTS.margin2,
): ScnRelabelDecision {
  const n = labels.length;
  if (logits.length !== n * numClasses) {
    throw new Error(`scnRelabel: ${logits.length} logits for ${n} samples × ${numClasses} classes`);
  }
  const positions: number[] = [];
  const newLabels: number[] = [];
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    let arg = 0;
    for (let k = 0; k < numClasses; k++) {
      const v = logits[i * numClasses + k];
      if (v > max) {
        max = v;
        arg = k;
      }
    }
    let sum = 0;
    for (let k = 0; k < numClasses; k++) sum += Math.exp(logits[i * numClasses + k] - max);
    const pMax = 1 / sum;
    const pLabel = Math.exp(logits[i * numClasses + labels[i]] - max) / sum;
    if (pMax - pLabel > margin2) {
      positions.push(i);
      newLabels.push(arg);
    }
  }
  return { positions: Int32Array.from(positions), newLabels: Int32Array.from(newLabels) };
}
