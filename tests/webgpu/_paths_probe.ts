/**
 * Subprocess helper of tests/webgpu/paths_test.ts: every training path on the WebGPU backend
 * (Deno's adapter, the software one included) at a tiny size, reported as one JSON line (the
 * LAST line): each variant's first-epoch loss, numTensors after each epoch of a 3-epoch RUL run,
 * a checkpoint written and resumed, the training-set audit, the test table, the eval-mode
 * features for t-SNE and the PyTorch export.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { initBackend } from "../../lib/backend.ts";
import { synthFerSplits } from "../../lib/data/synthfer.ts";
import { withSymmetricNoise } from "../../lib/data/noise.ts";
import {
  evaluateModel,
  exportTorchCheckpoint,
  type TrainConfigInput,
  Trainer,
} from "../../lib/train/mod.ts";
import { VARIANTS } from "../../lib/rul/variants.ts";
import { auditAurocFromTable } from "../_auroc.ts";

const info = await initBackend({ backend: "webgpu" });
const TINY: TrainConfigInput = {
  epochs: 3,
  batchSize: 8,
  evalBatchSize: 16,
  seed: 3,
  model: { inputSize: 32, widths: [4, 4, 8, 8], featureDim: 8 },
};
const { train, test } = synthFerSplits({ train: 16, test: 8, size: 32, seed: 1 });
const data = { train: withSymmetricNoise(train, 0.5, 5), test };
const quiet = { log: null, progress: "silent" as const, data, workers: 0 };
const out: Record<string, unknown> = { backend: info.name, adapter: info.adapter ?? null };

const variants: Record<string, number> = {};
for (const variant of VARIANTS) {
  const before = tf.memory().numTensors;
  const t = await Trainer.create({ ...quiet, config: { ...TINY, epochs: 1, variant } });
  const r = await t.run();
  variants[variant] = Number(r.records[0].train_loss);
  t.dispose();
  variants[`${variant}:leaked`] = tf.memory().numTensors - before;
}
out.variants = variants;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rul-webgpu-"));
const counts: number[] = [];
const bytes: number[] = [];
const t = await Trainer.create({
  ...quiet,
  config: TINY,
  out: dir,
  hooks: {
    onEpoch: () => {
      counts.push(tf.memory().numTensors);
      bytes.push(tf.memory().numBytes);
    },
  },
});
await t.run(2);
t.dispose();
const resumed = await Trainer.create({ ...quiet, out: dir, resume: true });
out.resumedAt = resumed.epochsDone;
await resumed.runEpoch();
out.epochsAfterResume = resumed.epochsDone;
const audit = await resumed.auditTrainingSet();
out.auditRows = fs.readFileSync(audit.table!.csv, "utf8").trim().split("\n").length - 1;
out.auditAuroc = audit.noisyAuroc;
// the AUROC recomputed from the per-sample table by the pairwise definition (tests/_auroc.ts)
out.auditAurocFromTable = auditAurocFromTable(
  JSON.parse(fs.readFileSync(audit.table!.json, "utf8")).rows,
  data.train,
);
out.testTable = (await resumed.writeTestTable()) !== null;
const ev = await evaluateModel(resumed.model, test, { batchSize: 16 });
out.features = { n: test.n, dim: ev.featureDim, length: ev.features.length };
out.featuresFinite = ev.features.every(Number.isFinite);
const pth = path.join(dir, "model.pth");
out.exportTensors = (await exportTorchCheckpoint(resumed.model, pth, "official-pth")).tensors;
resumed.dispose();

// Leak check over whole epochs (numTensors after each; epoch 1 creates Adam's slots).
const t3 = await Trainer.create({
  ...quiet,
  config: TINY,
  hooks: {
    onEpoch: () => {
      counts.push(tf.memory().numTensors);
      bytes.push(tf.memory().numBytes);
    },
  },
});
counts.length = 0;
bytes.length = 0;
await t3.run();
t3.dispose();
out.numTensorsPerEpoch = counts;
out.numBytesPerEpoch = bytes;
fs.rmSync(dir, { recursive: true });
console.log(JSON.stringify(out));
