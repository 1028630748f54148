/**
 * The run registry (lib/notebook/runs.ts): lists run folders written by the trainer (also a
 * stopped one), tabulates them and overlays them in one figure.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { initBackend } from "../../lib/backend.ts";
import { synthFerSplits } from "../../lib/data/synthfer.ts";
import { compareRuns, listRuns, readRun, runsMarkdown } from "../../lib/notebook/runs.ts";
import { FigureRenderer } from "../../lib/plots/export.ts";
import { type TrainConfigInput, Trainer } from "../../lib/train/mod.ts";

const TINY: TrainConfigInput = {
  epochs: 2,
  batchSize: 16,
  evalBatchSize: 32,
  seed: 3,
  model: { inputSize: 32, widths: [4, 4, 8, 8], featureDim: 8 },
};

Deno.test({
  name: "run registry: lists trainer run folders (one stopped), table and comparison figure",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await initBackend();
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "rul-registry-"));
    try {
      const { train, test } = synthFerSplits({ train: 40, test: 16, size: 32, seed: 1 });
      const quiet = { log: null, progress: "silent" as const, data: { train, test } };
      const a = await Trainer.create({ ...quiet, config: TINY, out: `${root}/nb/a-rul` });
      const ra = await a.run();
      a.dispose();
      const b = await Trainer.create({
        ...quiet,
        config: { ...TINY, variant: "baseline" },
        out: `${root}/nb/b-baseline`,
      });
      await b.run(undefined, { maxSteps: 4 }); // 3 steps per epoch: stops in epoch 2
      b.dispose();
      fs.mkdirSync(`${root}/nb/empty`); // not a run
      fs.symlinkSync(`${root}/nb/a-rul`, `${root}/nb/latest`); // pointer: not listed twice
      // A torn last line (killed writer) is skipped.
      fs.appendFileSync(`${root}/nb/a-rul/metrics.jsonl`, '{"epoch": 3, "test_');

      const runs = listRuns(root);
      assert.deepEqual(runs.map((r) => r.name).sort(), ["a-rul", "b-baseline"]);
      const ar = runs.find((r) => r.name === "a-rul")!;
      assert.equal(ar.epochs, 2);
      assert.equal(ar.plannedEpochs, 2);
      assert.equal(ar.best?.acc, ra.bestTestAcc);
      assert.equal(ar.best?.epoch, ra.bestEpoch);
      assert.equal(ar.lastTestAcc, ra.lastTestAcc);
      assert.equal(ar.stopped, null);
      const br = readRun(`${root}/nb/b-baseline`)!;
      assert.equal(br.variant, "baseline");
      assert.equal(br.epochs, 1);
      assert.deepEqual(br.stopped && [br.stopped.reason, br.stopped.epoch, br.stopped.step], [
        "max-steps",
        2,
        1,
      ]);
      const table = runsMarkdown(runs);
      assert.match(table, /\| a-rul \| rul \| 2\/2 \| [\d.]+ \(ep \d\) \| [\d.]+ \| done \|/);
      assert.match(table, /b-baseline \| baseline \| 1\/2 .*stopped \(max-steps\) in epoch 2/);

      const fig = compareRuns(runs, { title: "runs" });
      const bars = fig.data.filter((t) => t.type === "bar");
      assert.equal(bars.length, 2, "best and last bars");
      assert.deepEqual(bars[0].x, ["#1", "#2"]);
      const curves = fig.data.filter((t) => t.type === "scatter");
      assert.equal(curves.length, 4, "loss + accuracy per run");
      const r = await FigureRenderer.launch();
      try {
        const errors = await r.validate(fig);
        assert.deepEqual(errors, [], "valid Plotly spec");
        const png = await r.render(fig, { format: "png", scale: 1 });
        const keep = Deno.env.get("REGISTRY_TEST_PNG");
        if (keep) fs.writeFileSync(keep, png);
      } finally {
        await r.close();
      }
      assert.throws(() => compareRuns([]), /no run has a completed epoch/);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  },
});
