/**
 * A grid is data: an ablation plan (variants × noise rates × swept hyper-parameters × seeds, see
 * `AblationPlan` of lib/notebook) expanded into run specifications, each a complete, validated
 * training configuration with its own run folder, all kept in one grid folder:
 *
 * ```text
 * <grid>/grid.json          the plan and every run: index, name, label, variant, noise, seed
 * <grid>/specs/<i>.json     the resolved training config of run i (`deno task train --config`)
 * <grid>/specs/<i>.name     the run's name (its folder is <grid>/runs/<name>)
 * <grid>/runs/<name>/       the run folder (config, metrics, checkpoints, summary.json)
 * <grid>/submissions.jsonl  one line per submission (backend, job id, run indexes, options)
 * <grid>/jobs/              the submitted job scripts and the scheduler's log files
 * ```
 *
 * Everything needed to run, watch and collect the grid is in this folder (plus the scheduler), so
 * a notebook kernel or a terminal can pick it up at any time. A run's index never changes: when the
 * plan of an existing grid changes, runs keep their index (a name whose configuration changed is
 * an error), new runs get new indexes and runs dropped from the plan stay on disk but leave
 * {@link Grid.runs}.
 *
 * @module
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomicSync } from "../io/atomic_write.ts";
import { resolveTrainConfig, type TrainConfig } from "../train/config.ts";
import { ablationJobs } from "../notebook/ablation.ts";
import type { AblationPlan } from "../notebook/settings.ts";

/** `format` of grid.json. */
export const GRID_FORMAT = "rul-grid/1";

/** One run of a grid. */
export interface GridRun {
  /** Index in the grid (stable; the Slurm array task id). */
  index: number;
  /** Unique name (also the run folder's name). */
  name: string;
  /** Row label of the aggregated table (variant plus swept values). */
  label: string;
  /** Variant trained. */
  variant: string;
  /** Noise rate. */
  noise: number;
  /** Seed. */
  seed: number;
  /** Swept hyper-parameter values by dotted key. */
  params: Record<string, number | string | boolean>;
  /** Absolute path of the run folder. */
  dir: string;
  /** The complete training configuration. */
  config: TrainConfig;
}

/** An opened grid folder. */
export interface Grid {
  /** Absolute path of the grid folder. */
  dir: string;
  /** The plan the runs come from. */
  plan: AblationPlan;
  /** The runs of the current plan, in plan order. */
  runs: GridRun[];
}

interface GridFile {
  format: string;
  plan: AblationPlan;
  /** Every run ever planned in this folder (the current plan's are listed in `active`). */
  runs: Omit<GridRun, "dir" | "config">[];
  active: string[];
}

/** Path of the spec file (resolved config) of run `index`. */
export function specFile(gridDir: string, index: number): string {
  return path.join(gridDir, "specs", `${index}.json`);
}

/**
 * Create (or update) the grid in `dir` from `plan`: expands the plan, validates every run's
 * configuration, writes grid.json and the spec files. Calling it again with the same plan changes
 * nothing, so a notebook cell can run it after every kernel restart.
 *
 * @throws Error naming the run when a configuration is invalid, or when a run of the same name
 * already exists in `dir` with another configuration.
 */
