/**
 * What a run folder says about its run: finished (`summary.json`, see lib/train/summary.ts), how
 * many epochs are logged in `metrics.jsonl`, and the two marker files the grid's task script
 * writes: `grid-task.json` when an attempt starts (index, job, host, pid, time) and
 * `grid-exit.json` when it ends (exit code, signal received, time). The scheduler knows more while
 * it remembers the job; these files are what remains afterwards (and all there is for local runs).
 *
 * @module
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { readRunSummary, type RunSummary } from "../train/summary.ts";

/** Marker written by the task script when an attempt starts. */
export interface TaskStart {
  /** Run index in the grid. */
  index: number;
  /** Scheduler job id of the attempt (`<array job>_<task>` on Slurm, `local-<pid>` locally). */
  job: string;
  /** Host the attempt runs on. */
  host: string;
  /** Process id of the task script. */
  pid: number;
  /** Start time (ISO 8601, UTC). */
  start: string;
}

/** Marker written by the task script when an attempt ends. */
export interface TaskExit {
  /** Exit status of `deno task train` (128 + n when killed by signal n). */
  code: number;
  /** Signal the task script received (`TERM`, `INT`), or "". */
  signal: string;
  /** End time (ISO 8601, UTC). */
  end: string;
}

/** Everything read from one run folder. */
export interface RunFolderState {
  /** The summary when the run has finished, else null. */
  summary: RunSummary | null;
  /** Epochs logged so far in metrics.jsonl. */
  epochsLogged: number;
  /** Start marker of the latest attempt, if any. */
  start: TaskStart | null;
  /** Exit marker of the latest attempt, if it has ended. */
  exit: TaskExit | null;
  /** Why the folder could not be read fully (a corrupt summary or marker), else null. */
  problem: string | null;
}

/** File names of the task markers. */
export const TASK_START_FILE = "grid-task.json";
/** See {@link TASK_START_FILE}. */
export const TASK_EXIT_FILE = "grid-exit.json";

function readJson<T>(file: string): T | null {
  if (!fs.existsSync(file)) return null;
  return JSON.parse(fs.readFileSync(file, "utf8")) as T;
}

/** Count the epoch records of `<runDir>/metrics.jsonl` (0 when absent). */
export function epochsLogged(runDir: string): number {
  const file = path.join(runDir, "metrics.jsonl");
  if (!fs.existsSync(file)) return 0;
  return fs.readFileSync(file, "utf8").split("\n").filter((l) => l.trim() !== "").length;
}

/** Read a run folder (a missing folder reads as a run that never started). */
export function readRunFolder(runDir: string): RunFolderState {
  const st: RunFolderState = {
    summary: null,
    epochsLogged: 0,
    start: null,
    exit: null,
    problem: null,
  };
  if (!fs.existsSync(runDir)) return st;
  try {
    st.summary = readRunSummary(runDir);
  } catch (e) {
    st.problem = (e as Error).message;
  }
  st.epochsLogged = epochsLogged(runDir);
  for (const [key, file] of [["start", TASK_START_FILE], ["exit", TASK_EXIT_FILE]] as const) {
    try {
      // deno-lint-ignore no-explicit-any
      (st as any)[key] = readJson(path.join(runDir, file));
    } catch (e) {
      st.problem ??= `${path.join(runDir, file)}: ${(e as Error).message}`;
    }
  }
  return st;
}
