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
import { type Variant, VARIANTS } from "../../lib/rul/mod.ts";
import { disposeModelOutput } from "../../lib/model/mod.ts";
import { mulberry32 } from "../../lib/random.ts";
import { FIXTURES } from "../model/compare.ts";
import { auditAurocFromTable, type AuditRow } from "../_auroc.ts";
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
  const csv = fs.readFileSync(audit.table!.csv, "utf8").trim().split("\n");
  assert.equal(csv.length, 41);
  assert.match(csv[0], /clean_label,flipped,.*,u,f0,/);
  // the AUROC recomputed from the per-sample table by the pairwise definition
  const rows = JSON.parse(fs.readFileSync(audit.table!.json, "utf8")).rows;
  const want = auditAurocFromTable(rows, data.train);
  assert.ok(Math.abs(audit.noisyAuroc! - want) < 1e-12, `AUROC ${audit.noisyAuroc} vs ${want}`);
  assert.notEqual(want, 0.5, "an AUROC of exactly 0.5 could not tell u from −u");
  const flippedU = rows.filter((r: AuditRow) => r.flipped).map((r: AuditRow) => r.u);
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  assert.ok(Math.abs(audit.meanU!.flipped - mean(flippedU)) < 1e-6, "mean u of flipped samples");
  t.dispose();
  fs.rmSync(dir, { recursive: true });
});

/** A quiet in-memory trainer of the tiny setting for one epoch of `variant`. */
function oneEpochTrainer(variant: Variant, data: ReturnType<typeof tinyData>) {
  return Trainer.create({
    config: { ...TINY, epochs: 1, variant },
    data,
    log: null,
    progress: "silent",
    workers: 0,
  });
}

/**
 * What each variant must switch, written here by hand from the paper / docs (not read from
 * lib/rul/variants.ts, the table under test).
 */
const EXPECTED_SWITCHES = {
  "rul": { kind: "rul", pairing: "random", addUpWeighting: "half", sigmaHead: true },
  "baseline": { kind: "baseline" },
  "rul-pair-different": {
    kind: "rul",
    pairing: "different-label",
    addUpWeighting: "half",
    sigmaHead: true,
  },
  "rul-pair-hardest": { kind: "rul", pairing: "hardest", addUpWeighting: "half", sigmaHead: true },
  "rul-addup-w": { kind: "rul", pairing: "random", addUpWeighting: "w", sigmaHead: true },
  "rul-no-sigma": { kind: "rul", pairing: "random", addUpWeighting: "half", sigmaHead: false },
  "scn": { kind: "scn" },
  "eac": { kind: "eac" },
} as const;

