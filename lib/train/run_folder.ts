/**
 * Run folders: one folder per training run, never silently reused.
 *
 * A folder "holds a run" when it contains any of {@link RUN_MARKERS} (`config.json`, `run.json`,
 * `metrics.jsonl`, `metrics.csv`, `checkpoints/`). {@link prepareRunFolder} is the one gate every
 * writer goes through before writing anything into a run folder:
 *
 * - `mode: "new"` refuses a folder that holds a run (the error names the folder and says how to
 *   resume it, pick another folder or overwrite it); an empty or missing folder is fine;
 * - `mode: "overwrite"` deletes the earlier run's files first (only when the folder holds a run:
 *   a folder without run markers is never emptied), so no file of the old run stays beside the
 *   new ones;
 * - `mode: "resume"` requires a run (its `config.json`) and returns it.
 *
 * Stale temporary files left by a killed writer (`.<name>.tmp-*`, `.tmp-*` folders) are removed
 * by every mode.
 *
 * {@link newRunFolder} makes a fresh, readably named folder under a root for each run
 * (`<variant>-<size>px-w<width>-n<noise>-e<epochs>-s<seed>-<YYYYMMDD-HHMMSS>`, see
 * {@link runFolderName}) and points `<root>/latest` at it ({@link readLatestRun}), so re-running a
 * notebook cell or the demo never loses the previous result and runs can be compared side by side.
 * Tools that list runs (a notebook registry, Slurm grids) can rely on: every run folder has
 * `config.json` (the resolved {@link TrainConfig}) and `run.json` ({@link RunInfo}), written before
 * training starts.
 *
 * ```ts
 * const dir = newRunFolder("runs/notebooks", config); // runs/notebooks/rul-48px-…-20261130-2101
 * const t = await Trainer.create({ config, out: dir });  // refused if dir already held a run
 * ```
 *
 * @module
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomicSync } from "../io/atomic_write.ts";
import type { TrainConfig } from "./config.ts";

/** Entries whose presence marks a folder as holding a run. */
export const RUN_MARKERS: readonly string[] = Object.freeze([
  "config.json",
  "run.json",
  "metrics.jsonl",
  "metrics.csv",
  "checkpoints",
]);

/** Name of the pointer to the newest run under a runs root (a symlink, or a text file). */
export const LATEST = "latest";

/** `run.json`: identity of a run, written once when the run starts. */
export interface RunInfo {
  /** Random id of the run. */
  id: string;
  /** ISO time the run was started. */
  created: string;
  /** Training variant (for listings). */
  variant: string;
}

/** How {@link prepareRunFolder} treats a folder. */
export type RunFolderMode = "new" | "overwrite" | "resume";

/** The run markers present in `dir` (empty when it holds no run or does not exist). */
export function runMarkersIn(dir: string): string[] {
  return RUN_MARKERS.filter((m) => fs.existsSync(path.join(dir, m)));
}

/** Whether `dir` holds a run (any of {@link RUN_MARKERS}). */
export function holdsRun(dir: string): boolean {
  return runMarkersIn(dir).length > 0;
}

const TEMP_RE = /^\..+\.tmp-|^\.tmp-/;

/**
 * Remove temporary files and folders a killed writer left in `dir` and its `checkpoints/`
 * (names starting with `.tmp-` or `.<name>.tmp-`, as lib/io's atomic writer and the checkpoint
 * writer make them). Returns the removed paths.
 */
export function removeStaleTemps(dir: string): string[] {
  const removed: string[] = [];
  for (const d of [dir, path.join(dir, "checkpoints")]) {
    let names: string[];
    try {
      names = fs.readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) {
      if (!TEMP_RE.test(n)) continue;
      const p = path.join(d, n);
      fs.rmSync(p, { recursive: true, force: true });
      removed.push(p);
    }
  }
  return removed;
}

/** Read and validate `run.json` (null when absent: a run from before run ids). */
export function readRunInfo(dir: string): RunInfo | null {
  const file = path.join(dir, "run.json");
  if (!fs.existsSync(file)) return null;
  const info = readJsonFile(file, "run info") as Partial<RunInfo>;
  if (typeof info?.id !== "string") throw new Error(`${file}: no run id (corrupt run.json?)`);
  return info as RunInfo;
}

/**
 * Read a JSON file; errors name the file (unreadable, or not JSON with the parser's message).
 * @param what what the file is, for the message (e.g. "run config")
 */
export function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(`cannot read ${what} ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${what} ${file} is not valid JSON (corrupt?): ${(e as Error).message}`);
  }
}

/** What {@link prepareRunFolder} found and did. */
export interface PreparedRunFolder {
  /** The folder. */
  dir: string;
  /** The saved `config.json` (resume only; raw JSON, validated by the caller). */
  savedConfig: unknown | null;
  /** `run.json` of the run being resumed (null for new runs and runs without one). */
  info: RunInfo | null;
  /** Stale temporary files removed. */
  removedTemps: string[];
  /** Files of an earlier run removed by `overwrite`. */
  removedRun: string[];
}

/**
 * The gate before anything is written into run folder `dir` (see the module doc).
 * @throws Error naming `dir` when `mode` is "new" and it holds a run, or when `mode` is "resume"
 *   and it holds none (or its `config.json` is unreadable)
 */
