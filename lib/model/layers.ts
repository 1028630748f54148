/**
 * Layers with PyTorch semantics built on the engine ops: convolution (HWIO weights), batch
 * normalisation (train/eval exactly as `torch.nn.BatchNorm*d`), linear.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { batchNormTrain, conv2d, relu, runningStatsUpdate } from "../engine/mod.ts";
import { type ParamGroup, ParamStore } from "./params.ts";

/** Bias-free 2-D convolution (ResNet style), weight stored HWIO; PyTorch name `<name>.weight`. */
export class Conv2dLayer {
  /** Filter [kh, kw, cin, cout]. */
  readonly weight: tf.Variable;

  /**
   * Register `<name>.weight`, initialised like torchvision's ResNet
   * (Kaiming normal, fan-out, ReLU gain).
   */
  constructor(
    store: ParamStore,
    name: string,
    cin: number,
    cout: number,
    readonly k: number,
    readonly stride: number,
    readonly pad: number,
  ) {
    const std = Math.sqrt(2 / (cout * k * k));
    this.weight = store.add(
      `${name}.weight`,
      tf.randomNormal([k, k, cin, cout], 0, std, "float32", store.nextSeed()),
      { kind: "conv" },
      true,
    );
  }

  /** Convolve NHWC `x`. */
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return conv2d(x, this.weight as tf.Tensor4D, this.stride, this.pad);
  }
}

/**
 * Batch normalisation with PyTorch's semantics: in training mode it normalises with the batch
 * statistics and updates `running_mean`/`running_var` with momentum 0.1 (running variance from
 * the unbiased batch variance) and increments `num_batches_tracked`; in eval mode it uses the
 * running statistics.
 */
export class BatchNormLayer {
  /** γ (null when `affine=false`). */
  readonly weight: tf.Variable | null;
  /** β (null when `affine=false`). */
  readonly bias: tf.Variable | null;
  /** Running mean buffer. */
  readonly runningMean: tf.Variable;
  /** Running (unbiased) variance buffer. */
  readonly runningVar: tf.Variable;
  /** Number of training-mode batches seen (int32 scalar). */
  readonly numBatchesTracked: tf.Variable;

  /** Register `<name>.{weight,bias,running_mean,running_var,num_batches_tracked}`. */
  constructor(
    store: ParamStore,
    name: string,
    readonly channels: number,
    readonly eps = 1e-5,
    affine = true,
    readonly momentum = 0.1,
    group: ParamGroup = "backbone",
  ) {
    this.weight = affine
      ? store.add(`${name}.weight`, tf.ones([channels]), { kind: "same" }, true, group)
      : null;
    this.bias = affine
      ? store.add(`${name}.bias`, tf.zeros([channels]), { kind: "same" }, true, group)
      : null;
    this.runningMean = store.add(
      `${name}.running_mean`,
      tf.zeros([channels]),
      { kind: "same" },
      false,
      group,
    );
    this.runningVar = store.add(
      `${name}.running_var`,
      tf.ones([channels]),
      { kind: "same" },
      false,
      group,
    );
    this.numBatchesTracked = store.add(
      `${name}.num_batches_tracked`,
      tf.scalar(0, "int32"),
      { kind: "count" },
      false,
      group,
    );
  }

  /**
   * Normalise `x` ([N,C] or [N,H,W,C]); `training` selects batch vs running statistics; with
   * `relu`, max(·, 0) of the result (fused into the native engine's batch-norm in training).
   */
  apply<T extends tf.Tensor2D | tf.Tensor4D>(
    x: T,
    training: boolean,
    { relu: withRelu = false }: { relu?: boolean } = {},
  ): T {
    if (!training) {
      return tf.tidy(() => {
        const inv = tf.rsqrt(tf.add(this.runningVar, this.eps));
        const scale = this.weight ? tf.mul(inv, this.weight) : inv;
        let shift = tf.neg(tf.mul(this.runningMean, scale));
        if (this.bias) shift = tf.add(shift, this.bias);
        const y = tf.add(tf.mul(x, scale), shift) as T;
        return withRelu ? relu(y) : y;
      });
    }
    const n = x.size / this.channels;
    if (n < 2) {
      throw new Error(
        `batch norm in training mode needs more than 1 value per channel (input shape ${x.shape})`,
      );
    }
    const { y, mean, variance } = batchNormTrain(
      x,
      this.weight as tf.Tensor1D | null,
      this.bias as tf.Tensor1D | null,
      this.eps,
      { relu: withRelu },
    );
    tf.tidy(() => {
      const r = runningStatsUpdate(
        this.runningMean as tf.Tensor1D,
        this.runningVar as tf.Tensor1D,
        mean,
        variance,
        this.momentum,
        n,
      );
      this.runningMean.assign(r.mean);
      this.runningVar.assign(r.variance);
      this.numBatchesTracked.assign(tf.add(this.numBatchesTracked, tf.scalar(1, "int32")));
    });
    // mean/variance are not disposed here: the engine's custom gradient may hold them, and the
    // caller's tidy (every model forward runs in one) releases them.
    return y;
  }
}

/** Fully connected layer `y = x·W + b`, W stored [in, out]; PyTorch names `<name>.weight/bias`. */
export class LinearLayer {
  /** Weight [in, out] (PyTorch's [out, in] transposed, rows possibly re-ordered; see layout). */
  readonly weight: tf.Variable;
  /** Bias [out]. */
  readonly bias: tf.Variable;

  /**
   * Register the layer, initialised like `torch.nn.Linear` (uniform ±1/√in). Pass `chw` when the
   * input is an NHWC feature map flattened here but channel-major (NCHW) in PyTorch.
   */
  constructor(
    store: ParamStore,
    name: string,
    readonly inFeatures: number,
    readonly outFeatures: number,
    group: ParamGroup = "backbone",
    chw?: { c: number; h: number; w: number },
  ) {
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = store.add(
      `${name}.weight`,
      tf.randomUniform([inFeatures, outFeatures], -bound, bound, "float32", store.nextSeed()),
      chw ? { kind: "linear-chw", ...chw } : { kind: "linear" },
      true,
      group,
    );
    this.bias = store.add(
      `${name}.bias`,
      tf.randomUniform([outFeatures], -bound, bound, "float32", store.nextSeed()),
      { kind: "same" },
      true,
      group,
    );
  }

  /** Apply to [N, in]. */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(x, this.weight as tf.Tensor2D), this.bias);
  }
}
