/**
 * Parameter and buffer registry of a model: every tensor has its PyTorch name, its internal
 * TF.js variable (NHWC-friendly layout) and the rule converting between the two layouts.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** Which trainer parameter group a trainable tensor belongs to (different learning rates). */
export type ParamGroup = "backbone" | "classifier";

/**
 * How the internal layout differs from PyTorch's:
 * - `conv`: PyTorch OIHW [O,I,kh,kw] ↔ internal HWIO [kh,kw,I,O];
 * - `linear`: PyTorch [out,in] ↔ internal [in,out];
 * - `linear-chw`: PyTorch [out, C·H·W] (input flattened channel-major from NCHW) ↔ internal
 *   [H·W·C, out] (rows in NHWC flatten order, so no activation transpose is needed);
 * - `same`: identical (biases, BN tensors);
 * - `count`: `num_batches_tracked`, PyTorch int64 scalar ↔ internal int32 scalar.
 */
export type ParamLayout =
  | { kind: "conv" }
  | { kind: "linear" }
  | { kind: "linear-chw"; c: number; h: number; w: number }
  | { kind: "same" }
  | { kind: "count" };

/** One registered tensor. */
export interface ParamEntry {
  /** PyTorch state-dict name, e.g. `features.4.0.conv1.weight` or `mu.3.weight`. */
  name: string;
  /** The TF.js variable holding it in the internal layout. */
  variable: tf.Variable;
  /** Layout conversion rule. */
  layout: ParamLayout;
  /** Trainable parameter (true) or buffer such as running statistics (false). */
  trainable: boolean;
  /** Parameter group for trainable tensors. */
  group: ParamGroup;
}

let modelCounter = 0;

/** Registry of one model's variables; names must be unique within the model. */
export class ParamStore {
  /** Entries in registration order (the order PyTorch's `state_dict()` uses). */
  readonly entries = new Map<string, ParamEntry>();
  /** Unique prefix of this model's TF.js variable names (TF.js needs globally unique names). */
  readonly prefix: string;
  private seedCounter: number;

  /** Create an empty store whose random initialisers derive from `seed`. */
  constructor(seed: number) {
    this.prefix = `fermodel${++modelCounter}`;
    this.seedCounter = seed * 100003;
  }

  /** Next seed for a random initialiser (deterministic sequence per model seed). */
  nextSeed(): number {
    return ++this.seedCounter;
  }

  /** Register `initial` (owned by the store afterwards) under the PyTorch `name`. */
  add(
    name: string,
    initial: tf.Tensor,
    layout: ParamLayout,
    trainable: boolean,
    group: ParamGroup = "backbone",
  ): tf.Variable {
    if (this.entries.has(name)) throw new Error(`duplicate parameter name ${name}`);
    const variable = tf.variable(initial, trainable, `${this.prefix}/${name}`, initial.dtype);
    initial.dispose();
    this.entries.set(name, { name, variable, layout, trainable, group });
    return variable;
  }

  /** Dispose every variable. */
  dispose(): void {
    for (const e of this.entries.values()) e.variable.dispose();
    this.entries.clear();
  }
}

/** PyTorch shape of an entry (what its state-dict tensor must have). */
export function torchShape(e: ParamEntry): number[] {
  const s = e.variable.shape as number[];
  switch (e.layout.kind) {
    case "conv":
      return [s[3], s[2], s[0], s[1]];
    case "linear":
      return [s[1], s[0]];
    case "linear-chw":
      return [s[1], s[0]];
    case "count":
      return [];
    default:
      return [...s];
  }
}

/** Convert an internal-layout tensor to PyTorch layout (new tensor; caller disposes). */
export function toTorchLayout(e: ParamEntry, t: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    switch (e.layout.kind) {
      case "conv":
        return tf.transpose(t, [3, 2, 0, 1]);
      case "linear":
        return tf.transpose(t);
      case "linear-chw": {
        const { c, h, w } = e.layout;
        const out = (t.shape as number[])[1];
        // [H·W·C, out] -> [H, W, C, out] -> [out, C, H, W] -> [out, C·H·W]
        return tf.reshape(tf.transpose(tf.reshape(t, [h, w, c, out]), [3, 2, 0, 1]), [
          out,
          c * h * w,
        ]);
      }
      case "count":
        return tf.reshape(tf.cast(t, "int32"), []);
      default:
        return tf.clone(t);
    }
  });
}

/** Convert a PyTorch-layout tensor to the internal layout (new tensor; caller disposes). */
export function fromTorchLayout(e: ParamEntry, t: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    switch (e.layout.kind) {
      case "conv":
        return tf.transpose(tf.cast(t, "float32"), [2, 3, 1, 0]);
      case "linear":
        return tf.transpose(tf.cast(t, "float32"));
      case "linear-chw": {
        const { c, h, w } = e.layout;
        const out = (t.shape as number[])[0];
        return tf.reshape(
          tf.transpose(tf.reshape(tf.cast(t, "float32"), [out, c, h, w]), [2, 3, 1, 0]),
          [h * w * c, out],
        );
      }
      case "count":
        return tf.reshape(tf.cast(t, "int32"), []);
      default:
        return tf.cast(t, "float32");
    }
  });
}
