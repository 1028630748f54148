import * as tf from "@tensorflow/tfjs-core";
import { maxPool2d } from "../../lib/engine/mod.ts";
import { assertClose, onBackend, randomArray, setup } from "./_helpers.ts";
import { onednnMissing } from "./_onednn_available.ts";
import { dependency } from "../_deps.ts";

await setup();

/** y and dL/dx of L = Σ maxPool2d(x)·dy. */
function poolGrads(xv: Float32Array, shape: [number, number, number, number], seed: number) {
  return tf.tidy(() => {
    const x = tf.tensor4d(xv, shape);
    const y = maxPool2d(x);
    const dy = tf.tensor(randomArray(y.size, seed), y.shape);
    const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(maxPool2d(a as tf.Tensor4D), dy)))(x);
    return [y.dataSync(), dx.dataSync(), y.shape];
  });
}

/**
 * Reference max pool 3x3 / stride 2 / pad 1 (NHWC) by plain loops: y, and dL/dx of Σ y·dy with
 * each window's gradient going to its FIRST maximum in row-major window order (PyTorch's rule;
 * padding never wins). Independent of the engines under test.
 */
function referencePool(
  x: Float32Array,
  [n, h, w, c]: readonly [number, number, number, number],
  dyOf: (size: number) => Float32Array,
): { y: Float32Array; dx: Float32Array; shape: number[] } {
  const oh = Math.floor((h + 2 - 3) / 2) + 1, ow = Math.floor((w + 2 - 3) / 2) + 1;
  const y = new Float32Array(n * oh * ow * c);
  const arg = new Int32Array(y.length);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        for (let k = 0; k < c; k++) {
          let best = -Infinity, at = -1;
          for (let di = 0; di < 3; di++) {
            for (let dj = 0; dj < 3; dj++) {
              const r = 2 * i - 1 + di, q = 2 * j - 1 + dj;
              if (r < 0 || r >= h || q < 0 || q >= w) continue;
              const idx = ((b * h + r) * w + q) * c + k;
              if (x[idx] > best) [best, at] = [x[idx], idx]; // strict: ties keep the first
            }
          }
          const o = ((b * oh + i) * ow + j) * c + k;
          y[o] = best;
          arg[o] = at;
        }
      }
    }
  }
  const dy = dyOf(y.length);
  const dx = new Float64Array(x.length);
  for (let o = 0; o < y.length; o++) dx[arg[o]] += dy[o];
  return { y, dx: Float32Array.from(dx), shape: [n, oh, ow, c] };
}

for (const shape of [[2, 8, 8, 5], [2, 9, 9, 3], [1, 7, 6, 4], [3, 4, 4, 2]] as const) {
  Deno.test(`maxPool2d 3x3/2 pad 1 on [${shape}] with many ties: fast and stock = loop reference`, () => {
    const n = shape.reduce((a: number, b: number) => a * b, 1);
    // values on a grid of 5 levels: most windows hold tied maxima
    const xv = randomArray(n, 11 + shape[1]).map((v) => Math.round(v * 2) / 2);
    const ref = referencePool(xv, shape, (m) => randomArray(m, 7));
    for (const [backend, fast] of [["wasm", true], ["cpu", false], ["cpu", true]] as const) {
      const got = onBackend(backend, fast, () => poolGrads(xv, [...shape], 7));
      const what = `${backend}${fast ? " fast" : " stock"}`;
      if (String(got[2]) !== String(ref.shape)) throw new Error(`${what}: shape ${got[2]}`);
      assertClose(`${what} forward`, got[0] as Float32Array, ref.y, 0); // a selection: exact
      // each dx cell is a sum of ≤ 4 dy values: exact up to the order of float32 additions
      assertClose(`${what} grad`, got[1] as Float32Array, ref.dx, 1e-6);
    }
  });
}

Deno.test("maxPool2d against a hand-computed 4x4 example, ties go to the first maximum", () => {
  for (const backend of ["wasm", "cpu"] as const) {
    onBackend(backend, true, () => {
      // 4x4 input; windows (3x3, stride 2, pad 1) centred on rows/cols 0 and 2:
      // out[0][0] = max x[0..1][0..1], out[0][1] = max x[0..1][1..3],
      // out[1][0] = max x[1..3][0..1], out[1][1] = max x[1..3][1..3].
      const x = tf.tensor4d(
        [
          [1, 5, 2, 0],
          [3, 4, 9, 1],
          [7, 7, 0, 2],
          [6, 1, 8, 8],
        ].flat(),
        [1, 4, 4, 1],
      );
      const y = maxPool2d(x);
      assertClose(`${backend} y`, y.dataSync(), [5, 9, 7, 9], 0);
      // dL/dx for L = Σ y·[1, 10, 100, 1000]: 5 at (0,1) gets 1; 9 at (1,2) wins two windows
      // (10 + 1000); the tie 7/7 in window (1,0) goes to the first one, (2,0).
      const w = tf.tensor4d([1, 10, 100, 1000], [1, 2, 2, 1]);
      const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(maxPool2d(a as tf.Tensor4D), w)))(x);
      const expected = [0, 1, 0, 0, 0, 0, 1010, 0, 100, 0, 0, 0, 0, 0, 0, 0];
      assertClose(`${backend} dx`, dx.dataSync(), expected, 0);
      tf.dispose([x, y, w, dx]);
    });
  }
});

