// E4 (ours): 3 training steps of the bench's trainer (the bench's config: 32 px, widths
// 32-64-128-256, batch 64, official optimiser groups) on the first 3 augmented batches of epoch 0,
// seed 0, 40 % noise labels. RUL with dropout 0 and fixed pairings (PyTorch's dropout/randperm
// cannot be replayed). Writes, per step, the state before, the batch, the grads and the state
// after Adam, in PyTorch names and layouts, to runs/gap/step_<variant>.safetensors.
import * as tf from "@tensorflow/tfjs-core";
import { describeBackend, initBackend, setFastGradients } from "../../lib/backend.ts";
import { loadRunData, resolveTrainConfig, Trainer } from "../../lib/train/mod.ts";
import { BatchLoader } from "../../lib/data/batch.ts";
import { writeSafetensors } from "../../lib/io/mod.ts";
import { mulberry32 } from "../../lib/random.ts";
import { randomPermutation } from "../../lib/rul/pairing.ts";

await initBackend();
if (Deno.env.get("FAST") === "0") setFastGradients(false);
const SUFFIX = Deno.env.get("SUFFIX") ?? "";
console.log(describeBackend());
console.log(`fast gradients forced off: ${Deno.env.get("FAST") === "0"}`);
const STEPS = 3;
const base = {
  epochs: 30, batchSize: 64, init: null, initPartial: false,
  model: { inputSize: 32, widths: [32, 64, 128, 256] as [number, number, number, number], dropout: 0 },
  data: { source: "fashion-mnist" as const, root: "/usr/share/datasets/fashion-mnist", trainSize: 5000, testSize: 2000, augment: true, noise: 0.4 },
};
const cfg = resolveTrainConfig(base, "gap");
const data = await loadRunData(cfg);
for (const variant of (Deno.args[0] ?? "baseline,rul").split(",") as ("baseline" | "rul")[]) {
  const trainer = await Trainer.create({ config: { ...cfg, variant, seed: 0 }, out: null, data, progress: "silent", log: null });
  const model = trainer.model;
  const loader = new BatchLoader(data.train, { batchSize: 64, size: 32, augment: true, shuffle: true, seed: 0, workers: 0 });
  const out = new Map<string, tf.Tensor>();
  const rng = mulberry32(1234);
  let k = 0;
  const named = model.namedParameters();
  for await (const batch of loader.epoch(0)) {
    if (k === STEPS) { tf.dispose([batch.x, batch.y]); break; }
    for (const [n, t] of model.stateDict()) out.set(`${k}.before.${n}`, t);
    const labels = new Int32Array(batch.index.length);
    for (let i = 0; i < labels.length; i++) labels[i] = data.train.labels[batch.index[i]];
    const perm = randomPermutation(labels.length, rng);
    const { value, grads } = tf.variableGrads(() => {
      const o = model.forwardTrain(batch.x, { labels, perm: variant === "rul" ? perm : undefined });
      return o.loss!;
    }, model.trainableVariables());
    for (const [n, v] of named) out.set(`${k}.grad.${n}`, model.toTorchLayout(n, grads[v.name]));
    out.set(`${k}.loss`, tf.reshape(value, [1]));
    trainer.optimizer.step(grads);
    for (const [n, t] of model.stateDict()) out.set(`${k}.after.${n}`, t);
    out.set(`${k}.x`, tf.clone(batch.x));
    out.set(`${k}.labels`, tf.tensor1d(labels, "int32"));
    out.set(`${k}.perm`, tf.tensor1d(perm, "int32"));
    console.log(`${variant} step ${k}: loss ${(await value.data())[0]} lrs ${JSON.stringify(trainer.scheduler.lrs())}`);
    tf.dispose([batch.x, batch.y, value, ...Object.values(grads)]);
    k++;
  }
  loader.close();
  await writeSafetensors(new URL(`./step_${variant}${SUFFIX}.safetensors`, import.meta.url).pathname, out);
  tf.dispose([...out.values()]);
  trainer.dispose();
}
