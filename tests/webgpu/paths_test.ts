/**
 * Every training path on WebGPU (the software adapter in CI): all variants train an epoch
 * without leaking, a 3-epoch run keeps numTensors and bytes flat, checkpoints are written and
 * resumed (no synchronous reads), the audit, the test table, the t-SNE features and the PyTorch
 * export work. The
 * work runs in tests/webgpu/_paths_probe.ts in a fresh process (one backend per process).
 */
import assert from "node:assert/strict";
import { VARIANTS } from "../../lib/rul/variants.ts";

Deno.test("webgpu smoke: every variant trains an epoch; checkpoint + resume, audit AUROC = pairwise from its table, features, no leaks", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./_paths_probe.ts", import.meta.url).pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  assert.ok(out.success, new TextDecoder().decode(out.stderr).slice(-2000));
  const r = JSON.parse(lines[lines.length - 1]);
  assert.equal(r.backend, "webgpu");
  for (const v of VARIANTS) {
    assert.ok(Number.isFinite(r.variants[v]) && r.variants[v] > 0, `${v}: ${r.variants[v]}`);
    assert.equal(r.variants[`${v}:leaked`], 0, `${v} leaked tensors`);
  }
  assert.equal(r.resumedAt, 2);
  assert.equal(r.epochsAfterResume, 3);
  assert.equal(r.auditRows, 16);
  // the audit's AUROC against the pairwise definition applied to its own per-sample table
  assert.ok(
    Math.abs(r.auditAuroc - r.auditAurocFromTable) < 1e-12,
    `audit AUROC ${r.auditAuroc} vs ${r.auditAurocFromTable} from the table`,
  );
  assert.equal(r.testTable, true);
  assert.deepEqual(r.features, { n: 8, dim: 8, length: 64 });
  assert.equal(r.featuresFinite, true);
  assert.ok(r.exportTensors > 100, `exported ${r.exportTensors} tensors`);
  assert.equal(r.numTensorsPerEpoch.length, 3);
  assert.ok(r.numTensorsPerEpoch.every((c: number) => c === r.numTensorsPerEpoch[0]));
  assert.ok(r.numBytesPerEpoch.every((c: number) => c === r.numBytesPerEpoch[0]));
});
