// The official training script's checkpoints, both ways (fixtures: tools/make_official_fixture.py):
// - forward: `deno task eval` on acc_888.pth, saved exactly as the official src/main.py saves it,
//   gives the official model's logits and u within 1e-4; the DataParallel {'state_dict'} layout
//   gives the same; `train --init` (and the notebooks' `init`) loads the whole model from it;
// - reverse: `deno task export --format official-pth` of one of our checkpoints, loaded by the
//   official code path in PyTorch (res18.load_state_dict(ckpt['model_state_dict']),
//   fc.load_state_dict(ckpt['fc_state_dict'])), gives our logits and u within 1e-4; likewise
//   `--format pth` for RUL and for the baseline (torchvision names). Needs /usr/bin/python3 with
//   torch (CI installs python3-torch); skipped with a message otherwise.
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { initBackend } from "../../lib/backend.ts";
import { synthFerSplits } from "../../lib/data/synthfer.ts";
import { readSafetensors, writeSafetensors } from "../../lib/io/mod.ts";
import { createModel, type FerModel } from "../../lib/model/mod.ts";
import {
  exportTorchCheckpoint,
  loadModel,
  saveModelCheckpoint,
  Trainer,
} from "../../lib/train/mod.ts";
import { hasTorch, TORCH_MISSING } from "../_python.ts";
import { dependency } from "../_deps.ts";

const TORCH = dependency("PyTorch", hasTorch(), TORCH_MISSING);
import { ROOT, runScript } from "./_run.ts";

const FIX = path.join(ROOT, "tests/fixtures/official/");
const EXPECTED = FIX + "acc_888_expected.safetensors";
const TOL = 1e-4;

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  const x = a.dataSync();
  const y = b.dataSync();
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

Deno.test("eval on the official acc_888.pth gives the official logits and u within 1e-4", async () => {
  await initBackend();
  const { tensors: exp } = await readSafetensors(EXPECTED);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "rul-official-"));
  const r = await runScript("cli/eval.ts", [
    "--checkpoint",
    FIX + "acc_888.pth",
    "--inputs",
    EXPECTED,
    "--out",
    out,
    "--progress",
    "silent",
  ]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(
    r.stdout,
    /acc_888\.pth: official RUL layout: model_state_dict \(140 tensors\) \+ fc_state_dict \(2, as fc\.\*\)/,
  );
  assert.match(r.stdout, /inferred rul model, widths 4,8,16,32, 7 classes, feature dim 16/);
  const { tensors: got } = await readSafetensors(path.join(out, "eval_inputs_outputs.safetensors"));
  const dl = maxAbsDiff(got.get("logits")!, exp.get("logits")!);
  const du = maxAbsDiff(got.get("u")!, exp.get("u")!);
  const dm = maxAbsDiff(got.get("features")!, exp.get("mu")!);
  console.log(
    `acc_888.pth vs PyTorch: max |Δlogits| ${dl.toExponential(2)}, |Δu| ` +
      `${du.toExponential(2)}, |Δmu| ${dm.toExponential(2)}`,
  );
  assert.ok(dl <= TOL && du <= TOL && dm <= TOL, `${dl} ${du} ${dm}`);
  tf.dispose([...got.values(), ...exp.values()]);
  fs.rmSync(out, { recursive: true });
});

Deno.test("the DataParallel {'state_dict': module.*} layout loads the same model", async () => {
  await initBackend();
  const before = tf.memory().numTensors;
  const lines: string[] = [];
  const a = await loadModel(FIX + "acc_888.pth", { log: null });
  const b = await loadModel(FIX + "acc_888_dataparallel.pth", { log: (l) => lines.push(l) });
  assert.equal(a.layout.layout, "official-rul");
  assert.equal(b.layout.layout, "state_dict");
  assert.ok(b.layout.strippedModulePrefix);
  assert.deepEqual(b.layout.ignored, ["epoch"]);
  assert.match(
    lines[0],
    /\{'state_dict': state dict\}: 142 tensors \(DataParallel 'module\.' prefix removed\)/,
  );
  const sa = a.model.stateDict();
  const sb = b.model.stateDict();
  assert.equal(sa.size, 142);
  for (const [k, t] of sa) assert.equal(maxAbsDiff(t, sb.get(k)!), 0, k);
  tf.dispose([...sa.values(), ...sb.values()]);
  // exporting leaks nothing either
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rul-export-"));
  const mid = tf.memory().numTensors;
  for (const format of ["official-pth", "pth"] as const) {
    await exportTorchCheckpoint(a.model, path.join(dir, "x.pth"), format);
  }
  assert.equal(tf.memory().numTensors, mid, "export leaks no tensors");
  fs.rmSync(dir, { recursive: true });
  a.model.dispose();
  b.model.dispose();
  assert.equal(tf.memory().numTensors, before, "no tensor leaks");
});

