/**
 * Multi-threaded TF.js wasm under Deno. The wasm backend disables threads when it sees Node (and
 * Deno looks like Node to npm packages); forcing `WASM_HAS_MULTITHREAD_SUPPORT` makes emscripten
 * start its pthread pool with `node:worker_threads`, which fails under Deno as is: the worker
 * script arrives as a blob URL, the main script as a Blob that cannot be posted, the worker's
 * `Object.assign(global, {location, performance})` hits Deno's getter-only globals, and idle
 * workers would keep the process alive. {@link installWasmThreadShim} swaps in a `Worker` class
 * that runs `wasm_thread_worker.js` instead, which fixes each of these.
 *
 * The emscripten glue also runs `global.Worker = require("worker_threads").Worker` when the
 * backend starts, which would leave `globalThis.Worker` pointing at the shim (a class that ignores
 * its script URL) and break every later Web Worker (data loader, t-SNE). The shim is therefore
 * scoped to the backend's start: {@link installWasmThreadShim} saves both `globalThis.Worker` and
 * `node:worker_threads`' `Worker`, and {@link releaseWasmWorkers} puts both back. Emscripten
 * creates its whole pool (8 workers) while the backend starts and never allocates another for up to
 * 8 threads, so nothing needs the shim afterwards.
 *
 * @module
 */
import wt from "node:worker_threads";

/** Marker sent in place of the main-script Blob; the worker loads the script from disk. */
export const MAIN_SCRIPT_MARKER = "rul:tfjs-backend-wasm-threaded-simd.js";

let installed = false;
let released = false;
const workers = new Set<{ unref(): void }>();
/** What the shim replaced: restored by {@link releaseWasmWorkers}. */
let saved: { globalWorker?: PropertyDescriptor; nodeWorker: unknown } | undefined;

/**
 * Replace `node:worker_threads`' `Worker` (as seen by the wasm backend's emscripten glue) with a
 * Deno-compatible one. Idempotent. Call before `tf.setBackend("wasm")`, and
 * {@link releaseWasmWorkers} once the backend is ready.
 */
export function installWasmThreadShim(): void {
  if (installed) return;
  const NodeWorker = wt.Worker;
  saved = {
    globalWorker: Object.getOwnPropertyDescriptor(globalThis, "Worker"),
    nodeWorker: NodeWorker,
  };
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
  released = false;
}

/**
 * Stop the wasm pthread workers from keeping the process alive and restore the `Worker` classes
 * the shim replaced (`globalThis.Worker`, `node:worker_threads`' `Worker`); call once the backend
 * is initialised, or after a failed start. Every call into wasm is synchronous on the main thread, and pthreadpool's threads
 * run (emscripten refs their workers) for the whole session: without this a finished program
 * would never exit. Before it, the workers must stay referenced or Deno ends the event loop while
 * the backend still waits for them to load.
 */
export function releaseWasmWorkers(): void {
  released = true;
  for (const w of workers) w.unref();
  restoreWorkerClasses();
}

/** Put back `globalThis.Worker` and `node:worker_threads`' `Worker` as they were before the shim. */
function restoreWorkerClasses(): void {
  if (!saved) return;
  (wt as unknown as { Worker: unknown }).Worker = saved.nodeWorker;
  if (saved.globalWorker) {
    Object.defineProperty(globalThis, "Worker", saved.globalWorker);
  } else {
    delete (globalThis as { Worker?: unknown }).Worker;
  }
  saved = undefined;
  installed = false;
}
