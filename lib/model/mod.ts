/**
 * Models: ResNet-18 (torchvision layout, NHWC activations, HWIO conv weights), the RUL model
 * (μ and log σ² heads + classifier, official `res18feature` names) and the baseline
 * (global pooling + Linear). BatchNorm behaves exactly like PyTorch's in train and eval mode.
 *
 * Usage (a training step, then evaluation and checkpoints):
 *
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { initBackend } from "../backend.ts";
 * import { createModel, disposeModelOutput } from "./mod.ts";
 *
 * await initBackend();
 * const model = createModel({ kind: "rul", inputSize: 112, numClasses: 7 });
 * const { backbone, classifier } = model.trainableGroups(); // lr 2e-4 / 2e-3
 * const x = tf.randomNormal([8, 112, 112, 3]) as tf.Tensor4D; // NHWC, normalised images
 * const labels = Int32Array.from([0, 1, 2, 3, 4, 5, 6, 0]);
 *
 * // train mode: BN batch statistics (running stats updated), dropout, RUL mixing
 * const { value, grads } = tf.variableGrads(() => {
 *   const out = model.forwardTrain(x, { labels }); // { mu, logVar, u, perm, w, mixed, logits, loss, … }
 *   return out.loss!; // add-up loss (RUL, lib/rul rulTrainingStep) or cross-entropy (baseline)
 * }, model.trainableVariables()); // always pass the list explicitly
 * // grads is keyed by variable.name; model.namedParameters() maps PyTorch names to variables.
 * tf.dispose([value, grads]);
 *
 * // eval mode: running statistics, no dropout, no mixing
 * const ev = model.forwardEval(x); // { logits, features (μ or pooled), u, logVar }
 * disposeModelOutput(ev);
 *
 * // PyTorch-style state dicts (params AND buffers, PyTorch names and layouts)
 * const sd = model.stateDict(); // Map<string, tf.Tensor>, caller disposes
 * model.loadStateDict(sd, { strict: true }); // prints missing/unexpected/mismatched keys
 * tf.dispose([...sd.values()]);
 * model.dispose();
 * ```
 *
 * @module
 */
export * from "./config.ts";
export * from "./types.ts";
export * from "./params.ts";
export * from "./layers.ts";
export * from "./resnet.ts";
export * from "./state.ts";
export * from "./base.ts";
export * from "./rul_model.ts";
export * from "./baseline.ts";
export * from "./create.ts";
