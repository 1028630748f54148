import * as tf from "@tensorflow/tfjs-core";
import { copySlice, fastPad, fastSlice } from "../../lib/engine/mod.ts";
import { onBackend, randomArray, setup } from "./_helpers.ts";

await setup();

/** [shape, begin, size]: short and long runs, whole trailing dims, ranks 1-5. */
const CASES: [number[], number[], number[]][] = [
  [[10], [3], [5]],
  [[4, 7], [1, 2], [2, 5]],
  [[3, 5, 40], [1, 0, 0], [2, 5, 40]],
  [[2, 9, 9, 8], [0, 1, 2, 0], [2, 7, 6, 8]],
  [[2, 8, 8, 8], [0, 0, 0, 0], [2, 8, 8, 3]],
  [[32, 2, 7, 64], [0, 0, 0, 0], [32, 1, 7, 32]],
  [[2, 3, 4, 5, 6], [1, 1, 0, 2, 1], [1, 2, 4, 3, 5]],
];

for (const [shape, begin, size] of CASES) {
  Deno.test(`fastSlice ${shape} begin ${begin} size ${size}: wasm kernel = cpu tf.slice`, () => {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = randomArray(n, n);
    const ref = onBackend(
      "cpu",
      false,
      () => tf.tidy(() => tf.slice(tf.tensor(v, shape), begin, size).dataSync()),
    );
    const got = onBackend("wasm", true, () =>
      tf.tidy(() => {
        const s = fastSlice(tf.tensor(v, shape), begin, size);
        if (s.shape.join() !== size.join()) throw new Error(`shape ${s.shape}`);
        return s.dataSync();
      }));
    if (got.length !== ref.length) throw new Error(`length ${got.length} vs ${ref.length}`);
    for (let i = 0; i < ref.length; i++) {
      if (got[i] !== ref[i]) throw new Error(`element ${i}: ${got[i]} vs ${ref[i]}`);
    }
  });
}

/** [shape, paddings]: the 1×1 stride-2 grad-input placement, channel and row pads, rank 2-3. */
const PADS: [number[], [number, number][]][] = [
  [[28, 1, 14, 64], [[0, 0], [0, 1], [0, 0], [0, 64]]],
  [[2, 5, 5, 3], [[0, 0], [3, 2], [1, 4], [0, 0]]],
  [[3, 4], [[1, 0], [2, 3]]],
  [[2, 3, 20], [[0, 1], [0, 0], [5, 0]]],
];

for (const [shape, paddings] of PADS) {
  Deno.test(`fastPad ${shape} by ${JSON.stringify(paddings)}: wasm kernel = cpu tf.pad`, () => {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = randomArray(n, 7 + n);
    const ref = onBackend(
      "cpu",
      false,
      () => tf.tidy(() => tf.pad(tf.tensor(v, shape), paddings).dataSync()),
    );
    // Run twice on wasm: the second output reuses freed heap memory, so stale values would show.
    const got = onBackend("wasm", true, () =>
      tf.tidy(() => {
        fastPad(tf.fill(shape, 5), paddings).dataSync();
        return fastPad(tf.tensor(v, shape), paddings).dataSync();
      }));
    if (got.length !== ref.length) throw new Error(`length ${got.length} vs ${ref.length}`);
    for (let i = 0; i < ref.length; i++) {
      if (got[i] !== ref[i]) throw new Error(`element ${i}: ${got[i]} vs ${ref[i]}`);
    }
  });
}

Deno.test("copySlice against a hand-written 3x4 example", () => {
  // rows 1..2, columns 1..2 of [[0,1,2,3],[4,5,6,7],[8,9,10,11]]
  const src = Float32Array.from({ length: 12 }, (_, i) => i);
  const dst = new Float32Array(4);
  copySlice(src, [3, 4], [1, 1], [2, 2], dst);
  if (dst.join() !== "5,6,9,10") throw new Error(`got ${dst}`);
});

Deno.test("fastSlice rejects out-of-range requests and leaks no tensors", () => {
  const x = tf.zeros([2, 3]);
  let threw = false;
  try {
    fastSlice(x, [1, 0], [2, 3]);
  } catch (e) {
    threw = (e as Error).message.includes("out of range");
  }
  if (!threw) throw new Error("no error for an out-of-range slice");
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) {
    tf.tidy(() => {
      fastSlice(x, [0, 1], [2, 2]);
    });
  }
  if (tf.memory().numTensors !== before) throw new Error("tensor leak");
  x.dispose();
});
