/**
 * Submitting and cancelling a grid's runs. {@link submitGrid} sends the runs that still need
 * running (not done, not queued, not running; or only the ones named) to a backend: `slurm` (one
 * `sbatch --array` for all of them) or `local` (the same task script as separate processes on
 * this machine, waiting for them). Calling it again after a failure, a cancel or a kernel restart
 * submits just what is missing. {@link cancelGrid} cancels queued and running runs.
 *
 * @module
 */
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { type Grid, type GridRun, selectRuns } from "./grid.ts";
import { appendJournal, readJournal, type SubmitEvent } from "./journal.ts";
import { type LocalOptions, type LocalRunEnd, runLocalProcesses } from "./local.ts";
import {
  arraySpec,
  sbatch,
  sbatchHeader,
  scancel,
  type SlurmOptions,
  slurmPrologue,
} from "./slurm.ts";
import { gridStatus, type RunStatus, shortHost } from "./status.ts";
import { readRunFolder } from "./run_state.ts";
import { taskScript } from "./task_script.ts";
import { writeFileAtomicSync } from "../io/atomic_write.ts";

/** The repository root (where deno.json defines `deno task train`). */
export const REPO_ROOT: string = fileURLToPath(new URL("../../", import.meta.url));

/** Options of {@link submitGrid}. */
export interface SubmitOptions {
  /** `slurm` or `local`. */
  backend: "slurm" | "local";
  /** Slurm options (default: those of the grid's latest Slurm submission, else none). */
  slurm?: SlurmOptions;
  /** Local backend: parallel processes, progress callback, abort signal. */
  local?: LocalOptions;
  /** Shell lines run before each local run (Slurm: use `slurm.prologue`). */
  prologue?: string;
  /** Only these runs (names or indexes); default: every run that needs running. */
  only?: readonly (string | number)[];
  /**
   * Start the submitted runs from scratch: their run folders are renamed aside
   * (`<name>.old-<time>`, nothing is deleted) instead of resumed.
   */
  fresh?: boolean;
  /** Extra flags for `deno task train` (e.g. `["--backend", "tfjs-node-gpu"]`). */
  trainArgs?: string[];
  /** The Deno executable the runs use (default: this process's). */
  deno?: string;
}

/** What {@link submitGrid} did. */
export interface SubmitResult {
  /** The journal entry of the submission, or null when nothing needed submitting. */
  event: SubmitEvent | null;
  /** Runs submitted. */
  submitted: GridRun[];
  /** Runs left out, with their state (done, queued or running). */
  skipped: RunStatus[];
  /** Local backend: how each run ended. */
  local?: LocalRunEnd[];
}

const ACTIVE = new Set(["done", "queued", "running"]);

/**
 * Submit the runs that need running (see the module doc).
 *
 * @throws Error when sbatch refuses the job (its message), or a named run is not in the grid.
 */
export async function submitGrid(grid: Grid, options: SubmitOptions): Promise<SubmitResult> {
  const statuses = await gridStatus(grid);
  const chosen = new Set(selectRuns(grid, options.only ?? []).map((r) => r.index));
  const todo = statuses.filter((s) => chosen.has(s.run.index) && !ACTIVE.has(s.state));
  const skipped = statuses.filter((s) => chosen.has(s.run.index) && ACTIVE.has(s.state));
  if (todo.length === 0) return { event: null, submitted: [], skipped };
  const runs = todo.map((s) => s.run);
  if (options.fresh) {
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    for (const r of runs) if (fs.existsSync(r.dir)) fs.renameSync(r.dir, `${r.dir}.old-${stamp}`);
  }
  const jobsDir = path.join(grid.dir, "jobs");
  fs.mkdirSync(jobsDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "");
  const deno = options.deno ?? Deno.execPath();
  const base = { gridDir: grid.dir, root: REPO_ROOT, deno, trainArgs: options.trainArgs };
  const indexes = runs.map((r) => r.index);
  if (options.backend === "slurm") {
    const slurm = options.slurm ?? lastSlurmOptions(grid) ?? {};
    const script = path.join(jobsDir, `slurm-${stamp}-${process.pid}.sbatch`);
    writeFileAtomicSync(
      script,
      taskScript({ ...base, header: sbatchHeader(slurm, jobsDir), prologue: slurmPrologue(slurm) }),
    );
    const job = await sbatch(script, arraySpec(indexes, slurm.maxParallel));
    const event: SubmitEvent = {
      kind: "submit",
      backend: "slurm",
      job,
      host: shortHost(),
      indexes,
      time: new Date().toISOString(),
      script,
      slurm,
    };
    appendJournal(grid, event);
    return { event, submitted: runs, skipped };
  }
  const job = `local-${process.pid}`;
  const script = path.join(jobsDir, `${job}-${stamp}.sh`);
  writeFileAtomicSync(script, taskScript({ ...base, prologue: options.prologue }));
  const event: SubmitEvent = {
    kind: "submit",
    backend: "local",
    job,
    host: shortHost(),
    indexes,
    time: new Date().toISOString(),
    script,
  };
  appendJournal(grid, event);
  const local = await runLocalProcesses(grid, runs, script, event, options.local);
  return { event, submitted: runs, skipped, local };
}

/** The Slurm options of the grid's latest Slurm submission, if any. */
export function lastSlurmOptions(grid: Grid): SlurmOptions | undefined {
  const subs = readJournal(grid).filter((e): e is SubmitEvent =>
    e.kind === "submit" && e.backend === "slurm"
  );
  return subs.at(-1)?.slurm;
}

/**
 * Cancel the queued and running runs (or only the ones named): Slurm tasks with `scancel`, local
 * runs with SIGTERM to their task script (which stops the trainer and records the signal), and
 * the journal records the cancellation. Returns the statuses of the runs cancelled. Runs training
 * inside a notebook kernel (the in-process runner) are not cancelled: that would kill the kernel.
 *
 * @throws Error when scancel fails, a local run is on another host, or a run trains in a kernel.
 */
export async function cancelGrid(
  grid: Grid,
  only: readonly (string | number)[] = [],
): Promise<RunStatus[]> {
  const chosen = new Set(selectRuns(grid, only).map((r) => r.index));
  const statuses = (await gridStatus(grid)).filter((s) =>
    chosen.has(s.run.index) && (s.state === "queued" || s.state === "running") && s.task
  );
  if (statuses.length === 0) return [];
  const inKernel = statuses.find((s) => s.backend === "in-process");
  if (inKernel) {
    throw new Error(
      `${inKernel.run.name} trains inside a notebook kernel (${inKernel.task}): interrupt or ` +
        "restart that kernel instead",
    );
  }
  const tasks = statuses.map((s) => s.task!);
  appendJournal(grid, { kind: "cancel", tasks, time: new Date().toISOString() });
  const slurm = statuses.filter((s) => s.backend === "slurm").map((s) => s.task!);
  await scancel(slurm);
  for (const s of statuses.filter((s) => s.backend === "local")) {
    const start = readRunFolder(s.run.dir).start;
    if (s.state === "running" && start?.job === s.task) {
      if (start.host !== shortHost()) {
        throw new Error(`${s.run.name} runs on ${start.host}: cancel it there`);
      }
      try {
        process.kill(start.pid, "SIGTERM");
      } catch { /* ended meanwhile */ }
    }
  }
  return statuses;
}
