/**
 * The state of every run of a grid, from the run folders, the journal and the scheduler, with no
 * state in memory: `done` (the run folder has summary.json), `queued`, `running`, `failed`,
 * `cancelled`, `unknown` (submitted, but neither the scheduler nor the run folder can tell what
 * happened) and `not-submitted`. While Slurm remembers a task (squeue, or sacct with accounting)
 * its state wins; afterwards the task script's start/exit markers in the run folder decide.
 *
 * @module
 */
import * as os from "node:os";
import process from "node:process";
import type { Grid, GridRun } from "./grid.ts";
import { cancelledTasks, latestSubmissions, readJournal, type SubmitEvent } from "./journal.ts";
import { readRunFolder, type RunFolderState } from "./run_state.ts";
import { type SchedulerTask, slurmTaskStates } from "./slurm.ts";

/** State of a run. */
export type RunState =
  | "done"
  | "queued"
  | "running"
  | "failed"
  | "cancelled"
  | "unknown"
  | "not-submitted";

/** Every state, in display order. */
export const RUN_STATES: readonly RunState[] = [
  "done",
  "running",
  "queued",
  "failed",
  "cancelled",
  "unknown",
  "not-submitted",
];

/** Status of one run. */
export interface RunStatus {
  /** The run. */
  run: GridRun;
  /** Its state. */
  state: RunState;
  /** Why (scheduler state and reason, exit code, signal, …), or "". */
  detail: string;
  /** Task id of the latest submission (`<job>_<index>`), or null. */
  task: string | null;
  /** Backend of the latest submission, or null. */
  backend: SubmitEvent["backend"] | null;
  /** Epochs logged in the run folder, and the run's total. */
  epochs: { logged: number; total: number };
  /** Best-epoch and last-epoch test accuracy when done. */
  acc: { best: number; last: number } | null;
}

const QUEUED = new Set([
  "PENDING",
  "REQUEUED",
  "REQUEUE_HOLD",
  "REQUEUE_FED",
  "CONFIGURING",
  "RESV_DEL_HOLD",
]);
const RUNNING = new Set(["RUNNING", "COMPLETING", "STAGE_OUT", "SIGNALING", "SUSPENDED"]);

/** Whether process `pid` exists on this host. */
function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Short host name, as `hostname -s` prints it. */
export function shortHost(): string {
  return os.hostname().split(".")[0];
}

/**
 * Decide one run's state (exported for tests; {@link gridStatus} gathers the inputs).
 *
 * @param sub latest submission of the run, if any.
 * @param folder what the run folder says.
 * @param sched the scheduler's record of the task, if it has one.
 * @param cancelled whether the grid cancelled this task.
 */
export function decideState(
  sub: SubmitEvent | undefined,
  folder: RunFolderState,
  sched: SchedulerTask | undefined,
  cancelled: boolean,
  index: number,
): { state: RunState; detail: string } {
  if (folder.summary) return { state: "done", detail: "" };
  if (folder.problem) return { state: "failed", detail: folder.problem };
  if (!sub) {
    return {
      state: "not-submitted",
      detail: folder.epochsLogged ? `${folder.epochsLogged} epochs logged earlier` : "",
    };
  }
  const task = `${sub.job}_${index}`;
  if (sched) {
    const d = `${sched.state}${
      sched.detail && sched.detail !== "None" ? ` (${sched.detail})` : ""
    }`;
    if (QUEUED.has(sched.state)) return { state: "queued", detail: d };
    if (RUNNING.has(sched.state)) return { state: "running", detail: d };
    if (sched.state === "CANCELLED") return { state: "cancelled", detail: d };
    if (sched.state === "COMPLETED") {
      return { state: "failed", detail: "job COMPLETED but the run folder has no summary.json" };
    }
    return { state: "failed", detail: d };
  }
  const mine = folder.start?.job === task;
  const local = sub.backend !== "slurm";
  const sameHost = sub.host === shortHost();
  if (mine && folder.exit) {
    const { code, signal } = folder.exit;
    if (signal || code >= 128) {
      const how = signal ? `SIG${signal}` : `signal ${code - 128}`;
      return cancelled
        ? { state: "cancelled", detail: `cancelled (${how})` }
        : { state: "failed", detail: `killed by ${how} (time limit, preemption or cancel)` };
    }
    return {
      state: "failed",
      detail: code === 0 ? "exited 0 without summary.json" : `exit code ${code}`,
    };
  }
  if (mine) {
    if (local && sameHost) {
      if (alive(folder.start!.pid)) return { state: "running", detail: `pid ${folder.start!.pid}` };
      return cancelled
        ? { state: "cancelled", detail: "cancelled (no exit record)" }
        : { state: "failed", detail: "the process ended without an exit record" };
    }
    return {
      state: cancelled ? "cancelled" : "unknown",
      detail: `started on ${folder.start!.host}; the scheduler no longer knows ${task} and ` +
        "there is no exit record (node failure?)",
    };
  }
  if (cancelled) return { state: "cancelled", detail: "cancelled before it started" };
  if (local && sameHost) {
    const runner = Number(sub.job.split("-").pop());
    return alive(runner)
      ? { state: "queued", detail: `waiting in ${sub.job}` }
      : { state: "failed", detail: `${sub.job} stopped before this run started` };
  }
  return {
    state: "unknown",
    detail: `submitted as ${task}, which the scheduler does not know (any more)`,
  };
}

