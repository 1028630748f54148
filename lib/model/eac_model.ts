/**
 * EAC (`zyh-uaiaaaa/Erasing-Attention-Consistency`, `src/model.py` L7-41) on this project's
 * ResNet-18 (the official backbone is ResNet-50 with 2048 channels): `features` = the backbone
 * before pooling, global average pooling, `fc` = Linear(512 → K); each training step runs the
 * images and their horizontal flips through the same network (BN batch statistics of each pass,
 * running statistics updated twice, as the official two forward calls do) and adds the
 * flip-consistency loss of the class activation maps (lib/eac {@link eacTrainingStep}).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { ModelConfig } from "./config.ts";
import { LinearLayer } from "./layers.ts";
import { globalAvgPool } from "../engine/mod.ts";
import { sequentialNaming } from "./resnet.ts";
import { ModelBase } from "./base.ts";
import { tidyObject } from "./tidy.ts";
import {
  type EvalForwardOptions,
  type EvalOutput,
  type FerModel,
  type TrainForwardOptions,
  type TrainOutput,
  unmixedTrainOutput,
} from "./types.ts";
import { crossEntropy, type LabelsLike } from "../rul/loss.ts";
import { EAC_DEFAULTS, type EacStepOutput, eacTrainingStep, flipHorizontal } from "../eac/step.ts";

/** The EAC model (build it with `createModel({ kind: "eac", ... })`). */
export class EacModel extends ModelBase implements FerModel {
  private readonly fc: LinearLayer;

  /** Build every layer; names follow the official `Model` (`features.*`, `fc.*`). */
  constructor(config: ModelConfig) {
    super(config, sequentialNaming);
    this.fc = new LinearLayer(this.store, "fc", config.widths[3], config.numClasses, "classifier");
  }

  /**
   * The whole EAC step of lib/eac on a batch: the images and their flips through the network in
   * `training` mode, then {@link eacTrainingStep} (logits, both CAMs, per-sample and mean
   * consistency, CE and total loss). New tensors; the caller disposes them.
   */
  forwardStep(
    x: tf.Tensor4D,
    labels?: LabelsLike,
    training = true,
  ): EacStepOutput & { featureMap: tf.Tensor4D } {
    return tidyObject(() => {
      const featureMap = this.features(x, training);
      const featureMapFlipped = this.features(flipHorizontal(x), training);
      const step = eacTrainingStep({
        featureMap,
        featureMapFlipped,
        classifier: (p) => this.fc.apply(p),
        classifierWeight: this.fc.weight as tf.Tensor2D,
        labels,
      });
      return { featureMap, ...step };
    });
  }

  /** Training-mode forward: the EAC step; `loss` = CE + λ·consistency when labels are given. */
  forwardTrain(x: tf.Tensor4D, options: TrainForwardOptions = {}): TrainOutput {
    const s = this.forwardStep(x, options.labels);
    tf.dispose([s.cam, s.camFlipped, s.consistency, s.ceLoss].filter((t) => t !== null));
    const { featureMap, logits, loss, consistencyPerSample } = s;
    return unmixedTrainOutput({ featureMap, logits, loss, score: consistencyPerSample });
  }

  /**
   * Eval-mode forward: logits fc(avgpool(f(x))); with `options.scores` also the per-sample
   * flip-consistency of the CAMs (a second, flipped pass; the audit's score).
   */
  forwardEval(x: tf.Tensor4D, options: EvalForwardOptions = {}): EvalOutput {
    if (options.scores) {
      const s = this.forwardStep(x, undefined, false);
      const pooled = tf.tidy(() => globalAvgPool(s.featureMap));
      tf.dispose([s.featureMap, s.cam, s.camFlipped, s.consistency]);
      return {
        logits: s.logits,
        features: pooled,
        u: null,
        logVar: null,
        score: s.consistencyPerSample,
      };
    }
    return tidyObject(() => {
      const pooled = globalAvgPool(this.features(x, false));
      return { logits: this.fc.apply(pooled), features: pooled, u: null, logVar: null };
    });
  }

  /** The EAC loss of a train output: CE of its logits + λ · the mean of its per-sample consistency. */
  loss(out: TrainOutput, labels: LabelsLike): tf.Scalar {
    if (!out.score) throw new Error("EAC loss: the train output has no consistency (not EAC's)");
    return tf.tidy(() =>
      tf.add(crossEntropy(out.logits, labels), tf.mul(tf.mean(out.score!), EAC_DEFAULTS.lambda))
    ) as tf.Scalar;
  }
}
