import * as tf from "@tensorflow/tfjs-core";
import { batchNormTrain, conv2d, maxPool2d } from "../../lib/engine/mod.ts";
import { onBackend, setup } from "./_helpers.ts";

await setup();

Deno.test("no tensor leak over repeated forward+backward of conv2d, maxPool2d, batchNormTrain", () => {
  for (const backend of ["wasm", "cpu"] as const) {
    onBackend(backend, true, () => {
      const x = tf.randomNormal([2, 9, 9, 3], 0, 1, "float32", 1) as tf.Tensor4D;
      const w1 = tf.variable(tf.randomNormal([7, 7, 3, 8], 0, 0.1, "float32", 2));
      const w2 = tf.variable(tf.randomNormal([3, 3, 8, 8], 0, 0.1, "float32", 3));
      const w3 = tf.variable(tf.randomNormal([1, 1, 8, 8], 0, 0.1, "float32", 4));
      const g = tf.variable(tf.ones([8])), b = tf.variable(tf.zeros([8]));
      const step = () => {
        const { value, grads } = tf.variableGrads(() => {
          let h = conv2d(x, w1 as tf.Tensor4D, 2, 3);
          const bn = batchNormTrain(h, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5);
          h = maxPool2d(tf.relu(bn.y));
          const r = conv2d(h, w2 as tf.Tensor4D, 2, 1);
          const s = conv2d(h, w3 as tf.Tensor4D, 2, 0);
          const bn2 = batchNormTrain(tf.add(r, s) as tf.Tensor4D, null, null, 1e-5);
          tf.dispose([bn.mean, bn.variance, bn2.mean, bn2.variance]);
          return tf.mean(tf.square(bn2.y)) as tf.Scalar;
        }, [w1, w2, w3, g, b]);
        tf.dispose([value, grads]);
      };
      step(); // first call may register kernels
      const before = tf.memory().numTensors;
      for (let i = 0; i < 5; i++) step();
      const after = tf.memory().numTensors;
      tf.dispose([x, w1, w2, w3, g, b]);
      if (after !== before) throw new Error(`${backend}: numTensors ${before} → ${after}`);
    });
  }
});
