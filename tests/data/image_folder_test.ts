import { join } from "node:path";
import { assertEquals, assertRejectsWith } from "../_assert.ts";
import {
  encodeJpeg,
  generateSynthFer,
  imageAt,
  listImageFolder,
  loadImageFolder,
} from "../../lib/data/mod.ts";

async function writeFolder(spec: Record<string, number>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "imgfolder_" });
  const ds = generateSynthFer({ n: 10, size: 20, seed: 3 });
  let k = 0;
  for (const [cls, count] of Object.entries(spec)) {
    await Deno.mkdir(join(dir, cls), { recursive: true });
    for (let i = 0; i < count; i++) {
      await Deno.writeFile(
        join(dir, cls, `img${i}.jpg`),
        await encodeJpeg(imageAt(ds, k++ % 10), 20, 20, 3),
      );
    }
  }
  return dir;
}

Deno.test("ImageFolder: sorted class names, labels by folder, files sorted", async () => {
  const dir = await writeFolder({ sad: 2, angry: 1, happy: 3 });
  try {
    await Deno.writeTextFile(join(dir, "happy", "notes.txt"), "ignored");
    const ds = await loadImageFolder(dir, { size: 24 });
    assertEquals(ds.classNames, ["angry", "happy", "sad"]);
    assertEquals(Array.from(ds.labels), [0, 1, 1, 1, 2, 2]);
    assertEquals(ds.fileNames, [
      "angry/img0.jpg",
      "happy/img0.jpg",
      "happy/img1.jpg",
      "happy/img2.jpg",
      "sad/img0.jpg",
      "sad/img1.jpg",
    ]);
    assertEquals([ds.n, ds.height, ds.width, ds.channels], [6, 24, 24, 3]);
    const fixed = await listImageFolder(dir, { classNames: ["sad", "happy", "angry"] });
    assertEquals(fixed.items[0].name, "sad/img0.jpg");
    assertEquals(fixed.items[0].label, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ImageFolder errors name the folder or file", async (t) => {
  await t.step("missing folder", async () => {
    await assertRejectsWith(
      () => listImageFolder("/nonexistent/folder_x"),
      "/nonexistent/folder_x",
      "folder not found",
    );
  });
  await t.step("no class folders", async () => {
    const dir = await Deno.makeTempDir();
    try {
      await assertRejectsWith(() => listImageFolder(dir), dir, "no class sub-folders");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
  await t.step("empty split", async () => {
    const dir = await writeFolder({ a: 0, b: 0 });
    try {
      await assertRejectsWith(() => listImageFolder(dir), dir, "empty split");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
  await t.step("required class folder missing", async () => {
    const dir = await writeFolder({ a: 1 });
    try {
      await assertRejectsWith(
        () => listImageFolder(dir, { classNames: ["a", "zz"] }),
        join(dir, "zz"),
        "class folder not found",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
  await t.step("undecodable image", async () => {
    const dir = await writeFolder({ a: 1 });
    try {
      await Deno.writeFile(join(dir, "a", "bad.png"), new Uint8Array([0x89, 0x50, 1, 2, 3]));
      await assertRejectsWith(
        () => loadImageFolder(dir),
        join(dir, "a", "bad.png"),
        "cannot decode",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});
