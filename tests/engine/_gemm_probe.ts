/**
 * Subprocess helper of tests/engine/gemm_test.ts: initialise the backend (run it with
 * RUL_THREADS=1 for the single-threaded wasm build), compute the forward and both gradients of
 * a 3×3/2 and a 1×1/2 convolution, and print the backend's threads, the GEMM pool's threads and
 * the relative errors against the definitions as one JSON line.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend.ts";
import { conv2d, conv2dGradFilter, conv2dGradInput } from "../../lib/engine/mod.ts";
import { randomArray, relError } from "./_helpers.ts";
import { outSize, refForward, refGradFilter, refGradInput } from "./_conv_reference.ts";

const info = await initBackend({ backend: "wasm" });
const errors: number[] = [];
for (
  const c of [
    { n: 2, h: 9, w: 8, ci: 16, co: 24, k: 3, s: 2, p: 1 },
    { n: 2, h: 7, w: 7, ci: 8, co: 16, k: 1, s: 2, p: 0 },
  ]
) {
  const [ho, wo] = outSize(c);
  const x = randomArray(c.n * c.h * c.w * c.ci, 1);
  const w = randomArray(c.k * c.k * c.ci * c.co, 2);
  const dy = randomArray(c.n * ho * wo * c.co, 3);
  const [y, gi, gf] = tf.tidy(() => {
    const xt = tf.tensor4d(x, [c.n, c.h, c.w, c.ci]);
    const wt = tf.tensor4d(w, [c.k, c.k, c.ci, c.co]);
    const dyt = tf.tensor4d(dy, [c.n, ho, wo, c.co]);
    return [
      conv2d(xt, wt, c.s, c.p).dataSync(),
      conv2dGradInput(dyt, wt, xt.shape, c.s, c.p).dataSync(),
      conv2dGradFilter(xt, dyt, wt.shape, c.s, c.p).dataSync(),
    ];
  });
  errors.push(relError(y, refForward(c, x, w)));
  errors.push(relError(gi, refGradInput(c, w, dy)), relError(gf, refGradFilter(c, x, dy)));
}
console.log(JSON.stringify({ threads: info.threads, gemmThreads: info.gemmThreads, errors }));
