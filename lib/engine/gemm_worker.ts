/**
 * Worker of the engine's GEMM pool (see `wasm_gemm.ts`): instantiates the tile module on the wasm
 * backend's shared heap, then waits on an atomic counter and runs its share of each job.
 *
 * @module
 */
import { parentPort } from "node:worker_threads";
import { ERROR_BASE, kernelsOf, runJob, SPIN } from "./gemm_jobs.ts";

/** What the pool sends once when it starts a worker. */
interface Start {
  bytes: Uint8Array<ArrayBuffer>;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  words: SharedArrayBuffer;
  index: number;
  threads: number;
}

parentPort?.once("message", (m: Start) => {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(m.bytes), {
    env: { memory: m.memory },
  });
  const kernels = kernelsOf(instance.exports);
  const control = new Int32Array(m.control);
  const words = new Int32Array(m.words);
  let seen = Atomics.load(control, 0);
  parentPort?.postMessage("ready");
  for (;;) {
    // Jobs come in bursts (a layer's reorder, zero and correlation, then the next layer's
    // gradients): spin briefly before sleeping, since waking a sleeping thread costs ~5-50 µs.
    for (let i = 0; i < SPIN && Atomics.load(control, 0) === seen; i++) { /* spin */ }
    Atomics.wait(control, 0, seen);
    seen = Atomics.load(control, 0);
    try {
      runJob(kernels, words, m.index, m.threads);
      Atomics.store(control, ERROR_BASE + m.index, 0);
    } catch (_e) {
      Atomics.store(control, ERROR_BASE + m.index, 1);
    }
    Atomics.store(control, 1 + m.index, seen);
    Atomics.notify(control, 1 + m.index);
  }
});
