/**
 * The bash script that runs one run of a grid: the same body for every backend. It reads its run
 * index from `SLURM_ARRAY_TASK_ID` (Slurm job arrays) or `RUL_GRID_TASK` (local backend), finds
 * the spec `<grid>/specs/<i>.json` and the run name, and runs `deno task train` for it in the run
 * folder `<grid>/runs/<name>`: fresh with `--config <spec>`, or `--resume` when the folder already
 * holds a checkpoint of an earlier attempt (cancelled, timed out, preempted, requeued). A run whose
 * `summary.json` exists is not trained again. It writes the start and exit markers of
 * lib/grid/run_state.ts, and forwards SIGTERM/SIGINT (scancel, time limit, Ctrl-C) to the trainer
 * so the exit marker records the signal.
 *
 * @module
 */
import { TASK_EXIT_FILE, TASK_START_FILE } from "./run_state.ts";
import { SUMMARY_FILE } from "../train/summary.ts";

/** Quote a string for bash (single quotes). */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** What the script needs to know. */
export interface TaskScriptOptions {
  /** Absolute grid folder. */
  gridDir: string;
  /** Repository root (where `deno task train` is defined); must be on the compute nodes too. */
  root: string;
  /** The Deno executable (default: the one running now). */
  deno: string;
  /** Shell lines run first (module loads, environment variables, `source venv/bin/activate`). */
  prologue?: string;
  /** Extra flags for `deno task train` (e.g. `--backend tfjs-node-gpu`). */
  trainArgs?: string[];
  /** Lines placed right after the `#!` line (the `#SBATCH` directives). */
  header?: string[];
}

/** The task script's text. */
export function taskScript(o: TaskScriptOptions): string {
  const train = (o.trainArgs ?? []).map(shellQuote).join(" ");
  return [
    "#!/bin/bash",
    ...(o.header ?? []),
    "# One run of a rul-notebooks grid (lib/grid/task_script.ts).",
    ...(o.prologue
      ? ["# --- prologue ---", o.prologue.trimEnd(), "# --- end of prologue ---"]
      : []),
    "set -uo pipefail",
    `G=${shellQuote(o.gridDir)}`,
    `ROOT=${shellQuote(o.root)}`,
    `DENO=\${RUL_GRID_DENO:-${shellQuote(o.deno)}}`,
    'i="${SLURM_ARRAY_TASK_ID:-${RUL_GRID_TASK:-}}"',
    'if [ -z "$i" ]; then echo "grid task: neither SLURM_ARRAY_TASK_ID nor RUL_GRID_TASK is set" >&2; exit 2; fi',
    'spec="$G/specs/$i.json"',
    'if [ ! -f "$spec" ] || [ ! -f "$G/specs/$i.name" ]; then echo "grid task $i: no spec $spec" >&2; exit 2; fi',
    'name="$(cat "$G/specs/$i.name")"',
    'out="$G/runs/$name"',
    'if [ -n "${SLURM_ARRAY_JOB_ID:-}" ]; then job="${SLURM_ARRAY_JOB_ID}_$i"; else job="${RUL_GRID_JOB:-local}"; fi',
    'mkdir -p "$out" || exit 2',
    `if [ -f "$out/${SUMMARY_FILE}" ]; then echo "grid task $i ($name): already finished"; exit 0; fi`,
    // Traps first, so a signal at any point below is recorded (and forwarded once training runs).
    'child=""; sig=""',
    'forward() { sig=$1; if [ -n "$child" ]; then kill -"$1" -- -"$child" 2>/dev/null; fi; }',
    "trap 'forward TERM' TERM",
    "trap 'forward INT' INT",
    `rm -f "$out/${TASK_EXIT_FILE}"`,
    "now() { date -u +%Y-%m-%dT%H:%M:%SZ; }",
    `printf '{"index":%s,"job":"%s","host":"%s","pid":%s,"start":"%s"}\\n' "$i" "$job" "$(hostname -s)" "$$" "$(now)" > "$out/${TASK_START_FILE}"`,
    // a started run (config.json) resumes, from its last checkpoint or, killed before the
    // first one, from epoch 1 (lib/train/run_folder.ts refuses a fresh run in its folder)
    `if [ -f "$out/config.json" ]; then`,
    '  args=(--resume); echo "grid task $i ($name): resuming the run in $out"',
    "else",
    '  args=(--config "$spec")',
    "fi",
    `echo "grid task $i ($name) on $(hostname -s), job $job: $DENO task train \${args[*]} --out $out"`,
    'cd "$ROOT" || exit 2',
    // Job control: the trainer gets its own process group, so a forwarded signal reaches
    // `deno task` and the `deno run` it starts.
    "set -m",
    `"$DENO" task train "\${args[@]}" --out "$out" --progress lines${train ? " " + train : ""} &`,
    "child=$!",
    'if [ -n "$sig" ]; then kill -"$sig" -- -"$child" 2>/dev/null; fi',
    'wait "$child"; rc=$?',
    'while kill -0 "$child" 2>/dev/null; do wait "$child"; rc=$?; done',
    `printf '{"code":%d,"signal":"%s","end":"%s"}\\n' "$rc" "$sig" "$(now)" > "$out/${TASK_EXIT_FILE}"`,
    'echo "grid task $i ($name): exit $rc${sig:+ after SIG$sig}"',
    'exit "$rc"',
    "",
  ].join("\n");
}
