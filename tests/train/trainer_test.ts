import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { initBackend } from "../../lib/backend.ts";
import { readSafetensors } from "../../lib/io/mod.ts";
import {
  CHECKPOINT_LAST,
  findResumeCheckpoint,
  loadModel,
  optimizerStatePath,
  readCheckpoint,
  resolveTrainConfig,
  type TrainConfigInput,
  Trainer,
} from "../../lib/train/mod.ts";
import { VARIANTS } from "../../lib/rul/mod.ts";
import { TINY, tinyData } from "./_tiny.ts";

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "rul-train-"));
}

/** Records without wall-clock fields. */
function deterministic(records: Record<string, unknown>[]) {
  return records.map((r) =>
    Object.fromEntries(Object.entries(r).filter(([k]) => !/seconds|per_s/.test(k)))
  );
}

Deno.test("resume: 2 epochs + resume 1 == 3 uninterrupted (metrics and weights bit-identical)", async () => {
  await initBackend();
  const data = tinyData();
  const dirA = tmpDir();
  const dirB = tmpDir();
  const quiet = { log: null, progress: "silent" as const, data };
  const a = await Trainer.create({ ...quiet, config: TINY, out: dirA });
  const ra = await a.run();
  a.dispose();

  const b1 = await Trainer.create({ ...quiet, config: TINY, out: dirB });
  await b1.run(2);
  b1.dispose();
  const b2 = await Trainer.create({ ...quiet, out: dirB, resume: true });
  assert.equal(b2.epochsDone, 2);
  const rb = await b2.run();
  b2.dispose();

  assert.equal(ra.records.length, 3);
  assert.deepEqual(deterministic(rb.records), deterministic(ra.records));
  assert.equal(rb.bestTestAcc, ra.bestTestAcc);
  assert.equal(rb.lastTestAcc, ra.lastTestAcc);
  const jsonl = (d: string) =>
    deterministic(
      fs.readFileSync(path.join(d, "metrics.jsonl"), "utf8").trim().split("\n").map((l) =>
        JSON.parse(l)
      ),
    );
  assert.deepEqual(jsonl(dirB), jsonl(dirA));
  const ca = readCheckpoint(path.join(dirA, CHECKPOINT_LAST));
  const cb = readCheckpoint(path.join(dirB, CHECKPOINT_LAST));
  assert.deepEqual([...cb.tensors.keys()], [...ca.tensors.keys()]);
  for (const [k, t] of ca.tensors) {
    assert.deepEqual(cb.tensors.get(k)!.dataSync(), t.dataSync(), `tensor ${k} differs`);
  }
  assert.ok(ca.hasOptimizerState);
  assert.ok([...ca.tensors.keys()].some((k) => k.startsWith("adam.exp_avg.")));
  tf.dispose([...ca.tensors.values(), ...cb.tensors.values()]);
  // The model file itself holds only the state dict (PyTorch strict load), Adam goes beside it.
  const last = path.join(dirA, CHECKPOINT_LAST);
  const { tensors: modelOnly, metadata } = await readSafetensors(last);
  assert.ok(![...modelOnly.keys()].some((k) => k.startsWith("adam.")), "adam.* in model file");
  assert.equal(metadata.epoch, "3");
  tf.dispose([...modelOnly.values()]);
  const { tensors: optim } = await readSafetensors(optimizerStatePath(last));
  assert.ok([...optim.keys()].every((k) => k.startsWith("adam.")) && optim.size > 0);
  tf.dispose([...optim.values()]);
  const loaded = await loadModel(last, { log: null }); // strict load, model built from metadata
  assert.equal(loaded.epoch, 3);
  loaded.model.dispose();
  fs.rmSync(dirA, { recursive: true });
  fs.rmSync(dirB, { recursive: true });
});

Deno.test("no tensor leak across epochs; hooks fire; audit reports AUROC and writes tables", async () => {
  await initBackend();
  const data = tinyData();
  const dir = tmpDir();
  const counts: number[] = [];
  let steps = 0;
  const t = await Trainer.create({
    config: TINY,
    out: dir,
    data,
    log: null,
    progress: "silent",
    workers: 0,
    hooks: {
      onStep: (s) => {
        steps++;
        assert.ok(Number.isFinite(s.loss) && s.steps === 3);
      },
      onEpoch: () => {
        counts.push(tf.memory().numTensors);
      },
    },
  });
  const r = await t.run();
  assert.equal(steps, 9);
  assert.equal(counts.length, 3);
  assert.ok(counts.every((c) => c === counts[0]), `numTensors per epoch: ${counts}`);
  assert.equal(r.bestTestAcc, Math.max(...r.records.map((x) => Number(x.test_acc))));
  assert.equal(r.lastTestAcc, r.records[2].test_acc);
  assert.equal(r.records[1].lr_backbone, 2e-4 * 0.9);
  const audit = await t.auditTrainingSet();
  assert.ok(audit.noisyAuroc !== null && audit.noisyAuroc >= 0 && audit.noisyAuroc <= 1);
  const csv = fs.readFileSync(audit.table!.csv, "utf8").trim().split("\n");
  assert.equal(csv.length, 41);
  assert.match(csv[0], /clean_label,flipped,.*,u,f0,/);
  t.dispose();
  fs.rmSync(dir, { recursive: true });
});

