/**
 * Adam with PyTorch semantics (`torch.optim.Adam`, not AdamW): weight decay is added to the
 * gradient, bias correction as in PyTorch's single-tensor implementation, per-parameter step
 * counts (a parameter that gets no gradient in a step is skipped and its step does not advance),
 * and parameter groups with their own learning rate.
 *
 * State (step, exp_avg, exp_avg_sq per parameter) exports to and imports from a flat
 * `Map<string, tf.Tensor>` so it can be stored in a safetensors checkpoint and a resumed run
 * continues bit for bit.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { adamStepFused, wasmGemmActive } from "../engine/wasm_gemm.ts";
import { onednnCpuAdamActive } from "../engine/onednn.ts";

let fusedAdam = true;

/**
 * Use the fused update (`true`, the default; where the engine's wasm kernels run, and on the
 * native CPU engine's cpu store) or
 * always the TF.js ops (`false`). Both give bit-identical results; the switch exists for tests
 * and benchmarks.
 */
export function setFusedAdam(on: boolean): void {
  fusedAdam = on;
}

/** One parameter group, as in PyTorch's `param_groups`. */
export interface AdamParamGroup {
  /** Group name, e.g. `"backbone"` or `"classifier"` (used in messages and the lr schedule). */
  name: string;
  /** The group's trainable parameters, keyed by their (PyTorch-style) names. */
  params: Map<string, tf.Variable>;
  /** Learning rate of this group. */
  lr: number;
  /** Weight decay of this group (added to the gradient); defaults to the optimiser's. */
  weightDecay?: number;
}

/** Hyper-parameters shared by every group of an {@link Adam} optimiser. */
export interface AdamOptions {
  /** First-moment decay β1 (default 0.9). */
  beta1?: number;
  /** Second-moment decay β2 (default 0.999). */
  beta2?: number;
  /** Denominator epsilon (default 1e-8). */
  eps?: number;
  /** Default weight decay for groups that do not set one (default 0). */
  weightDecay?: number;
}

/** A parameter group as held by the optimiser (lr is mutable; the scheduler sets it). */
export interface AdamGroupState {
  /** Group name. */
  readonly name: string;
  /** Parameter names and variables, in insertion order. */
  readonly params: ReadonlyArray<readonly [string, tf.Variable]>;
  /** Current learning rate. */
  lr: number;
  /** Learning rate the group was created with (the schedule's base lr). */
  readonly initialLr: number;
  /** Weight decay added to the gradient. */
  readonly weightDecay: number;
}

interface Slot {
  step: number;
  expAvg: tf.Variable;
  expAvgSq: tf.Variable;
}

/** Key prefixes of the exported state (`adam.step.<param>` etc.). */
export const ADAM_STATE_PREFIX = {
  step: "adam.step.",
  expAvg: "adam.exp_avg.",
  expAvgSq: "adam.exp_avg_sq.",
} as const;

/**
 * PyTorch-semantics Adam over named `tf.Variable`s grouped into parameter groups.
 *
 * ```ts
 * const opt = new Adam([{ name: "backbone", params, lr: 2e-4 }], { weightDecay: 1e-4 });
 * const { value, grads } = tf.variableGrads(() => loss());
 * opt.step(grads); // grads keyed by variable name or by parameter name
 * ```
 */
export class Adam {
  /** Parameter groups (their `lr` is what {@link ExponentialLR} updates). */
  readonly groups: AdamGroupState[];
  /** β1. */
  readonly beta1: number;
  /** β2. */
  readonly beta2: number;
  /** ε. */
  readonly eps: number;
  private readonly slots = new Map<string, Slot>();
  private readonly byVarName = new Map<string, string>();
  private readonly paramGroup = new Map<string, AdamGroupState>();
  private disposed = false;

