/**
 * The SCN network of the official release (`kaiwang960112/Self-Cure-Network`, `src/train.py`
 * L81-103, `Res18Feature`): ResNet-18 up to and including global average pooling
 * (`features` = children[:-1]), a classifier `fc` (Linear(512 → K)) and the importance branch
 * `alpha` = Sequential(Linear(512 → 1), Sigmoid); the output is α · fc(x), in training and in
 * evaluation. The official dropout (`--drop_rate`) defaults to 0 and is not built here.
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
  type EvalOutput,
  type FerModel,
  type TrainForwardOptions,
  type TrainOutput,
  unmixedTrainOutput,
} from "./types.ts";
import { crossEntropy, type LabelsLike } from "../rul/loss.ts";
import { rankRegularisation, type ScnStepOutput, scnTrainingStep } from "../scn/step.ts";

/** The SCN model (build it with `createModel({ kind: "scn", ... })`). */
export class ScnModel extends ModelBase implements FerModel {
  private readonly fc: LinearLayer;
  private readonly alpha: LinearLayer;

  /** Build every layer; names follow the official state dict (`features.*`, `fc.*`, `alpha.0.*`). */
  constructor(config: ModelConfig) {
    super(config, sequentialNaming);
    const c = config.widths[3];
    this.fc = new LinearLayer(this.store, "fc", c, config.numClasses, "classifier");
    this.alpha = new LinearLayer(this.store, "alpha.0", c, 1, "classifier");
  }

  /**
   * The whole SCN step of lib/scn ({@link scnTrainingStep}) on a batch: every tensor it computes
   * (α, weighted logits, the high-group mask, the rank, cross-entropy and total losses) plus the
   * backbone's feature map. New tensors; the caller disposes them.
   */
  forwardStep(x: tf.Tensor4D, labels?: LabelsLike): ScnStepOutput & { featureMap: tf.Tensor4D } {
    return tidyObject(() => {
      const featureMap = this.features(x, true);
      const step = scnTrainingStep({
        features: globalAvgPool(featureMap),
        importance: (f) => this.alpha.apply(f),
        classifier: (f) => this.fc.apply(f),
        labels,
      });
      return { featureMap, ...step };
    });
  }

  /** Training-mode forward: the SCN step; `loss` = CE + rank regularisation when labels are given. */
  forwardTrain(x: tf.Tensor4D, options: TrainForwardOptions = {}): TrainOutput {
    const s = this.forwardStep(x, options.labels);
    tf.dispose([s.highMask, s.rankLoss, s.ceLoss].filter((t) => t !== null));
    const { featureMap, logits, loss, alpha } = s;
    return unmixedTrainOutput({ featureMap, logits, loss, score: alpha });
  }

  /** Eval-mode forward: logits α · fc(x) (as the official evaluation), score α. */
  forwardEval(x: tf.Tensor4D): EvalOutput {
    return tidyObject(() => {
      const pooled = globalAvgPool(this.features(x, false));
      const n = pooled.shape[0];
      const alpha = tf.reshape(tf.sigmoid(this.alpha.apply(pooled)), [n]) as tf.Tensor1D;
      const logits = tf.mul(tf.reshape(alpha, [n, 1]), this.fc.apply(pooled)) as tf.Tensor2D;
      return { logits, features: pooled, u: null, logVar: null, score: alpha };
    });
  }

  /** The SCN loss of a train output: CE of its weighted logits + the rank term of its α. */
  loss(out: TrainOutput, labels: LabelsLike): tf.Scalar {
    if (!out.score) throw new Error("SCN loss: the train output has no α (not an SCN output)");
    return tf.tidy(() => {
      const { rankLoss } = rankRegularisation(out.score!);
      return tf.add(crossEntropy(out.logits, labels), rankLoss) as tf.Scalar;
    });
  }
}