Deno.test("baseline and ablation variants train one epoch", async () => {
  await initBackend();
  const data = tinyData();
  for (const variant of ["baseline", "rul-no-sigma", "rul-pair-hardest", "rul-addup-w"] as const) {
    const before = tf.memory().numTensors;
    const t = await Trainer.create({
      config: { ...TINY, epochs: 1, variant },
      data,
      log: null,
      progress: "silent",
      workers: 0,
    });
    const r = await t.run();
    assert.ok(Number.isFinite(Number(r.records[0].train_loss)), variant);
    t.dispose();
    assert.equal(tf.memory().numTensors, before, `${variant} leaked tensors`);
  }
});

Deno.test("config validation names the key and lists valid values", () => {
  const err = (input: unknown) => {
    try {
      resolveTrainConfig(input as TrainConfigInput, "cfg.json");
    } catch (e) {
      return (e as Error).message;
    }
    return "no error";
  };
  assert.match(err({ variant: "rull" }), /cfg\.json: variant = "rull" is invalid.*rul \| baseline/);
  assert.ok(err({ variant: "x" }).includes(VARIANTS.join(" | ")));
  assert.match(err({ epochz: 3 }), /unknown option "epochz"; valid options: variant, epochs/);
  assert.match(err({ optim: { lr: 1 } }), /unknown option "optim.lr"/);
  assert.match(err({ batchSize: 1.5 }), /batchSize = 1.5 is invalid: expected an integer >= 2/);
  assert.match(err({ model: { widths: [1, 2] } }), /model.widths.*four positive integers/);
  assert.match(err({ data: { source: "rafdb" } }), /needs data.root/);
  assert.match(err({ optim: { gamma: 0 } }), /gamma/);
  const c = resolveTrainConfig({ optim: { lrClassifier: 1e-3 } });
  assert.equal(c.optim.lrClassifier, 1e-3);
  assert.equal(c.optim.lrBackbone, 2e-4);
  assert.equal(c.epochs, 60);
});

Deno.test("resume errors are clear", async () => {
  const dir = tmpDir();
  await assert.rejects(
    Trainer.create({ out: dir, resume: true, log: null }),
    /cannot resume: .*config\.json does not exist/,
  );
  fs.rmSync(dir, { recursive: true });
});

Deno.test("resume refuses an optimiser file from another epoch (a pair mixed by hand)", async () => {
  await initBackend();
  const data = tinyData();
  const dir = tmpDir();
  const quiet = { log: null, progress: "silent" as const, data, workers: 0 };
  const a = await Trainer.create({ ...quiet, config: { ...TINY, epochs: 2 }, out: dir });
  await a.run(1);
  const stale = fs.readFileSync(optimizerStatePath(findResumeCheckpoint(dir)!));
  await a.run(2);
  a.dispose();
  const model = findResumeCheckpoint(dir)!;
  assert.match(model, /epoch-0002/);
  fs.rmSync(optimizerStatePath(model)); // break the hard link to last.optim.safetensors
  fs.writeFileSync(optimizerStatePath(model), stale);
  await assert.rejects(
    Trainer.create({ ...quiet, out: dir, resume: true }),
    /optimiser state .*model\.optim\.safetensors is from epoch 1, the model from epoch 2/,
  );
  fs.rmSync(optimizerStatePath(model));
  await assert.rejects(
    Trainer.create({ ...quiet, out: dir, resume: true }),
    /optimiser state .*model\.optim\.safetensors is missing/,
  );
  fs.rmSync(dir, { recursive: true });
});

Deno.test("auditEachEpoch: per-epoch eval-mode fit and AUROC of u equal a separate eval pass after the epoch; training unchanged", async () => {
  await initBackend();
  const data = tinyData();
  const quiet = { log: null, progress: "silent" as const, data, out: null };
  const config = { ...TINY, variant: "rul" as const, epochs: 2 };
  const plain = await Trainer.create({ ...quiet, config });
  const rp = await plain.run();
  plain.dispose();
  const audited = await Trainer.create({ ...quiet, config, auditEachEpoch: true });
  const ra = await audited.run(1);
  // the reference: an eval pass over the training set after epoch 1, scored here by hand
  const ev = (await audited.auditTrainingSet({ writeTable: false })).eval;
  const clean = data.train.cleanLabels!;
  const flipped = [...data.train.labels].map((y, i) => y !== clean[i]);
  const fitFlipped = flipped.filter((f, i) => f && ev.predictions[i] === data.train.labels[i])
    .length / flipped.filter(Boolean).length;
  let won = 0;
  const uf = ev.u!.filter((_, i) => flipped[i]), uc = ev.u!.filter((_, i) => !flipped[i]);
  for (const a of uf) for (const b of uc) won += a > b ? 1 : a === b ? 0.5 : 0;
  const rec = ra.records[0];
  assert.equal(rec.eval_acc_flipped, fitFlipped);
  assert.ok(Math.abs(Number(rec.eval_u_auroc_noisy) - won / (uf.length * uc.length)) < 1e-12);
  assert.notEqual(rec.eval_u_auroc_noisy, rec.train_u_auroc_noisy, "eval mode, not training mode");
  const rb = await audited.run();
  audited.dispose();
  assert.equal(rb.records.length, 2);
  assert.ok(rb.records.every((r) => typeof r.eval_u_auroc_noisy === "number"));
  // the extra eval pass changes nothing in the training
  const strip = (rs: Record<string, unknown>[]) =>
    deterministic(rs).map((r) =>
      Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith("eval_")))
    );
  assert.deepEqual(strip(rb.records), strip(rp.records));
});
