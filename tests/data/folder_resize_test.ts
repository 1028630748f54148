/**
 * The image-folder route resizes each image once, from its own size straight to the model size,
 * as the official pipeline does (transforms.Resize((s, s)) on the PIL image); reference:
 * tests/data/fixtures/folder_odd_expected.json from tools/data_make_folder_fixture.py (Pillow +
 * torchvision). Symbolic links to class folders and image files are followed.
 */
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { initBackend } from "../../lib/backend.ts";
import { BatchLoader } from "../../lib/data/batch.ts";
import { listImageFolder } from "../../lib/data/image_folder.ts";
import { loadRunData } from "../../lib/train/data.ts";
import { resolveTrainConfig } from "../../lib/train/config.ts";
import { assert, assertEquals, assertRejectsWith } from "../_assert.ts";

await initBackend();

const FIXTURE = new URL("./fixtures/folder_odd", import.meta.url).pathname;
interface Expected {
  size: number;
  images: { split: string; file: string; pixels: string; normalized: string }[];
}
const EXPECTED: Expected = JSON.parse(
  Deno.readTextFileSync(new URL("./fixtures/folder_odd_expected.json", import.meta.url)),
);

function u8(b64: string): Uint8Array {
  return new Uint8Array(Buffer.from(b64, "base64"));
}
function f32(b64: string): Float32Array {
  const b = Buffer.from(b64, "base64");
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

async function loadFolder(root: string) {
  const cfg = resolveTrainConfig({
    model: { inputSize: EXPECTED.size },
    data: { source: "folder", root, augment: false },
  });
  return await loadRunData(cfg);
}

Deno.test("folder data: non-100-px images resized once to the model size, as Pillow/torchvision", async () => {
  const { train, test } = await loadFolder(FIXTURE);
  const s = EXPECTED.size;
  for (const [split, ds] of [["train", train], ["test", test]] as const) {
    const exp = EXPECTED.images.filter((e) => e.split === split);
    assertEquals(ds.fileNames, exp.map((e) => e.file));
    assertEquals([ds.height, ds.width, ds.channels], [s, s, 3]);
    const bpi = s * s * 3;
    // Stored pixels: bit-identical to Pillow's single bilinear resize from the original size.
    for (let i = 0; i < exp.length; i++) {
      const want = u8(exp[i].pixels);
      const got = ds.pixels.subarray(i * bpi, (i + 1) * bpi);
      let diff = 0;
      for (let k = 0; k < bpi; k++) diff = Math.max(diff, Math.abs(got[k] - want[k]));
      assertEquals(diff, 0, `${split} ${exp[i].file}: max |pixel − Pillow| = ${diff}`);
    }
    // The model's input (eval transform): no second resize, ToTensor + Normalize as torchvision.
    const loader = new BatchLoader(ds, {
      batchSize: exp.length,
      size: s,
      augment: false,
      workers: 0,
    });
    try {
      for await (const b of loader.epoch(0)) {
        const x = await b.x.data();
        b.x.dispose();
        b.y.dispose();
        for (let i = 0; i < exp.length; i++) {
          const want = f32(exp[i].normalized);
          let diff = 0;
          for (let k = 0; k < bpi; k++) diff = Math.max(diff, Math.abs(x[i * bpi + k] - want[k]));
          assert(diff < 1e-5, `${split} ${exp[i].file}: max |x − torchvision| = ${diff}`);
        }
      }
    } finally {
      loader.close();
    }
  }
});

Deno.test("folder data: symbolic links to class folders and image files are followed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "folder_links_" });
  try {
    for (const split of ["train", "test"]) {
      // train/angry: a linked folder; train/happy (and test/*): real folders of linked files
      await Deno.mkdir(join(dir, split));
      for (const cls of ["angry", "happy"]) {
        const src = join(FIXTURE, split, cls);
        if (split === "train" && cls === "angry") {
          await Deno.symlink(src, join(dir, split, cls));
          continue;
        }
        await Deno.mkdir(join(dir, split, cls));
        for await (const e of Deno.readDir(src)) {
          await Deno.symlink(join(src, e.name), join(dir, split, cls, e.name));
        }
      }
    }
    const linked = await loadFolder(dir);
    const direct = await loadFolder(FIXTURE);
    assertEquals(linked.train.fileNames, direct.train.fileNames);
    assertEquals(linked.test.fileNames, direct.test.fileNames);
    assertEquals(Array.from(linked.train.labels), Array.from(direct.train.labels));
    assert(
      linked.train.pixels.every((v, i) => v === direct.train.pixels[i]),
      "pixels read through links differ",
    );
    // A link pointing nowhere is an error naming the link, not a silently smaller dataset.
    const broken = join(dir, "train", "happy", "gone.png");
    await Deno.symlink(join(dir, "does_not_exist.png"), broken);
    await assertRejectsWith(
      () => listImageFolder(join(dir, "train")),
      broken,
      "broken symbolic link",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
