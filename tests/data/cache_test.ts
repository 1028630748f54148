import { join } from "node:path";
import { assert, assertEquals, assertRejectsWith } from "../_assert.ts";
import {
  cachedDataset,
  cachePaths,
  generateSynthFer,
  loadDatasetCache,
  readCacheManifest,
  saveDatasetCache,
} from "../../lib/data/mod.ts";

Deno.test("cache: round trip keeps pixels, labels, clean labels, names, extras", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cache_" });
  try {
    const ds = generateSynthFer({ n: 30, size: 24, seed: 11, noise: 0.3 });
    const base = join(dir, "sub", "synth24");
    await saveDatasetCache(ds, base, "k1");
    const back = await loadDatasetCache(base, { verify: true });
    assertEquals(back.pixels, ds.pixels);
    assertEquals(back.labels, ds.labels);
    assertEquals(back.cleanLabels, ds.cleanLabels);
    assertEquals(back.fileNames, ds.fileNames);
    assertEquals(back.classNames, ds.classNames);
    assertEquals(back.extra, ds.extra);
    assertEquals([back.n, back.height, back.width, back.channels], [30, 24, 24, 3]);
    assert(back.pixels.buffer instanceof SharedArrayBuffer, "loaded into shared memory");
    // No temp files are left behind by the atomic writes.
    const left = [...Deno.readDirSync(join(dir, "sub"))].map((e) => e.name).sort();
    assertEquals(left, ["synth24.json", "synth24.u8"]);
    assertEquals((await readCacheManifest(base))!.key, "k1");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cache: cachedDataset builds once, then loads; rebuilds when the key changes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cache_" });
  try {
    const base = join(dir, "c");
    let builds = 0;
    const build = () => {
      builds++;
      return Promise.resolve(generateSynthFer({ n: 5, size: 8, seed: builds }));
    };
    const a = await cachedDataset(base, "v1", build);
    const b = await cachedDataset(base, "v1", build);
    assertEquals(builds, 1);
    assertEquals(b.pixels, a.pixels);
    await cachedDataset(base, "v2", build);
    assertEquals(builds, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cache: damaged caches give errors naming the file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cache_" });
  try {
    const base = join(dir, "d");
    await assertRejectsWith(() => loadDatasetCache(base), cachePaths(base).manifest, "not found");
    await saveDatasetCache(generateSynthFer({ n: 4, size: 8 }), base);
    const p = cachePaths(base);
    const px = await Deno.readFile(p.pixels);
    await Deno.writeFile(p.pixels, px.subarray(0, 10));
    await assertRejectsWith(() => loadDatasetCache(base), p.pixels, "has 10 bytes");
    px[3] ^= 0xff;
    await Deno.writeFile(p.pixels, px);
    await assertRejectsWith(() => loadDatasetCache(base, { verify: true }), p.pixels, "hash");
    await Deno.writeTextFile(p.manifest, "{not json");
    await assertRejectsWith(() => loadDatasetCache(base), p.manifest, "corrupt manifest");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