Deno.test("train --init acc_888.pth initialises the whole model (official layout reported)", async () => {
  await initBackend();
  const lines: string[] = [];
  const t = await Trainer.create({
    config: {
      epochs: 1,
      batchSize: 4,
      init: FIX + "acc_888.pth",
      model: { inputSize: 64, widths: [4, 8, 16, 32], featureDim: 16 },
    },
    data: synthFerSplits({ train: 8, test: 4, size: 64, seed: 1 }),
    log: (l) => lines.push(l),
    progress: "silent",
    workers: 0,
  });
  try {
    assert.ok(lines.some((l) => /official RUL layout/.test(l)), lines.join("\n"));
    const ref = await loadModel(FIX + "acc_888.pth", { log: null });
    const a = t.model.stateDict();
    const b = ref.model.stateDict();
    for (const [k, v] of b) assert.equal(maxAbsDiff(a.get(k)!, v), 0, k);
    tf.dispose([...a.values(), ...b.values()]);
    ref.model.dispose();
  } finally {
    t.dispose();
  }
});

/** A model whose weights and BN statistics nobody else has seen: `base` perturbed with a seed. */
function perturbed(base: FerModel, seed: number): FerModel {
  const m = createModel(base.config);
  const sd = base.stateDict();
  const next = new Map<string, tf.Tensor>();
  let i = 0;
  for (const [k, t] of sd) {
    if (t.dtype !== "float32") next.set(k, t.clone());
    else {
      next.set(
        k,
        tf.tidy(() => {
          const noise = tf.randomNormal(t.shape, 0, 0.05, "float32", seed + i++);
          return k.endsWith("running_var") ? tf.abs(tf.add(t, noise)) : tf.add(t, noise);
        }),
      );
    }
  }
  m.loadStateDict(next, { strict: true, source: "model", log: null });
  tf.dispose([...sd.values(), ...next.values()]);
  return m;
}

/** Our eval outputs on `x` with the model config, for the Python check. */
async function writeOurs(file: string, model: FerModel, x: tf.Tensor4D): Promise<void> {
  const o = model.forwardEval(x);
  const c = model.config;
  const t = new Map<string, tf.Tensor>([["x", x], ["logits", o.logits]]);
  if (o.u) t.set("u", o.u);
  await writeSafetensors(file, t, {
    kind: c.kind,
    widths: JSON.stringify(c.widths),
    inputSize: String(c.inputSize),
    featureDim: String(c.featureDim),
    numClasses: String(c.numClasses),
  });
  tf.dispose([o.logits, o.features, o.u, o.logVar].filter((v) => v !== null) as tf.Tensor[]);
}

