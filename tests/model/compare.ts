/** Test helpers: relative error of a tensor against a reference (max |a-b| / max |b|). */
import * as tf from "@tensorflow/tfjs-core";

/** max|a − b| / max|b| (scale-aware; elementwise relative error is unstable near zero). */
export function relErr(a: tf.Tensor, b: tf.Tensor): number {
  if (a.shape.join() !== b.shape.join()) {
    throw new Error(`shape [${a.shape}] vs reference [${b.shape}]`);
  }
  const x = a.dataSync();
  const y = b.dataSync();
  let num = 0;
  let den = 0;
  for (let i = 0; i < y.length; i++) {
    num = Math.max(num, Math.abs(x[i] - y[i]));
    den = Math.max(den, Math.abs(y[i]));
  }
  if (!Number.isFinite(num)) return Infinity;
  return den === 0 ? num : num / den;
}

/** Throw with a readable message when relErr(a, b) > tol. */
export function assertClose(name: string, a: tf.Tensor, b: tf.Tensor, tol: number): number {
  const e = relErr(a, b);
  if (!(e <= tol)) throw new Error(`${name}: relative error ${e.toExponential(2)} > ${tol}`);
  return e;
}

/** Fixture folder. */
export const FIXTURES = new URL("../fixtures/model/", import.meta.url).pathname;
