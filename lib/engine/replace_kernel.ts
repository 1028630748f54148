/**
 * Replacing one of TF.js's own kernels on one backend while keeping it at hand: the engine's
 * replacements (wasm `Identity`, the native engine's `BatchMatMul` and cpu `Add`) handle the cases
 * they are faster for and hand every other case to the stock kernel.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/**
 * Register `make(stock)` as `kernelName` on `backendName` in place of the stock kernel, which
 * `make` receives to fall back to. Returns the stock kernel's config (for
 * {@link restoreKernel}), or null when the backend has no such kernel (nothing is replaced).
 */
export function replaceKernel(
  kernelName: string,
  backendName: string,
  make: (stock: tf.KernelConfig) => tf.KernelFunc,
): tf.KernelConfig | null {
  const stock = tf.getKernel(kernelName, backendName);
  if (!stock) return null;
  tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ kernelName, backendName, kernelFunc: make(stock) });
  return stock;
}

/** Put back the stock kernel that {@link replaceKernel} returned. */
export function restoreKernel(stock: tf.KernelConfig): void {
  tf.unregisterKernel(stock.kernelName, stock.backendName);
  tf.registerKernel(stock);
}
