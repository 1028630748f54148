/**
 * Baseline: the same ResNet-18 backbone, global average pooling and Linear(512 → classes), trained
 * with plain cross-entropy. Parameter names are torchvision's (`conv1.weight`, …, `fc.weight`).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { ModelConfig } from "./config.ts";
import { LinearLayer } from "./layers.ts";
import { globalAvgPool } from "../engine/mod.ts";
import { torchvisionNaming } from "./resnet.ts";
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

/** The baseline model (build it with `createModel({ kind: "baseline", ... })`). */
export class BaselineModel extends ModelBase implements FerModel {
  private readonly fc: LinearLayer;

  /** Build every layer. */
  constructor(config: ModelConfig) {
    super(config, torchvisionNaming);
    this.fc = new LinearLayer(
      this.store,
      "fc",
      config.widths[3],
      config.numClasses,
      "classifier",
    );
  }

  /** Training-mode forward (no mixing); the cross-entropy `loss` when `options.labels` are given. */
  forwardTrain(x: tf.Tensor4D, options: TrainForwardOptions = {}): TrainOutput {
    const r = tidyObject(() => {
      const featureMap = this.features(x, true);
      const logits = this.fc.apply(globalAvgPool(featureMap));
      const loss = options.labels ? crossEntropy(logits, options.labels) : null;
      return { featureMap, logits, loss };
    });
    return unmixedTrainOutput({ featureMap: r.featureMap, logits: r.logits, loss: r.loss });
  }

  /** Eval-mode forward. */
  forwardEval(x: tf.Tensor4D): EvalOutput {
    return tidyObject(() => {
      const f = this.features(x, false);
      const pooled = globalAvgPool(f);
      return { logits: this.fc.apply(pooled), features: pooled, u: null, logVar: null };
    });
  }

  /** Plain cross-entropy. */
  loss(out: TrainOutput, labels: LabelsLike): tf.Scalar {
    return crossEntropy(out.logits, labels);
  }
}
