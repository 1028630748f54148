/**
 * The RUL training step in one function: from the heads' outputs μ and log σ² and the labels to
 * the pairing, uncertainties, mix weights, mixed features, logits and the add-up loss.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { addUpLoss } from "./loss.ts";
import { halfMixWeights, mixFeatures, mixWeights } from "./mixing.ts";
import {
  differentLabelPairing,
  hardestDifferentLabelPairing,
  hardestDifferentLabelPairingOnDevice,
  type HostLabels,
  randomPermutation,
  syncReadsAvailable,
  validatePairing,
} from "./pairing.ts";
import type { UniformRng } from "../random.ts";
import { uncertainty } from "./uncertainty.ts";
import type { RulSwitches } from "./variants.ts";

/** Inputs of {@link rulTrainingStep}: train-mode outputs of the two heads and the batch. */
export interface RulStepInput {
  /** μ = head_μ(backbone(x)) [N, D] (train mode: batch statistics, dropout). */
  mu: tf.Tensor2D;
  /** log σ² = head_σ(backbone(x)) [N, D], or null for RUL without the σ head. */
  logVar: tf.Tensor2D | null;
  /** The classifier (official `fc`, Linear(D → K)). */
  classifier: (features: tf.Tensor2D) => tf.Tensor2D;
  /** Labels y [N]; needed by the `different-label`/`hardest` pairings and for the loss. */
  labels?: HostLabels;
  /** An explicit pairing p (overrides `switches.pairing`; validated). */
  perm?: ArrayLike<number>;
  /** Randomness of the `random` and `different-label` pairings. */
  rng: UniformRng;
}

/** Everything the step computes (new tensors; the caller disposes them). */
export interface RulStepOutput {
  /**
   * Pairing p (p(i) = partner of sample i): on the host, except the `hardest` pairing on a
   * backend without synchronous reads (WebGPU), where it stays on the device as an int32
   * tensor [N] (the caller disposes it).
   */
  perm: Int32Array | tf.Tensor1D;
  /** u [N] (null without σ head). */
  u: tf.Tensor1D | null;
  /** w_i [N] (0.5 without σ head). */
  w: tf.Tensor1D;
  /** Partner share u_p(i)/(u_i+u_p(i)) [N] (0.5 without σ head). */
  wPartner: tf.Tensor1D;
  /** Mixed features [N, D]. */
  mixed: tf.Tensor2D;
  /** Classifier output on the mixed features [N, K]. */
  logits: tf.Tensor2D;
  /** The add-up loss (a scalar), or null when no labels were given. */
  loss: tf.Scalar | null;
}

/**
 * One RUL training step after the heads (the official `mixup_data` + `mixup_criterion`):
 *
 * 1. pairing p: a random permutation (`random`, official), a random different-label sample
 *    (`different-label`) or the nearest different-label sample in μ space (`hardest`);
 * 2. uncertainty u_i = (1/D) Σ_d exp(log σ²_{i,d});
 * 3. mix weights w_i = u_i / (u_i + u_p(i)) and w'_i = u_p(i) / (u_i + u_p(i)) (= 1 − w_i,
 *    computed as the official code does); both 0.5 without the σ head;
 * 4. mixed features z_i = w_i·μ_i + w'_i·μ_p(i);
 * 5. logits_i = fc(z_i);
 * 6. add-up loss L = (1/N) Σ_i [½·CE(logits_i, y_i) + ½·CE(logits_i, y_p(i))] (`half`, official)
 *    or (1/N) Σ_i [w_i·CE(logits_i, y_i) + (1 − w_i)·CE(logits_i, y_p(i))] (`w`).
 *
 * The σ head gets its gradient only through w. No gradient flows through the pairing.
 *
 * @throws Error when a pairing needs labels and none are given, or `perm` is not a pairing.
 */
export function rulTrainingStep(
  input: RulStepInput,
  switches: Pick<RulSwitches, "pairing" | "addUpWeighting">,
): RulStepOutput {
  const { mu, logVar, labels } = input;
  const n = mu.shape[0];
  let perm: Int32Array | tf.Tensor1D;
  if (input.perm) {
    validatePairing(input.perm, n);
    perm = Int32Array.from(input.perm);
  } else if (switches.pairing === "random") {
    perm = randomPermutation(n, input.rng);
  } else if (!labels) {
    throw new Error(`pairing "${switches.pairing}" needs the labels of the batch`);
  } else {
    perm = switches.pairing === "different-label"
      ? differentLabelPairing(labels, input.rng)
      : syncReadsAvailable()
      ? hardestDifferentLabelPairing(mu, labels)
      : hardestDifferentLabelPairingOnDevice(mu, labels);
  }
  const out = tf.tidy(() => {
    const u = logVar ? uncertainty(logVar) : null;
    const { w, wPartner } = u ? mixWeights(u, perm) : halfMixWeights(n);
    const mixed = mixFeatures(mu, { w, wPartner }, perm);
    const logits = input.classifier(mixed);
    const loss = labels ? addUpLoss(logits, labels, perm, switches.addUpWeighting, w) : null;
    return { u, w, wPartner, mixed, logits, loss } as unknown as tf.TensorContainer;
  }) as unknown as Omit<RulStepOutput, "perm">;
  return { perm, ...out };
}
