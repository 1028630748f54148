import { join } from "node:path";
import { assert, assertEquals, assertRejectsWith } from "../_assert.ts";
import {
  codecInfo,
  generateSynthFer,
  listRafDb,
  loadRafDb,
  loadRafDbCached,
  RAF_DB_CLASSES,
  setCodec,
  synthFerSplits,
  writeRafDbLayout,
} from "../../lib/data/mod.ts";

const CLASSES = ["Surprise", "Fear", "Disgust", "Happiness", "Sadness", "Anger", "Neutral"];

Deno.test("RAF-DB layout written from SynthFER loads with the right counts, labels, names", async () => {
  const root = await Deno.makeTempDir({ prefix: "raf_" });
  try {
    const { train, test } = synthFerSplits({ train: 40, test: 15, size: 32, seed: 5, noise: 0.2 });
    const names = await writeRafDbLayout(root, { train, test }, { noiseFileName: "noise02.txt" });
    assertEquals(names.train[0], "train_00001.jpg");
    assertEquals(names.test[14], "test_0015.jpg");
    // The label list is in the official format, 1-based labels.
    const text = await Deno.readTextFile(join(root, "EmoLabel/list_patition_label.txt"));
    assertEquals(text.split("\n")[0], `train_00001.jpg ${train.cleanLabels![0] + 1}`);
    await Deno.stat(join(root, "Image/aligned/test_0003_aligned.jpg"));

    const tr = await loadRafDb(root, { split: "train", size: 32 });
    assertEquals(tr.n, 40);
    assertEquals(tr.classNames, CLASSES);
    assertEquals(RAF_DB_CLASSES, CLASSES);
    assertEquals(tr.labels, train.cleanLabels);
    assertEquals(tr.cleanLabels, undefined);
    assertEquals(tr.fileNames[39], "train_00040.jpg");
    // JPEG at quality 95 stays close to the rendered pixels.
    let err = 0;
    for (let i = 0; i < tr.pixels.length; i++) err += Math.abs(tr.pixels[i] - train.pixels[i]);
    assert(err / tr.pixels.length < 4, `mean abs JPEG error ${err / tr.pixels.length}`);

    const te = await loadRafDb(root, { split: "test", size: 48 });
    assertEquals(te.n, 15);
    assertEquals(te.height, 48);
    assertEquals(te.labels, test.labels);

    const noisy = await loadRafDb(root, { split: "train", size: 32, noiseFile: "noise02.txt" });
    assertEquals(noisy.labels, train.labels);
    assertEquals(noisy.cleanLabels, train.cleanLabels);
    let flips = 0;
    for (let i = 0; i < 40; i++) if (noisy.labels[i] !== noisy.cleanLabels![i]) flips++;
    assertEquals(flips, 8);

    // Through the cache: the second load reads the cache (works with the images gone).
    const cacheDir = join(root, "cache");
    const c1 = await loadRafDbCached(root, {
      split: "train",
      size: 32,
      noiseFile: "noise02.txt",
      cacheDir,
    });
    assertEquals(c1.pixels, noisy.pixels);
    await Deno.remove(join(root, "Image"), { recursive: true });
    const c2 = await loadRafDbCached(root, {
      split: "train",
      size: 32,
      noiseFile: "noise02.txt",
      cacheDir,
    });
    assertEquals(c2.pixels, noisy.pixels);
    assertEquals(c2.labels, noisy.labels);
    assertEquals(c2.cleanLabels, noisy.cleanLabels);
    await Deno.stat(join(cacheDir, "raf-train-32-noise02.u8"));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("RAF-DB: the pure-JS codec fallback decodes the same files (close to sharp)", async () => {
  const root = await Deno.makeTempDir({ prefix: "raf_js_" });
  try {
    const train = generateSynthFer({ n: 6, size: 24, seed: 1 });
    const test = generateSynthFer({ n: 2, size: 24, seed: 2 });
    await writeRafDbLayout(root, { train, test });
    assertEquals((await codecInfo()).name, "sharp");
    const a = await loadRafDb(root, { split: "train", size: 24 });
    setCodec("js");
    try {
      assertEquals((await codecInfo()).name, "jpeg-js+pngjs");
      const b = await loadRafDb(root, { split: "train", size: 24 });
      let err = 0;
      for (let i = 0; i < a.pixels.length; i++) err += Math.abs(a.pixels[i] - b.pixels[i]);
      // Two JPEG decoders (libjpeg-turbo vs jpeg-js) differ by IDCT/upsampling rounding only.
      assert(err / a.pixels.length < 2, `mean abs difference ${err / a.pixels.length}`);
    } finally {
      setCodec("auto");
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** Writes a RAF root with the given label-list text and `images` (name -> bytes). */
async function fakeRaf(labels: string | null, images: Record<string, Uint8Array>): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "rafbad_" });
  await Deno.mkdir(join(root, "EmoLabel"), { recursive: true });
  await Deno.mkdir(join(root, "Image/aligned"), { recursive: true });
  if (labels !== null) {
    await Deno.writeTextFile(join(root, "EmoLabel/list_patition_label.txt"), labels);
  }
  for (const [n, b] of Object.entries(images)) {
    await Deno.writeFile(join(root, "Image/aligned", n), b);
  }
  return root;
}

async function goodJpeg(): Promise<Uint8Array> {
  const root = await Deno.makeTempDir();
  const d = generateSynthFer({ n: 1, size: 16 });
  await writeRafDbLayout(root, { train: d, test: d });
  const b = await Deno.readFile(join(root, "Image/aligned/train_00001_aligned.jpg"));
  await Deno.remove(root, { recursive: true });
  return b;
}

Deno.test("RAF-DB errors name the file and line", async (t) => {
  const jpg = await goodJpeg();
  const two = {
    "train_00001_aligned.jpg": jpg,
    "train_00002_aligned.jpg": jpg,
    "test_0001_aligned.jpg": jpg,
  };
  const cases: [string, string | null, Record<string, Uint8Array>, object, string[]][] = [
    ["missing label file", null, two, { split: "train" }, [
      "EmoLabel/list_patition_label.txt",
      "label file not found",
    ]],
    [
      "malformed line",
      "train_00001.jpg 1\ntrain_00002.jpg\n",
      two,
      { split: "train" },
      ["list_patition_label.txt:2", "malformed line"],
    ],
    [
      "non-integer label",
      "train_00001.jpg 1\ntrain_00002.jpg x3\n",
      two,
      { split: "train" },
      ["list_patition_label.txt:2", "malformed"],
    ],
    [
      "label out of range",
      "train_00001.jpg 1\n\ntrain_00002.jpg 8\n",
      two,
      { split: "train" },
      ["list_patition_label.txt:3", "label 8", "out of range 1-7"],
    ],
    ["label 0 out of range", "train_00001.jpg 0\n", two, { split: "train" }, [
      ":1",
      "label 0",
      "out of range",
    ]],
    [
      "missing image",
      "train_00001.jpg 1\ntrain_00003.jpg 2\n",
      two,
      { split: "train" },
      ["Image/aligned/train_00003_aligned.jpg", "image not found", "list_patition_label.txt:2"],
    ],
    [
      "undecodable image",
      "train_00001.jpg 1\ntrain_00002.jpg 2\n",
      { ...two, "train_00002_aligned.jpg": new TextEncoder().encode("not a jpeg at all") },
      { split: "train" },
      ["train_00002_aligned.jpg", "cannot decode", "list_patition_label.txt:2"],
    ],
    [
      "empty split",
      "train_00001.jpg 1\ntrain_00002.jpg 2\n",
      two,
      { split: "test" },
      ["list_patition_label.txt", "no 'test' samples", "empty split"],
    ],
    [
      "duplicate name",
      "train_00001.jpg 1\ntrain_00001.jpg 2\n",
      two,
      { split: "train" },
      ["list_patition_label.txt:2", "listed twice"],
    ],
    [
      "missing noise file",
      "train_00001.jpg 1\n",
      two,
      { split: "train", noiseFile: "noise01.txt" },
      ["EmoLabel/noise01.txt", "label file not found"],
    ],
  ];
  for (const [name, labels, images, opts, parts] of cases) {
    await t.step(name, async () => {
      const root = await fakeRaf(labels, images);
      try {
        await assertRejectsWith(
          () => loadRafDb(root, { ...(opts as { split: "train" }), size: 16 }),
          root,
          ...parts,
        );
      } finally {
        await Deno.remove(root, { recursive: true });
      }
    });
  }
  await t.step("noise file disagreeing with the list", async () => {
    const root = await fakeRaf("train_00001.jpg 1\ntrain_00002.jpg 2\n", two);
    try {
      await Deno.writeTextFile(
        join(root, "EmoLabel/noise01.txt"),
        "train_00001.jpg 3\ntrain_00009.jpg 2\n",
      );
      await assertRejectsWith(
        () => listRafDb(root, { split: "train", noiseFile: "noise01.txt" }),
        "noise01.txt:2",
        "train_00009.jpg is not in",
      );
      await Deno.writeTextFile(join(root, "EmoLabel/noise01.txt"), "train_00001.jpg 3\n");
      await assertRejectsWith(
        () => listRafDb(root, { split: "train", noiseFile: "noise01.txt" }),
        "noise01.txt",
        "lacks train_00002.jpg",
        "list_patition_label.txt:2",
      );
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  });
});
