// `deno task eval` end to end (a subprocess): the fixture .pth (config inferred from its shapes)
// on the fixture batch gives PyTorch's eval logits and u;
// bad flags give clear errors. (Evaluating our own checkpoints on their run data: demo_test.ts.)
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { initBackend } from "../../lib/backend.ts";
import { readSafetensors } from "../../lib/io/mod.ts";
import { relErr } from "../model/compare.ts";

import { ROOT, runScript } from "./_run.ts";

const FIX = path.join(ROOT, "tests/fixtures/model/");

/** Runs `cli/eval.ts` with `args`. */
const cli = (args: string[]) => runScript("cli/eval.ts", args);

Deno.test("eval on the fixture .pth (zip and legacy) reproduces PyTorch's eval logits and u", async () => {
  await initBackend();
  const { tensors: exp } = await readSafetensors(FIX + "rul_small_expected.safetensors");
  for (const pth of ["rul_small.pth", "rul_small_legacy.pth"]) {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "rul-eval-"));
    const r = await cli([
      "--checkpoint",
      FIX + pth,
      "--inputs",
      FIX + "rul_small_expected.safetensors",
      "--out",
      out,
      "--progress",
      "silent",
    ]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /inferred rul model, widths 8,16,32,64, 7 classes, feature dim 16/);
    const { tensors: got } = await readSafetensors(
      path.join(out, "eval_inputs_outputs.safetensors"),
    );
    const e = relErr(got.get("logits")!, exp.get("eval.logits")!);
    console.log(`${pth}: max relative error of the logits vs PyTorch: ${e.toExponential(2)}`);
    assert.ok(e <= 1e-4, `logits relative error ${e}`);
    assert.ok(relErr(got.get("u")!, exp.get("eval.u")!) <= 1e-4, "u");
    assert.ok(relErr(got.get("features")!, exp.get("eval.mu")!) <= 1e-4, "mu");
    const csv = fs.readFileSync(path.join(out, "eval_inputs.csv"), "utf8").trim().split("\n");
    assert.equal(csv.length, 5);
    const metrics = JSON.parse(fs.readFileSync(path.join(out, "eval_inputs_metrics.json"), "utf8"));
    assert.equal(metrics.n, 4);
    assert.equal(metrics.confusion.flat().reduce((a: number, b: number) => a + b, 0), 4);
    tf.dispose([...got.values()]);
    fs.rmSync(out, { recursive: true });
  }
  tf.dispose([...exp.values()]);
});

Deno.test("eval --inputs in batches of 4 (last one partial) gives PyTorch's logits, u and accuracy", async () => {
  await initBackend();
  const { tensors: exp } = await readSafetensors(FIX + "eval_batches.safetensors");
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "rul-eval-"));
  const r = await cli([
    "--checkpoint",
    FIX + "rul_small.pth",
    "--inputs",
    FIX + "eval_batches.safetensors",
    "--eval-batch-size",
    "4",
    "--out",
    out,
    "--progress",
    "silent",
  ]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const { tensors: got } = await readSafetensors(path.join(out, "eval_inputs_outputs.safetensors"));
  for (const k of ["logits", "u"]) {
    const e = relErr(got.get(k)!, exp.get(k)!);
    assert.ok(e <= 1e-5, `${k}: relative error ${e} vs PyTorch`);
  }
  assert.ok(relErr(got.get("features")!, exp.get("mu")!) <= 1e-5, "mu");
  const metrics = JSON.parse(fs.readFileSync(path.join(out, "eval_inputs_metrics.json"), "utf8"));
  assert.equal(metrics.n, 10);
  const acc = exp.get("accuracy")!.dataSync()[0];
  assert.ok(Math.abs(metrics.accuracy - acc) < 1e-6, `accuracy ${metrics.accuracy} vs ${acc}`);
  assert.ok(Math.abs(metrics.loss - exp.get("loss")!.dataSync()[0]) < 1e-4, `loss ${metrics.loss}`);
  tf.dispose([...got.values(), ...exp.values()]);
  fs.rmSync(out, { recursive: true });
});

Deno.test("eval: --help, bad flags and bad inputs give clear errors", async () => {
  const help = await cli(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--checkpoint/);
  assert.match(help.stdout, /--inputs/);
  assert.match(help.stdout, /--split/);
  const typo = await cli(["--checkpont", "x.pth"]);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /unknown flag --checkpont \(did you mean --checkpoint\?\)/);
  const none = await cli([]);
  assert.match(none.stderr, /--checkpoint FILE is required/);
  const split = await cli(["--checkpoint", FIX + "rul_small.pth", "--split", "val"]);
  assert.match(split.stderr, /--split "val": expected one of: test \| train \| both/);
  const missing = await cli(["--checkpoint", FIX + "nope.pth"]);
  assert.match(missing.stderr, /nope\.pth/);
  const key = await cli([
    "--checkpoint",
    FIX + "rul_small.pth",
    "--inputs",
    FIX + "rul_small_expected.safetensors",
    "--inputs-key",
    "images",
  ]);
  assert.match(key.stderr, /has no tensor "images" \(tensors: .*x/);
  const size = await cli(["--checkpoint", FIX + "rul_small.pth", "--input-size", "128"]);
  assert.match(size.stderr, /input of 33\.\.64 px; got --input-size 128/);
});
