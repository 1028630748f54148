import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../lib/backend.ts";

Deno.test("initBackend picks a working backend", async () => {
  const info = await initBackend();
  if (!["wasm", "cpu", "tensorflow", "webgpu"].includes(info.name)) {
    throw new Error(`unexpected backend ${info.name}`);
  }
  const s = tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(2)).dataSync()[0]);
  if (s !== 3) throw new Error(`1 + 2 = ${s}`);
});