Deno.test("maxPool2d rejects bad input with a clear error", () => {
  const x = tf.zeros([4, 4]);
  let msg = "";
  try {
    maxPool2d(x as unknown as tf.Tensor4D);
  } catch (e) {
    msg = (e as Error).message;
  }
  x.dispose();
  if (!msg.includes("rank 4")) throw new Error(`unexpected error: ${msg}`);
});

Deno.test("finding 3: maxPool2d propagates NaN as PyTorch does (wasm and cpu, fast and stock)", () => {
  // PyTorch: F.max_pool2d(x, 3, 2, 1) of a 4x4 map with x[1][1] = NaN gives NaN in every window
  // that holds it (all four here) and the maximum elsewhere; Inf stays Inf.
  const xv = [1, 5, 2, 0, 3, NaN, 9, 1, 7, 7, 0, 2, 1, 8, 6, 3];
  const inf = [1, 5, 2, 0, 3, 4, 9, 1, 7, 7, 0, 2, 1, 8, 6, Infinity];
  for (const backend of ["wasm", "cpu"] as const) {
    for (const fast of [true, false]) {
      onBackend(backend, fast, () => {
        const what = `${backend}${fast ? " fast" : " stock"}`;
        const y = tf.tidy(() => maxPool2d(tf.tensor4d(xv, [1, 4, 4, 1])).dataSync());
        if (![...y].every(Number.isNaN)) throw new Error(`${what}: got ${[...y]}`);
        // a NaN outside a window leaves it alone: x[3][3] = NaN only reaches out[1][1]
        const x2 = [...inf.slice(0, 15), NaN];
        const y2 = tf.tidy(() => maxPool2d(tf.tensor4d(x2, [1, 4, 4, 1])).dataSync());
        if (String([...y2]) !== "5,9,8,NaN") throw new Error(`${what}: got ${[...y2]}`);
        const y3 = tf.tidy(() => maxPool2d(tf.tensor4d(inf, [1, 4, 4, 1])).dataSync());
        if (String([...y3]) !== "5,9,8,Infinity") throw new Error(`${what}: got ${[...y3]}`);
        // the engine's gradient goes to the NaN (PyTorch's argmax picks it); the stock TF.js
        // gradient (webgpu, RUL fast gradients off) sends it to the maximum of the others
        if (!fast) return;
        const dx = tf.tidy(() =>
          tf.grad((a: tf.Tensor) => tf.sum(maxPool2d(a as tf.Tensor4D)))(
            tf.tensor4d(x2, [1, 4, 4, 1]),
          ).dataSync()
        );
        if (dx[15] !== 1) throw new Error(`${what}: grad at the NaN ${dx[15]}`);
      });
    }
  }
});

const ONEDNN = dependency("oneDNN", onednnMissing() === null, onednnMissing() ?? "");

Deno.test({
  name: "finding 3: maxPool2d propagates NaN with the oneDNN engine too",
  ignore: !ONEDNN,
}, async () => {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./_maxpool_nan_probe.ts", import.meta.url).pathname],
    env: { RUL_BACKEND: "onednn" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(r.stdout);
  const err = new TextDecoder().decode(r.stderr);
  // the library opens (checked above): any failure of the probe is a failure of the engine
  if (r.code !== 0) {
    const why = err.match(/error: [^\n]*/i)?.[0] ?? err.slice(-600);
    throw new Error(`the oneDNN probe failed (exit ${r.code}): ${why}`);
  }
  const line = JSON.parse(out.trim().split("\n").pop()!);
  if (!/onednn/i.test(line.backend)) throw new Error(`not on oneDNN: ${line.backend}`);
  if (String(line.y) !== "5,9,8,NaN") throw new Error(`${line.backend}: got ${line.y}`);
  // oneDNN's backward sends each window's gradient to its largest finite cell, not to the NaN
  // (PyTorch does); the loss is NaN either way, which stops training (docs/reliability.md).
  // By hand, x = [1 5 2 0 / 3 4 9 1 / 7 7 0 2 / 1 8 6 NaN], windows 3x3/2 pad 1: (0,0) → 5 at
  // index 1; (0,1) → 9 at 6; (1,0) → 8 at 13; (1,1) holds the NaN, largest finite 9 at 6.
  const want = [0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 1, 0, 0];
  if (String(line.dx) !== String(want)) throw new Error(`dx ${line.dx}, expected ${want}`);
});