export function createGrid(dir: string, plan: AblationPlan): Grid {
  const gridDir = path.resolve(dir);
  const jobs = ablationJobs(plan);
  const configs = jobs.map((j) => resolveTrainConfig(j.config, `grid run ${j.name}`));
  const file = path.join(gridDir, "grid.json");
  const old = fs.existsSync(file) ? readGridFile(file) : null;
  const known = new Map((old?.runs ?? []).map((r) => [r.name, r]));
  let next = (old?.runs ?? []).reduce((m, r) => Math.max(m, r.index + 1), 0);
  const all = [...(old?.runs ?? [])];
  const runs: GridRun[] = jobs.map((j, k) => {
    const prev = known.get(j.name);
    if (prev) {
      const index = prev.index;
      const stored = readSpec(gridDir, index);
      if (JSON.stringify(stored) !== JSON.stringify(configs[k])) {
        throw new Error(
          `grid ${gridDir}: run ${j.name} exists with another configuration ` +
            `(${specFile(gridDir, index)}); use a new grid folder for the changed plan`,
        );
      }
    }
    const entry = {
      index: prev?.index ?? next++,
      name: j.name,
      label: j.label,
      variant: j.variant,
      noise: j.noise,
      seed: j.seed,
      params: j.params,
    };
    if (!prev) all.push(entry);
    return {
      ...entry,
      dir: path.join(gridDir, "runs", j.name),
      config: configs[k],
    };
  });
  fs.mkdirSync(path.join(gridDir, "specs"), { recursive: true });
  for (const r of runs) {
    if (known.has(r.name)) continue;
    writeFileAtomicSync(specFile(gridDir, r.index), JSON.stringify(r.config, null, 2) + "\n");
    writeFileAtomicSync(path.join(gridDir, "specs", `${r.index}.name`), r.name + "\n");
  }
  const content: GridFile = {
    format: GRID_FORMAT,
    plan,
    runs: all,
    active: runs.map((r) => r.name),
  };
  const text = JSON.stringify(content, null, 1) + "\n";
  if (!old || fs.readFileSync(file, "utf8") !== text) writeFileAtomicSync(file, text);
  return { dir: gridDir, plan, runs };
}

/**
 * Open the grid stored in `dir` (e.g. after a kernel restart, or from the CLI).
 *
 * @throws Error when `dir` holds no grid.json, or a spec file is missing or invalid.
 */
export function loadGrid(dir: string): Grid {
  const gridDir = path.resolve(dir);
  const file = path.join(gridDir, "grid.json");
  if (!fs.existsSync(file)) {
    throw new Error(
      `no grid in ${gridDir} (${file} does not exist): create one with ` +
        "`deno task grid submit --grid DIR --plan plan.json` or createGrid()",
    );
  }
  const g = readGridFile(file);
  const byName = new Map(g.runs.map((r) => [r.name, r]));
  const runs = g.active.map((name) => {
    const r = byName.get(name);
    if (!r) throw new Error(`${file}: active run ${name} is not listed in "runs"`);
    return { ...r, dir: path.join(gridDir, "runs", r.name), config: readSpec(gridDir, r.index) };
  });
  return { dir: gridDir, plan: g.plan, runs };
}

function readGridFile(file: string): GridFile {
  let g: GridFile;
  try {
    g = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`cannot read grid ${file}: ${(e as Error).message}`);
  }
  if (g?.format !== GRID_FORMAT || !Array.isArray(g.runs) || !Array.isArray(g.active)) {
    throw new Error(`${file} is not a grid file (format "${g?.format}", expected ${GRID_FORMAT})`);
  }
  return g;
}

function readSpec(gridDir: string, index: number): TrainConfig {
  const file = specFile(gridDir, index);
  let input: unknown;
  try {
    input = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`cannot read grid spec ${file}: ${(e as Error).message}`);
  }
  return resolveTrainConfig(input as TrainConfig, file);
}

/**
 * Select runs by name or index (`"rul-noise30-seed1"`, `"3"`); all runs when `only` is empty.
 *
 * @throws Error listing the valid names when one is not in the grid.
 */
export function selectRuns(grid: Grid, only: readonly (string | number)[] = []): GridRun[] {
  if (only.length === 0) return grid.runs;
  return only.map((o) => {
    const r = grid.runs.find((r) => r.name === String(o) || String(r.index) === String(o));
    if (!r) {
      throw new Error(
        `grid ${grid.dir} has no run "${o}"; runs: ` +
          grid.runs.map((r) => `${r.index}=${r.name}`).join(", "),
      );
    }
    return r;
  });
}
