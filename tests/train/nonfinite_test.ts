// Non-finite guards (issue 12, finding 3): NaN weights are refused when loaded (--init, resume)
// and never checkpointed; the error names the tensor.
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { initBackend } from "../../lib/backend.ts";
import { synthFerSplits } from "../../lib/data/synthfer.ts";
import { writeSafetensors } from "../../lib/io/safetensors.ts";
import { createModel } from "../../lib/model/create.ts";
import { resolveTrainConfig, type TrainConfigInput, Trainer } from "../../lib/train/mod.ts";

const TINY: TrainConfigInput = {
  epochs: 2,
  batchSize: 16,
  evalBatchSize: 32,
  seed: 3,
  model: { inputSize: 32, widths: [8, 8, 8, 8], featureDim: 8 },
};
const data = () => synthFerSplits({ train: 32, test: 16, size: 32, seed: 1 });
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "rul-nonfinite-"));

Deno.test("finding 3: --init with one NaN in the first conv weight is refused, naming it; nothing is written", async () => {
  await initBackend();
  const dir = tmp();
  const cfg = resolveTrainConfig(TINY);
  const m = createModel({ ...cfg.model, numClasses: 7, seed: 1 });
  const sd = m.stateDict();
  const first = [...sd.keys()][0];
  const w = sd.get(first)!.dataSync().slice() as Float32Array;
  w[3] = NaN;
  sd.get(first)!.dispose();
  sd.set(first, tf.tensor(w, sd.get(first)?.shape ?? undefined));
  const init = path.join(dir, "init_nan.safetensors");
  // official-style names: features.0.weight for the first conv
  const renamed = new Map(
    [...sd].map(([k, t]) => [k === "conv1.weight" ? "features.0.weight" : k, t]),
  );
  await writeSafetensors(init, renamed);
  tf.dispose([...sd.values()]);
  m.dispose();
  const out = path.join(dir, "run");
  await assert.rejects(
    (async () => {
      const t = await Trainer.create({
        config: { ...TINY, init },
        out,
        data: data(),
        log: null,
        progress: "silent",
      });
      try {
        await t.run();
      } finally {
        t.dispose();
      }
    })(),
    (e: Error) =>
      e.message.includes(init) && /(features\.0|conv1)\.weight holds 1 NaN/.test(e.message),
  );
  assert.ok(!fs.existsSync(path.join(out, "checkpoints")), "no checkpoint written");
  fs.rmSync(dir, { recursive: true });
});

Deno.test("finding 3: a parameter turned NaN during training stops the run before its checkpoint; resume refuses a poisoned checkpoint", async () => {
  await initBackend();
  const dir = tmp();
  const t = await Trainer.create({
    config: TINY,
    out: dir,
    data: data(),
    log: null,
    progress: "silent",
    hooks: {
      onStep: (s) => {
        if (s.epoch === 2 && s.step === s.steps) {
          const v = t.model.namedParameters().get("fc.bias") ??
            [...t.model.namedParameters().values()].at(-1)!;
          v.assign(tf.fill(v.shape, NaN));
        }
      },
    },
  });
  await assert.rejects(
    t.run(),
    /epoch 2: not writing a checkpoint \(model\): tensor \S+ holds \d+ NaN/,
  );
  t.dispose();
  assert.ok(fs.existsSync(path.join(dir, "checkpoints", "epoch-0001")));
  assert.ok(!fs.existsSync(path.join(dir, "checkpoints", "epoch-0002")));
  // a checkpoint poisoned on disk is refused on resume, naming the tensor and the file
  const model = path.join(dir, "checkpoints", "epoch-0001", "model.safetensors");
  const bytes = fs.readFileSync(model);
  const hlen = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  new DataView(bytes.buffer, bytes.byteOffset).setFloat32(8 + hlen, NaN, true);
  fs.rmSync(model);
  fs.writeFileSync(model, bytes);
  await assert.rejects(
    Trainer.create({ out: dir, resume: true, data: data(), log: null }),
    (e: Error) => e.message.includes(model) && /holds 1 NaN/.test(e.message),
  );
  fs.rmSync(dir, { recursive: true });
});
