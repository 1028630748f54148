/**
 * The RUL network of the official release: ResNet-18 features, μ and log σ² heads, classifier,
 * with the uncertainty-weighted mixing of the training step.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { backboneOutputShape, type ModelConfig } from "./config.ts";
import { BatchNormLayer, LinearLayer } from "./layers.ts";
import type { ParamStore } from "./params.ts";
import { sequentialNaming } from "./resnet.ts";
import { ModelBase } from "./base.ts";
import { tidyObject } from "./tidy.ts";
import type { EvalOutput, FerModel, TrainForwardOptions, TrainOutput } from "./types.ts";
import { mulberry32, type UniformRng } from "../random.ts";
import { uncertainty } from "../rul/uncertainty.ts";
import { addUpLoss, type LabelsLike } from "../rul/loss.ts";
import { rulTrainingStep } from "../rul/step.ts";

/**
 * One RUL head, PyTorch `nn.Sequential` indices in brackets: BatchNorm2d(C, eps 2e-5, no affine)
 * [0] → Dropout [1] → Flatten (channel-major) [2] → Linear(C·h·w → D) [3] → BatchNorm1d(D,
 * eps 2e-5) [4].
 */
export class RulHead {
  private readonly bn2d: BatchNormLayer;
  private readonly linear: LinearLayer;
  private readonly bn1d: BatchNormLayer;

  /** Register `<name>.0.*`, `<name>.3.*`, `<name>.4.*` for a [h, w, c] input map. */
  constructor(
    store: ParamStore,
    name: string,
    shape: [number, number, number],
    dim: number,
    readonly dropout: number,
  ) {
    const [h, w, c] = shape;
    this.bn2d = new BatchNormLayer(store, `${name}.0`, c, 2e-5, false);
    this.linear = new LinearLayer(store, `${name}.3`, h * w * c, dim, "backbone", { c, h, w });
    this.bn1d = new BatchNormLayer(store, `${name}.4`, dim, 2e-5, true);
  }

  /** Apply to a feature map; `dropoutSeed` (training only) makes the dropout mask reproducible. */
  apply(f: tf.Tensor4D, training: boolean, dropoutSeed?: number): tf.Tensor2D {
    let h: tf.Tensor4D = this.bn2d.apply(f, training);
    if (training && this.dropout > 0) {
      h = tf.dropout(h, this.dropout, undefined, dropoutSeed) as tf.Tensor4D;
    }
    const flat = tf.reshape(h, [h.shape[0], -1]) as tf.Tensor2D; // NHWC order; weight rows match
    return this.bn1d.apply(this.linear.apply(flat), training);
  }
}

/** The RUL model (build it with `createModel({ kind: "rul", ... })`). */
export class RulModel extends ModelBase implements FerModel {
  private readonly mu: RulHead;
  private readonly logVar: RulHead | null;
  private readonly fc: LinearLayer;
  private readonly rng: UniformRng;

  /** Build every layer; names follow the official `res18feature` state dict. */
  constructor(config: ModelConfig) {
    super(config, sequentialNaming);
    const shape = backboneOutputShape(config.inputSize, config.widths);
    this.mu = new RulHead(this.store, "mu", shape, config.featureDim, config.dropout);
    this.logVar = config.sigmaHead
      ? new RulHead(this.store, "log_var", shape, config.featureDim, config.dropout)
      : null;
    this.fc = new LinearLayer(
      this.store,
      "fc",
      config.featureDim,
      config.numClasses,
      "classifier",
    );
    this.rng = mulberry32(config.seed + 0x9e3779b9);
  }

  /**
   * Training-mode forward: backbone and heads (batch statistics, dropout), then the RUL step of
   * lib/rul ({@link rulTrainingStep}: pairing, u, w, mixed features, logits, and the add-up loss
   * when `options.labels` are given).
   */
  forwardTrain(x: tf.Tensor4D, options: TrainForwardOptions = {}): TrainOutput {
    const rng = options.rng ?? this.rng;
    const heads = this.forwardHeads(x, rng);
    try {
      const step = rulTrainingStep({
        mu: heads.mu,
        logVar: heads.logVar,
        classifier: (z) => this.classify(z),
        labels: options.labels,
        perm: options.perm,
        rng,
      }, this.config);
      return { ...heads, ...step };
    } catch (e) {
      tf.dispose([heads.featureMap, heads.mu, heads.logVar].filter((t) => t !== null));
      throw e;
    }
  }

  /**
   * The training-mode forward up to the heads (batch statistics, dropout): the backbone's feature
   * map, μ and log σ² (null without σ head), new tensors the caller disposes. With
   * {@link RulModel.classify} and lib/rul's functions, a notebook can write its own RUL step (the
   * trainer's `step` option) without changing this class.
   *
   * @param rng randomness of the two heads' dropout (default the model's own generator).
   */
  forwardHeads(
    x: tf.Tensor4D,
    rng: UniformRng = this.rng,
  ): { featureMap: tf.Tensor4D; mu: tf.Tensor2D; logVar: tf.Tensor2D | null } {
    const s1 = Math.floor(rng() * 2 ** 31);
    const s2 = Math.floor(rng() * 2 ** 31);
    return tidyObject(() => {
      const featureMap = this.features(x, true);
      const mu = this.mu.apply(featureMap, true, s1);
      const logVar = this.logVar ? this.logVar.apply(featureMap, true, s2) : null;
      return { featureMap, mu, logVar };
    });
  }

  /** The classifier (official `fc`): logits = z·Wᵀ + b for features z [N, D]. */
  classify(z: tf.Tensor2D): tf.Tensor2D {
    return this.fc.apply(z);
  }

  /** Eval-mode forward: logits = fc(μ), plus u from the σ head. */
  forwardEval(x: tf.Tensor4D): EvalOutput {
    return tidyObject(() => {
      const f = this.features(x, false);
      const mu = this.mu.apply(f, false);
      const logVar = this.logVar ? this.logVar.apply(f, false) : null;
      return {
        logits: this.fc.apply(mu),
        features: mu,
        u: logVar ? uncertainty(logVar) : null,
        logVar,
      };
    });
  }

  /** Add-up loss of a train output with the configured weighting (= `out.loss` for its labels). */
  loss(out: TrainOutput, labels: LabelsLike): tf.Scalar {
    if (!out.perm) throw new Error("RUL loss: the train output has no pairing (not an RUL output)");
    return addUpLoss(out.logits, labels, out.perm, this.config.addUpWeighting, out.w ?? undefined);
  }
}
