/**
 * Subprocess helper of tests/engine/maxpool_test.ts: max-pool a 4x4 map holding a NaN on the
 * backend named by RUL_BACKEND (e.g. onednn) and print forward values and the gradient at the NaN
 * as one JSON line.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { describeBackend, initBackend } from "../../lib/backend.ts";
import { maxPool2d } from "../../lib/engine/mod.ts";

await initBackend();
const x = tf.tensor4d([1, 5, 2, 0, 3, 4, 9, 1, 7, 7, 0, 2, 1, 8, 6, NaN], [1, 4, 4, 1]);
const y = [...maxPool2d(x).dataSync()].map(String);
const dx = tf.grad((a: tf.Tensor) => tf.sum(maxPool2d(a as tf.Tensor4D)))(x).dataSync();
console.log(JSON.stringify({ backend: describeBackend(), y, gradAtNaN: dx[15], dx: [...dx] }));
