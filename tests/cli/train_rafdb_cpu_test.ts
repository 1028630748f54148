// The README's RAF-DB training command runs at the paper's setting (224 px, batch 64) on a CPU
// without any environment variable: with the trainer's backward pass (lib/train/grads.ts) the step
// fits the wasm heap (4 GiB), so the native engine keeps its tensors there; a step that does not
// fit (batch 96 at 224 px) makes the trainer move them to the cpu store by itself
// (lib/backend.ts's fitOnednnStore), saying so in one line, and with RUL_ONEDNN_STORE=wasm pinned
// such a step is refused. The command is read from README.md and pointed at a small
// RAF-DB-layout folder written from SynthFER (lib/data/raf_writer.ts) and at the MS-Celeb-style
// fixture .pth; only `--epochs 1 --no-audit` (and a batch size) is appended.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import { synthFerSplits, writeRafDbLayout } from "../../lib/data/mod.ts";
import { loadDnnl } from "../../lib/engine/onednn_ffi.ts";
import { dependency } from "../_deps.ts";
import { ROOT } from "./_run.ts";

function dnnlWhy(): string | null {
  try {
    loadDnnl(1);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}
const why = dnnlWhy();

/** The `deno task train ... --data rafdb` line of README.md's "Training on your data" block. */
function readmeTrainCommand(): string[] {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const line = readme.split("\n").find((l) =>
    l.startsWith("deno task train ") && l.includes("--data rafdb")
  );
  assert.ok(line, "README.md has no `deno task train ... --data rafdb` line");
  return line.split(/\s+/).slice(3); // the arguments after `deno task train`
}

/** Runs cli/train.ts with `args` and the environment minus RUL_* plus `extra`. */
async function train(args: string[], cwd: string, extra: Record<string, string> = {}) {
  // no RUL_* variable reaches the child unless given (the command must work as a user types it)
  const env = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([k]) => !k.startsWith("RUL_")),
  );
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", path.join(ROOT, "cli/train.ts"), ...args],
    cwd,
    env: { ...env, ...extra },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, text: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

Deno.test({
  name:
    "README's RAF-DB command at batch 96, RUL_ONEDNN_STORE=wasm: keeps the heap, refuses the step",
  ignore: !dependency("oneDNN", why === null, why ?? ""),
  fn: async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rul-rafwasm-"));
    try {
      const raf = path.join(dir, "RAF-DB");
      const { train: tr, test } = synthFerSplits({ train: 8, test: 8, size: 100, seed: 3 });
      await writeRafDbLayout(raf, { train: tr, test });
      const args = readmeTrainCommand().map((a) =>
        a === "~/RAF-DB" ? raf : a === "runs/rul" ? path.join(dir, "out") : a
      ).filter((a, i, all) => a !== "--init" && all[i - 1] !== "--init");
      const r = await train([...args, "--epochs", "1", "--no-audit", "--batch-size", "96"], dir, {
        RUL_ONEDNN_STORE: "wasm",
      });
      assert.equal(r.code, 2, r.text);
      assert.match(r.text, /needs about \d+\.\d GiB on the wasm backend, more than the wasm heap/);
      assert.doesNotMatch(r.text, /tensors on the cpu store/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
});

/** Sets up a RAF-DB-layout folder of `n` training images and the fixture .pth in a temp dir. */
async function rafFolder(prefix: string, n: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const raf = path.join(dir, "RAF-DB");
  const { train, test } = synthFerSplits({ train: n, test: 8, size: 100, seed: 3 });
  await writeRafDbLayout(raf, { train, test });
  const init = path.join(dir, "resnet18_msceleb.pth");
  const fix = path.join(ROOT, "tests/fixtures/model/msceleb_pattern_legacy.pth.gz");
  fs.writeFileSync(init, gunzipSync(fs.readFileSync(fix)));
  const out = path.join(dir, "runs/rul");
  const args = readmeTrainCommand().map((a) =>
    a === "~/RAF-DB" ? raf : a === "resnet18_msceleb.pth" ? init : a === "runs/rul" ? out : a
  );
  assert.ok(args.includes(raf) && args.includes(init) && args.includes(out), args.join(" "));
  return { dir, raf, out, args };
}

/** The run folder's config and its one epoch's metrics row. */
function oneEpoch(out: string, raf: string, batch: number) {
  const config = JSON.parse(fs.readFileSync(path.join(out, "config.json"), "utf8"));
  assert.equal(config.model.inputSize, 224);
  assert.equal(config.batchSize, batch);
  assert.equal(config.data.source, "rafdb");
  assert.equal(config.data.root, raf);
  const rows = fs.readFileSync(path.join(out, "metrics.jsonl"), "utf8").trim().split("\n");
  assert.equal(rows.length, 1, "one epoch logged");
  assert.ok(Number.isFinite(JSON.parse(rows[0]).train_loss), rows[0]);
}

Deno.test({
  name: "README's RAF-DB command trains at 224 px, batch 64 with no env var, on the wasm store",
  ignore: !dependency("oneDNN", why === null, why ?? ""),
  fn: async () => {
    const { dir, raf, out, args } = await rafFolder("rul-rafwasm64-", 64);
    try {
      const r = await train([...args, "--epochs", "1", "--no-audit"], dir);
      assert.equal(r.code, 0, r.text);
      assert.match(r.text, /backend: wasm .*\+ oneDNN .*tensors on wasm/, "the wasm store");
      assert.doesNotMatch(r.text, /tensors on the cpu store/, "the step fits the wasm heap");
      assert.doesNotMatch(r.text, /install our node backend/);
      oneEpoch(out, raf, 64);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
});

Deno.test({
  name:
    "README's RAF-DB command at batch 96 (beyond the wasm heap) moves to the cpu store by itself",
  ignore: !dependency("oneDNN", why === null, why ?? ""),
  fn: async () => {
    const { dir, raf, out, args } = await rafFolder("rul-rafcpu-", 96);
    try {
      const r = await train([...args, "--epochs", "1", "--no-audit", "--batch-size", "96"], dir);
      assert.equal(r.code, 0, r.text);
      // the one line of the automatic choice, and the backend line
      assert.match(
        r.text,
        /native engine: a training step of batch 96 at 224 px needs about \d+\.\d GiB, more than the wasm heap \(4\.0 GiB\): tensors on the cpu store/,
      );
      assert.match(r.text, /backend: wasm .*\+ oneDNN/, "the backend starts on the wasm store");
      assert.doesNotMatch(
        r.text,
        /install our node backend/,
        "no tfjs-node advice on the cpu store",
      );
      oneEpoch(out, raf, 96);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
});
