// The README's RAF-DB training command runs at the paper's setting (224 px, batch 64) on a CPU
// without any environment variable: the step does not fit the wasm heap (4 GiB), so with oneDNN
// present the trainer moves the native engine's tensors to the cpu store by itself
// (lib/backend.ts's fitOnednnStore) and says so in one line. The command is read from README.md
// and pointed at a small RAF-DB-layout folder written from SynthFER (lib/data/raf_writer.ts)
// and at the MS-Celeb-style fixture .pth; only `--epochs 1 --no-audit` is appended.
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
  name: "README's RAF-DB command with RUL_ONEDNN_STORE=wasm keeps the heap and refuses the step",
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
      const r = await train([...args, "--epochs", "1", "--no-audit"], dir, {
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

Deno.test({
  name: "README's RAF-DB command trains at 224 px, batch 64 on the cpu store with no env var",
  ignore: !dependency("oneDNN", why === null, why ?? ""),
  fn: async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rul-rafcpu-"));
    try {
      const raf = path.join(dir, "RAF-DB");
      const { train, test } = synthFerSplits({ train: 64, test: 8, size: 100, seed: 3 });
      await writeRafDbLayout(raf, { train, test });
      const init = path.join(dir, "resnet18_msceleb.pth");
      const fix = path.join(ROOT, "tests/fixtures/model/msceleb_pattern_legacy.pth.gz");
      fs.writeFileSync(init, gunzipSync(fs.readFileSync(fix)));
      const out = path.join(dir, "runs/rul");
      const args = readmeTrainCommand().map((a) =>
        a === "~/RAF-DB" ? raf : a === "resnet18_msceleb.pth" ? init : a === "runs/rul" ? out : a
      );
      assert.ok(args.includes(raf) && args.includes(init) && args.includes(out), args.join(" "));
      // no RUL_* variable reaches the child (the command must work as a user types it)
      const env = Object.fromEntries(
        Object.entries(Deno.env.toObject()).filter(([k]) => !k.startsWith("RUL_")),
      );
      const r = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          path.join(ROOT, "cli/train.ts"),
          ...args,
          "--epochs",
          "1",
          "--no-audit",
        ],
        cwd: dir,
        env,
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const dec = new TextDecoder();
      const text = dec.decode(r.stdout) + dec.decode(r.stderr);
      assert.equal(r.code, 0, text);
      // the one line of the automatic choice, and the backend line
      assert.match(
        text,
        /native engine: a training step of batch 64 at 224 px needs about \d+\.\d GiB, more than the wasm heap \(4\.0 GiB\): tensors on the cpu store/,
      );
      assert.match(text, /backend: wasm .*\+ oneDNN/, "the backend starts on the wasm store");
      assert.doesNotMatch(text, /install our node backend/, "no tfjs-node advice on the cpu store");
      const config = JSON.parse(fs.readFileSync(path.join(out, "config.json"), "utf8"));
      assert.equal(config.model.inputSize, 224);
      assert.equal(config.batchSize, 64);
      assert.equal(config.data.source, "rafdb");
      assert.equal(config.data.root, raf);
      const rows = fs.readFileSync(path.join(out, "metrics.jsonl"), "utf8").trim().split("\n");
      assert.equal(rows.length, 1, "one epoch logged");
      assert.ok(Number.isFinite(JSON.parse(rows[0]).train_loss), rows[0]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
});
