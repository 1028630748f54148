/**
 * Web Worker that prepares batches for {@link BatchLoader} (see batch.ts) off the main thread.
 * Messages in: `{type: "init", pixels, src, spec}` then `{type: "batch", id, indices, epoch,
 * position}`; out: `{id, x}` (x's buffer transferred) or `{id, error}`.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { type BatchSpec, fillBatch, type SourceShape } from "./batch_core.ts";

let pixels: Uint8Array | undefined;
let src: SourceShape | undefined;
let spec: BatchSpec | undefined;

self.onmessage = (ev: MessageEvent) => {
  const m = ev.data;
  if (m.type === "init") {
    pixels = m.pixels;
    src = m.src;
    spec = m.spec;
    return;
  }
  try {
    const oc = spec!.outChannels ?? Math.max(src!.channels, 3);
    const x = new Float32Array(m.indices.length * spec!.size * spec!.size * oc);
    fillBatch(pixels!, src!, m.indices, m.epoch, m.position, spec!, x);
    self.postMessage({ id: m.id, x }, [x.buffer]);
  } catch (e) {
    self.postMessage({ id: m.id, error: String((e as Error).stack ?? e) });
  }
};
