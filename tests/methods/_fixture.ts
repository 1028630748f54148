/** Test helpers for the SCN/EAC fixtures of tools/make_method_fixtures.py. */
import * as tf from "@tensorflow/tfjs-core";
import { readSafetensors } from "../../lib/io/mod.ts";
import { createModel, type FerModel } from "../../lib/model/mod.ts";
import { Adam } from "../../lib/train/adam.ts";
import { assertClose } from "../model/compare.ts";

/** Fixture folder. */
export const METHOD_FIXTURES = new URL("../fixtures/methods/", import.meta.url).pathname;

/** A method fixture: its tensors by name (`get` throws on a missing one) and metadata. */
export interface MethodFixture {
  get(name: string): tf.Tensor;
  labels(name?: string): Int32Array;
  tensors: Map<string, tf.Tensor>;
  metadata: Record<string, string>;
  dispose(): void;
}

/** Read `tests/fixtures/methods/<name>.safetensors`. */
export async function readMethodFixture(name: string): Promise<MethodFixture> {
  const { tensors, metadata } = await readSafetensors(METHOD_FIXTURES + name + ".safetensors");
  const get = (k: string) => {
    const t = tensors.get(k);
    if (!t) throw new Error(`fixture ${name} lacks ${k}`);
    return t;
  };
  return {
    get,
    labels: (k = "labels") => Int32Array.from(get(k).dataSync()),
    tensors,
    metadata,
    dispose: () => tf.dispose([...tensors.values()]),
  };
}

/** The fixture's model (kind `scn` or `eac`), its state dict (`sd.*`) loaded strictly. */
export function fixtureModel(kind: "scn" | "eac", fx: MethodFixture): FerModel {
  const model = createModel({
    kind,
    inputSize: Number(fx.metadata.input),
    numClasses: Number(fx.metadata.classes),
    widths: JSON.parse(fx.metadata.widths),
  });
  const sd = new Map<string, tf.Tensor>();
  for (const [k, t] of fx.tensors) if (k.startsWith("sd.")) sd.set(k.slice(3), t);
  const r = model.loadStateDict(sd, { strict: true, log: null });
  if (r.loaded.length !== sd.size || r.missing.length) {
    throw new Error(`loaded ${r.loaded.length}/${sd.size}, missing ${r.missing.join(", ")}`);
  }
  return model;
}

/** Adam with one group over every parameter (the official SCN/EAC optimisers). */
export function singleGroupAdam(model: FerModel, lr: number): Adam {
  return new Adam([{ name: "all", params: model.namedParameters(), lr }], { weightDecay: 1e-4 });
}

/** Linear layer `x·Wᵀ + b` from PyTorch-layout weight [out, in] and bias. */
export function torchLinear(w: tf.Tensor, b: tf.Tensor) {
  return (x: tf.Tensor2D): tf.Tensor2D =>
    tf.add(tf.matMul(x, w as tf.Tensor2D, false, true), b) as tf.Tensor2D;
}

/**
 * `steps` Adam steps (one group, weight decay 1e-4) of `model`'s training loss on one batch;
 * returns the loss of each step, before its update.
 */
export function adamLosses(
  model: FerModel,
  x: tf.Tensor4D,
  labels: Int32Array,
  lr: number,
  steps: number,
): number[] {
  const opt = singleGroupAdam(model, lr);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const { value, grads } = tf.variableGrads(() => {
      const o = model.forwardTrain(x, { labels });
      tf.dispose(Object.values(o).filter((t) => t instanceof tf.Tensor && t !== o.loss));
      return o.loss!;
    }, model.trainableVariables());
    opt.step(grads);
    losses.push(value.dataSync()[0]);
    tf.dispose([value, grads]);
  }
  opt.dispose();
  return losses;
}

/**
 * Compare every `grad.<name>` of the fixture with `grads` (keyed by variable name) to `gradTol`,
 * every `after.<buffer>` with the model's state to `fwdTol`; returns how many gradients.
 */
export function compareGradsAndBuffers(
  model: FerModel,
  grads: Record<string, tf.Tensor>,
  fx: MethodFixture,
  gradTol: number,
  fwdTol: number,
): number {
  const params = model.namedParameters();
  const names = [...fx.tensors.keys()].filter((k) => k.startsWith("grad."));
  for (const k of names) {
    const g = model.toTorchLayout(k.slice(5), grads[params.get(k.slice(5))!.name]);
    assertClose(k, g, fx.get(k), gradTol);
    g.dispose();
  }
  const after = model.stateDict();
  for (const k of [...fx.tensors.keys()].filter((k) => k.startsWith("after."))) {
    assertClose(k, after.get(k.slice(6))!, fx.get(k), fwdTol);
  }
  tf.dispose([...after.values()]);
  return names.length;
}

/** The trainer's path: `model.loss` of a `forwardTrain` output equals its `loss` (1e-6). */
export function compareModelLoss(model: FerModel, x: tf.Tensor4D, labels: Int32Array): void {
  const o = model.forwardTrain(x, { labels });
  const again = model.loss(o, labels);
  assertClose("model.loss", again, o.loss!, 1e-6);
  again.dispose();
  tf.dispose(Object.values(o).filter((t) => t instanceof tf.Tensor));
}

/**
 * The updates (after - before, so that a wrong step cannot hide in the parameters) of the
 * Adam-trained `names` against the fixture's `adam.<name>`, to `tol`.
 */
export function compareAdamUpdates(
  model: FerModel,
  fx: MethodFixture,
  names: string[],
  tol: number,
): void {
  const sd = model.stateDict();
  for (const k of names) {
    const ours = tf.sub(sd.get(k)!, fx.get("sd." + k));
    const theirs = tf.sub(fx.get("adam." + k), fx.get("sd." + k));
    assertClose("adam update of " + k, ours, theirs, tol);
    tf.dispose([ours, theirs]);
  }
  tf.dispose([...sd.values()]);
}
