/**
 * Input-pipeline benchmark: images/s of decode + official train augmentation + batching at
 * 224 px (batch 64), (a) from JPEG files in the RAF-DB layout (SynthFER written out at 100 px, as
 * RAF-DB's aligned images), (b) from the prepared-dataset cache; inline and with batch workers.
 * Also SynthFER generation speed. Prints a table; the LAST line is one JSON object.
 *
 * Usage: deno run -A bench/input_pipeline.ts [--n 512] [--size 224] [--batch 64]
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { join } from "node:path";
import { initBackend } from "../lib/backend.ts";
import {
  BatchLoader,
  codecInfo,
  generateSynthFer,
  type ImageDataset,
  loadDatasetCache,
  loadRafDb,
  saveDatasetCache,
  synthFerSplits,
  writeRafDbLayout,
} from "../lib/data/mod.ts";

function arg(name: string, def: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : def;
}
const N = arg("n", 512), SIZE = arg("size", 224), BATCH = arg("batch", 64);

const backend = await initBackend();
const codec = await codecInfo();

/** Seconds per image; `busyMs` simulates a synchronous training step per batch (overlap test). */
async function iterate(ds: ImageDataset, workers: number, busyMs = 0): Promise<number> {
  const loader = new BatchLoader(ds, {
    batchSize: BATCH,
    size: SIZE,
    augment: true,
    workers,
    seed: 1,
  });
  try {
    const t0 = performance.now();
    let n = 0;
    for await (const b of loader.epoch(0)) {
      n += b.x.shape[0];
      tf.dispose([b.x, b.y]);
      const end = performance.now() + busyMs;
      while (performance.now() < end) { /* simulated training step */ }
    }
    return (performance.now() - t0) / 1000 / n;
  } finally {
    loader.close();
  }
}

const rows: [string, number][] = [];
const root = await Deno.makeTempDir({ prefix: "bench_input_" });
try {
  let t0 = performance.now();
  generateSynthFer({ n: 1000, size: 64, seed: 1 });
  const gen64 = 1000 / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  const { train, test } = synthFerSplits({ train: N, test: 8, size: 100, seed: 1 });
  const gen100 = (N + 8) / ((performance.now() - t0) / 1000);
  rows.push(["SynthFER generate 64 px", gen64], ["SynthFER generate 100 px", gen100]);

  await writeRafDbLayout(root, { train, test });
  t0 = performance.now();
  const decoded = await loadRafDb(root, { split: "train", size: 100 });
  const decodeS = (performance.now() - t0) / 1000 / N;
  rows.push([`decode JPEG 100 px (${codec.name})`, 1 / decodeS]);

  const aug0 = await iterate(decoded, 0);
  const aug1 = await iterate(decoded, 1);
  const aug2 = await iterate(decoded, 2);
  rows.push([`augment+batch ${SIZE} px, inline`, 1 / aug0]);
  rows.push([`augment+batch ${SIZE} px, 1 worker`, 1 / aug1]);
  rows.push([`augment+batch ${SIZE} px, 2 workers`, 1 / aug2]);
  rows.push([`JPEG files: decode+augment+batch, inline`, 1 / (decodeS + aug0)]);
  rows.push([`JPEG files: decode+augment+batch, 1 worker`, 1 / (decodeS + aug1)]);

  // Overlap: a consumer that "trains" 100 ms per batch. Inline, preparation adds to it; with a
  // worker, the next batch is prepared meanwhile.
  const busy = 100;
  const ov0 = await iterate(decoded, 0, busy), ov1 = await iterate(decoded, 1, busy);
  rows.push([`with a ${busy} ms/batch consumer, inline`, 1 / ov0]);
  rows.push([`with a ${busy} ms/batch consumer, 1 worker`, 1 / ov1]);
  rows.push([`(consumer alone)`, (BATCH * 1000) / busy]);

  const base = join(root, "cache", "train100");
  t0 = performance.now();
  await saveDatasetCache(decoded, base, "bench");
  const saveS = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const cached = await loadDatasetCache(base);
  const loadS = (performance.now() - t0) / 1000;
  rows.push(["cache load (images/s)", N / loadS]);
  const c0 = loadS / N + (await iterate(cached, 0));
  const c1 = loadS / N + (await iterate(cached, 1));
  rows.push([`cache: load+augment+batch, inline`, 1 / c0]);
  rows.push([`cache: load+augment+batch, 1 worker`, 1 / c1]);

  console.log(
    `backend ${backend.name}, codec ${codec.name} ${codec.version}, n=${N}, size ${SIZE}, batch ${BATCH}`,
  );
  console.log(`${"stage".padEnd(48)} images/s`);
  for (const [k, v] of rows) console.log(`${k.padEnd(48)} ${v.toFixed(0).padStart(8)}`);
  console.log(`cache save ${saveS.toFixed(3)} s, load ${loadS.toFixed(3)} s for ${N} images`);
  console.log(JSON.stringify({
    bench: "input_pipeline",
    backend: backend.name,
    codec: codec.name,
    n: N,
    size: SIZE,
    batch: BATCH,
    synthfer64_img_s: Math.round(gen64),
    synthfer100_img_s: Math.round(gen100),
    decode_jpeg100_img_s: Math.round(1 / decodeS),
    augment_inline_img_s: Math.round(1 / aug0),
    augment_1worker_img_s: Math.round(1 / aug1),
    augment_2workers_img_s: Math.round(1 / aug2),
    jpeg_pipeline_inline_img_s: Math.round(1 / (decodeS + aug0)),
    jpeg_pipeline_1worker_img_s: Math.round(1 / (decodeS + aug1)),
    overlap_consumer_ms_per_batch: busy,
    overlap_inline_img_s: Math.round(1 / ov0),
    overlap_1worker_img_s: Math.round(1 / ov1),
    cache_load_img_s: Math.round(N / loadS),
    cache_pipeline_inline_img_s: Math.round(1 / c0),
    cache_pipeline_1worker_img_s: Math.round(1 / c1),
  }));
} finally {
  await Deno.remove(root, { recursive: true });
}
