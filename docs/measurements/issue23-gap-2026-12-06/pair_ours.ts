// E7 (ours): two fused BN-ReLU layers of the SAME shape used in one gradient (as layer4.0.bn1 and
// layer4.1.bn1 are at 32 px): loss = sum(bnrelu(x1)·r1) + sum(bnrelu(x2)·r2); also the same with
// two plain BNs and with two different shapes. Grads vs float64 (printed by pair_check.py).
import * as tf from "@tensorflow/tfjs-core";
import { describeBackend, initBackend } from "../../lib/backend.ts";
import { batchNormTrain } from "../../lib/engine/mod.ts";
import { writeSafetensors } from "../../lib/io/mod.ts";
await initBackend();
console.log(describeBackend());
let seed = 11;
const rn = (s: number[], sd = 1) => tf.randomNormal(s, 0, sd, "float32", seed++);
const out = new Map<string, tf.Tensor>();
const cases: [string, number[], number[], boolean][] = [
  ["same_relu", [64, 1, 1, 256], [64, 1, 1, 256], true],
  ["same_plain", [64, 1, 1, 256], [64, 1, 1, 256], false],
  ["diff_relu", [64, 1, 1, 256], [64, 2, 2, 128], true],
  ["same_relu_small", [16, 1, 1, 256], [16, 1, 1, 256], true],
  ["same_relu_c32", [64, 1, 1, 32], [64, 1, 1, 32], true],
  ["same_relu_8x8", [64, 8, 8, 32], [64, 8, 8, 32], true],
];
for (const [name, s1, s2, withRelu] of cases) {
  const x1 = rn(s1), x2 = rn(s2);
  const g1 = tf.ones([s1[3]]), b1 = tf.zeros([s1[3]]), g2 = tf.ones([s2[3]]), b2 = tf.zeros([s2[3]]);
  const r1 = rn(s1), r2 = rn(s2);
  const f = (a: tf.Tensor, c: tf.Tensor, ga: tf.Tensor, ba: tf.Tensor, gc: tf.Tensor, bc: tf.Tensor) =>
    tf.add(
      tf.sum(tf.mul(batchNormTrain(a as tf.Tensor4D, ga as tf.Tensor1D, ba as tf.Tensor1D, 1e-5, { relu: withRelu }).y, r1)),
      tf.sum(tf.mul(batchNormTrain(c as tf.Tensor4D, gc as tf.Tensor1D, bc as tf.Tensor1D, 1e-5, { relu: withRelu }).y, r2)),
    );
  const g = tf.grads(f)([x1, x2, g1, b1, g2, b2]);
  const named = { x1, x2, r1, r2, dx1: g[0], dx2: g[1], dg1: g[2], db1: g[3], dg2: g[4], db2: g[5] };
  for (const [k, v] of Object.entries(named)) out.set(`${name}.${k}`, v);
  out.set(`${name}.relu`, tf.tensor1d([withRelu ? 1 : 0], "int32"));
}
await writeSafetensors(new URL("./pair_ours.safetensors", import.meta.url).pathname, out);
