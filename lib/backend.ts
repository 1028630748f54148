/**
 * Backend selection for TF.js (placeholder until the engine issue lands:
 * wasm if it loads, else cpu).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";

/** What {@link initBackend} chose. */
export interface BackendInfo {
  /** TF.js backend name (`wasm`, `cpu`, `tensorflow`, `webgpu`). */
  name: string;
  /** Worker threads used by the backend (1 when single-threaded). */
  threads: number;
  /** Whether the engine's fast convolution gradients are active. */
  fastGradients: boolean;
}

let current: BackendInfo | undefined;

/** Initialise the best available backend once and report it. */
export async function initBackend(): Promise<BackendInfo> {
  if (current) return current;
  const dist = new URL(".", import.meta.resolve("@tensorflow/tfjs-backend-wasm"));
  setWasmPaths(dist.pathname);
  const ok = await tf.setBackend("wasm").catch(() => false);
  if (!ok) await tf.setBackend("cpu");
  await tf.ready();
  current = { name: tf.getBackend(), threads: 1, fastGradients: false };
  return current;
}
