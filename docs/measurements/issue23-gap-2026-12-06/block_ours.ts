// E8 (ours): bisect the oneDNN-path gradient error inside the model (baseline, widths 32-256,
// batch 64, 32 px, seed 0, random-normal input): the input of layer4 (h3, from layers 1-3 in
// training mode) is saved; then gradients of loss = sum(layer4.0(h3)·r) w.r.t. h3 and layer4.0's
// parameters, and of the full head (layer4 → pool → fc → CE).
import * as tf from "@tensorflow/tfjs-core";
import { describeBackend, initBackend } from "../../lib/backend.ts";
import { createModel } from "../../lib/model/create.ts";
import { variantSwitches } from "../../lib/rul/variants.ts";
import { writeSafetensors } from "../../lib/io/mod.ts";
import { globalAvgPool, maxPool2d } from "../../lib/engine/mod.ts";
await initBackend();
console.log(describeBackend());
const B = Number(Deno.env.get("BATCH") ?? 64);
const m = createModel({ ...variantSwitches("baseline"), inputSize: 32, widths: [32, 64, 128, 256], numClasses: 10, seed: 0 });
// deno-lint-ignore no-explicit-any
const bb = (m as any).backbone;
const x = tf.randomNormal([B, 32, 32, 3], 0, 1, "float32", 7) as tf.Tensor4D;
let h = bb.bn1.apply(bb.conv1.apply(x), true, { relu: true });
h = maxPool2d(h, 3, 2, 1);
for (let i = 0; i < 6; i++) h = bb.blocks[i].apply(h, true);
const h3 = tf.keep(h) as tf.Tensor4D;
const out = new Map<string, tf.Tensor>();
for (const [n, t] of m.stateDict()) out.set(`sd.${n}`, t);
out.set("h3", h3);
const named = m.namedParameters();
const l4 = [...named].filter(([n]) => n.startsWith("layer4.0."));
const y0 = bb.blocks[6].apply(h3, true) as tf.Tensor4D;
const r = tf.randomNormal(y0.shape, 0, 1, "float32", 8);
out.set("r", r);
{
  const f = (a: tf.Tensor) => tf.sum(tf.mul(bb.blocks[6].apply(a, true), r));
  const { value, grads } = tf.variableGrads(() => f(h3) as tf.Scalar, l4.map(([, v]) => v));
  const gx = tf.grad(f)(h3);
  out.set("t1.dh3", gx);
  for (const [n, v] of l4) out.set(`t1.grad.${n}`, m.toTorchLayout(n, grads[v.name]));
  value.dispose();
}
{
  const labels = tf.tensor1d(Int32Array.from({ length: B }, (_, i) => (i * 7) % 10), "int32");
  out.set("labels", labels);
  // deno-lint-ignore no-explicit-any
  const fc = (m as any).fc;
  const f = (a: tf.Tensor) => {
    const z = bb.blocks[7].apply(bb.blocks[6].apply(a, true), true);
    const lg = fc.apply(globalAvgPool(z));
    return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 10), lg);
  };
  out.set("t3.dh3", tf.grad(f)(h3));
}
await writeSafetensors(new URL("./block_ours.safetensors", import.meta.url).pathname, out);
