// The demo's committed pretrained backbone (tools/pretrain_synthfer.ts → data/fixtures/…):
// it loads into both demo models (every backbone tensor present, right shapes, values as in the
// file), holds no classifier, and its metadata says how it was made (script, seeds, sizes).
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { initBackend } from "../../lib/backend.ts";
import { readSafetensors, writeSafetensors } from "../../lib/io/safetensors.ts";
import { createModel } from "../../lib/model/create.ts";
import {
  DATA_SEED,
  DEMO_CONFIG,
  loadWeights,
  QUICK_INIT as DEMO_INIT,
  resolveTrainConfig,
} from "../../lib/train/mod.ts";
import { checkInitFits, TINY_CONFIG } from "../../cli/demo.ts";
import {
  PRETRAIN_DATA_SEED,
  PRETRAIN_SCRIPT,
  PRETRAIN_SETTING,
} from "../../tools/pretrain_synthfer.ts";

Deno.test("the committed pretrained backbone's metadata names the script, seeds and sizes", async () => {
  await initBackend();
  assert.ok(fs.existsSync(DEMO_INIT), `${DEMO_INIT} is missing (run deno task pretrain)`);
  const { tensors, metadata } = await readSafetensors(DEMO_INIT);
  try {
    assert.equal(metadata.script, PRETRAIN_SCRIPT);
    assert.ok(fs.existsSync(new URL(`../../${metadata.script}`, import.meta.url)));
    assert.equal(metadata.data_seed, String(PRETRAIN_DATA_SEED));
    assert.notEqual(metadata.data_seed, String(DATA_SEED), "pretraining data ≠ demo data");
    assert.equal(metadata.train_seed, String(PRETRAIN_SETTING.seed));
    assert.equal(metadata.train_images, String(PRETRAIN_SETTING.trainSize));
    assert.equal(metadata.heldout_images, String(PRETRAIN_SETTING.testSize));
    assert.equal(metadata.epochs, String(PRETRAIN_SETTING.epochs));
    assert.equal(metadata.widths, DEMO_CONFIG.model!.widths!.join(","));
    assert.equal(metadata.input_size, String(DEMO_CONFIG.model!.inputSize));
    const acc = Number(metadata.heldout_clean_test_acc_last);
    assert.ok(acc > 1 / 7 && acc <= 1, `held-out accuracy ${metadata.heldout_clean_test_acc_last}`);
    assert.ok(![...tensors.keys()].some((k) => k.startsWith("fc.")), "no classifier in the file");
  } finally {
    tf.dispose([...tensors.values()]);
  }
});

Deno.test("the committed pretrained backbone loads completely into both demo models", async () => {
  await initBackend();
  const before = tf.memory().numTensors;
  const config = resolveTrainConfig(DEMO_CONFIG, "demo");
  const { tensors } = await readSafetensors(DEMO_INIT);
  try {
    for (const kind of ["baseline", "rul"] as const) {
      const model = createModel({ ...config.model, kind, numClasses: 7 });
      try {
        const r = await loadWeights(model, DEMO_INIT, { log: null });
        assert.equal(r.source, "backbone");
        assert.deepEqual(r.missing, [], `${kind}: missing backbone keys`);
        assert.deepEqual(r.mismatched, [], `${kind}: shape mismatches`);
        assert.deepEqual(r.unexpected, [], `${kind}: unexpected keys`);
        assert.deepEqual(r.defaulted, []);
        assert.equal(r.loaded.length, tensors.size, `${kind}: every file tensor is loaded`);
        // values arrive unchanged (PyTorch layout in, PyTorch layout out)
        const sd = model.stateDict();
        try {
          const name = (k: string) =>
            kind === "baseline" ? k : k.replace(/^conv1\./, "features.0.").replace(
              /^layer4\./,
              "features.7.",
            );
          for (const k of ["conv1.weight", "layer4.1.bn2.running_var"]) {
            const got = sd.get(name(k));
            assert.ok(got, `${kind}: ${name(k)}`);
            assert.deepEqual(got.shape, tensors.get(k)!.shape);
            assert.deepEqual(got.dataSync(), tensors.get(k)!.dataSync(), `${kind}: ${k}`);
          }
        } finally {
          tf.dispose([...sd.values()]);
        }
      } finally {
        model.dispose();
      }
    }
    assert.equal(await checkInitFits(config, DEMO_INIT), tensors.size);
  } finally {
    tf.dispose([...tensors.values()]);
  }
  assert.equal(tf.memory().numTensors, before, "no tensor leak");
});

Deno.test("checkInitFits refuses a backbone of another size, naming the file", async () => {
  await initBackend();
  const quick = resolveTrainConfig(TINY_CONFIG, "quick");
  await assert.rejects(
    () => checkInitFits(quick, DEMO_INIT),
    (e: Error) => e.message.includes(DEMO_INIT) && /expected \[/.test(e.message),
  );
  // a whole-model file (with its classifier) is not a backbone initialisation
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rul-init-"));
  const file = path.join(dir, "whole.safetensors");
  const m = createModel({ kind: "baseline", inputSize: 32, widths: [4, 8, 8, 16], numClasses: 7 });
  const sd = m.stateDict();
  await writeSafetensors(file, sd);
  tf.dispose([...sd.values()]);
  m.dispose();
  await assert.rejects(() => checkInitFits(quick, file), /read as a whole model/);
  fs.rmSync(dir, { recursive: true });
});
