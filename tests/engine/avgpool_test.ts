import * as tf from "@tensorflow/tfjs-core";
import { globalAvgPool } from "../../lib/engine/mod.ts";
import { assertClose, onBackend, randomArray, setup } from "./_helpers.ts";
import { assertThrowsWith } from "../_assert.ts";

await setup();

/** y and dL/dx of L = Σ globalAvgPool(x)·dy on the active backend. */
function run(
  xv: Float32Array,
  shape: [number, number, number, number],
  pool: typeof globalAvgPool,
) {
  return tf.tidy(() => {
    const x = tf.tensor4d(xv, shape);
    const dy = tf.tensor2d(randomArray(shape[0] * shape[3], 9), [shape[0], shape[3]]);
    const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(pool(a as tf.Tensor4D), dy)))(x);
    return [pool(x).dataSync(), dx.dataSync()] as Float32Array[];
  });
}

const stockMean = (x: tf.Tensor4D) => tf.mean(x, [1, 2]) as tf.Tensor2D;

Deno.test("globalAvgPool: hand values on cpu (fast) and wasm", () => {
  // One image, 2×2 pixels, 2 channels: channel 0 = 1,2,3,6 (mean 3), channel 1 = 0,0,0,4 (mean 1);
  // L = y·[1, 2] → dx = [1, 2]/4 at every pixel.
  const xv = Float32Array.from([1, 0, 2, 0, 3, 0, 6, 4]);
  for (const backend of ["cpu", "wasm"] as const) {
    onBackend(backend, true, () => {
      const [y, dx] = tf.tidy(() => {
        const x = tf.tensor4d(xv, [1, 2, 2, 2]);
        const w = tf.tensor2d([1, 2], [1, 2]);
        const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(globalAvgPool(a as tf.Tensor4D), w)))(x);
        return [globalAvgPool(x).dataSync(), g.dataSync()];
      });
      assertClose(`${backend} y`, y, [3, 1], 0);
      assertClose(`${backend} dx`, dx, [0.25, 0.5, 0.25, 0.5, 0.25, 0.5, 0.25, 0.5], 0);
    });
  }
});

Deno.test("globalAvgPool on cpu (fused passes) = tf.mean's stock kernels bit for bit; no leak", () => {
  for (
    const shape of [[3, 7, 7, 16], [2, 5, 3, 7], [4, 1, 1, 5]] as [number, number, number, number][]
  ) {
    const n = shape.reduce((a, b) => a * b);
    // Wide-ranging values, so that rounding each x/(H·W) (as the stock kernels do) shows.
    const xv = randomArray(n, shape[1]).map((v, i) => v * 10 ** (i % 7));
    const ref = onBackend("cpu", false, () => run(xv, shape, stockMean));
    const before = tf.memory().numTensors;
    const got = onBackend("cpu", true, () => run(xv, shape, globalAvgPool));
    if (tf.memory().numTensors !== before) throw new Error(`[${shape}]: tensors leaked`);
    assertClose(`[${shape}] y`, got[0], ref[0], 0);
    assertClose(`[${shape}] dx`, got[1], ref[1], 0);
  }
});

Deno.test("globalAvgPool rejects a tensor that is not [N,H,W,C]", () => {
  const x = tf.zeros([2, 3]);
  try {
    assertThrowsWith(
      () => globalAvgPool(x as unknown as tf.Tensor4D),
      "expected [N,H,W,C], got shape 2,3",
    );
  } finally {
    x.dispose();
  }
});
