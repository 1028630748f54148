import * as tf from "@tensorflow/tfjs-core";
import {
  conv2d,
  conv2dGradFilter,
  conv2dGradInput,
  stockConv2dGradFilter,
  stockConv2dGradInput,
} from "../../lib/engine/mod.ts";
import { assertClose, onBackend, randomArray, setup } from "./_helpers.ts";

await setup();

/** ResNet-18's convolution shapes (kernel, stride, pad), small channels, odd and even sizes. */
const SHAPES = [
  { name: "stem 7x7/2 pad 3", k: 7, s: 2, p: 3, ci: 3, co: 8 },
  { name: "3x3/1 pad 1", k: 3, s: 1, p: 1, ci: 8, co: 8 },
  { name: "3x3/2 pad 1", k: 3, s: 2, p: 1, ci: 8, co: 16 },
  { name: "1x1/2 pad 0", k: 1, s: 2, p: 0, ci: 8, co: 16 },
];
const SIZES = [[2, 8], [2, 9], [3, 7], [1, 5]]; // [batch, spatial]

/** y, dL/dx, dL/dw of L = Σ conv2d(x, w)·dy through the library's conv2d (tf.grads). */
function convGrads(
  xv: Float32Array,
  wv: Float32Array,
  dyv: Float32Array,
  sh: number[],
  c: typeof SHAPES[0],
) {
  return tf.tidy(() => {
    const [n, h] = sh;
    const x = tf.tensor4d(xv, [n, h, h, c.ci]);
    const w = tf.tensor4d(wv, [c.k, c.k, c.ci, c.co]);
    const y = conv2d(x, w, c.s, c.p);
    const dy = tf.tensor(dyv, y.shape);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.p), dy))
    )([x, w]);
    return [y.dataSync(), dx.dataSync(), dw.dataSync()];
  });
}

for (const c of SHAPES) {
  for (const sh of SIZES) {
    Deno.test(`conv2d ${c.name}, batch ${sh[0]}, ${sh[1]}x${sh[1]}: fast wasm = stock cpu`, () => {
      const [n, h] = sh;
      const ho = Math.floor((h + 2 * c.p - c.k) / c.s) + 1;
      const xv = randomArray(n * h * h * c.ci, 1 + h);
      const wv = randomArray(c.k * c.k * c.ci * c.co, 2 + c.k);
      const dyv = randomArray(n * ho * ho * c.co, 3 + n);
      const ref = onBackend("cpu", false, () => convGrads(xv, wv, dyv, sh, c));
      const got = onBackend("wasm", true, () => convGrads(xv, wv, dyv, sh, c));
      assertClose("forward", got[0], ref[0]);
      assertClose("grad-input", got[1], ref[1]);
      assertClose("grad-filter", got[2], ref[2]);
    });
  }
}

Deno.test("conv2dGradInput/GradFilter on the cpu backend match the stock cpu kernels", () => {
  const c = SHAPES[2];
  const [n, h] = [2, 9];
  const ho = 5;
  const x = tf.tensor4d(randomArray(n * h * h * c.ci, 4), [n, h, h, c.ci]);
  const w = tf.tensor4d(randomArray(9 * c.ci * c.co, 5), [3, 3, c.ci, c.co]);
  const dy = tf.tensor4d(randomArray(n * ho * ho * c.co, 6), [n, ho, ho, c.co]);
  onBackend("cpu", true, () => {
    const gi = conv2dGradInput(dy, w, x.shape, 2, 1);
    const giRef = stockConv2dGradInput(dy, w, x.shape, 2, 1);
    const gf = conv2dGradFilter(x, dy, w.shape, 2, 1);
    const gfRef = stockConv2dGradFilter(x, dy, w.shape, 2, 1);
    assertClose("grad-input", gi.dataSync(), giRef.dataSync());
    assertClose("grad-filter", gf.dataSync(), gfRef.dataSync());
    tf.dispose([gi, giRef, gf, gfRef]);
  });
  tf.dispose([x, w, dy]);
});

Deno.test("conv2d against a hand-computed 1-channel example", () => {
  // x = 3x3 ramp 1..9; w = 3x3 filter with 1 at the centre and 2 at the top-left; stride 1,
  // pad 1: y[i][j] = x[i][j] + 2·x[i-1][j-1] (0 outside).
  const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
  const w = tf.tensor4d([2, 0, 0, 0, 1, 0, 0, 0, 0], [3, 3, 1, 1]);
  const y = conv2d(x, w, 1, 1);
  assertClose("y", y.dataSync(), [1, 2, 3, 4, 5 + 2, 6 + 4, 7, 8 + 8, 9 + 10], 1e-6);
  // dL/dx with L = Σ y: every x[i][j] feeds y[i][j] (·1) and y[i+1][j+1] (·2) when inside.
  const dx = tf.grad((a: tf.Tensor) => tf.sum(conv2d(a as tf.Tensor4D, w, 1, 1)))(x);
  assertClose("dx", dx.dataSync(), [3, 3, 1, 3, 3, 1, 1, 1, 1], 1e-6);
  // dL/dw[a][b] = Σ over outputs of x[i+a-1][j+b-1]: sums of 2x2..3x3 windows of the ramp.
  const dw = tf.grad((b: tf.Tensor) => tf.sum(conv2d(x, b as tf.Tensor4D, 1, 1)))(w);
  assertClose("dw", dw.dataSync(), [12, 21, 16, 27, 45, 33, 24, 39, 28], 1e-6);
  tf.dispose([x, w, y, dx, dw]);
});
