/**
 * Subprocess helper of tests/backend_test.ts: initialise wasm with 2 threads, then check that a
 * Web Worker and a `node:worker_threads` Worker still start (the threaded wasm glue overwrites
 * `globalThis.Worker` while the backend starts) and that the threaded backend still computes.
 * Prints one JSON line.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import wt from "node:worker_threads";
import { initBackend } from "../../lib/backend.ts";

/** Resolve with `p`'s value or reject after `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

try {
  const info = await initBackend({ backend: "wasm", threads: 2 });
  const web = new Worker(new URL("./_echo_worker.ts", import.meta.url), { type: "module" });
  const webAnswer = await within(
    new Promise<number>((res, rej) => {
      web.onmessage = (e) => res(e.data);
      web.onerror = (e) => {
        e.preventDefault();
        rej(new Error(`web worker error: ${e.message}`));
      };
      web.postMessage(41);
    }),
    20_000,
    "web worker",
  );
  web.terminate();
  const node = new wt.Worker(
    "const { parentPort } = require('node:worker_threads');" +
      "parentPort.on('message', (n) => parentPort.postMessage(n * 2));",
    { eval: true },
  );
  const nodeAnswer = await within(
    new Promise<number>((res, rej) => {
      node.on("message", res);
      node.on("error", rej);
      node.postMessage(21);
    }),
    20_000,
    "node worker",
  );
  await node.terminate();
  // The threaded backend still works after the Worker classes were restored.
  const s = tf.tidy(() => {
    const x = tf.ones([2, 16, 16, 8]) as tf.Tensor4D;
    const w = tf.ones([3, 3, 8, 4]) as tf.Tensor4D;
    return tf.sum(tf.conv2d(x, w, 1, "valid")).dataSync()[0];
  });
  console.log(JSON.stringify({
    ok: true,
    info,
    webAnswer,
    nodeAnswer,
    convSum: s,
    workerName: Worker.name,
  }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: (e as Error).message }));
}
