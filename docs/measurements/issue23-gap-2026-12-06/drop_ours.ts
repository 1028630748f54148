// E11 (ours): one RUL training step WITH dropout 0.4 (the bench's model: 32 px, widths 32-256,
// batch 64, seed 0; random-normal input, fixed pairing), and the two heads' dropout multipliers
// regenerated with the same seeds, so PyTorch can replay the step with the same masks.
import * as tf from "@tensorflow/tfjs-core";
import { describeBackend, initBackend } from "../../lib/backend.ts";
import { createModel } from "../../lib/model/create.ts";
import { variantSwitches } from "../../lib/rul/variants.ts";
import { writeSafetensors } from "../../lib/io/mod.ts";
await initBackend();
console.log(describeBackend());
const B = 64;
const m = createModel({ ...variantSwitches("rul"), inputSize: 32, widths: [32, 64, 128, 256], numClasses: 10, seed: 0, dropout: 0.4 });
const x = tf.randomNormal([B, 32, 32, 3], 0, 1, "float32", 7) as tf.Tensor4D;
const labels = Int32Array.from({ length: B }, (_, i) => (i * 7) % 10);
const perm = Int32Array.from({ length: B }, (_, i) => (i * 5 + 3) % B);
const draws = [0.123, 0.456];
let d = 0;
const rng = () => draws[d++ % 2];
const out = new Map<string, tf.Tensor>();
for (const [n, t] of m.stateDict()) out.set(`before.${n}`, t);
const { value, grads } = tf.variableGrads(() => m.forwardTrain(x, { labels, perm, rng }).loss!, m.trainableVariables());
for (const [n, v] of m.namedParameters()) out.set(`grad.${n}`, m.toTorchLayout(n, grads[v.name]));
const seeds = draws.map((u) => Math.floor(u * 2 ** 31));
out.set("mask.mu", tf.dropout(tf.ones([B, 1, 1, 256]), 0.4, undefined, seeds[0]));
out.set("mask.log_var", tf.dropout(tf.ones([B, 1, 1, 256]), 0.4, undefined, seeds[1]));
out.set("x", x); out.set("labels", tf.tensor1d(labels, "int32")); out.set("perm", tf.tensor1d(perm, "int32"));
out.set("loss", tf.reshape(value, [1]));
await writeSafetensors(new URL("./drop_ours.safetensors", import.meta.url).pathname, out);
const mk = (await out.get("mask.mu")!.data()) as Float32Array;
console.log(`mask mu: kept fraction ${mk.filter((v) => v > 0).length / mk.length}, kept value ${mk.find((v) => v > 0)}`);
