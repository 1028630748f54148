// Multi-batch evaluation against PyTorch: the fixture RUL model (tests/fixtures/model/
// rul_small.pth) over 10 images in batches of 4 (4 + 4 + a partial 2) gives, sample by sample,
// PyTorch's eval-mode logits, μ and u, its predictions, accuracy and mean cross-entropy
// (tests/fixtures/model/eval_batches.safetensors, from tools/make_eval_fixture.py, which knows
// nothing of batches). Guards the batch-offset bookkeeping of lib/train/evaluate.ts.
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { initBackend } from "../../lib/backend.ts";
import { readSafetensors, readWeightsFile } from "../../lib/io/mod.ts";
import { createModel } from "../../lib/model/mod.ts";
import { evaluateModel } from "../../lib/train/mod.ts";
import type { ImageDataset } from "../../lib/data/dataset.ts";
import { FIXTURES, relErr } from "../model/compare.ts";

const CLASSES = ["c0", "c1", "c2", "c3", "c4", "c5", "c6"];

Deno.test("evaluateModel in batches of 4 (last one partial) gives PyTorch's logits, u and accuracy", async () => {
  await initBackend();
  const sd = (await readWeightsFile(FIXTURES + "rul_small.pth", "state_dict")).tensors;
  const { tensors: exp } = await readSafetensors(FIXTURES + "eval_batches.safetensors");
  const model = createModel({
    kind: "rul",
    inputSize: 64,
    numClasses: 7,
    featureDim: 16,
    dropout: 0,
    widths: [8, 16, 32, 64],
  });
  model.loadStateDict(sd, { strict: true, log: null });
  const pixels = exp.get("pixels")!;
  const n = pixels.shape[0];
  const labels = Int32Array.from(exp.get("labels")!.dataSync());
  const ds: ImageDataset = {
    pixels: Uint8Array.from(pixels.dataSync()),
    n,
    height: 64,
    width: 64,
    channels: 3,
    labels,
    classNames: CLASSES,
    fileNames: Array.from({ length: n }, (_, i) => `img${i}.png`),
    source: "eval_batches.safetensors",
  };
  for (const workers of [0, 1]) {
    const r = await evaluateModel(model, ds, { batchSize: 4, workers });
    const t = (a: Float32Array, shape: number[]) => tf.tensor(a, shape);
    const errs = {
      logits: relErr(t(r.logits, [n, 7]), exp.get("logits")!),
      mu: relErr(t(r.features, [n, 16]), exp.get("mu")!),
      u: relErr(t(r.u!, [n]), exp.get("u")!),
    };
    console.log(`workers ${workers}: relative errors vs PyTorch ${JSON.stringify(errs)}`);
    for (const [k, e] of Object.entries(errs)) assert.ok(e <= 1e-5, `${k}: ${e}`);
    assert.deepEqual([...r.predictions], [...exp.get("predictions")!.dataSync()]);
    const acc = exp.get("accuracy")!.dataSync()[0]; // 0.7 in float32
    assert.ok(Math.abs(r.accuracy - acc) < 1e-6, `accuracy ${r.accuracy} vs PyTorch ${acc}`);
    assert.ok(Math.abs(r.loss - exp.get("loss")!.dataSync()[0]) < 1e-4, `loss ${r.loss}`);
    assert.equal(r.confusion.flat().reduce((a, b) => a + b, 0), n);
  }
  model.dispose();
  tf.dispose([...sd.values(), ...exp.values()]);
});