Deno.test("each variant reaches the trainer's model: its switches, heads and pairing rule", async () => {
  await initBackend();
  const data = tinyData();
  assert.deepEqual(Object.keys(EXPECTED_SWITCHES).sort(), [...VARIANTS].sort());
  const labels = data.train.labels.slice(0, 16);
  for (const variant of VARIANTS) {
    const t = await oneEpochTrainer(variant, data);
    const cfg = t.model.config as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(EXPECTED_SWITCHES[variant])) {
      assert.equal(cfg[k], v, `${variant}: model config ${k}`);
    }
    const names = [...t.model.namedParameters().keys()];
    const has = (prefix: string) => names.some((n) => n.startsWith(prefix));
    const rulKind = EXPECTED_SWITCHES[variant].kind === "rul";
    assert.equal(has("mu."), rulKind, `${variant}: μ head`);
    assert.equal(has("log_var."), rulKind && variant !== "rul-no-sigma", variant);
    // SCN's importance branch (tests/methods test its step against PyTorch)
    assert.equal(has("alpha."), variant === "scn", `${variant}: importance branch`);
    if (!rulKind) {
      t.dispose();
      continue;
    }
    // one training-mode forward on a fixed batch: the pairing rule and w of the variant
    const x = tf.randomNormal([16, 32, 32, 3], 0, 1, "float32", 7) as tf.Tensor4D;
    const out = t.model.forwardTrain(x, { labels, rng: mulberry32(11) });
    const perm = out.perm as Int32Array;
    if ((EXPECTED_SWITCHES[variant] as { pairing?: string }).pairing === "random") {
      assert.deepEqual([...perm].sort((a, b) => a - b), [...Array(16).keys()], "a permutation");
    }
    const w = out.w!.dataSync();
    if (variant === "rul-no-sigma") {
      assert.equal(out.logVar, null);
      assert.ok(w.every((v) => v === 0.5), `${variant}: w = 0.5, got ${w}`);
    } else assert.ok(w.some((v) => Math.abs(v - 0.5) > 1e-3), `${variant}: w is not 0.5`);
    if (variant === "rul-pair-different") {
      // over 10 draws (a random permutation would meet an equal label in some of them)
      for (let seed = 0; seed < 10; seed++) {
        const o = t.model.forwardTrain(x, { labels, rng: mulberry32(100 + seed) });
        const p = o.perm as Int32Array;
        for (let i = 0; i < 16; i++) {
          assert.notEqual(
            labels[p[i]],
            labels[i],
            `draw ${seed}: sample ${i} paired with its label`,
          );
        }
        disposeModelOutput(o);
      }
    }
    if (variant === "rul-pair-hardest") {
      // the nearest different-label sample in μ space, by brute force in float64
      const mu = out.mu!.arraySync();
      const d2 = (i: number, j: number) => mu[i].reduce((s, v, k) => s + (v - mu[j][k]) ** 2, 0);
      for (let i = 0; i < 16; i++) {
        let best = Infinity;
        for (let j = 0; j < 16; j++) if (labels[j] !== labels[i]) best = Math.min(best, d2(i, j));
        assert.notEqual(labels[perm[i]], labels[i], `hardest: sample ${i} own label`);
        assert.ok(d2(i, perm[i]) <= best * (1 + 1e-5) + 1e-9, `hardest: sample ${i} not nearest`);
      }
    }
    if (variant === "rul") {
      // the official random permutation ignores the labels: over 10 draws some sample meets
      // its own label (a different-label rule never would)
      let same = 0;
      for (let seed = 0; seed < 10; seed++) {
        const o = t.model.forwardTrain(x, { labels, rng: mulberry32(100 + seed) });
        const p = o.perm as Int32Array;
        same += p.filter((q, i) => labels[q] === labels[i]).length;
        disposeModelOutput(o);
      }
      assert.ok(same > 0, "rul pairing never paired equal labels in 10 draws");
    }
    disposeModelOutput(out);
    x.dispose();
    t.dispose();
  }
});

Deno.test("the trainer's rul-addup-w and rul models give PyTorch's add-up losses on the fixture batch", async () => {
  await initBackend();
  const data = tinyData();
  const { tensors: exp } = await readSafetensors(FIXTURES + "rul_small_expected.safetensors");
  const x = exp.get("x") as tf.Tensor4D;
  const labels = Int32Array.from(exp.get("labels")!.dataSync());
  const perm = Int32Array.from(exp.get("perm")!.dataSync());
  const cases = [["rul-addup-w", "train.loss_w"], ["rul", "train.loss"]] as const;
  for (const [variant, key] of cases) {
    const t = await Trainer.create({
      config: {
        variant,
        init: FIXTURES + "rul_small.pth",
        model: { inputSize: 64, widths: [8, 16, 32, 64], featureDim: 16, dropout: 0 },
      },
      data,
      log: null,
      progress: "silent",
      workers: 0,
    });
    const out = t.model.forwardTrain(x, { labels, perm });
    const got = out.loss!.dataSync()[0];
    const want = exp.get(key)!.dataSync()[0];
    assert.ok(
      Math.abs(got - want) <= 1e-5 * Math.abs(want),
      `${variant}: ${got} vs ${key} ${want}`,
    );
    disposeModelOutput(out);
    t.dispose();
  }
  // the two weightings differ on this batch (else the check above could not tell them apart)
  const [lw, lh] = ["train.loss_w", "train.loss"].map((k) => exp.get(k)!.dataSync()[0]);
  assert.ok(Math.abs(lw - lh) > 1e-3 * Math.abs(lh), `loss_w ${lw} vs loss ${lh}`);
  tf.dispose([...exp.values()]);
});

Deno.test("smoke: every variant trains one epoch without leaking tensors", async () => {
  await initBackend();
  const data = tinyData();
  for (const variant of VARIANTS) {
    const before = tf.memory().numTensors;
    const t = await oneEpochTrainer(variant, data);
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
