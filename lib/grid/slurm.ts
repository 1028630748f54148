/**
 * The Slurm backend: a grid's runs go out as one job array (`sbatch --array=<indexes>`), each
 * array task running the grid's task script (lib/grid/task_script.ts) for the run whose index is
 * its `SLURM_ARRAY_TASK_ID`. Slurm does the placement, the limits and the retries (`--requeue`);
 * this module only writes the script, submits it, asks the scheduler for the state of the tasks
 * (`squeue`, which knows finished jobs for `MinJobAge` seconds, then `sacct` where accounting is
 * configured) and cancels them (`scancel`). The commands come from `PATH`; `SLURM_CONF` in the
 * environment selects a cluster's configuration as for any Slurm command.
 *
 * @module
 */
import * as path from "node:path";

/** Resources and behaviour of the submitted job array (each option maps to one `sbatch` flag). */
export interface SlurmOptions {
  /** `--partition`. */
  partition?: string;
  /** `--time` limit per run, e.g. `04:00:00` or `1-00:00:00`. */
  time?: string;
  /** `--cpus-per-task` (also sets `RUL_THREADS` for the wasm backend unless the prologue does). */
  cpus?: number;
  /** `--mem`, e.g. `16G`. */
  mem?: string;
  /** GPUs per run: `--gres=gpu:<n>` (a number) or `--gres=gpu:<type>:<n>` (e.g. `"a100:1"`). */
  gpus?: number | string;
  /** `--requeue`: let Slurm requeue a run after a node failure or preemption (it resumes). */
  requeue?: boolean;
  /** Shell lines run before training (e.g. `module load cuda/11.2 cudnn/8.1`, exports). */
  prologue?: string;
  /** At most this many runs at once (`--array=...%N`). */
  maxParallel?: number;
  /** `--job-name` (default `rul-grid`). */
  jobName?: string;
  /** Any further `sbatch` arguments, e.g. `["--account=fer", "--qos=normal"]`. */
  sbatchArgs?: string[];
}

/** Output of a scheduler command. */
interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(cmd: string, args: string[]): Promise<Out> {
  let r: Deno.CommandOutput;
  try {
    r = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  } catch (e) {
    throw new Error(
      `cannot run ${cmd} (${(e as Error).message}); is Slurm installed and on PATH?`,
    );
  }
  const dec = new TextDecoder();
  return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
}

/** `#SBATCH` lines for the options (the array spec itself is given on the command line). */
export function sbatchHeader(o: SlurmOptions, logDir: string): string[] {
  const h = [
    `#SBATCH --job-name=${o.jobName ?? "rul-grid"}`,
    `#SBATCH --output=${path.join(logDir, "slurm-%A_%a.out")}`,
  ];
  if (o.partition) h.push(`#SBATCH --partition=${o.partition}`);
  if (o.time) h.push(`#SBATCH --time=${o.time}`);
  if (o.cpus !== undefined) h.push(`#SBATCH --cpus-per-task=${o.cpus}`);
  if (o.mem) h.push(`#SBATCH --mem=${o.mem}`);
  if (o.gpus !== undefined && o.gpus !== 0) h.push(`#SBATCH --gres=gpu:${o.gpus}`);
  h.push(o.requeue ? "#SBATCH --requeue" : "#SBATCH --no-requeue");
  for (const a of o.sbatchArgs ?? []) h.push(`#SBATCH ${a}`);
  return h;
}

/** The prologue of the job script: the user's lines, and `RUL_THREADS` from `--cpus-per-task`. */
export function slurmPrologue(o: SlurmOptions): string {
  return [
    'if [ -z "${RUL_THREADS:-}" ] && [ -n "${SLURM_CPUS_PER_TASK:-}" ]; then export RUL_THREADS="$SLURM_CPUS_PER_TASK"; fi',
    o.prologue ?? "",
  ].join("\n");
}

