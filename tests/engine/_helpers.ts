/**
 * Shared helpers of the engine tests: run a function on a given backend with fast gradients on or
 * off, and compare arrays by relative error = max |a − b| / max |ref| (the max-norm of the
 * difference over the max-norm of the reference).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend.ts";
import { setFastGradients } from "../../lib/engine/mod.ts";
import { createModel, disposeModelOutput } from "../../lib/model/mod.ts";

/** Initialise the library's backend selection (wasm) once; tests then switch explicitly. */
export async function setup(): Promise<void> {
  await initBackend({ backend: "wasm" });
}

/** Run `f` on `backend` with fast gradients `fast`, then restore wasm + default gradients. */
export function onBackend<T>(backend: "wasm" | "cpu", fast: boolean, f: () => T): T {
  tf.setBackend(backend);
  setFastGradients(fast);
  try {
    return f();
  } finally {
    setFastGradients(undefined);
    tf.setBackend("wasm");
  }
}

/**
 * `f` on TF.js's stock kernels, the independent reference of the native engine's tests: on the
 * cpu backend with fast gradients off for the wasm store, with fast gradients off on the cpu
 * store itself.
 */
export function onStockKernels<T>(store: "wasm" | "cpu", f: () => T): T {
  if (store === "wasm") return onBackend("cpu", false, f);
  setFastGradients(false);
  try {
    return f();
  } finally {
    setFastGradients(undefined);
  }
}

/** Deterministic pseudo-random values in [-1, 1) (mulberry32). */
export function randomArray(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/** max |a − ref| / max |ref| (0 when both are all zeros). */
export function relError(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (a.length !== ref.length) throw new Error(`length ${a.length} vs reference ${ref.length}`);
  let diff = 0, scale = 0;
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - ref[i]));
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  if (scale === 0) return diff;
  return diff / scale;
}

/** Throw unless relError(a, ref) ≤ tol, naming `what`. */
export function assertClose(
  what: string,
  a: ArrayLike<number>,
  ref: ArrayLike<number>,
  tol = 1e-4,
) {
  const e = relError(a, ref);
  if (!(e <= tol)) throw new Error(`${what}: relative error ${e.toExponential(3)} > ${tol}`);
}

/**
 * Loss and per-parameter gradients (by PyTorch name) of one baseline ResNet-18 training step at
 * `size` px on `batch` fixed pseudo-random images, on the active backend and engine.
 */
export function resnetStep(
  size: number,
  batch: number,
): { loss: number; grads: Map<string, Float32Array> } {
  const model = createModel({ kind: "baseline", inputSize: size, numClasses: 7, seed: 3 });
  const byName = new Map<string, Float32Array>();
  let loss = NaN;
  try {
    tf.tidy(() => {
      const x = tf.tensor4d(randomArray(batch * size * size * 3, 9), [batch, size, size, 3]);
      const labels = Int32Array.from({ length: batch }, (_, i) => (3 * i + 1) % 7);
      const { value, grads } = tf.variableGrads(() => {
        const out = model.forwardTrain(x);
        const loss = model.loss(out, labels);
        disposeModelOutput(out);
        return loss;
      }, model.trainableVariables());
      for (const [name, v] of model.namedParameters()) {
        byName.set(name, grads[v.name].dataSync().slice() as Float32Array);
      }
      loss = value.dataSync()[0];
    });
  } finally {
    model.dispose();
  }
  return { loss, grads: byName };
}
