/**
 * tools/measurement.ts engine-check (issue 23's engine comparison): per-side summaries and the
 * Welch interval of each pair, against hand computation.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { engineCheckFile } from "../../tools/measurement.ts";
import { assertEquals } from "../_assert.ts";

/** A run file of bench:noisy with a last-epoch AUROC of u and test accuracy. */
function writeRun(dir: string, seed: number, auroc: number, acc: number, variant = "rul") {
  fs.mkdirSync(dir, { recursive: true });
  const records = [0.5, auroc].map((a, i) => ({ epoch: i + 1, test_acc: acc, auroc_u: a }));
  fs.writeFileSync(
    path.join(dir, `${variant}-noise40-seed${seed}.json`),
    JSON.stringify({
      variant,
      noise: 0.4,
      seed,
      bestTestAcc: acc,
      bestEpoch: 2,
      lastTestAcc: acc,
      aurocU: auroc,
      records,
    }),
  );
}

Deno.test("engine-check: means, s.d., per-epoch means and Welch intervals match hand computation", async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "engine-check-"));
  try {
    const a = path.join(root, "a"), b = path.join(root, "b");
    writeRun(a, 0, 0.5, 0.70);
    writeRun(a, 1, 0.6, 0.72);
    writeRun(a, 1, 0.9, 0.99, "baseline"); // another variant: ignored
    writeRun(b, 0, 0.7, 0.75);
    writeRun(b, 1, 0.8, 0.79);
    const doc = await engineCheckFile([["A", a], ["B", b]], "rul", 0.4, "test");
    // deno-lint-ignore no-explicit-any
    const f = doc.figures as any;
    assertEquals(f.sides[0].seeds, [0, 1]);
    assertEquals(f.sides[0].last_auroc_u_summary, { mean: 0.55, sd: 0.071 }); // sd = 0.1/√2
    assertEquals(f.sides[1].auroc_u_by_epoch_mean, [0.5, 0.75]);
    assertEquals(f.sides[1].last_test_acc_pct, [75, 79]);
    // B − A: 0.75 − 0.55 = 0.2; se² = 0.005/2 + 0.005/2 = 0.005, df = 0.005² / (2 · 0.0025²) = 2,
    // t(0.975, 2) = 4.302653: half-width 4.302653 · √0.005 = 0.304247
    assertEquals(f.pairs[0].difference, "B − A");
    assertEquals(f.pairs[0].auroc_u, { mean: 0.2, low: -0.104, high: 0.504, df: 2 });
    // accuracy in points: 77 − 71 = 6
    assertEquals(f.pairs[0].last_test_acc_points.mean, 6);
  } finally {
    fs.rmSync(root, { recursive: true });
  }
});
