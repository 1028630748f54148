/**
 * Whether the engine's fast gradients are used. By default they follow the active TF.js backend
 * (on for `wasm` and `cpu`, off elsewhere, e.g. tfjs-node where native gradient kernels exist);
 * {@link setFastGradients} forces them on or off.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** Backends whose stock gradient kernels are slow, so the engine's own gradients replace them. */
export const FAST_GRADIENT_BACKENDS: readonly string[] = ["wasm", "cpu"];

let forced: boolean | undefined;

/**
 * Force the engine's fast gradients on (`true`) or off (`false`), or return to the default that
 * follows the backend (`undefined`).
 */
export function setFastGradients(on: boolean | undefined): void {
  forced = on;
}

/** Whether `conv2d`, `maxPool2d` and `batchNormTrain` currently use the engine's own gradients. */
export function fastGradientsActive(): boolean {
  if (forced !== undefined) return forced;
  return FAST_GRADIENT_BACKENDS.includes(tf.getBackend());
}
