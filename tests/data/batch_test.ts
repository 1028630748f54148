import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend.ts";
import { assert, assertEquals } from "../_assert.ts";
import {
  BatchLoader,
  generateSynthFer,
  sampleSeed,
  testTransform,
  trainTransform,
} from "../../lib/data/mod.ts";
import { Rng } from "../../lib/random.ts";

await initBackend();
const ds = generateSynthFer({ n: 37, size: 20, seed: 2, noise: 0.2 });

async function collect(loader: BatchLoader, epoch: number) {
  const xs: Float32Array[] = [], idx: number[] = [], ys: number[] = [], yc: number[] = [];
  for await (const b of loader.epoch(epoch)) {
    xs.push(b.x.dataSync() as Float32Array);
    idx.push(...b.index);
    ys.push(...(b.y.dataSync() as Int32Array));
    yc.push(...b.yClean!);
    assertEquals(b.x.dtype, "float32");
    assertEquals(b.y.dtype, "int32");
    tf.dispose([b.x, b.y]);
  }
  return { xs, idx, ys, yc };
}

Deno.test("BatchLoader: shapes, labels, full coverage, per-epoch shuffle, no tensor leak", async () => {
  const loader = new BatchLoader(ds, {
    batchSize: 8,
    size: 16,
    augment: true,
    seed: 1,
    workers: 0,
  });
  try {
    assertEquals(loader.numBatches, 5);
    const before = tf.memory().numTensors;
    for (let e = 0; e < 3; e++) {
      const shapes: number[][] = [];
      for await (const b of loader.epoch(e)) {
        shapes.push(b.x.shape);
        tf.dispose([b.x, b.y]);
      }
      assertEquals(shapes.map((s) => s[0]), [8, 8, 8, 8, 5]);
      assertEquals(shapes[0], [8, 16, 16, 3]);
      assertEquals(tf.memory().numTensors, before);
    }
    const e0 = await collect(loader, 0), e1 = await collect(loader, 1);
    assertEquals([...e0.idx].sort((a, b) => a - b), Array.from({ length: 37 }, (_, i) => i));
    assert(e0.idx.some((v, i) => v !== e1.idx[i]), "epochs are shuffled differently");
    assertEquals(e0.ys, e0.idx.map((i) => ds.labels[i]));
    assertEquals(e0.yc, e0.idx.map((i) => ds.cleanLabels![i]));
    assertEquals(tf.memory().numTensors, before);
  } finally {
    loader.close();
  }
});

Deno.test("BatchLoader: a worker gives exactly the inline results (seeded by epoch/position)", async () => {
  const inline = new BatchLoader(ds, {
    batchSize: 6,
    size: 24,
    augment: true,
    seed: 7,
    workers: 0,
  });
  const worker = new BatchLoader(ds, {
    batchSize: 6,
    size: 24,
    augment: true,
    seed: 7,
    workers: 2,
    prefetch: 3,
  });
  try {
    // Real workers even after initBackend() (the wasm thread pool start-up must restore Worker).
    assertEquals(worker.workerCount, 2);
    const a = await collect(inline, 4), b = await collect(worker, 4);
    assertEquals(b.idx, a.idx);
    assertEquals(b.xs, a.xs);
    // And equal to the transform applied by hand with the documented seed.
    const one = new Float32Array(24 * 24 * 3);
    const i0 = a.idx[0];
    trainTransform(
      ds.pixels.subarray(i0 * 1200, (i0 + 1) * 1200),
      20,
      20,
      3,
      { size: 24 },
      new Rng(sampleSeed(7, 4, 0)),
      one,
    );
    assertEquals(a.xs[0].subarray(0, one.length), one);
  } finally {
    inline.close();
    worker.close();
  }
});

Deno.test("BatchLoader: test mode is unshuffled and equals the test transform; early break is safe", async () => {
  const loader = new BatchLoader(ds, { batchSize: 10, size: 20, augment: false, workers: 1 });
  try {
    const before = tf.memory().numTensors;
    const r = await collect(loader, 0);
    assertEquals(r.idx, Array.from({ length: 37 }, (_, i) => i));
    const ref = new Float32Array(20 * 20 * 3);
    testTransform(ds.pixels.subarray(3 * 1200, 4 * 1200), 20, 20, 3, { size: 20 }, ref);
    assertEquals(r.xs[0].subarray(3 * 1200, 4 * 1200), ref);
    for await (const b of loader.epoch(1)) {
      tf.dispose([b.x, b.y]);
      break;
    }
    assertEquals(tf.memory().numTensors, before);
    // The loader still works after an abandoned epoch.
    assertEquals((await collect(loader, 2)).idx.length, 37);
  } finally {
    loader.close();
  }
});

Deno.test("BatchLoader: grey images are replicated to 3 channels (values by hand)", async () => {
  const grey = { ...ds, channels: 1, pixels: ds.pixels.subarray(0, 37 * 400) };
  // ImageNet mean/std written here (torchvision's Normalize constants), not read from lib/
  const mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225];
  for (const workers of [0, 1]) {
    const loader = new BatchLoader(grey, { batchSize: 16, size: 20, augment: false, workers });
    let seen = 0;
    try {
      for await (const b of loader.epoch(0)) {
        assertEquals(b.x.shape, [b.index.length, 20, 20, 3]);
        const x = b.x.dataSync();
        b.index.forEach((img, i) => {
          // same size: the test transform is only scale + normalise, channel c of pixel p is
          // (g/255 − mean_c)/std_c of the grey value g at p
          for (let p = 0; p < 400; p++) {
            const g = grey.pixels[img * 400 + p];
            for (let c = 0; c < 3; c++) {
              const want = (g / 255 - mean[c]) / std[c];
              const got = x[(i * 400 + p) * 3 + c];
              if (Math.abs(got - want) > 1e-5) {
                throw new Error(`image ${img} pixel ${p} channel ${c}: ${got}, expected ${want}`);
              }
            }
          }
        });
        seen += b.index.length;
        tf.dispose([b.x, b.y]);
      }
    } finally {
      loader.close();
    }
    assertEquals(seen, 37);
  }
});
