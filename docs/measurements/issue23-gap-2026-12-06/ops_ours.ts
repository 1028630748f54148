// E5 (ours): forward and gradients of each engine op at the bench's shapes (32 px, widths
// 32-256, batch 64), with the active backend (the bench's: wasm + oneDNN, fast gradients);
// loss = sum(op(x) * r); written to runs/gap/ops_ours.safetensors for tools-free checking in f64.
import * as tf from "@tensorflow/tfjs-core";
import { describeBackend, initBackend } from "../../lib/backend.ts";
import { batchNormTrain, conv2d, globalAvgPool, maxPool2d, relu } from "../../lib/engine/mod.ts";
import { writeSafetensors } from "../../lib/io/mod.ts";
await initBackend();
console.log(describeBackend());
const out = new Map<string, tf.Tensor>();
let seed = 1;
const rn = (s: number[], sd = 1) => tf.randomNormal(s, 0, sd, "float32", seed++);
const B = Number(Deno.env.get("BATCH") ?? 64);
function conv(name: string, xs: number[], k: number, cout: number, stride: number, pad: number) {
  const x = rn(xs) as tf.Tensor4D;
  const w = rn([k, k, xs[3], cout], Math.sqrt(2 / (cout * k * k))) as tf.Tensor4D;
  const y = conv2d(x, w, stride, pad);
  const r = rn(y.shape);
  const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad), r)))([x, w]);
  for (const [k2, v] of Object.entries({ x, w, y, r, dx: g[0], dw: g[1] })) out.set(`${name}.${k2}`, v);
  out.set(`${name}.meta`, tf.tensor1d([stride, pad, 0], "int32"));
}
function bn(name: string, xs: number[], withRelu: boolean) {
  const c = xs[xs.length - 1];
  const x = tf.add(rn(xs), rn([c], 0.5)) as tf.Tensor4D;
  const gm = tf.add(1, rn([c], 0.2)) as tf.Tensor1D, bt = rn([c], 0.2) as tf.Tensor1D;
  const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
    batchNormTrain(a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5, { relu: withRelu }).y;
  const y = f(x, gm, bt);
  const r = rn(y.shape);
  const g = tf.grads((a: tf.Tensor, b: tf.Tensor, d: tf.Tensor) => tf.sum(tf.mul(f(a, b, d), r)))([x, gm, bt]);
  for (const [k2, v] of Object.entries({ x, g: gm, b: bt, y, r, dx: g[0], dg: g[1], db: g[2] })) out.set(`${name}.${k2}`, v);
  out.set(`${name}.meta`, tf.tensor1d([0, 0, withRelu ? 1 : 0], "int32"));
}
function unary(name: string, xs: number[], f: (a: tf.Tensor4D) => tf.Tensor, code: number) {
  const x = rn(xs) as tf.Tensor4D;
  const y = f(x);
  const r = rn(y.shape);
  const g = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(f(a as tf.Tensor4D), r)))([x]);
  for (const [k2, v] of Object.entries({ x, y, r, dx: g[0] })) out.set(`${name}.${k2}`, v);
  out.set(`${name}.meta`, tf.tensor1d([0, 0, code], "int32"));
}
conv("conv_stem", [B, 32, 32, 3], 7, 32, 2, 3);
bn("bn_stem_relu", [B, 16, 16, 32], true);
unary("maxpool", [B, 16, 16, 32], (a) => maxPool2d(a, 3, 2, 1), 1);
conv("conv_l1", [B, 8, 8, 32], 3, 32, 1, 1);
bn("bn_l1", [B, 8, 8, 32], false);
conv("conv_l2_s2", [B, 8, 8, 32], 3, 64, 2, 1);
conv("conv_l3", [B, 2, 2, 128], 3, 128, 1, 1);
bn("bn_l3_relu", [B, 2, 2, 128], true);
conv("conv_l4_s2", [B, 2, 2, 128], 3, 256, 2, 1);
conv("down_l4", [B, 2, 2, 128], 1, 256, 2, 0);
conv("conv_l4", [B, 1, 1, 256], 3, 256, 1, 1);
bn("bn_l4_relu", [B, 1, 1, 256], true);
bn("bn_l4", [B, 1, 1, 256], false);
unary("relu_l4", [B, 1, 1, 256], (a) => relu(a), 2);
unary("gap_l4", [B, 1, 1, 256], (a) => globalAvgPool(a), 3);
await writeSafetensors(new URL("./ops_ours.safetensors", import.meta.url).pathname, out);
