// SCN and EAC through the trainer: SCN's relabelled label table is saved in every checkpoint and
// a resumed run continues from it bit for bit; the training-set audit scores SCN's α and EAC's
// per-sample flip consistency as noisy-label detectors (AUROC checked by brute force).
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { initBackend } from "../../lib/backend.ts";
import { readCheckpoint, type TrainConfigInput, Trainer } from "../../lib/train/mod.ts";
import { TINY, tinyData } from "../train/_tiny.ts";

await initBackend();

// relabelling from epoch 1 and a fast classifier, so that the tiny run relabels within 2 epochs
const SCN: TrainConfigInput = {
  ...TINY,
  variant: "scn",
  relabelEpoch: 1,
  optim: { lrBackbone: 2e-3, lrClassifier: 5e-2 },
};
const quiet = { log: null, progress: "silent" as const };

/** Brute-force AUROC: P(score of a flipped sample > score of a clean one) + ½ P(tie). */
function bruteAuroc(score: ArrayLike<number>, flipped: boolean[]): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < score.length; i++) {
    for (let j = 0; j < score.length; j++) {
      if (!flipped[i] || flipped[j]) continue;
      den++;
      num += score[i] > score[j] ? 1 : score[i] === score[j] ? 0.5 : 0;
    }
  }
  return num / den;
}

Deno.test("SCN: the relabelled label table is checkpointed and a resumed run continues from it", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scn-resume-"));
  try {
    const data = tinyData();
    const given = Int32Array.from(data.train.labels);
    const a = await Trainer.create({ ...quiet, config: SCN, data, out: path.join(dir, "a") });
    await a.run();
    const tableA = Int32Array.from(a.relabelTable!.labels);
    const recA = a.result().records;
    a.dispose();
    assert.deepEqual(data.train.labels, given, "the dataset's labels are not touched");

    const b = await Trainer.create({ ...quiet, config: SCN, data, out: path.join(dir, "b") });
    await b.run(2);
    b.dispose();
    const ck = readCheckpoint(path.join(dir, "b", "checkpoints", "last.safetensors"));
    tf.dispose([...ck.tensors.values()]);
    assert.ok(ck.labels, "the checkpoint holds the label table");
    const changed = ck.labels!.filter((v, i) => v !== given[i]).length;
    assert.ok(changed > 0, "the tiny run relabelled some samples by epoch 2");
    assert.equal(recA[1].scn_labels_changed, changed, "epoch 2's record counts the same changes");

    const c = await Trainer.create({ ...quiet, out: path.join(dir, "b"), resume: true, data });
    assert.deepEqual(c.relabelTable!.labels, ck.labels, "resume restores the table");
    await c.run();
    assert.deepEqual(c.relabelTable!.labels, tableA, "resumed table = uninterrupted table");
    assert.equal(c.result().lastTestAcc, recA[2].test_acc, "resumed run = uninterrupted run");
    const audit = await c.auditTrainingSet();
    c.dispose();
    const r = audit.relabel!;
    assert.equal(r.changed.length, tableA.filter((v, i) => v !== given[i]).length);
    const clean = data.train.cleanLabels!;
    assert.equal(r.changedFlipped, r.changed.filter((i) => given[i] !== clean[i]).length);
    assert.equal(r.fixed, r.changed.filter((i) => tableA[i] === clean[i]).length);
    assert.ok(fs.existsSync(path.join(dir, "b", "scn_relabel.json")));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

for (const [variant, score] of [["scn", "alpha"], ["eac", "consistency"]] as const) {
  Deno.test(`${variant} audit: ${score} as the per-sample score, its AUROC for flipped labels`, async () => {
    const data = tinyData();
    const t = await Trainer.create({
      ...quiet,
      config: { ...TINY, epochs: 1, variant },
      data,
      out: null,
    });
    await t.run();
    const start = tf.memory().numTensors;
    const audit = await t.auditTrainingSet();
    assert.equal(tf.memory().numTensors, start, "no tensor leak in the audit");
    t.dispose();
    assert.equal(audit.score, score);
    const s = audit.eval.score!;
    assert.equal(s.length, data.train.n);
    assert.ok(s.every(Number.isFinite) && new Set(s).size > 1, "finite, varying scores");
    if (variant === "scn") assert.ok(s.every((v) => v > 0 && v < 1), "α is a sigmoid");
    if (variant === "eac") assert.ok(s.every((v) => v >= 0), "a mean of squares");
    const clean = data.train.cleanLabels!;
    const flipped = Array.from(data.train.labels, (v, i) => v !== clean[i]);
    assert.ok(Math.abs(audit.scoreAuroc! - bruteAuroc(s, flipped)) < 1e-12);
    assert.equal(audit.noisyAuroc, audit.scoreAuroc);
  });
}
