import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { assert, assertEquals, assertRejectsWith, assertThrowsWith } from "../_assert.ts";
import { FASHION_MNIST_DEBIAN_DIR, loadFashionMnist, parseIdx } from "../../lib/data/mod.ts";
import { dependency } from "../_deps.ts";

function present(): boolean {
  try {
    Deno.statSync(join(FASHION_MNIST_DEBIAN_DIR, "t10k-labels-idx1-ubyte.gz"));
    return true;
  } catch {
    return false;
  }
}

const FASHION = dependency(
  "Fashion-MNIST",
  present(),
  `${FASHION_MNIST_DEBIAN_DIR} absent (apt-get install dataset-fashion-mnist)`,
);

Deno.test({ name: "Fashion-MNIST: reads Debian's real IDX files", ignore: !FASHION }, async () => {
  const test = await loadFashionMnist({ split: "test" });
  assertEquals([test.n, test.height, test.width, test.channels], [10000, 28, 28, 1]);
  // The test split is balanced: 1000 images per class (published dataset facts).
  const counts = new Array(10).fill(0);
  for (const v of test.labels) counts[v]++;
  assertEquals(counts, new Array(10).fill(1000));
  assertEquals(test.classNames[9], "Ankle boot");
  const train = await loadFashionMnist({ split: "train", limit: 500 });
  assertEquals(train.n, 500);
  // First training image is an "Ankle boot" (label 9) in the official files.
  assertEquals(train.labels[0], 9);
  assert(train.pixels.some((v) => v > 0));
});

function idx(type: number, dims: number[], data: number[]): Uint8Array {
  const head = new Uint8Array(4 + 4 * dims.length);
  head[2] = type;
  head[3] = dims.length;
  const dv = new DataView(head.buffer);
  dims.forEach((d, i) => dv.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(head.length + data.length);
  out.set(head);
  out.set(data, head.length);
  return out;
}

Deno.test("parseIdx: plain and gzipped, with shape", () => {
  const raw = idx(8, [2, 2, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  for (const bytes of [raw, new Uint8Array(gzipSync(raw))]) {
    const a = parseIdx(bytes, "x.idx");
    assertEquals(a.shape, [2, 2, 3]);
    assertEquals(Array.from(a.data), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  }
});

Deno.test("Fashion-MNIST / IDX errors name the file", async () => {
  assertThrowsWith(() => parseIdx(new Uint8Array([1, 2, 3, 4]), "f.idx"), "f.idx", "bad magic");
  assertThrowsWith(() => parseIdx(idx(8, [5], [1, 2]), "g.idx"), "g.idx", "needs 5 bytes", "has 2");
  assertThrowsWith(() => parseIdx(idx(0xd, [1], [0, 0, 0, 0]), "h.idx"), "h.idx", "unsupported");
  const dir = await Deno.makeTempDir();
  try {
    await assertRejectsWith(
      () => loadFashionMnist({ split: "test", dir }),
      join(dir, "t10k-images-idx3-ubyte.gz"),
      "not found",
    );
    await Deno.writeFile(join(dir, "t10k-images-idx3-ubyte"), idx(8, [2, 1, 1], [3, 4]));
    await Deno.writeFile(join(dir, "t10k-labels-idx1-ubyte"), idx(8, [3], [1, 2, 3]));
    await assertRejectsWith(
      () => loadFashionMnist({ split: "test", dir }),
      "t10k-images-idx3-ubyte",
      "2 images but 3 labels",
    );
    await Deno.writeFile(join(dir, "t10k-labels-idx1-ubyte"), idx(8, [2], [1, 12]));
    await assertRejectsWith(
      () => loadFashionMnist({ split: "test", dir }),
      "t10k-labels-idx1-ubyte",
      "label 12",
      "out of range",
    );
    await Deno.writeFile(join(dir, "t10k-labels-idx1-ubyte"), idx(8, [2], [1, 9]));
    const ds = await loadFashionMnist({ split: "test", dir });
    assertEquals(Array.from(ds.labels), [1, 9]);
    assertEquals(Array.from(ds.pixels), [3, 4]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Fashion-MNIST: offset and limit pick samples [offset, offset + limit)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // 4 images of 1 × 2 pixels: image i holds (10 i, 10 i + 1); labels 5, 6, 7, 8
    await Deno.writeFile(
      join(dir, "train-images-idx3-ubyte"),
      idx(8, [4, 1, 2], [0, 1, 10, 11, 20, 21, 30, 31]),
    );
    await Deno.writeFile(join(dir, "train-labels-idx1-ubyte"), idx(8, [4], [5, 6, 7, 8]));
    const ds = await loadFashionMnist({ split: "train", dir, offset: 1, limit: 2 });
    assertEquals(ds.n, 2);
    assertEquals(Array.from(ds.pixels), [10, 11, 20, 21]);
    assertEquals(Array.from(ds.labels), [6, 7]);
    assertEquals(ds.fileNames, ["train_00001", "train_00002"]);
    const tail = await loadFashionMnist({ split: "train", dir, offset: 3 });
    assertEquals([tail.n, ...tail.pixels, ...tail.labels], [1, 30, 31, 8]);
    await assertRejectsWith(
      () => loadFashionMnist({ split: "train", dir, offset: 4 }),
      "train-images-idx3-ubyte",
      "offset 4",
    );
    await Deno.writeFile(join(dir, "train-labels-idx1-ubyte"), idx(8, [4], [5, 6, 7, 11]));
    await assertRejectsWith(
      () => loadFashionMnist({ split: "train", dir, offset: 2 }),
      "label 11 of sample 3",
      "byte 11",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
