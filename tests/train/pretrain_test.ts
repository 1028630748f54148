// lib/train/pretrain.ts: the written backbone is the trained baseline's state dict minus `fc`,
// bit for bit (reference: the same configuration trained by the Trainer directly), with metadata;
// lib/data/dataset.ts identicalImageCount on a hand-made case.
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import * as path from "node:path";
import { initBackend } from "../../lib/backend.ts";
import { identicalImageCount, type ImageDataset } from "../../lib/data/dataset.ts";
import { synthFerSplits } from "../../lib/data/synthfer.ts";
import { readSafetensors } from "../../lib/io/safetensors.ts";
import { pretrainBackbone } from "../../lib/train/pretrain.ts";
import { Trainer } from "../../lib/train/mod.ts";

Deno.test("pretrainBackbone writes the trained baseline's backbone (fc removed) bit for bit", async () => {
  await initBackend();
  const data = synthFerSplits({ train: 32, test: 16, size: 32, seed: 2 });
  const model = { inputSize: 32, widths: [4, 4, 8, 8] as [number, number, number, number] };
  const dir = await Deno.makeTempDir();
  const before = tf.memory().numTensors;
  try {
    const out = path.join(dir, "backbone.safetensors");
    const r = await pretrainBackbone({
      data,
      model,
      dataConfig: { source: "synthfer", trainSize: 32, testSize: 16 },
      epochs: 2,
      seed: 4,
      batchSize: 8,
      out,
      runDir: null,
      progress: "silent",
      log: null,
      metadata: { script: "test", data: "synthfer seed 2" },
    });
    assert.equal(tf.memory().numTensors, before, "no tensors leak");
    const ref = await Trainer.create({
      config: {
        variant: "baseline",
        epochs: 2,
        batchSize: 8,
        seed: 4,
        model,
        data: { source: "synthfer", noise: 0, augment: true },
      },
      out: null,
      data,
      log: null,
      progress: "silent",
    });
    try {
      const rr = await ref.run();
      assert.equal(r.lastTestAcc, rr.lastTestAcc);
      const { tensors, metadata } = await readSafetensors(out);
      const sd = ref.model.stateDict();
      const expected = [...sd.keys()].filter((k) => !k.startsWith("fc."));
      assert.deepEqual([...tensors.keys()].sort(), expected.sort());
      assert.ok(expected.length > 0 && [...sd.keys()].some((k) => k.startsWith("fc.")));
      assert.equal(r.tensors, expected.length);
      for (const k of expected) {
        assert.deepEqual(
          Array.from(tensors.get(k)!.dataSync()),
          Array.from(sd.get(k)!.dataSync()),
          k,
        );
      }
      assert.equal(metadata.script, "test");
      assert.equal(metadata.data, "synthfer seed 2");
      assert.equal(metadata.widths, "4,4,8,8");
      assert.equal(metadata.epochs, "2");
      assert.equal(metadata.train_images, "32");
      assert.equal(metadata.heldout_clean_test_acc_last, rr.lastTestAcc.toFixed(4));
      tf.dispose([...tensors.values(), ...sd.values()]);
    } finally {
      ref.dispose();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("identicalImageCount: counts exact pixel matches only", () => {
  const ds = (px: number[][]): ImageDataset => ({
    pixels: new Uint8Array(px.flat()),
    n: px.length,
    height: 1,
    width: 2,
    channels: 1,
    labels: new Int32Array(px.length),
    classNames: ["a"],
    fileNames: px.map((_, i) => `${i}`),
    source: "hand",
  });
  const a = ds([[0, 255], [1, 2], [128, 129], [7, 7]]);
  const b = ds([[0, 255], [2, 1]]);
  const c = ds([[128, 129], [7, 8]]);
  assert.equal(identicalImageCount(a, [b]), 1); // (1,2) ≠ (2,1)
  assert.equal(identicalImageCount(a, [b, c]), 2); // (7,7) ≠ (7,8)
  assert.equal(identicalImageCount(a, []), 0);
  assert.equal(identicalImageCount(a, [a]), 4);
});
