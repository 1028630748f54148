/**
 * Multi-threaded TF.js wasm under Deno. The wasm backend disables threads when it sees Node (and
 * Deno looks like Node to npm packages); forcing `WASM_HAS_MULTITHREAD_SUPPORT` makes emscripten
 * start its pthread pool with `node:worker_threads`, which fails under Deno as is: the worker
 * script arrives as a blob URL, the main script as a Blob that cannot be posted, the worker's
 * `Object.assign(global, {location, performance})` hits Deno's getter-only globals, and idle
 * workers would keep the process alive. {@link installWasmThreadShim} swaps in a `Worker` class
 * that runs `wasm_thread_worker.js` instead, which fixes each of these.
 *
 * @module
 */
import wt from "node:worker_threads";

/** Marker sent in place of the main-script Blob; the worker loads the script from disk. */
export const MAIN_SCRIPT_MARKER = "rul:tfjs-backend-wasm-threaded-simd.js";

let installed = false;
let released = false;
const workers = new Set<{ unref(): void }>();

/**
 * Replace `node:worker_threads`' `Worker` (as seen by the wasm backend's emscripten glue) with a
 * Deno-compatible one. Idempotent. Call before `tf.setBackend("wasm")`, and
 * {@link releaseWasmWorkers} once the backend is ready.
 */
export function installWasmThreadShim(): void {
  if (installed) return;
  const NodeWorker = wt.Worker;
  const workerUrl = new URL("./wasm_thread_worker.js", import.meta.url);
  const wasmOut = new URL("../wasm-out/", import.meta.resolve("@tensorflow/tfjs-backend-wasm"));
  class DenoWasmWorker extends NodeWorker {
    constructor(_blobUrl: string | URL) {
      super(workerUrl, { workerData: { wasmOut: wasmOut.href } });
      workers.add(this);
      if (released) super.unref();
    }
    override ref(): void {
      if (!released) super.ref();
    }
    override postMessage(msg: unknown, transfer?: Parameters<wt.Worker["postMessage"]>[1]): void {
      const m = msg as { cmd?: string; urlOrBlob?: unknown };
      if (m && m.cmd === "load" && m.urlOrBlob instanceof Blob) {
        msg = { ...m, urlOrBlob: MAIN_SCRIPT_MARKER };
      }
      super.postMessage(msg, transfer);
    }
  }
  (wt as unknown as { Worker: unknown }).Worker = DenoWasmWorker;
  installed = true;
}

/**
 * Stop the wasm pthread workers from keeping the process alive (call once the backend is
 * initialised). Every call into wasm is synchronous on the main thread, and pthreadpool's threads
 * run (emscripten refs their workers) for the whole session: without this a finished program
 * would never exit. Before it, the workers must stay referenced or Deno ends the event loop while
 * the backend still waits for them to load.
 */
export function releaseWasmWorkers(): void {
  released = true;
  for (const w of workers) w.unref();
}
