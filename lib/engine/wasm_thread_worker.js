/**
 * Worker bootstrap for multi-threaded TF.js wasm under Deno (see `wasm_threads.ts`): prepares the
 * globals that emscripten's Node worker script expects, then runs that script. Plain JavaScript
 * on purpose: Deno would type-check a `.ts` worker in every one of the 8 pool workers at start.
 *
 * @module
 */
import { workerData } from "node:worker_threads";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const MAIN_SCRIPT_MARKER = "rul:tfjs-backend-wasm-threaded-simd.js";
const wasmOut = new URL(workerData.wasmOut);
const workerFile = fileURLToPath(new URL("tfjs-backend-wasm-threaded-simd.worker.js", wasmOut));
const mainFile = fileURLToPath(new URL("tfjs-backend-wasm-threaded-simd.js", wasmOut));
const g = globalThis;

// Deno defines `location`/`performance` as getter-only: make them plain writable properties so
// the worker script's Object.assign(global, {...}) succeeds.
for (const name of ["location", "performance", "self"]) {
  const value = g[name];
  try {
    Object.defineProperty(g, name, { value, writable: true, configurable: true });
  } catch {
    // Not configurable here: leave it.
  }
}
g.global = globalThis;
g.require = createRequire(workerFile);
g.__filename = workerFile;

// The worker script ships as a CommonJS module exporting its source as a string.
const holder = { exports: {} };
new Function("module", "exports", readFileSync(workerFile, "utf8"))(holder, holder.exports);
const workerSource = holder.exports.wasmWorkerContents;
if (typeof workerSource !== "string") throw new Error(`no wasmWorkerContents in ${workerFile}`);
const indirectEval = eval;
// As tfjs does before making its Blob: the template literal turned "\n" escapes into newlines.
indirectEval(workerSource.replace(/\n/g, "\\n"));
// The main script arrives as a marker (its Blob cannot cross postMessage): load it from disk.
g.importScripts = (f) => {
  const file = f === MAIN_SCRIPT_MARKER ? mainFile : f;
  indirectEval(readFileSync(file, "utf8") + "\n//# sourceURL=" + file);
};
