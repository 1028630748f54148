// The local backends with real training: the task script as two parallel processes (one made to
// fail on its first attempt, then retried alone), and the in-process runner the notebooks use
// (finished runs skipped, summaries written). Tiny SynthFER runs.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  cancelGrid,
  collectGrid,
  createGrid,
  gridStatus,
  readJournal,
  runGridInProcess,
  type SubmitEvent,
  submitGrid,
} from "../../lib/grid/mod.ts";
import type { AblationPlan } from "../../lib/notebook/settings.ts";
import { initBackend } from "../../lib/backend.ts";
import { train } from "../../lib/train/trainer.ts";

const PLAN: AblationPlan = {
  variants: ["rul"],
  noises: [0.2],
  seeds: [0, 1],
  config: {
    epochs: 2,
    batchSize: 32,
    evalBatchSize: 64,
    init: null,
    model: { inputSize: 32, widths: [4, 8, 8, 8] },
    data: { trainSize: 96, testSize: 32 },
  },
};

Deno.test({
  name: "local backend: parallel task-script processes; a failed run is retried alone",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rul-grid-local-"));
    try {
      const grid = createGrid(dir, PLAN);
      const flag = path.join(dir, "failed-once");
      // Run 1's first attempt uses a "deno" that fails, as a crashed run would.
      const prologue = `export RUL_THREADS=1\nif [ "$RUL_GRID_TASK" = 1 ] && [ ! -f ${flag} ]; ` +
        `then touch ${flag}; export RUL_GRID_DENO=/bin/false; fi`;
      const ends: string[] = [];
      const r1 = await submitGrid(grid, {
        backend: "local",
        prologue,
        local: { parallel: 2, onRunEnd: (e) => ends.push(`${e.run.index}:${e.code}`) },
      });
      assert.deepEqual(r1.submitted.map((r) => r.index), [0, 1]);
      assert.deepEqual(ends.sort(), ["0:0", "1:1"]);
      let st = await gridStatus(grid);
      assert.deepEqual(st.map((s) => s.state), ["done", "failed"]);
      assert.equal(st[1].detail, "exit code 1");
      assert.equal(collectGrid(grid).missing[0].name, "rul-noise20-seed1");

      const r2 = await submitGrid(grid, { backend: "local", prologue });
      assert.deepEqual(r2.submitted.map((r) => r.index), [1], "only the failed run again");
      assert.deepEqual(r2.skipped.map((s) => `${s.run.index}:${s.state}`), ["0:done"]);
      st = await gridStatus(grid);
      assert.deepEqual(st.map((s) => s.state), ["done", "done"]);
      const subs = readJournal(grid).filter((e): e is SubmitEvent => e.kind === "submit");
      assert.deepEqual(subs.map((s) => s.indexes), [[0, 1], [1]]);
      for (const s of st) {
        const m = fs.readFileSync(path.join(s.run.dir, "metrics.jsonl"), "utf8").trim().split("\n")
          .map((l) => JSON.parse(l));
        assert.equal(m.length, 2);
        assert.equal(s.acc!.last, m[1].test_acc);
        assert.equal(s.acc!.best, Math.max(m[0].test_acc, m[1].test_acc));
      }
      const again = await submitGrid(grid, { backend: "local" });
      assert.equal(again.event, null, "nothing left to submit");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
});

Deno.test({
  name: "local backend: cancel stops the running run (SIGTERM recorded) and the queued one",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rul-grid-cancel-"));
    try {
      // Long enough (200 epochs) that it is still training when cancelled.
      const grid = createGrid(dir, { ...PLAN, config: { ...PLAN.config, epochs: 200 } });
      const ends: number[] = [];
      const running = submitGrid(grid, {
        backend: "local",
        prologue: "export RUL_THREADS=1",
        local: { parallel: 1, onRunEnd: (e) => ends.push(e.code) },
      });
      // Cancel once the first epoch is logged: the trainer itself must stop.
      const metrics = path.join(grid.runs[0].dir, "metrics.jsonl");
      while (!fs.existsSync(metrics)) await new Promise((r) => setTimeout(r, 100));
      const cancelled = await cancelGrid(grid);
      assert.deepEqual(cancelled.map((s) => `${s.run.index}:${s.state}`), [
        "0:running",
        "1:queued",
      ]);
      await running;
      assert.equal(ends.length, 1, "the queued run was never started");
      assert.ok(ends[0] !== 0, `exit ${ends[0]}`);
      const st = await gridStatus(grid);
      assert.deepEqual(st.map((s) => s.state), ["cancelled", "cancelled"]);
      assert.ok(st[0].epochs.logged < 200, "stopped before the end");
      assert.ok(!fs.existsSync(path.join(grid.runs[0].dir, "summary.json")));
      assert.match(st[0].detail, /cancelled \(SIG(TERM|INT)\)/);
      assert.equal(st[1].detail, "cancelled before it started");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
});

Deno.test({
  name: "in-process runner: trains unfinished runs with the given function, writes summaries",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await initBackend({ threads: 1 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rul-grid-inproc-"));
    try {
      const grid = createGrid(dir, { ...PLAN, seeds: [0] });
      const seen: string[] = [];
      const trainRun = (run: (typeof grid.runs)[number], resume: boolean) => {
        seen.push(`${run.name}:${resume}`);
        return train({ config: run.config, out: run.dir, resume, log: null, progress: "silent" });
      };
      const done = await runGridInProcess(grid, trainRun);
      assert.deepEqual(done.map((r) => r.name), ["rul-noise20-seed0"]);
      assert.deepEqual(seen, ["rul-noise20-seed0:false"]);
      const st = await gridStatus(grid);
      assert.equal(st[0].state, "done");
      assert.equal(st[0].backend, "in-process");
      assert.deepEqual(await runGridInProcess(grid, trainRun), [], "finished runs are skipped");
      await assert.rejects(
        runGridInProcess(createGrid(dir, PLAN), () => Promise.reject(new Error("disk full"))),
        /grid run rul-noise20-seed1 failed: disk full/,
      );
      assert.equal((await gridStatus(grid))[0].state, "done");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
});
