/**
 * The native CPU engine with its tensors in TF.js cpu's typed arrays (no 4 GB heap limit); the
 * shared tests are in _onednn_cases.ts, plus the PyTorch fixtures on this store.
 */
import { defineOnednnTests } from "./_onednn_cases.ts";
import { adamRuns } from "../train/_adam_fused.ts";
import { onednnCpuAdamActive } from "../../lib/engine/onednn.ts";

await defineOnednnTests("cpu");

Deno.test("onednn (cpu store): the models match the PyTorch fixtures (reference_test.ts)", async () => {
  const test = new URL("../model/reference_test.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", test],
    env: { RUL_BACKEND: "onednn", RUL_ONEDNN_STORE: "cpu" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`reference_test.ts failed on the cpu store:\n${text}`);
  // the engine line of reference_test.ts: oneDNN's kernels in use, tensors in the cpu store (a
  // plain TF.js cpu fallback prints "(cpu)" too, but neither of these)
  const engine = text.match(/engine: (.*); oneDNN kernels active: (true|false)/);
  if (!engine || engine[2] !== "true" || !/oneDNN.*tensors on cpu/.test(engine[1])) {
    throw new Error(`reference_test.ts did not run on oneDNN's cpu store:\n${text}`);
  }
});

Deno.test("onednn (cpu store): fused Adam update is bit-identical to the TF.js ops", () => {
  if (!onednnCpuAdamActive()) throw new Error("the cpu store's fused Adam is not active");
  const fused = adamRuns(true), ops = adamRuns(false);
  if (fused.length !== ops.length) throw new Error(`${fused.length} vs ${ops.length} arrays`);
  for (let i = 0; i < ops.length; i++) {
    const a = new Uint8Array(fused[i].buffer), b = new Uint8Array(ops[i].buffer);
    if (a.length !== b.length || a.some((v, j) => v !== b[j])) {
      throw new Error(`array ${i} differs`);
    }
  }
});
