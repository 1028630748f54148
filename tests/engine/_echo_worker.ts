/**
 * Web Worker used by tests/backend_test.ts: answers every message `n` with `n + 1`.
 *
 * @module
 */
/// <reference lib="deno.worker" />
self.onmessage = (e: MessageEvent<number>) => {
  self.postMessage(e.data + 1);
};
