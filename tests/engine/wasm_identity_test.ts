/**
 * The wasm backend's `Identity` shares its input's data (lib/engine/wasm_identity.ts): a clone
 * (TF.js saves every tensor a gradient needs with one) allocates no heap buffer, outlives the
 * original, and a training step's gradients are bit-identical to those with TF.js's copying
 * kernel.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend.ts";
import { batchNormTrain, conv2d, maxPool2d, relu } from "../../lib/engine/mod.ts";
import {
  installSharedWasmIdentity,
  restoreWasmIdentity,
  sharedWasmIdentityActive,
} from "../../lib/engine/wasm_identity.ts";
import { assertClose, randomArray } from "./_helpers.ts";

await initBackend({ backend: "wasm", threads: 1 });
const backend = () => tf.backend() as unknown as { numDataIds(): number };

Deno.test("wasm Identity: a clone shares the data and outlives its original", () => {
  if (!sharedWasmIdentityActive()) throw new Error("initBackend did not install it");
  const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
  const before = backend().numDataIds();
  const y = tf.clone(x);
  if (backend().numDataIds() !== before) throw new Error("the clone allocated a buffer");
  x.dispose();
  assertClose("clone after the original's dispose", y.dataSync(), [1, 2, 3, 4], 0);
  const left = backend().numDataIds();
  y.dispose();
  if (backend().numDataIds() !== left - 1) throw new Error("the shared buffer was not freed");
});

Deno.test("wasm Identity: gradients bit-identical to TF.js's copying kernel, no leak", () => {
  const xv = randomArray(2 * 12 * 12 * 3, 1), wv = randomArray(3 * 3 * 3 * 8, 2);
  const grads = () =>
    tf.tidy(() => {
      const x = tf.tensor4d(xv, [2, 12, 12, 3]);
      const w = tf.tensor4d(wv, [3, 3, 3, 8]);
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => {
        const h = conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 1);
        const bn = batchNormTrain(h, null, null, 1e-5);
        return tf.sum(tf.square(maxPool2d(relu(bn.y))));
      })([x, w]);
      return g.map((t) => t.dataSync().slice() as Float32Array);
    });
  const tensors = tf.memory().numTensors, buffers = backend().numDataIds();
  const shared = grads();
  if (tf.memory().numTensors !== tensors || backend().numDataIds() !== buffers) {
    throw new Error("the step leaked a tensor or a heap buffer");
  }
  restoreWasmIdentity();
  let copied: Float32Array[];
  try {
    copied = grads();
  } finally {
    installSharedWasmIdentity();
  }
  assertClose("dx", shared[0], copied[0], 0);
  assertClose("dw", shared[1], copied[1], 0);
});
