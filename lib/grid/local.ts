/**
 * Running grid runs on this machine: as separate processes (the grid's task script, N at a time:
 * what `deno task grid submit --backend local` does), or inside the current process with any
 * training function (the notebooks' local path, which keeps their live curves). Both write the
 * same run folders, markers and journal entries as the Slurm backend, so status and collection do
 * not care where a run went.
 *
 * @module
 */
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import type { Grid, GridRun } from "./grid.ts";
import { appendJournal, cancelledTasks, readJournal, type SubmitEvent } from "./journal.ts";
import { TASK_EXIT_FILE, TASK_START_FILE } from "./run_state.ts";
import { shellQuote } from "./task_script.ts";
import { shortHost } from "./status.ts";
import { readRunSummary, type RunSummary, writeRunSummary } from "../train/summary.ts";
import { writeFileAtomicSync } from "../io/atomic_write.ts";

/** Outcome of one local run. */
export interface LocalRunEnd {
  /** The run. */
  run: GridRun;
  /** Exit status of the task script (0 = finished). */
  code: number;
  /** Its log file. */
  log: string;
}

/** Options of {@link runLocalProcesses}. */
export interface LocalOptions {
  /** Runs at the same time (default 1: one after another). */
  parallel?: number;
  /** Called when a run ends. */
  onRunEnd?: (end: LocalRunEnd, finished: number, total: number) => void;
  /** Stops launching new runs and signals the running ones (SIGTERM) when aborted. */
  signal?: AbortSignal;
}

/**
 * Run `runs` as separate processes of the task script `script`, at most `parallel` at a time,
 * and wait for all of them. Each writes its output to `<grid>/jobs/<job>_<i>.log`.
 */
export async function runLocalProcesses(
  grid: Grid,
  runs: readonly GridRun[],
  script: string,
  event: SubmitEvent,
  options: LocalOptions = {},
): Promise<LocalRunEnd[]> {
  const parallel = Math.max(1, options.parallel ?? 1);
  const ends: LocalRunEnd[] = [];
  const children = new Set<Deno.ChildProcess>();
  const onAbort = () => {
    for (const c of children) {
      try {
        c.kill("SIGTERM");
      } catch { /* already gone */ }
    }
  };
  options.signal?.addEventListener("abort", onAbort);
  let next = 0;
  const worker = async () => {
    while (next < runs.length && !options.signal?.aborted) {
      const run = runs[next++];
      // `grid cancel` may have cancelled a run still waiting here.
      if (cancelledTasks(readJournal(grid)).has(`${event.job}_${run.index}`)) continue;
      const log = path.join(grid.dir, "jobs", `${event.job}_${run.index}.log`);
      const child = new Deno.Command("bash", {
        args: ["-c", `exec bash ${shellQuote(script)} > ${shellQuote(log)} 2>&1`],
        env: { RUL_GRID_TASK: String(run.index), RUL_GRID_JOB: `${event.job}_${run.index}` },
        stdin: "null",
      }).spawn();
      children.add(child);
      const { code } = await child.status;
      children.delete(child);
      const end = { run, code, log };
      ends.push(end);
      options.onRunEnd?.(end, ends.length, runs.length);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(parallel, runs.length) }, worker));
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }
  return ends;
}

/** What the in-process training function returns (lib/train's `TrainResult` fits). */
export interface InProcessResult {
  /** Epochs trained in total. */
  epochs: number;
  /** Best-epoch test accuracy. */
  bestTestAcc: number;
  /** Its epoch. */
  bestEpoch: number;
  /** Last-epoch test accuracy. */
  lastTestAcc: number;
}

/** Options of {@link runGridInProcess}. */
export interface InProcessOptions {
  /** Only these runs (names or indexes); default: every run. */
  only?: readonly (string | number)[];
  /** Called after each run with its summary. */
  onRunEnd?: (run: GridRun, summary: RunSummary, finished: number, total: number) => void;
}

/**
 * Train the grid's unfinished runs one after another in this process with `trainFn` (the
 * notebooks pass lib/train's `train`), resuming a run whose folder holds a checkpoint, and write
 * each run's summary.json (so status and collection see it as done). Finished runs are skipped.
 *
 * @param trainFn trains `run` into `run.dir` (with `resume` when it is true).
 * @returns the runs trained now.
 * @throws Error naming the run when one fails (the runs finished before it keep their results).
 */
export async function runGridInProcess(
  grid: Grid,
  trainFn: (run: GridRun, resume: boolean) => Promise<InProcessResult>,
  options: InProcessOptions = {},
): Promise<GridRun[]> {
  const wanted = options.only?.length
    ? grid.runs.filter((r) => options.only!.some((o) => String(o) === r.name || o === r.index))
    : grid.runs;
  const todo = wanted.filter((r) => readRunSummary(r.dir) === null);
  if (todo.length === 0) return [];
  const job = `in-process-${process.pid}`;
  appendJournal(grid, {
    kind: "submit",
    backend: "in-process",
    job,
    host: shortHost(),
    indexes: todo.map((r) => r.index),
    time: new Date().toISOString(),
  });
  let finished = 0;
  for (const run of todo) {
    fs.mkdirSync(run.dir, { recursive: true });
    fs.rmSync(path.join(run.dir, TASK_EXIT_FILE), { force: true });
    const start = {
      index: run.index,
      job: `${job}_${run.index}`,
      host: shortHost(),
      pid: process.pid,
      start: new Date().toISOString(),
    };
    writeFileAtomicSync(path.join(run.dir, TASK_START_FILE), JSON.stringify(start) + "\n");
    // a started run resumes (from epoch 1 when killed before its first checkpoint)
    const resume = fs.existsSync(path.join(run.dir, "config.json"));
    let r: InProcessResult;
    const exit = (code: number) =>
      writeFileAtomicSync(
        path.join(run.dir, TASK_EXIT_FILE),
        JSON.stringify({ code, signal: "", end: new Date().toISOString() }) + "\n",
      );
    try {
      r = await trainFn(run, resume);
    } catch (e) {
      exit(1);
      throw new Error(`grid run ${run.name} failed: ${(e as Error).message}`, { cause: e });
    }
    const summary: RunSummary = {
      variant: run.variant,
      epochs: r.epochs,
      best_epoch_test_acc: r.bestTestAcc,
      best_epoch: r.bestEpoch,
      last_epoch_test_acc: r.lastTestAcc,
    };
    writeRunSummary(run.dir, summary);
    exit(0);
    options.onRunEnd?.(run, summary, ++finished, todo.length);
  }
  return todo;
}
