/**
 * One training step outside the trainer, for the benchmarks and measurement tools (bench/
 * train_step.ts, tools/measure_step_memory.ts): forward, loss, gradients (by default the trainer's
 * `variableGradsFreeing`), Adam.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { disposeModelOutput, type FerModel } from "../lib/model/mod.ts";
import type { Adam } from "../lib/train/adam.ts";
import { variableGradsFreeing } from "../lib/train/grads.ts";

/**
 * One training step of `model` on (x, labels) with `opt`; nothing survives but the variables.
 * Resolves once the step's last update can be read back (the whole step has run). `grads` picks
 * the backward pass (`tf.variableGrads` to compare with TF.js's own).
 */
export async function trainStep(
  model: FerModel,
  opt: Adam,
  x: tf.Tensor4D,
  labels: Int32Array,
  grads: typeof variableGradsFreeing = variableGradsFreeing,
): Promise<void> {
  const vars = model.trainableVariables();
  tf.tidy(() => {
    const { value, grads: g } = grads(() => {
      const out = model.forwardTrain(x, { labels });
      const loss = model.loss(out, labels);
      disposeModelOutput(out);
      return loss;
    }, vars);
    opt.step(g);
    tf.dispose([value, g]);
  });
  await vars[vars.length - 1].data();
}
