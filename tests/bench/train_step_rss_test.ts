/**
 * bench:train-step's `--rss-rows` (issue 27: the step's peak RSS reported beside PyTorch's): the
 * named configuration runs once more in a process of its own and its row carries that process's
 * peak RSS; a configuration not named carries none.
 */
import assert from "node:assert/strict";
import { dependency } from "../_deps.ts";
import { initBackend } from "../../lib/backend.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const info = await initBackend();
const ONEDNN = dependency(
  "oneDNN",
  info.onednn?.store === "wasm",
  "the native engine (libdnnl) is not loaded, or not on its wasm store",
);

Deno.test({
  name:
    "bench:train-step --rss-rows: the named row's step runs in its own process for its peak RSS",
  ignore: !ONEDNN,
  fn: () => {
    const out = new Deno.Command(Deno.execPath(), {
      args: [
        ...["run", "-A", "bench/train_step.ts", "--sizes", "32", "--batches", "2,4"],
        ...["--steps", "1", "--warmup", "1", "--rounds", "1", "--leak-steps", "0"],
        ...["--no-torch", "--no-wasm", "--rss-rows", "32x4"],
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
    const text = new TextDecoder().decode(out.stdout).trim();
    assert.ok(out.success, new TextDecoder().decode(out.stderr).slice(-2000));
    const doc = JSON.parse(text.split("\n").pop()!);
    const row = (b: number) => doc.rows.find((r: { batch: number }) => r.batch === b);
    assert.equal(row(2).childPeakRssMb, null);
    const own = row(4).childPeakRssMb;
    assert.ok(typeof own === "number" && own > 50, `peak RSS of the child: ${own}`);
    // a process of its own: not this bench's (which also held the batch-2 row and its model)
    assert.notEqual(own, doc.peakRssMb);
    assert.match(text, /peak RSS \d+ MB at 32 px batch 4 \(ours, onednn on its wasm store/);
  },
});
