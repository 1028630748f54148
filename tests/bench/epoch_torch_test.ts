/**
 * `bench:epoch --torch` (issue 27's epoch comparison): the PyTorch side's re-declared transforms
 * equal torchvision's (the reference: Debian's torchvision, which CI installs), and the bench hands
 * PyTorch the same images and labels it trained on (label counts and pixel sum, computed on each
 * side) and reports both sides.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { hasTorch, TORCH_MISSING } from "../_python.ts";
import { dependency } from "../_deps.ts";
import { saveDatasetCache } from "../../lib/data/cache.ts";
import { synthFerSplits } from "../../lib/data/synthfer.ts";

const TORCH = dependency("PyTorch", hasTorch(), TORCH_MISSING);
const ROOT = new URL("../../", import.meta.url).pathname;

function run(cmd: string, args: string[]) {
  const out = new Deno.Command(cmd, { args, cwd: ROOT, stdout: "piped", stderr: "piped" })
    .outputSync();
  const text = new TextDecoder().decode(out.stdout).trim();
  return {
    ok: out.success,
    last: text.split("\n").pop() ?? "",
    err: new TextDecoder().decode(out.stderr),
  };
}

Deno.test({
  name: "bench_torch_epoch.py: its transforms equal torchvision's, draw for draw (train and test)",
  ignore: !TORCH,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const { train, test } = synthFerSplits({ train: 24, test: 8, size: 40, seed: 3 });
      await saveDatasetCache(train, path.join(dir, "train"), "test");
      await saveDatasetCache(test, path.join(dir, "test"), "test");
      const r = run("/usr/bin/python3", [
        "tools/bench_torch_epoch.py",
        "--data",
        dir,
        "--size",
        "56",
        "--check-transforms",
      ]);
      assert(r.ok, `check failed: ${r.last}\n${r.err}`);
      const c = JSON.parse(r.last);
      assert.deepEqual(c.images, 24);
      assert.deepEqual(c.max_abs_diff, 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "bench:epoch --torch: PyTorch trains on the same images and labels, and both sides are reported",
  ignore: !TORCH,
  fn: () => {
    const r = run(Deno.execPath(), [
      "run",
      "-A",
      "bench/epoch.ts",
      ...["--size", "32", "--batch", "8", "--images", "40", "--test", "16"],
      ...["--widths", "8,16,32,64", "--variant", "rul", "--torch"],
      ...["--torch-python", "/usr/bin/python3", "--torch-workers", "0"],
    ]);
    assert(r.ok, `bench failed: ${r.last}\n${r.err.slice(-2000)}`);
    const doc = JSON.parse(r.last);
    assert.deepEqual(doc.torch.images, 40);
    assert.deepEqual(doc.torch.testImages, 16);
    assert.deepEqual(doc.torch.steps, 5); // 40 images, batch 8
    assert.deepEqual(doc.torch.variant, "rul");
    assert.deepEqual(doc.torch.widths, [8, 16, 32, 64]);
    assert.deepEqual(doc.torch.transforms, "torchvision");
    // the same data: the label histogram (30 % of the labels flipped) and the pixel sum, each
    // computed by its own side
    assert.deepEqual(doc.torch.trainLabelCounts, doc.trainLabelCounts);
    assert.deepEqual(doc.torch.trainPixelSum, doc.trainPixelSum);
    assert.equal(doc.trainLabelCounts.reduce((a: number, b: number) => a + b, 0), 40);
    // the ratio is PyTorch's seconds over ours
    assert(Math.abs(doc.oursOverTorch - doc.torch.trainSeconds / doc.trainSeconds) < 1e-9);
  },
});
