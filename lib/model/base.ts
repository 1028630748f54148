/**
 * Shared machinery of the RUL and baseline models: the ResNet-18 backbone and its input check,
 * variable groups, state dicts, disposal.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { ModelConfig } from "./config.ts";
import { ParamStore, toTorchLayout } from "./params.ts";
import { type BackboneNaming, ResNet18Backbone } from "./resnet.ts";
import { loadStateDictInto, type LoadStateDictOptions, type StateDictReport } from "./state.ts";
import type { TrainableGroups } from "./types.ts";

/**
 * Base class holding a model's {@link ParamStore} and its ResNet-18 backbone (registered first);
 * subclasses build their heads into the store.
 */
export abstract class ModelBase {
  /** Registry of every variable of the model. */
  protected readonly store: ParamStore;
  /** The ResNet-18 backbone (everything before global pooling). */
  protected readonly backbone: ResNet18Backbone;
  /** Names of the backbone tensors (for backbone-only checkpoints). */
  protected readonly backboneNames = new Set<string>();
  /** The resolved configuration. */
  readonly config: Readonly<ModelConfig>;

  /** Create the store (seeded from the config) and build the backbone into it. */
  protected constructor(config: ModelConfig, protected readonly naming: BackboneNaming) {
    this.config = Object.freeze({ ...config, widths: [...config.widths] }) as ModelConfig;
    this.store = new ParamStore(config.seed);
    this.backbone = new ResNet18Backbone(this.store, config.widths, naming);
    for (const k of this.store.entries.keys()) this.backboneNames.add(k);
  }

  /** Backbone feature map of NHWC images (updates BN running stats when `training`). */
  backboneFeatures(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    return tf.tidy(() => this.features(x, training));
  }

  /** Backbone feature map, inside the caller's tidy (checks the input shape first). */
  protected features(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    const s = this.config.inputSize;
    if (x.rank !== 4 || x.shape[1] !== s || x.shape[2] !== s || x.shape[3] !== 3) {
      const name = this.config.kind === "baseline" ? "baseline" : this.config.kind.toUpperCase();
      throw new Error(`${name} model expects [N, ${s}, ${s}, 3] NHWC input, got [${x.shape}]`);
    }
    return this.backbone.apply(x, training);
  }

  /** Trainable variables by learning-rate group. */
  trainableGroups(): TrainableGroups {
    const g: TrainableGroups = { backbone: [], classifier: [] };
    for (const e of this.store.entries.values()) if (e.trainable) g[e.group].push(e.variable);
    return g;
  }

  /** All trainable variables. */
  trainableVariables(): tf.Variable[] {
    return [...this.store.entries.values()].filter((e) => e.trainable).map((e) => e.variable);
  }

  /** Trainable variables by PyTorch name (internal layout). */
  namedParameters(): Map<string, tf.Variable> {
    const m = new Map<string, tf.Variable>();
    for (const e of this.store.entries.values()) if (e.trainable) m.set(e.name, e.variable);
    return m;
  }

  /** Buffers by PyTorch name. */
  namedBuffers(): Map<string, tf.Variable> {
    const m = new Map<string, tf.Variable>();
    for (const e of this.store.entries.values()) if (!e.trainable) m.set(e.name, e.variable);
    return m;
  }

  /** Full state dict in PyTorch names and layouts (new tensors; caller disposes). */
  stateDict(): Map<string, tf.Tensor> {
    const m = new Map<string, tf.Tensor>();
    for (const e of this.store.entries.values()) m.set(e.name, toTorchLayout(e, e.variable));
    return m;
  }

  /** Convert an internal-layout tensor of parameter `name` to PyTorch layout (new tensor). */
  toTorchLayout(name: string, t: tf.Tensor): tf.Tensor {
    const e = this.store.entries.get(name);
    if (!e) throw new Error(`model has no parameter or buffer named ${name}`);
    return toTorchLayout(e, t);
  }

  /** Load a PyTorch state dict (see {@link loadStateDictInto}). */
  loadStateDict(sd: Map<string, tf.Tensor>, options?: LoadStateDictOptions): StateDictReport {
    return loadStateDictInto(this.store, this.backboneNames, this.naming, sd, options);
  }

  /** Release every variable. */
  dispose(): void {
    this.store.dispose();
  }
}
