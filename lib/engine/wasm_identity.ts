/**
 * `Identity` on the wasm backend without a copy. TF.js saves every tensor a gradient needs with
 * `clone` (engine `saveTensorsForBackwardMode`), which runs the `Identity` kernel; the wasm
 * backend's kernel copies the data into a new heap buffer, while the cpu backend's shares it
 * (`incRef`, the same data id). On wasm that copy is ~500 kernel calls per ResNet-18 training step
 * (~6 % of a 64 px, batch 16 step on the native engine) and doubles the heap held by the saved
 * activations. Tensors are immutable and no kernel (TF.js's or this engine's) writes into an
 * input, so sharing is safe; the wasm backend counts references already (its `Reshape` shares the
 * same way). Written here because TF.js has no option for it.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { replaceKernel, restoreKernel } from "./replace_kernel.ts";

/** The part of the wasm backend's class the kernel uses. */
interface RefCountingBackend {
  incRef(dataId: unknown): void;
}

let original: tf.KernelConfig | null = null;

/**
 * Replace the wasm backend's `Identity` kernel with one that shares the input's data (string
 * tensors keep the stock kernel). Idempotent; {@link restoreWasmIdentity} undoes it.
 */
export function installSharedWasmIdentity(): void {
  if (original) return;
  original = replaceKernel("Identity", "wasm", (stock) => (args) => {
    const x = (args.inputs as unknown as { x: tf.TensorInfo }).x;
    if (x.dtype === "string") return stock.kernelFunc(args);
    (args.backend as unknown as RefCountingBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  });
  if (!original) throw new Error("installSharedWasmIdentity: the wasm backend is not registered");
}

/** Put the wasm backend's stock (copying) `Identity` kernel back. */
export function restoreWasmIdentity(): void {
  if (!original) return;
  restoreKernel(original);
  original = null;
}

/** Whether {@link installSharedWasmIdentity} is in effect. */
export function sharedWasmIdentityActive(): boolean {
  return original !== null;
}
