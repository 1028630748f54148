// Grid as data: plan expansion with swept hyper-parameters, the grid folder (idempotent, stable
// indexes, conflicts named), the array spec, the state decision table and the collection with
// missing runs (aggregates checked by hand).
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  arraySpec,
  collectGrid,
  createGrid,
  decideState,
  loadGrid,
  type RunFolderState,
  selectRuns,
  shortHost,
  type SubmitEvent,
} from "../../lib/grid/mod.ts";
import { ablationJobs, ablationMarkdown, summarizeAblation } from "../../lib/notebook/mod.ts";
import type { AblationPlan } from "../../lib/notebook/settings.ts";
import { writeRunSummary } from "../../lib/train/summary.ts";

const PLAN: AblationPlan = {
  variants: ["baseline", "rul"],
  noises: [0.3],
  seeds: [0, 1],
  config: { epochs: 2, model: { inputSize: 32, widths: [4, 8, 8, 8] }, data: { trainSize: 64 } },
};

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "rul-grid-unit-"));
}

Deno.test("ablationJobs sweeps any training option: names, labels, configs; bad keys named", () => {
  const jobs = ablationJobs({
    ...PLAN,
    variants: ["rul"],
    sweep: { "optim.lrBackbone": [1e-4, 2e-4], "model.dropout": [0.2] },
  });
  assert.deepEqual(jobs.map((j) => j.name), [
    "rul-noise30-lr-backbone0.0001-dropout0.2-seed0",
    "rul-noise30-lr-backbone0.0001-dropout0.2-seed1",
    "rul-noise30-lr-backbone0.0002-dropout0.2-seed0",
    "rul-noise30-lr-backbone0.0002-dropout0.2-seed1",
  ]);
  assert.equal(jobs[2].label, "rul lr-backbone=0.0002 dropout=0.2");
  assert.equal(jobs[2].config.optim?.lrBackbone, 2e-4);
  assert.equal(jobs[2].config.model?.dropout, 0.2);
  assert.equal(jobs[2].config.model?.inputSize, 32, "plan config kept beside the swept key");
  assert.deepEqual(jobs[2].params, { "optim.lrBackbone": 2e-4, "model.dropout": 0.2 });
  assert.throws(
    () => ablationJobs({ ...PLAN, sweep: { "optim.lr": [1] } }),
    /"optim.lr".*lrBackbone/,
  );
  assert.throws(() => ablationJobs({ ...PLAN, sweep: { seed: [1] } }), /an axis of the grid/);
  assert.throws(() => ablationJobs({ ...PLAN, sweep: { epochs: [] } }), /non-empty/);
  // Without a sweep the label is the variant, as before.
  assert.deepEqual(ablationJobs(PLAN).map((j) => j.label), ["baseline", "baseline", "rul", "rul"]);
});