  /** Create the optimiser; state is allocated lazily on each parameter's first update. */
  constructor(groups: AdamParamGroup[], options: AdamOptions = {}) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    for (const [k, v] of [["beta1", this.beta1], ["beta2", this.beta2]] as const) {
      if (!(v >= 0 && v < 1)) throw new Error(`Adam: ${k} must be in [0, 1), got ${v}`);
    }
    if (!(this.eps >= 0)) throw new Error(`Adam: eps must be >= 0, got ${this.eps}`);
    if (groups.length === 0) throw new Error("Adam: at least one parameter group is required");
    this.groups = groups.map((g) => {
      const wd = g.weightDecay ?? options.weightDecay ?? 0;
      if (!(g.lr >= 0)) throw new Error(`Adam: group "${g.name}" lr must be >= 0, got ${g.lr}`);
      if (!(wd >= 0)) {
        throw new Error(`Adam: group "${g.name}" weightDecay must be >= 0, got ${wd}`);
      }
      const state: AdamGroupState = {
        name: g.name,
        params: [...g.params.entries()],
        lr: g.lr,
        initialLr: g.lr,
        weightDecay: wd,
      };
      for (const [name, v] of state.params) {
        if (this.paramGroup.has(name)) {
          throw new Error(`Adam: parameter "${name}" is in more than one group`);
        }
        if (v.dtype !== "float32") {
          throw new Error(`Adam: parameter "${name}" has dtype ${v.dtype}, expected float32`);
        }
        this.paramGroup.set(name, state);
        this.byVarName.set(v.name, name);
      }
      return state;
    });
  }

  /** Names of every parameter the optimiser updates, in group order. */
  paramNames(): string[] {
    return this.groups.flatMap((g) => g.params.map(([n]) => n));
  }

  /** Step count of a parameter (0 before its first update), as PyTorch's `state[p]["step"]`. */
  stepCount(param: string): number {
    return this.slots.get(param)?.step ?? 0;
  }

  /**
   * Apply one update. `grads` maps a parameter name (or the `tf.Variable`'s own name, as
   * `tf.variableGrads` returns) to its gradient. Parameters without a gradient are skipped, as
   * PyTorch skips parameters whose `.grad` is `None`. Gradients are not disposed.
   */
  step(grads: Map<string, tf.Tensor> | Record<string, tf.Tensor>): void {
    if (this.disposed) throw new Error("Adam: step() after dispose()");
    const entries = grads instanceof Map ? [...grads.entries()] : Object.entries(grads);
    const byParam = new Map<string, tf.Tensor>();
    for (const [key, g] of entries) {
      const name = this.paramGroup.has(key) ? key : this.byVarName.get(key);
      if (name === undefined) {
        throw new Error(`Adam: gradient for unknown parameter "${key}"`);
      }
      byParam.set(name, g);
    }
    const { beta1, beta2, eps } = this;
    const fused = (wasmGemmActive() || onednnCpuAdamActive()) && fusedAdam;
    tf.tidy(() => {
      // Constant scalars shared by every parameter of the step (fewer tiny uploads).
      const b1 = tf.scalar(beta1);
      const omb1 = tf.scalar(1 - beta1);
      const b2 = tf.scalar(beta2);
      const omb2 = tf.scalar(1 - beta2);
      const epsT = tf.scalar(eps);
      for (const group of this.groups) {
        const wd = group.weightDecay > 0 ? tf.scalar(group.weightDecay) : null;
        for (const [name, p] of group.params) {
          const grad = byParam.get(name);
          if (grad === undefined) continue;
          if (!tf.util.arraysEqual(grad.shape, p.shape)) {
            throw new Error(
              `Adam: gradient of "${name}" has shape [${grad.shape}], parameter has [${p.shape}]`,
            );
          }
          const slot = this.slot(name, p);
          slot.step += 1;
          // Bias corrections in double precision, exactly as torch.optim.Adam (1.13) computes them.
          const bc1 = 1 - beta1 ** slot.step;
          const bc2 = 1 - beta2 ** slot.step;
          const stepSize = group.lr / bc1;
          const bc2Sqrt = Math.sqrt(bc2);
          let m: tf.Tensor, v: tf.Tensor, next: tf.Tensor;
          if (fused && p.dtype === "float32" && grad.dtype === "float32") {
            // One multi-threaded pass on the wasm heap, bit-identical to the ops below.
            [next, m, v] = adamStepFused(p, grad, slot.expAvg, slot.expAvgSq, {
              beta1,
              beta2,
              eps,
              weightDecay: group.weightDecay,
              bc2Sqrt,
              stepSize,
            });
          } else {
            const g = wd ? tf.add(grad, tf.mul(p, wd)) : grad;
            m = tf.add(tf.mul(slot.expAvg, b1), tf.mul(g, omb1));
            v = tf.add(tf.mul(slot.expAvgSq, b2), tf.mul(tf.square(g), omb2));
            const denom = tf.add(tf.div(tf.sqrt(v), tf.scalar(bc2Sqrt)), epsT);
            next = tf.sub(p, tf.mul(tf.div(m, denom), tf.scalar(stepSize)));
          }
          slot.expAvg.assign(m);
          slot.expAvgSq.assign(v);
          p.assign(next);
        }
      }
    });
  }

  private slot(name: string, p: tf.Variable): Slot {
    let s = this.slots.get(name);
    if (!s) {
      // A variable shares its initial tensor's data; tidy frees the temporary handle.
      s = {
        step: 0,
        expAvg: tf.tidy(() => tf.variable(tf.zerosLike(p), false)),
        expAvgSq: tf.tidy(() => tf.variable(tf.zerosLike(p), false)),
      };
      this.slots.set(name, s);
    }
    return s;
  }

  /**
   * Export the state as new tensors (the caller disposes them): `adam.step.<param>` (int32
   * scalar), `adam.exp_avg.<param>`, `adam.exp_avg_sq.<param>` for every parameter updated so far.
   */
  getState(): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const [name, s] of this.slots) {
      out.set(ADAM_STATE_PREFIX.step + name, tf.scalar(s.step, "int32"));
      out.set(ADAM_STATE_PREFIX.expAvg + name, tf.clone(s.expAvg));
      out.set(ADAM_STATE_PREFIX.expAvgSq + name, tf.clone(s.expAvgSq));
    }
    return out;
  }

  /**
   * Replace the state with one exported by {@link getState} (other keys in `state` are ignored;
   * the tensors are copied, the caller keeps ownership). Throws naming the key on unknown
   * parameters, missing entries or shape mismatches.
   */
  setState(state: Map<string, tf.Tensor>): void {
    const steps = new Map<string, number>();
    for (const [key, t] of state) {
      if (!key.startsWith(ADAM_STATE_PREFIX.step)) continue;
      const name = key.slice(ADAM_STATE_PREFIX.step.length);
      if (!this.paramGroup.has(name)) {
        throw new Error(`Adam.setState: "${key}" names an unknown parameter "${name}"`);
      }
      const step = t.dataSync()[0];
      if (!Number.isInteger(step) || step < 1) {
        throw new Error(`Adam.setState: "${key}" must be a positive integer, got ${step}`);
      }
      steps.set(name, step);
    }
    const fresh = new Map<string, Slot>();
    for (const [name, step] of steps) {
      const p = this.paramGroup.get(name)!.params.find(([n]) => n === name)![1];
      const pick = (prefix: string): tf.Tensor => {
        const t = state.get(prefix + name);
        if (!t) throw new Error(`Adam.setState: missing "${prefix + name}"`);
        if (!tf.util.arraysEqual(t.shape, p.shape)) {
          throw new Error(
            `Adam.setState: "${prefix + name}" has shape [${t.shape}], parameter has [${p.shape}]`,
          );
        }
        return t;
      };
      const m = pick(ADAM_STATE_PREFIX.expAvg);
      const v = pick(ADAM_STATE_PREFIX.expAvgSq);
      fresh.set(name, {
        step,
        expAvg: tf.tidy(() => tf.variable(tf.cast(m, "float32"), false)),
        expAvgSq: tf.tidy(() => tf.variable(tf.cast(v, "float32"), false)),
      });
    }
    this.disposeSlots();
    for (const [k, s] of fresh) this.slots.set(k, s);
  }

  private disposeSlots(): void {
    for (const s of this.slots.values()) {
      s.expAvg.dispose();
      s.expAvgSq.dispose();
    }
    this.slots.clear();
  }

  /** Free the optimiser's state tensors (the parameters are not touched). */
  dispose(): void {
    this.disposeSlots();
    this.disposed = true;
  }
}
