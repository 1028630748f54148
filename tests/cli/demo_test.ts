// `deno task demo --quick` end to end (a subprocess, 2 seeds × 2 variants): the mean ± sd table,
// the paired interval, the per-epoch table, run folders, figures and summaries exist and are
// consistent (not who wins: --quick numbers are meaningless); then
// `deno task eval` on the demo's RUL checkpoint evaluates on the run's own data. The run starts
// both variants from a backbone-only safetensors file (`--init`, as the full demo does with the
// committed pretrained backbone; tests/cli/demo_init_test.ts checks that file).
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { initBackend } from "../../lib/backend.ts";
import { writeSafetensors } from "../../lib/io/safetensors.ts";
import { createModel } from "../../lib/model/create.ts";

import { ROOT, runScript as run } from "./_run.ts";

Deno.test("demo --quick prints the multi-seed table, paired interval and per-epoch AUROC, writes run folders, figures and summaries", async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "rul-demo-"));
  // a backbone-only file at the --quick size (a baseline's state dict minus fc)
  await initBackend();
  const init = path.join(out, "backbone.safetensors");
  const src = createModel({ kind: "baseline", inputSize: 32, widths: [4, 8, 8, 16], seed: 7 });
  const sd = src.stateDict();
  for (const k of [...sd.keys()]) {
    if (k.startsWith("fc.")) {
      sd.get(k)!.dispose();
      sd.delete(k);
    }
  }
  await writeSafetensors(init, sd);
  const nBackbone = sd.size;
  tf.dispose([...sd.values()]);
  src.dispose();
  const r = await run("cli/demo.ts", [
    "--quick",
    "--out",
    out,
    "--progress",
    "lines",
    "--init",
    init,
  ]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, new RegExp(`init: .*backbone\\.safetensors \\(${nBackbone} backbone`));
  assert.equal(
    (r.stdout.match(new RegExp(`${nBackbone} tensors loaded as backbone`, "g")) ?? []).length,
    4,
    "both variants of both seeds start from the file",
  );
  const lines = r.stdout.split("\n");
  const header = lines.findIndex((l) => l.startsWith("| variant"));
  assert.ok(header >= 0, r.stdout);
  assert.match(lines[header], /seeds.*best-epoch test acc.*last-epoch test acc.*AUROC of u.*time/);
  const pmRe = "\\d+\\.\\d\\d ± \\d+\\.\\d\\d";
  assert.match(
    lines[header + 2],
    new RegExp(`^\\| baseline +\\| 2 +\\| ${pmRe} +\\| ${pmRe} +\\| n/a`),
  );
  assert.match(
    lines[header + 3],
    new RegExp(`^\\| rul +\\| 2 +\\| ${pmRe} +\\| ${pmRe} +\\| \\d\\.\\d{3} ± `),
  );
  assert.match(r.stdout, /epoch 2\/2/, "progress / epoch lines are shown");
  assert.match(
    r.stdout,
    /^\| 30 % \| rul − baseline \| 2 \| [+−]\d+\.\d\d \[[+−]\d+\.\d\d, [+−]\d+\.\d\d\] \(/m,
  );
  assert.match(r.stdout, /RUL − baseline, last-epoch test accuracy: .* 95 % paired t interval \[/);
  assert.match(r.stdout, /AUROC of u for the flipped labels after the last epoch \(eval mode\)/);
  assert.match(
    r.stdout,
    /\| epoch \| baseline test acc % \| RUL test acc % \| baseline fit of flipped % \(eval\) .*\| RUL AUROC of u \(eval\) \| RUL AUROC of u \(train mode\) \|/,
  );
  assert.match(r.stdout, /eval-mode AUROC of u by epoch: every seed below 0\.5/);
  assert.match(r.stdout, /^\| 2 +\| /m, "one row per epoch");
  assert.match(r.stdout, /total \d+ min \d+ s/);
  for (const seed of [0, 1]) {
    for (const v of ["baseline", "rul"]) {
      const dir = path.join(out, `seed${seed}`, v);
      for (const f of ["config.json", "metrics.csv", "metrics.jsonl", "summary.json"]) {
        assert.ok(fs.existsSync(path.join(dir, f)), `${dir}/${f}`);
      }
      assert.ok(fs.existsSync(path.join(dir, "checkpoints", "last.safetensors")));
      assert.ok(fs.existsSync(path.join(dir, "checkpoints", "last.optim.safetensors")));
      assert.ok(fs.existsSync(path.join(dir, "samples_train.csv")));
      const cfg = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8"));
      assert.equal(cfg.init, init, `${dir} config records the init file`);
      assert.equal(cfg.seed, seed, `${dir} trained with seed ${seed}`);
      const metrics = fs.readFileSync(path.join(dir, "metrics.jsonl"), "utf8").trim().split("\n");
      assert.equal(metrics.length, 2);
      const rec = JSON.parse(metrics[1]);
      assert.ok(rec.train_acc_flipped >= 0 && rec.train_acc_flipped <= 1, "fit of flipped logged");
      if (v === "rul") assert.ok(rec.train_u_mean_flipped > 0 && rec.train_u_mean_clean > 0);
      // u by epoch in eval mode (the demo audits the training set after every epoch)
      assert.ok(rec.eval_acc_flipped >= 0 && rec.eval_acc_flipped <= 1, "eval-mode fit logged");
      if (v === "rul") assert.ok(rec.eval_u_auroc_noisy > 0 && rec.eval_u_auroc_noisy < 1);
    }
  }
  const summary = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8"));
  assert.deepEqual(
    summary.runs.map((x: { variant: string; seed: number }) => `${x.variant}${x.seed}`),
    ["baseline0", "rul0", "baseline1", "rul1"],
  );
  const rul = summary.runs[1];
  assert.ok(rul.aurocU > 0 && rul.aurocU < 1 && rul.lastTestAcc >= 0 && rul.seconds > 0);
  assert.equal(summary.runs[0].aurocU, null);
  // the paired interval is built from the runs' own numbers (RUL − baseline of the same seed)
  const diffs = [0, 1].map((k) =>
    summary.runs[2 * k + 1].lastTestAcc - summary.runs[2 * k].lastTestAcc
  );
  assert.deepEqual(summary.paired[0].last.differences, diffs);
  // the table's numbers are the run's numbers
  const rulRun = JSON.parse(
    fs.readFileSync(path.join(out, "seed0", "rul", "summary.json"), "utf8"),
  );
  assert.equal(rulRun.last_epoch_test_acc, rul.lastTestAcc);
  const html = fs.readFileSync(path.join(out, "figures.html"), "utf8");
  assert.match(html, /training loss and test accuracy/);
  assert.match(html, /u of training samples/);
  assert.match(html, /uncertainty u of flipped vs clean training labels/);
  assert.match(html, /Fit of the flipped labels/);
  assert.ok(fs.existsSync(path.join(out, "summary.md")));

  // eval on the demo's checkpoint: defaults to the run's data; train split gives the AUROC
  const evOut = path.join(out, "eval");
  const ev = await run("cli/eval.ts", [
    "--checkpoint",
    path.join(out, "seed0", "rul", "checkpoints", "last.safetensors"),
    "--split",
    "both",
    "--out",
    evOut,
    "--progress",
    "silent",
  ]);
  assert.equal(ev.code, 0, ev.stderr + ev.stdout);
  assert.match(ev.stdout, /config metadata/);
  const testM = JSON.parse(fs.readFileSync(path.join(evOut, "eval_test_metrics.json"), "utf8"));
  const last = JSON.parse(
    fs.readFileSync(path.join(out, "seed0", "rul", "metrics.jsonl"), "utf8").trim()
      .split("\n")[1],
  );
  assert.equal(testM.accuracy, last.test_acc, "eval reproduces the run's last test accuracy");
  const trainM = JSON.parse(fs.readFileSync(path.join(evOut, "eval_train_metrics.json"), "utf8"));
  assert.equal(trainM.noisyLabels.aurocU, rul.aurocU, "same AUROC of u as the demo's audit");
  fs.rmSync(out, { recursive: true });
});

Deno.test("demo refuses an --init file that is missing or does not fit, naming it", async () => {
  const missing = await run("cli/demo.ts", ["--quick", "--init", "/nonexistent/b.safetensors"]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--init \/nonexistent\/b\.safetensors: file not found/);
  // the committed demo backbone (half-width ResNet-18, 48 px) does not fit the --quick model
  const wrong = await run("cli/demo.ts", [
    "--quick",
    "--init",
    path.join(ROOT, "data/fixtures/synthfer_pretrained_backbone_48px_w32.safetensors"),
  ]);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /does not fit the demo's baseline backbone.*expected \[/);
  const help = await run("cli/demo.ts", ["--help"]);
  assert.match(help.stdout, /--init/);
  assert.match(help.stdout, /--seeds/);
  const oneSeed = await run("cli/demo.ts", ["--quick", "--seeds", "3"]);
  assert.equal(oneSeed.code, 2);
  assert.match(oneSeed.stderr, /--seeds "3": give at least 2 seeds/);
});