/** tools/make_official_fixture.py check: PyTorch loads `pth` and compares to `ours`. */
function pythonCheck(pth: string, ours: string, format: string): string {
  const r = new Deno.Command("/usr/bin/python3", {
    args: [
      path.join(ROOT, "tools/make_official_fixture.py"),
      "check",
      pth,
      ours,
      "--format",
      format,
    ],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  const text = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
  assert.equal(r.code, 0, text);
  return text;
}

Deno.test({
  name: "export --format official-pth loads in the official main.py code path with our logits",
  ignore: !TORCH,
  fn: async () => {
    await initBackend();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rul-export-"));
    const ref = await loadModel(FIX + "acc_888.pth", { log: null });
    const model = perturbed(ref.model, 11);
    ref.model.dispose();
    const ckpt = path.join(dir, "best.safetensors");
    await saveModelCheckpoint(ckpt, model, { epoch: 3 });
    const { tensors: exp } = await readSafetensors(EXPECTED);
    const x = tf.transpose(exp.get("x")!, [0, 2, 3, 1]) as tf.Tensor4D; // NCHW → NHWC
    const ours = path.join(dir, "ours.safetensors");
    await writeOurs(ours, model, x);
    for (const format of ["official-pth", "pth"]) {
      const out = path.join(dir, format === "pth" ? "rul_state_dict.pth" : "acc_888.pth");
      const r = await runScript("cli/export.ts", [
        "--checkpoint",
        ckpt,
        "--format",
        format,
        "--out",
        out,
      ]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, new RegExp(`wrote .*${path.basename(out)} \\(${format}, 142 tensors`));
      const text = pythonCheck(out, ours, format);
      console.log(`${format}:\n${text.trim()}`);
      if (format === "official-pth") {
        assert.match(text, /model_state_dict: <All keys matched successfully>/);
        assert.match(text, /fc_state_dict: <All keys matched successfully>/);
        assert.match(r.stdout, /res18\.load_state_dict\(ckpt\['model_state_dict'\]\)/);
        assert.match(r.stdout, /stage widths 4,8,16,32 \(official 64,128,256,512\)/);
      }
      assert.match(text, /OK$/m);
      // and it reads back here as the layout it is, bit for bit
      const back = await loadModel(out, { log: null });
      assert.equal(back.layout.layout, format === "pth" ? "bare" : "official-rul");
      const a = back.model.stateDict();
      const b = model.stateDict();
      for (const [k, v] of b) assert.equal(maxAbsDiff(a.get(k)!, v), 0, k);
      tf.dispose([...a.values(), ...b.values()]);
      back.model.dispose();
    }
    tf.dispose([x, ...exp.values()]);
    model.dispose();
    fs.rmSync(dir, { recursive: true });
  },
});

Deno.test({
  name: "a full-size RUL model (224 px) exports into the unmodified official res18feature",
  ignore: !TORCH,
  fn: async () => {
    await initBackend();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rul-export-"));
    const model = createModel({ kind: "rul", seed: 4 }); // official dimensions
    const out = path.join(dir, "acc_888.pth");
    const r = await exportTorchCheckpoint(model, out, "official-pth");
    assert.deepEqual(r.notes, [], "nothing differs from the official model");
    const x = tf.randomNormal([1, 224, 224, 3], 0, 1, "float32", 3) as tf.Tensor4D;
    const ours = path.join(dir, "ours.safetensors");
    await writeOurs(ours, model, x);
    const text = pythonCheck(out, ours, "official-pth");
    console.log(text.trim());
    assert.match(text, /model_state_dict: <All keys matched successfully>/);
    tf.dispose(x);
    model.dispose();
    fs.rmSync(dir, { recursive: true });
  },
});

Deno.test({
  name: "export --format pth of a baseline loads into torchvision's resnet18 names (strict)",
  ignore: !TORCH,
  fn: async () => {
    await initBackend();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rul-export-"));
    const base = createModel({ kind: "baseline", inputSize: 64, widths: [4, 8, 16, 32], seed: 3 });
    const model = perturbed(base, 5);
    base.dispose();
    const ckpt = path.join(dir, "base.safetensors");
    await saveModelCheckpoint(ckpt, model, { epoch: 1 });
    const x = tf.randomNormal([3, 64, 64, 3], 0, 1, "float32", 9) as tf.Tensor4D;
    const ours = path.join(dir, "ours.safetensors");
    await writeOurs(ours, model, x);
    const out = path.join(dir, "baseline.pth");
    const bad = await runScript("cli/export.ts", ["--checkpoint", ckpt, "--out", out]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /official-pth holds a RUL model.*--format pth/);
    assert.ok(!fs.existsSync(out), "nothing written on error");
    const noOut = await runScript("cli/export.ts", ["--checkpoint", ckpt]);
    assert.match(noOut.stderr, /--out FILE\.pth is required/);
    const fmt = await runScript("cli/export.ts", [
      "--checkpoint",
      ckpt,
      "--out",
      out,
      "--format",
      "onnx",
    ]);
    assert.match(fmt.stderr, /--format "onnx": expected one of: official-pth \| pth/);
    const r = await runScript("cli/export.ts", [
      "--checkpoint",
      ckpt,
      "--format",
      "pth",
      "--out",
      out,
    ]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const text = pythonCheck(out, ours, "pth");
    console.log(text.trim());
    assert.match(text, /state dict: <All keys matched successfully>/);
    tf.dispose(x);
    model.dispose();
    fs.rmSync(dir, { recursive: true });
  },
});