/**
 * Status of every run of the grid (Slurm tasks are queried in one squeue call).
 *
 * @throws Error when the journal is unreadable or squeue fails.
 */
export async function gridStatus(grid: Grid): Promise<RunStatus[]> {
  const events = readJournal(grid);
  const subs = latestSubmissions(events);
  const cancelled = cancelledTasks(events);
  const folders = grid.runs.map((r) => readRunFolder(r.dir));
  const slurmJobs = grid.runs
    .map((r, k) => folders[k].summary ? undefined : subs.get(r.index))
    .filter((s): s is SubmitEvent => s?.backend === "slurm")
    .map((s) => s.job);
  const sched = await slurmTaskStates(slurmJobs);
  return grid.runs.map((run, k) => {
    const sub = subs.get(run.index);
    const task = sub ? `${sub.job}_${run.index}` : null;
    const { state, detail } = decideState(
      sub,
      folders[k],
      task && sub?.backend === "slurm" ? sched.get(task) : undefined,
      task ? cancelled.has(task) : false,
      run.index,
    );
    const s = folders[k].summary;
    return {
      run,
      state,
      detail,
      task,
      backend: sub?.backend ?? null,
      epochs: { logged: folders[k].epochsLogged, total: run.config.epochs },
      acc: s ? { best: s.best_epoch_test_acc, last: s.last_epoch_test_acc } : null,
    };
  });
}

/** Count of runs per state. */
export function countStates(statuses: readonly RunStatus[]): Record<RunState, number> {
  const c = Object.fromEntries(RUN_STATES.map((s) => [s, 0])) as Record<RunState, number>;
  for (const s of statuses) c[s.state]++;
  return c;
}

/** Whether no run is queued or running any more. */
export function gridSettled(statuses: readonly RunStatus[]): boolean {
  return statuses.every((s) => s.state !== "queued" && s.state !== "running");
}

/** One line of counts, e.g. `6 runs: 3 done, 1 running, 2 queued`. */
export function statusLine(statuses: readonly RunStatus[]): string {
  const c = countStates(statuses);
  const parts = RUN_STATES.filter((s) => c[s] > 0).map((s) => `${c[s]} ${s}`);
  return `${statuses.length} runs: ${parts.join(", ")}`;
}

/** The status as a Markdown table (one row per run). */
export function statusMarkdown(statuses: readonly RunStatus[]): string {
  const pct = (v: number) => (100 * v).toFixed(2);
  return [
    `**${statusLine(statuses)}**`,
    "",
    "| # | run | state | epochs | best / last acc (%) | task | detail |",
    "| ---: | --- | --- | ---: | ---: | --- | --- |",
    ...statuses.map((s) =>
      `| ${s.run.index} | ${s.run.name} | ${s.state} | ${s.epochs.logged}/${s.epochs.total} | ` +
      `${s.acc ? `${pct(s.acc.best)} / ${pct(s.acc.last)}` : ""} | ${s.task ?? ""} | ` +
      `${s.detail.replace(/\|/g, "/")} |`
    ),
  ].join("\n");
}
