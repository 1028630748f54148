// Memory pre-check (issue 12, finding 4): a step too large for the backend is refused before it
// runs, with the limit and the largest batch that fits; an out-of-memory failure during a run is
// translated into the same advice.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { initBackend } from "../../lib/backend.ts";
import { synthFerSplits } from "../../lib/data/synthfer.ts";
import {
  checkStepMemory,
  estimateStepBytes,
  featureElements,
  isOutOfMemory,
  largestBatch,
  parameterCount,
  WASM_HEAP_LIMIT,
} from "../../lib/train/memory.ts";
import { Trainer } from "../../lib/train/mod.ts";
import { ROOT } from "../cli/_run.ts";

const FULL = [64, 128, 256, 512] as const;

Deno.test("finding 4: --input-size 224 --batch-size 256 on wasm is refused with the 4 GiB limit and the largest batch", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rul-mem-"));
  const out = path.join(dir, "run");
  const r = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      path.join(ROOT, "cli/train.ts"),
      "--input-size=224",
      "--batch-size=256",
      "--train-size=256",
      "--test-size=8",
      "--epochs=1",
      "--backend=wasm",
      "--threads=1",
      "--progress=silent",
      "--out",
      out,
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    // on code without the pre-check this setting crashes or hangs: do not wait forever
    signal: AbortSignal.timeout(600_000),
  }).output();
  const stderr = new TextDecoder().decode(r.stderr);
  assert.equal(r.code, 2, stderr);
  assert.match(stderr, /batch 256 at 224 px .* more than the wasm heap limit \(4\.0 GiB\)/);
  assert.match(stderr, /largest batch that fits is about (\d+) \(--batch-size \1\)/);
  assert.ok(!fs.existsSync(path.join(out, "config.json")), "nothing written for a refused run");
  fs.rmSync(dir, { recursive: true });
});

Deno.test("memory estimate: hand-computed feature count; 224 px fits batch 64 and not 128 on wasm (docs/engine.md)", () => {
  // 32 px, widths 4,4,8,8: input 3·32² + stem 16²·4 + pool/stage 1 5·8²·4 + 4·4²·4 + 4·2²·8 + 4·1²·8
  assert.equal(featureElements(32, [4, 4, 8, 8]), 3072 + 1024 + 1280 + 256 + 128 + 32);
  // torchvision resnet18 without fc: 11,176,512 parameters; ours adds the classifier (512·7)
  assert.equal(
    parameterCount({ inputSize: 224, widths: FULL, featureDim: 0, numClasses: 7 }),
    11176512 + 512 * 7,
  );
  const s = { inputSize: 224, widths: FULL, featureDim: 64, numClasses: 7 };
  // measured (docs/measurements/step_memory_onednn_2026-12-06.json): batch 64 2.0 GB of heap,
  // batch 128 3.9 GB, too close to the 4 GiB ceiling
  assert.ok(estimateStepBytes({ ...s, batch: 64 }) < WASM_HEAP_LIMIT);
  assert.ok(estimateStepBytes({ ...s, batch: 128 }) > WASM_HEAP_LIMIT);
  const fit = largestBatch(s, WASM_HEAP_LIMIT);
  assert.ok(fit >= 64 && fit < 128, String(fit));
  assert.ok(estimateStepBytes({ ...s, batch: fit }) <= WASM_HEAP_LIMIT);
  assert.ok(estimateStepBytes({ ...s, batch: fit + 1 }) > WASM_HEAP_LIMIT);
  checkStepMemory({ ...s, batch: 128 }, "webgpu"); // GPU memory is not known: not checked
  checkStepMemory({ ...s, batch: 64 }, "wasm");
  assert.throws(() => checkStepMemory({ ...s, batch: 128 }, "wasm"), /--batch-size \d+/);
  assert.throws(() => checkStepMemory({ ...s, batch: 128 }, "wasm"), /RUL_ONEDNN_STORE=cpu/);
});

Deno.test("an out-of-memory failure during a step is translated into what to change", async () => {
  await initBackend();
  assert.ok(isOutOfMemory(new WebAssembly.RuntimeError("memory access out of bounds")));
  assert.ok(isOutOfMemory(new RangeError("Array buffer allocation failed")));
  assert.ok(!isOutOfMemory(new Error("loss is NaN")));
  const t = await Trainer.create({
    config: {
      epochs: 1,
      batchSize: 8,
      model: { inputSize: 32, widths: [4, 4, 8, 8], featureDim: 8 },
    },
    data: synthFerSplits({ train: 16, test: 8, size: 32, seed: 1 }),
    log: null,
    progress: "silent",
    hooks: {
      onStep: () => {
        throw new WebAssembly.RuntimeError("memory access out of bounds");
      },
    },
  });
  await assert.rejects(
    t.run(),
    /epoch 1 step 1: out of memory \(memory access out of bounds\): a training step of batch 8 at 32 px .*try --batch-size 4/,
  );
  t.dispose();
});
