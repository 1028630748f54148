/**
 * Shared machinery of the RUL and baseline models: variable groups, state dicts, disposal.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { ModelConfig } from "./config.ts";
import { ParamStore, toTorchLayout } from "./params.ts";
import type { BackboneNaming } from "./resnet.ts";
import { loadStateDictInto, type LoadStateDictOptions, type StateDictReport } from "./state.ts";
import type { TrainableGroups } from "./types.ts";

/** Base class holding a model's {@link ParamStore}; subclasses build layers into it. */
export abstract class ModelBase {
  /** Registry of every variable of the model. */
  protected readonly store: ParamStore;
  /** Names of the backbone tensors (for backbone-only checkpoints). */
  protected readonly backboneNames = new Set<string>();
  /** The resolved configuration. */
  readonly config: Readonly<ModelConfig>;

  /** Create the store (seeded from the config). */
  protected constructor(config: ModelConfig, protected readonly naming: BackboneNaming) {
    this.config = Object.freeze({ ...config, widths: [...config.widths] }) as ModelConfig;
    this.store = new ParamStore(config.seed);
  }

  /** Remember every name registered so far as a backbone name (call after building it). */
  protected markBackbone(): void {
    for (const k of this.store.entries.keys()) this.backboneNames.add(k);
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
