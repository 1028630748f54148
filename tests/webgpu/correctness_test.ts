/**
 * WebGPU against the wasm engine on the software adapter (Mesa lavapipe, installed by
 * `.ci/setup`): a training step's loss and every gradient within 1e-4 relative error, and the
 * losses of the next steps (Adam) too, for every variant. The figures come from
 * bench/gpu/compare.ts run in a fresh process (one backend set-up per process); the GPU check
 * records the same comparison on a real GPU.
 */
import assert from "node:assert/strict";
import { VARIANTS } from "../../lib/rul/variants.ts";

const script = new URL("../../bench/gpu/compare.ts", import.meta.url).pathname;

Deno.test("webgpu vs wasm: loss and gradients within 1e-4, three Adam steps agree", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    // 32 px, batch 8, narrow stages: lavapipe is slow; batch 8 keeps the batch-norm statistics
    // well-conditioned (at batch 4 the RUL heads' gradients differ by ~2e-4 between ANY two
    // float32 engines, wasm and cpu included).
    args: [
      "run",
      "-A",
      script,
      "--size=32",
      "--batch=8",
      "--steps=3",
      "--widths=8,16,32,64",
      `--variants=${VARIANTS.join(",")}`,
      "--threads=1",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n");
  const err = new TextDecoder().decode(out.stderr);
  assert.ok(
    out.success,
    `compare.ts failed (is a Vulkan driver installed? .ci/setup installs mesa-vulkan-drivers ` +
      `and libvulkan1): ${err.slice(-2000)}`,
  );
  const r = JSON.parse(text[text.length - 1]);
  assert.equal(r.variants.length, VARIANTS.length);
  for (const v of r.variants) {
    const what = `${v.variant}: ${JSON.stringify(v)}`;
    assert.ok(v.grads > 60, what);
    assert.ok(v.lossRelErr <= 1e-4, `first-step loss ${what}`);
    assert.ok(v.gradRelErr <= 1e-4, `gradients ${what}`);
    assert.ok(v.gradRelErrAll <= 1e-4, `gradients together ${what}`);
    assert.ok(v.laterLossRelErr <= 1e-4, `losses of steps 2-3 ${what}`);
    assert.notEqual(v.lossWasm[2], v.lossWasm[0], `the steps trained ${what}`);
  }
});
