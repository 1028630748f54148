/**
 * ResNet-18 feature extractor in the torchvision layout (everything before global pooling),
 * NHWC activations, with torchvision's parameter names mapped through a naming function.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { maxPool2d, relu } from "../engine/mod.ts";
import { BatchNormLayer, Conv2dLayer } from "./layers.ts";
import type { ParamStore } from "./params.ts";

/**
 * Maps a torchvision ResNet name prefix (`conv1`, `bn1`, `layer3.1.conv2`, …) to the name used in
 * the model's state dict.
 */
export type BackboneNaming = (torchvisionName: string) => string;

/** torchvision names unchanged (`conv1.weight`, `layer1.0.bn1.weight`, …). */
export const torchvisionNaming: BackboneNaming = (n: string): string => n;

/**
 * Names of `nn.Sequential(*list(resnet18.children())[:-2])` stored as `features`, as in the
 * official RUL code: conv1 → `features.0`, bn1 → `features.1`, layerK → `features.(K+3)`.
 */
export const sequentialNaming: BackboneNaming = (n: string): string => {
  if (n.startsWith("conv1")) return "features.0" + n.slice(5);
  if (n.startsWith("bn1")) return "features.1" + n.slice(3);
  const m = /^layer([1-4])(.*)$/.exec(n);
  if (m) return `features.${Number(m[1]) + 3}${m[2]}`;
  throw new Error(`not a ResNet backbone name: ${n}`);
};

/** torchvision `BasicBlock`: conv3x3-BN-ReLU-conv3x3-BN + shortcut, ReLU. */
class BasicBlock {
  private readonly conv1: Conv2dLayer;
  private readonly bn1: BatchNormLayer;
  private readonly conv2: Conv2dLayer;
  private readonly bn2: BatchNormLayer;
  private readonly down: { conv: Conv2dLayer; bn: BatchNormLayer } | null;

  constructor(store: ParamStore, name: string, cin: number, cout: number, stride: number) {
    this.conv1 = new Conv2dLayer(store, `${name}.conv1`, cin, cout, 3, stride, 1);
    this.bn1 = new BatchNormLayer(store, `${name}.bn1`, cout);
    this.conv2 = new Conv2dLayer(store, `${name}.conv2`, cout, cout, 3, 1, 1);
    this.bn2 = new BatchNormLayer(store, `${name}.bn2`, cout);
    this.down = stride !== 1 || cin !== cout
      ? {
        conv: new Conv2dLayer(store, `${name}.downsample.0`, cin, cout, 1, stride, 0),
        bn: new BatchNormLayer(store, `${name}.downsample.1`, cout),
      }
      : null;
  }

  apply(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    const h = this.bn1.apply(this.conv1.apply(x), training, { relu: true });
    const y = this.bn2.apply(this.conv2.apply(h), training);
    const s = this.down ? this.down.bn.apply(this.down.conv.apply(x), training) : x;
    return relu(tf.add(y, s));
  }
}

/** ResNet-18 up to (excluding) global pooling: [N,H,W,3] → [N,H/32,W/32,widths[3]]. */
export class ResNet18Backbone {
  private readonly conv1: Conv2dLayer;
  private readonly bn1: BatchNormLayer;
  private readonly blocks: BasicBlock[] = [];

  /** Register every backbone tensor in `store`, named through `naming`. */
  constructor(
    store: ParamStore,
    readonly widths: readonly [number, number, number, number] = [64, 128, 256, 512],
    naming: BackboneNaming = torchvisionNaming,
  ) {
    this.conv1 = new Conv2dLayer(store, naming("conv1"), 3, widths[0], 7, 2, 3);
    this.bn1 = new BatchNormLayer(store, naming("bn1"), widths[0]);
    let cin = widths[0];
    for (let stage = 0; stage < 4; stage++) {
      const cout = widths[stage];
      for (let b = 0; b < 2; b++) {
        const stride = stage > 0 && b === 0 ? 2 : 1;
        this.blocks.push(
          new BasicBlock(store, naming(`layer${stage + 1}.${b}`), cin, cout, stride),
        );
        cin = cout;
      }
    }
  }

  /** Feature map of NHWC images `x`; `training` selects BN batch statistics. */
  apply(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    let h = this.bn1.apply(this.conv1.apply(x), training, { relu: true });
    h = maxPool2d(h, 3, 2, 1);
    for (const b of this.blocks) h = b.apply(h, training);
    return h;
  }
}