/** `--array` value for run indexes: `0,3,5` (and `%N` with maxParallel). */
export function arraySpec(indexes: readonly number[], maxParallel?: number): string {
  if (indexes.length === 0) throw new Error("arraySpec: no runs to submit");
  const sorted = [...indexes].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let k = 0; k < sorted.length;) {
    let e = k;
    while (e + 1 < sorted.length && sorted[e + 1] === sorted[e] + 1) e++;
    parts.push(e > k ? `${sorted[k]}-${sorted[e]}` : `${sorted[k]}`);
    k = e + 1;
  }
  return parts.join(",") + (maxParallel ? `%${maxParallel}` : "");
}

/**
 * `sbatch --parsable --array=<spec> <script>`; returns the array job id.
 *
 * @throws Error with sbatch's message when the submission is refused.
 */
export async function sbatch(script: string, array: string): Promise<string> {
  const r = await run("sbatch", ["--parsable", `--array=${array}`, script]);
  const id = r.stdout.trim().split(";")[0];
  if (r.code !== 0 || !/^\d+$/.test(id)) {
    throw new Error(
      `sbatch --array=${array} ${script} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`,
    );
  }
  return id;
}

/** A task's state as the scheduler reports it. */
export interface SchedulerTask {
  /** Slurm job state (`PENDING`, `RUNNING`, `COMPLETED`, `FAILED`, `CANCELLED`, `TIMEOUT`, …). */
  state: string;
  /** squeue's reason (pending) or sacct's exit code, when given. */
  detail: string;
  /** Which command reported it. */
  source: "squeue" | "sacct";
}

/**
 * States of the array tasks of `jobIds`, keyed `<job>_<task>`: first `squeue -r -t all` (pending,
 * running and recently finished tasks), then `sacct` for jobs squeue no longer knows, when the
 * cluster has accounting (without it sacct refuses and those tasks are simply absent).
 *
 * @throws Error when squeue fails for another reason than unknown job ids.
 */
export async function slurmTaskStates(
  jobIds: readonly string[],
): Promise<Map<string, SchedulerTask>> {
  const states = new Map<string, SchedulerTask>();
  if (jobIds.length === 0) return states;
  const ids = [...new Set(jobIds)].join(",");
  const q = await run("squeue", ["-h", "-r", "-t", "all", "-j", ids, "-o", "%i|%T|%r"]);
  if (q.code !== 0 && !/invalid job id/i.test(q.stderr)) {
    throw new Error(`squeue -j ${ids} failed (exit ${q.code}): ${q.stderr.trim()}`);
  }
  for (const line of q.stdout.split("\n")) {
    const [id, state, reason] = line.trim().split("|");
    if (id && state) states.set(id, { state, detail: reason ?? "", source: "squeue" });
  }
  const jobsSeen = new Set([...states.keys()].map((k) => k.split("_")[0]));
  const unknown = [...new Set(jobIds)].filter((j) => !jobsSeen.has(j));
  if (unknown.length) {
    const a = await run("sacct", [
      "-n",
      "-P",
      "-X",
      "-j",
      unknown.join(","),
      "-o",
      "JobID,State,ExitCode",
    ]);
    if (a.code === 0) {
      for (const line of a.stdout.split("\n")) {
        const [id, state, exit] = line.trim().split("|");
        if (!id || !state || !/^\d+_\d+$/.test(id) || states.has(id)) continue;
        states.set(id, { state: state.split(" ")[0], detail: `exit ${exit}`, source: "sacct" });
      }
    }
  }
  return states;
}

/**
 * `scancel` the given array tasks (`<job>_<task>`) or whole jobs.
 *
 * @throws Error with scancel's message when it fails.
 */
export async function scancel(targets: readonly string[]): Promise<void> {
  if (targets.length === 0) return;
  const r = await run("scancel", [...targets]);
  if (r.code !== 0) {
    throw new Error(`scancel ${targets.join(" ")} failed (exit ${r.code}): ${r.stderr.trim()}`);
  }
}
