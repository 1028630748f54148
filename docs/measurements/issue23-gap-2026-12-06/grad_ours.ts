// E6 (ours): one gradient of a freshly initialised model (seed 0) on a random normal batch, with
// the active backend; env WIDTHS (default 32,64,128,256), BATCH (64), VARIANT (baseline), OUT.
import * as tf from "@tensorflow/tfjs-core";
import { describeBackend, initBackend } from "../../lib/backend.ts";
import { createModel } from "../../lib/model/create.ts";
import { variantSwitches } from "../../lib/rul/variants.ts";
import { writeSafetensors } from "../../lib/io/mod.ts";
import { globalAvgPool, maxPool2d } from "../../lib/engine/mod.ts";
import { crossEntropy } from "../../lib/rul/loss.ts";
await initBackend();
const widths = (Deno.env.get("WIDTHS") ?? "32,64,128,256").split(",").map(Number) as [number, number, number, number];
const B = Number(Deno.env.get("BATCH") ?? 64);
const variant = (Deno.env.get("VARIANT") ?? "baseline") as "baseline" | "rul";
const SIZE = Number(Deno.env.get("SIZE") ?? 32);
console.log(describeBackend(), JSON.stringify({ widths, B, variant, SIZE }));
const m = createModel({ ...variantSwitches(variant), inputSize: SIZE, widths, numClasses: 10, seed: 0, dropout: 0 });
const x = tf.randomNormal([B, SIZE, SIZE, 3], 0, 1, "float32", 7) as tf.Tensor4D;
const labels = Int32Array.from({ length: B }, (_, i) => (i * 7) % 10);
const perm = Int32Array.from({ length: B }, (_, i) => (i * 5 + 3) % B);
const out = new Map<string, tf.Tensor>();
for (const [n, t] of m.stateDict()) out.set(`before.${n}`, t);
// deno-lint-ignore no-explicit-any
const bb = (m as any).backbone, fcl = (m as any).fc;
const manual = () => {
  let h = bb.bn1.apply(bb.conv1.apply(x), true, { relu: true });
  h = maxPool2d(h, 3, 2, 1);
  for (const b of bb.blocks) h = b.apply(h, true);
  return crossEntropy(fcl.apply(globalAvgPool(h)), labels);
};
const MODE = Deno.env.get("MODE") ?? "model";
console.log("MODE", MODE);
const { value, grads } = tf.variableGrads(() => MODE === "manual" ? manual() : MODE === "manual-tidy" ? tf.tidy(manual) : m.forwardTrain(x, { labels, perm: variant === "rul" ? perm : undefined }).loss!, m.trainableVariables());
for (const [n, v] of m.namedParameters()) out.set(`grad.${n}`, m.toTorchLayout(n, grads[v.name]));
out.set("x", x); out.set("labels", tf.tensor1d(labels, "int32")); out.set("perm", tf.tensor1d(perm, "int32"));
out.set("loss", tf.reshape(value, [1]));
out.set("widths", tf.tensor1d(widths, "int32"));
await writeSafetensors(new URL(`./${Deno.env.get("OUT") ?? "grad"}.safetensors`, import.meta.url).pathname, out);
