/**
 * The grid's journal, `<grid>/submissions.jsonl`: one JSON line per submission (backend, job id,
 * run indexes, options, script) and per cancellation (the task ids cancelled). Appended, never
 * rewritten; status and resubmission read it back, so they work from any process at any time.
 *
 * @module
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Grid } from "./grid.ts";
import type { SlurmOptions } from "./slurm.ts";

/** Where runs are executed. */
export type GridBackend = "slurm" | "local" | "in-process";

/** A submission of some runs of the grid. */
export interface SubmitEvent {
  /** Event kind. */
  kind: "submit";
  /** Backend. */
  backend: GridBackend;
  /**
   * Job id: the Slurm array job id, or `local-<pid>` / `in-process-<pid>` of the process running
   * the runs. The task id of run i is `<job>_<i>`.
   */
  job: string;
  /** Host of the submitting process. */
  host: string;
  /** Indexes of the runs submitted. */
  indexes: number[];
  /** Time (ISO 8601). */
  time: string;
  /** The job script, when there is one. */
  script?: string;
  /** Slurm options of the submission (a later resubmission reuses them by default). */
  slurm?: SlurmOptions;
}

/** A cancellation. */
export interface CancelEvent {
  /** Event kind. */
  kind: "cancel";
  /** Task ids cancelled (`<job>_<i>`). */
  tasks: string[];
  /** Time (ISO 8601). */
  time: string;
}

/** One line of the journal. */
export type JournalEvent = SubmitEvent | CancelEvent;

/** Path of the journal. */
export function journalFile(grid: Grid): string {
  return path.join(grid.dir, "submissions.jsonl");
}

/**
 * Read the journal (empty when absent).
 *
 * @throws Error naming the file and line of a line that is not JSON.
 */
export function readJournal(grid: Grid): JournalEvent[] {
  const file = journalFile(grid);
  if (!fs.existsSync(file)) return [];
  const events: JournalEvent[] = [];
  fs.readFileSync(file, "utf8").split("\n").forEach((line, k) => {
    if (line.trim() === "") return;
    try {
      events.push(JSON.parse(line));
    } catch (e) {
      throw new Error(`${file}:${k + 1}: not JSON (${(e as Error).message})`);
    }
  });
  return events;
}

/** Append an event (one line, one write). */
export function appendJournal(grid: Grid, event: JournalEvent): void {
  fs.mkdirSync(grid.dir, { recursive: true });
  fs.appendFileSync(journalFile(grid), JSON.stringify(event) + "\n");
}

/** The latest submission of each run index. */
export function latestSubmissions(events: readonly JournalEvent[]): Map<number, SubmitEvent> {
  const m = new Map<number, SubmitEvent>();
  for (const e of events) if (e.kind === "submit") { for (const i of e.indexes) m.set(i, e); }
  return m;
}

/** Task ids ever cancelled through the grid. */
export function cancelledTasks(events: readonly JournalEvent[]): Set<string> {
  return new Set(events.flatMap((e) => e.kind === "cancel" ? e.tasks : []));
}
