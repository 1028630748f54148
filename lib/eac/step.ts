/**
 * The EAC (Erasing Attention Consistency, Zhang et al., ECCV 2022) training step in one function,
 * as the official `zyh-uaiaaaa/Erasing-Attention-Consistency` code implements it (`src/main.py`,
 * `src/model.py`, `src/loss.py`, `src/utils.py`; line numbers in docs/methods.md). The official
 * backbone is ResNet-50; this project runs EAC on its ResNet-18 (512 channels instead of 2048).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { crossEntropy, type LabelsLike } from "../rul/loss.ts";
import { detached } from "../engine/no_grad.ts";
import { globalAvgPool } from "../engine/mod.ts";

/** The official EAC hyper-parameters. */
export const EAC_DEFAULTS = Object.freeze({
  /** Weight λ of the flip-consistency loss (`--lam`, `src/main.py` L35). */
  lambda: 5,
});

/** EAC's switches. */
export interface EacSwitches {
  /** λ: weight of the flip-consistency loss. */
  lambda: number;
}

/** Inputs of {@link eacTrainingStep}. */
export interface EacStepInput {
  /** Backbone feature map of the images, [N, H, W, C] (train mode). */
  featureMap: tf.Tensor4D;
  /** Backbone feature map of the horizontally flipped images, [N, H, W, C] (train mode). */
  featureMapFlipped: tf.Tensor4D;
  /** The classifier (official `fc`, Linear(C → K)) on pooled features. */
  classifier: (pooled: tf.Tensor2D) => tf.Tensor2D;
  /** The classifier's weight as [C, K] (its transpose in PyTorch: `fc.weight` is [K, C]). */
  classifierWeight: tf.Tensor2D;
  /** Labels y [N]; without them no loss. */
  labels?: LabelsLike;
}

/** Everything {@link eacTrainingStep} computes (new tensors; the caller disposes them). */
export interface EacStepOutput {
  /** Logits fc(avgpool(f(x))) [N, K]. */
  logits: tf.Tensor2D;
  /** Class activation maps of the images, M [N, H, W, K] (PyTorch's `hm1` is [N, K, H, W]). */
  cam: tf.Tensor4D;
  /** Class activation maps of the flipped images, M' [N, H, W, K] (`hm2`). */
  camFlipped: tf.Tensor4D;
  /** Per-sample consistency (1/(K·H·W)) Σ (M − flip(M'))² [N]. */
  consistencyPerSample: tf.Tensor1D;
  /** Flip-consistency loss: the mean of {@link consistencyPerSample} (MSE over N·K·H·W). */
  consistency: tf.Scalar;
  /** Cross-entropy of the logits (a scalar), or null without labels. */
  ceLoss: tf.Scalar | null;
  /** The EAC loss CE + λ·consistency (a scalar), or null without labels. */
  loss: tf.Scalar | null;
}

/**
 * Horizontal flip of a map [N, H, W, ·] along W: what the official flip grid does
 * (`generate_flip_grid`, `src/utils.py` L23-32: x ← −(2j/(w−1) − 1), y ← 2i/(h−1) − 1, then
 * `grid_sample(bilinear, align_corners=True)`, `src/loss.py` L8): with align_corners the sample
 * points fall exactly on pixel centres, so the bilinear weights are 1 and 0 and the resampling is
 * exactly the flip j → W−1−j (the fixture generator computes it with `grid_sample` itself).
 */
export function flipHorizontal<T extends tf.Tensor4D>(x: T): T {
  return tf.reverse(x, 2) as T;
}

/**
 * Class activation maps M[n,h,w,k] = Σ_c f[n,h,w,c]·W[k,c] (`src/model.py` L31-39: the classifier
 * weight is read through `.data`, so no gradient flows into it from the maps; the feature map gets
 * one).
 */
export function classActivationMaps(featureMap: tf.Tensor4D, weight: tf.Tensor2D): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = featureMap.shape;
    const k = weight.shape[1];
    const flat = tf.reshape(featureMap, [n * h * w, c]) as tf.Tensor2D;
    return tf.reshape(tf.matMul(flat, detached(weight)), [n, h, w, k]) as tf.Tensor4D;
  });
}

/**
 * One EAC training step after the backbone (`src/main.py` L59-69, `src/model.py` L22-41,
 * `src/loss.py` L4-10):
 *
 * 1. logits = fc(avgpool(f(x))) (model.py L23-29); the flipped pass's logits are not used;
 * 2. CAMs M = f(x)·Wᵀ and M' = f(flip(x))·Wᵀ per position, W detached (model.py L31-39);
 * 3. consistency ℓ = (1/(N·K·H·W)) Σ (M − flip_W(M'))² (loss.py L5-9, the flip grid);
 * 4. loss L = (1/N) Σ_i CE(logits_i, y_i) + λ·ℓ (main.py L65-69), λ = 5.
 *
 * The images are randomly erased by the data transform before the step (main.py L128-134).
 */
export function eacTrainingStep(
  input: EacStepInput,
  switches: EacSwitches = EAC_DEFAULTS,
): EacStepOutput {
  const { featureMap, featureMapFlipped, labels } = input;
  return tf.tidy(() => {
    const logits = input.classifier(globalAvgPool(featureMap));
    const cam = classActivationMaps(featureMap, input.classifierWeight);
    const camFlipped = classActivationMaps(featureMapFlipped, input.classifierWeight);
    const d = tf.sub(cam, flipHorizontal(camFlipped));
    const consistencyPerSample = tf.mean(tf.square(d), [1, 2, 3]) as tf.Tensor1D;
    const consistency = tf.mean(consistencyPerSample) as tf.Scalar;
    const ceLoss = labels !== undefined ? crossEntropy(logits, labels) : null;
    const loss = ceLoss ? tf.add(ceLoss, tf.mul(consistency, switches.lambda)) as tf.Scalar : null;
    return {
      logits,
      cam,
      camFlipped,
      consistencyPerSample,
      consistency,
      ceLoss,
      loss,
    } as unknown as tf.TensorContainer;
  }) as unknown as EacStepOutput;
}
