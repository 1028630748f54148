/**
 * Writes SynthFER train/test splits as prepared-dataset caches (for tools/data_synthfer_check.py).
 * Usage: deno run -A tools/data_synthfer_export.ts OUT_DIR [train=6000] [test=1500] [size=64] [seed=0] [noise=0]
 *
 * @module
 */
import { join } from "node:path";
import { saveDatasetCache, synthFerSplits } from "../lib/data/mod.ts";

const [out = "runs/synthfer", tr = "6000", te = "1500", size = "64", seed = "0", noise = "0"] =
  Deno.args;
const t0 = performance.now();
const { train, test } = synthFerSplits({
  train: Number(tr),
  test: Number(te),
  size: Number(size),
  seed: Number(seed),
  noise: Number(noise),
});
await saveDatasetCache(train, join(out, "train"), "synthfer-export");
await saveDatasetCache(test, join(out, "test"), "synthfer-export");
console.log(
  `wrote ${out}/{train,test}.{u8,json} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);