Deno.test("createGrid writes specs once, keeps indexes when the plan grows, names conflicts", () => {
  const dir = tmp();
  try {
    const g = createGrid(dir, PLAN);
    assert.deepEqual(g.runs.map((r) => r.index), [0, 1, 2, 3]);
    assert.equal(g.runs[3].dir, path.join(dir, "runs", "rul-noise30-seed1"));
    const spec = JSON.parse(fs.readFileSync(path.join(dir, "specs", "3.json"), "utf8"));
    assert.equal(spec.variant, "rul");
    assert.equal(spec.seed, 1);
    assert.equal(spec.optim.lrBackbone, 2e-4, "spec is the complete config (defaults filled)");
    assert.equal(fs.readFileSync(path.join(dir, "specs", "3.name"), "utf8"), "rul-noise30-seed1\n");
    const before = fs.statSync(path.join(dir, "grid.json")).mtimeMs;
    createGrid(dir, PLAN);
    assert.equal(fs.statSync(path.join(dir, "grid.json")).mtimeMs, before, "same plan: unchanged");
    const grown = createGrid(dir, { ...PLAN, seeds: [0, 1, 2] });
    const idx = Object.fromEntries(grown.runs.map((r) => [r.name, r.index]));
    assert.equal(idx["rul-noise30-seed1"], 3, "old runs keep their index");
    assert.equal(idx["baseline-noise30-seed2"], 4);
    assert.equal(idx["rul-noise30-seed2"], 5);
    const shrunk = createGrid(dir, { ...PLAN, variants: ["rul"], seeds: [2] });
    assert.deepEqual(shrunk.runs.map((r) => r.index), [5]);
    assert.deepEqual(loadGrid(dir).runs.map((r) => r.name), ["rul-noise30-seed2"]);
    assert.equal(createGrid(dir, PLAN).runs[0].index, 0, "dropped runs come back with their index");
    assert.throws(
      () => createGrid(dir, { ...PLAN, config: { ...PLAN.config, epochs: 5 } }),
      /run baseline-noise30-seed0 exists with another configuration/,
    );
    assert.throws(() => createGrid(dir, { ...PLAN, config: { epochs: 0 } }), /grid run .*epochs/);
    assert.throws(() => loadGrid(path.join(dir, "nothing")), /no grid in .*grid.json/);
    assert.deepEqual(selectRuns(loadGrid(dir), ["2", "rul-noise30-seed1"]).map((r) => r.index), [
      2,
      3,
    ]);
    assert.throws(() => selectRuns(loadGrid(dir), ["rul-seed9"]), /no run "rul-seed9"; runs: 0=/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

Deno.test("arraySpec compresses index ranges and adds the throttle", () => {
  assert.equal(arraySpec([7, 0, 1, 2, 5, 8]), "0-2,5,7-8");
  assert.equal(arraySpec([3], 2), "3%2");
  assert.throws(() => arraySpec([]), /no runs/);
});

Deno.test("decideState: summary, scheduler, markers and cancellations give the run state", () => {
  const folder = (o: Partial<RunFolderState> = {}): RunFolderState => ({
    summary: null,
    epochsLogged: 0,
    start: null,
    exit: null,
    problem: null,
    ...o,
  });
  const slurm: SubmitEvent = {
    kind: "submit",
    backend: "slurm",
    job: "41",
    host: "login1",
    indexes: [2],
    time: "",
  };
  const started = { index: 2, job: "41_2", host: "node7", pid: 1, start: "" };
  const sched = (state: string, detail = "") => ({ state, detail, source: "squeue" as const });
  const st = (...a: Parameters<typeof decideState>) => decideState(...a).state;
  const summary = {
    variant: "rul",
    epochs: 2,
    best_epoch: 1,
    best_epoch_test_acc: 0.5,
    last_epoch_test_acc: 0.4,
  };
  assert.equal(st(slurm, folder({ summary }), sched("RUNNING"), false, 2), "done");
  assert.equal(st(undefined, folder(), undefined, false, 2), "not-submitted");
  assert.equal(st(slurm, folder(), sched("PENDING", "Priority"), false, 2), "queued");
  assert.equal(st(slurm, folder(), sched("RUNNING"), false, 2), "running");
  assert.equal(st(slurm, folder(), sched("CANCELLED"), false, 2), "cancelled");
  assert.equal(st(slurm, folder(), sched("TIMEOUT"), false, 2), "failed");
  assert.equal(st(slurm, folder(), sched("OUT_OF_MEMORY"), false, 2), "failed");
  assert.match(
    decideState(slurm, folder(), sched("COMPLETED"), false, 2).detail,
    /no summary\.json/,
  );
  // The scheduler forgot the task: the markers decide.
  const term = { code: 143, signal: "TERM", end: "" };
  assert.equal(st(slurm, folder({ start: started, exit: term }), undefined, true, 2), "cancelled");
  assert.match(
    decideState(slurm, folder({ start: started, exit: term }), undefined, false, 2).detail,
    /killed by SIGTERM \(time limit, preemption or cancel\)/,
  );
  assert.equal(
    decideState(
      slurm,
      folder({ start: started, exit: { code: 3, signal: "", end: "" } }),
      undefined,
      false,
      2,
    )
      .detail,
    "exit code 3",
  );
  assert.equal(st(slurm, folder({ start: started }), undefined, false, 2), "unknown");
  assert.equal(st(slurm, folder(), undefined, false, 2), "unknown");
  assert.equal(st(slurm, folder(), undefined, true, 2), "cancelled");
  // A marker of an older attempt does not count for the new submission.
  const old = { ...started, job: "40_2" };
  assert.equal(st(slurm, folder({ start: old, exit: term }), undefined, false, 2), "unknown");
  // Local runs: a live process is running, a dead one without exit record failed.
  const local: SubmitEvent = {
    ...slurm,
    backend: "local",
    job: `local-${Deno.pid}`,
    host: shortHost(),
  };
  const mine = {
    index: 2,
    job: `local-${Deno.pid}_2`,
    host: shortHost(),
    pid: Deno.pid,
    start: "",
  };
  assert.equal(st(local, folder({ start: mine }), undefined, false, 2), "running");
  assert.equal(st(local, folder(), undefined, false, 2), "queued", "runner alive, not started");
  const dead = 2 ** 22 + 12345; // above Linux's pid_max default: no such process
  assert.equal(st(local, folder({ start: { ...mine, pid: dead } }), undefined, false, 2), "failed");
  assert.equal(st({ ...local, job: `local-${dead}` }, folder(), undefined, false, 2), "failed");
  assert.equal(st(slurm, folder({ problem: "bad summary" }), sched("RUNNING"), false, 2), "failed");
});

Deno.test("collectGrid: mean ± s.d. of the finished runs, missing runs listed (by hand)", () => {
  const dir = tmp();
  try {
    const g = createGrid(dir, { ...PLAN, seeds: [0, 1, 2] });
    const acc: Record<string, [number, number]> = {
      "baseline-noise30-seed0": [0.5, 0.4],
      "baseline-noise30-seed1": [0.7, 0.6],
      "baseline-noise30-seed2": [0.6, 0.5],
      "rul-noise30-seed1": [0.8, 0.75],
    };
    for (const [name, [best, last]] of Object.entries(acc)) {
      fs.mkdirSync(path.join(dir, "runs", name), { recursive: true });
      writeRunSummary(path.join(dir, "runs", name), {
        variant: name.split("-")[0],
        epochs: 2,
        best_epoch: 1,
        best_epoch_test_acc: best,
        last_epoch_test_acc: last,
      });
    }
    const c = collectGrid(g);
    assert.deepEqual(c.missing.map((m) => m.name), ["rul-noise30-seed0", "rul-noise30-seed2"]);
    const [b, r] = c.rows;
    assert.equal(b.seeds, 3);
    assert.ok(Math.abs(b.best.mean - 0.6) < 1e-12 && Math.abs(b.best.std - 0.1) < 1e-12);
    assert.deepEqual(r.missing, [0, 2]);
    assert.equal(r.seeds, 1);
    assert.equal(r.best.std, 0);
    assert.ok(c.markdown.includes("| 30 % | baseline | 3 | 60.00 ± 10.00 | 50.00 ± 10.00 |"));
    assert.ok(c.markdown.includes("| 30 % | rul | 1 of 3 (missing seeds 0, 2) | 80.00 ± 0.00 |"));
    assert.ok(c.markdown.includes("Missing runs (2 of 6): rul-noise30-seed0, rul-noise30-seed2"));
    // A row with every run missing shows "missing" and gets no bar.
    const rows = summarizeAblation([], [{ variant: "rul", noise: 0.1, seed: 0 }]);
    assert.ok(
      ablationMarkdown(rows).includes("| 10 % | rul | 0 of 1 (missing seed 0) | missing |"),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
