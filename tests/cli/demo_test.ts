// `deno task demo --quick` end to end (a subprocess): the table, run folders, figures and
// summaries exist and are consistent (not who wins: --quick numbers are meaningless); then
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

Deno.test("demo --quick prints the table and writes run folders, figures and summaries", async () => {
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
    2,
    "both variants start from the file",
  );
  const lines = r.stdout.split("\n");
  const header = lines.findIndex((l) => l.startsWith("| variant"));
  assert.ok(header >= 0, r.stdout);
  assert.match(lines[header], /best-epoch test acc.*last-epoch test acc.*AUROC of u.*time/);
  assert.match(lines[header + 2], /^\| baseline +\| \d+\.\d\d \(ep \d\) +\| \d+\.\d\d +\| n\/a/);
  assert.match(lines[header + 3], /^\| rul +\| \d+\.\d\d \(ep \d\) +\| \d+\.\d\d +\| \d\.\d{3} /);
  assert.match(r.stdout, /epoch 2\/2/, "progress / epoch lines are shown");
  for (const v of ["baseline", "rul"]) {
    for (const f of ["config.json", "metrics.csv", "metrics.jsonl", "summary.json"]) {
      assert.ok(fs.existsSync(path.join(out, v, f)), `${v}/${f}`);
    }
    assert.ok(fs.existsSync(path.join(out, v, "checkpoints", "last.safetensors")));
    assert.ok(fs.existsSync(path.join(out, v, "checkpoints", "last.optim.safetensors")));
    assert.ok(fs.existsSync(path.join(out, v, "samples_train.csv")));
    const cfg = JSON.parse(fs.readFileSync(path.join(out, v, "config.json"), "utf8"));
    assert.equal(cfg.init, init, `${v} config records the init file`);
    const metrics = fs.readFileSync(path.join(out, v, "metrics.jsonl"), "utf8").trim().split("\n");
    assert.equal(metrics.length, 2);
  }
  const summary = JSON.parse(fs.readFileSync(path.join(out, "summary.json"), "utf8"));
  assert.deepEqual(summary.rows.map((x: { variant: string }) => x.variant), ["baseline", "rul"]);
  const rul = summary.rows[1];
  assert.ok(rul.aurocU > 0 && rul.aurocU < 1 && rul.lastTestAcc >= 0 && rul.seconds > 0);
  assert.equal(summary.rows[0].aurocU, null);
  // the table's numbers are the run's numbers
  const rulRun = JSON.parse(fs.readFileSync(path.join(out, "rul", "summary.json"), "utf8"));
  assert.equal(rulRun.last_epoch_test_acc, rul.lastTestAcc);
  const html = fs.readFileSync(path.join(out, "figures.html"), "utf8");
  assert.match(html, /training loss and test accuracy/);
  assert.match(html, /uncertainty u of training samples/);
  assert.ok(fs.existsSync(path.join(out, "summary.md")));

  // eval on the demo's checkpoint: defaults to the run's data; train split gives the AUROC
  const evOut = path.join(out, "eval");
  const ev = await run("cli/eval.ts", [
    "--checkpoint",
    path.join(out, "rul", "checkpoints", "last.safetensors"),
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
    fs.readFileSync(path.join(out, "rul", "metrics.jsonl"), "utf8").trim()
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
});