export function prepareRunFolder(dir: string, mode: RunFolderMode): PreparedRunFolder {
  const markers = runMarkersIn(dir);
  const out: PreparedRunFolder = {
    dir,
    savedConfig: null,
    info: null,
    removedTemps: [],
    removedRun: [],
  };
  if (mode === "new" && markers.length) {
    throw new Error(
      `${dir} already holds a run (${markers.join(", ")}); resume it (--resume / ` +
        `Trainer.create({ resume: true })), choose another folder, or replace it (--overwrite / ` +
        `Trainer.create({ overwrite: true }))`,
    );
  }
  if (mode === "overwrite" && markers.length) {
    for (const n of fs.readdirSync(dir)) {
      const p = path.join(dir, n);
      fs.rmSync(p, { recursive: true, force: true });
      out.removedRun.push(p);
    }
  }
  if (mode === "resume") {
    const cfg = path.join(dir, "config.json");
    if (!fs.existsSync(cfg)) {
      throw new Error(`cannot resume: ${cfg} does not exist (no run in ${dir})`);
    }
    out.savedConfig = readJsonFile(cfg, "run config");
    out.info = readRunInfo(dir);
  }
  out.removedTemps = removeStaleTemps(dir);
  return out;
}

/**
 * Write `config.json` then `run.json` of a new run (both atomic) and return its {@link RunInfo}.
 * `config.json` first: a folder with a config but no `run.json` is still a resumable run.
 */
export function startRun(dir: string, config: TrainConfig): RunInfo {
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomicSync(path.join(dir, "config.json"), JSON.stringify(config, null, 2) + "\n");
  const info: RunInfo = {
    id: crypto.randomUUID(),
    created: new Date().toISOString(),
    variant: config.variant,
  };
  writeFileAtomicSync(path.join(dir, "run.json"), JSON.stringify(info, null, 2) + "\n");
  return info;
}

/** Options of {@link runFolderName} and {@link newRunFolder}. */
export interface RunNameOptions {
  /** First part of the name instead of the variant (e.g. `demo` for a folder of several runs). */
  label?: string;
  /** Start time (default now). */
  time?: Date;
}

/**
 * Readable folder name of a run: variant (or `label`), input size, first stage width, label
 * noise, epochs, seed and the start time (UTC), e.g. `rul-48px-w32-n0.3-e4-s0-20261130-210501`.
 */
export function runFolderName(config: TrainConfig, options: RunNameOptions = {}): string {
  const time = options.time ?? new Date();
  const t = time.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  const noise = config.data.noiseFile ? "nfile" : `n${config.data.noise}`;
  return [
    options.label ?? config.variant,
    `${config.model.inputSize}px`,
    `w${config.model.widths[0]}`,
    noise,
    `e${config.epochs}`,
    `s${config.seed}`,
    t,
  ].join("-");
}

/**
 * Create a fresh run folder under `root` named by {@link runFolderName} (a `-2`, `-3`, … suffix
 * when two runs start in the same second) and point `<root>/latest` at it. Returns its path.
 */
export function newRunFolder(
  root: string,
  config: TrainConfig,
  options: RunNameOptions = {},
): string {
  fs.mkdirSync(root, { recursive: true });
  const base = runFolderName(config, options);
  let name = base;
  for (let k = 2;; k++) {
    try {
      fs.mkdirSync(path.join(root, name)); // not recursive: fails when it exists
      break;
    } catch (e) {
      if ((e as { code?: string }).code !== "EEXIST") throw e;
      name = `${base}-${k}`;
    }
  }
  setLatestRun(root, name);
  return path.join(root, name);
}

/** Point `<root>/latest` at run folder `name` (a relative symlink, replaced atomically). */
export function setLatestRun(root: string, name: string): void {
  const link = path.join(root, LATEST);
  const tmp = path.join(root, `.${LATEST}.tmp-${Deno.pid}-${Date.now()}`);
  try {
    fs.symlinkSync(name, tmp);
  } catch {
    // file systems without symlinks: a one-line text file
    writeFileAtomicSync(link, name + "\n");
    return;
  }
  try {
    const st = fs.lstatSync(link, { throwIfNoEntry: false });
    if (st?.isDirectory()) throw new Error(`${link} is a folder; cannot point it at ${name}`);
    fs.renameSync(tmp, link);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** The newest run folder under `root` (from `<root>/latest`), or null when there is none. */
export function readLatestRun(root: string): string | null {
  const link = path.join(root, LATEST);
  const st = fs.lstatSync(link, { throwIfNoEntry: false });
  if (!st) return null;
  const name = st.isSymbolicLink() ? fs.readlinkSync(link) : fs.readFileSync(link, "utf8").trim();
  return path.join(root, name);
}

/**
 * Differences between two configurations as `key: a → b` lines (dotted keys; `ignore` lists keys
 * to skip, e.g. `epochs`, which a resume may change).
 */
export function configDifferences(
  a: unknown,
  b: unknown,
  ignore: readonly string[] = [],
  prefix = "",
): string[] {
  const isObj = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
    return [...keys].sort().flatMap((k) =>
      ignore.includes(prefix + k) ? [] : configDifferences(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        ignore,
        prefix + k + ".",
      )
    );
  }
  const sa = JSON.stringify(a);
  const sb = JSON.stringify(b);
  return sa === sb ? [] : [`${prefix.slice(0, -1)}: ${sa} → ${sb}`];
}
