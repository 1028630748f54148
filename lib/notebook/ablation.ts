/**
 * Ablation grids for the notebooks: expand variants × noise rates × seeds into runs, run them one
 * after another with any training function (the notebook passes the {@link train} of lib/train),
 * and aggregate the best-epoch and last-epoch test accuracy over seeds (mean ± sample s.d.) into
 * a table and into the entries of the ablation bar chart.
 *
 * @module
 */
import type { TrainConfigInput } from "../train/config.ts";
import type { Variant } from "../rul/variants.ts";
import type { AblationPlan } from "./settings.ts";
import { mergeConfig } from "./settings.ts";

/** One run of a grid. */
export interface AblationJob {
  /** Variant trained. */
  variant: Variant;
  /** Fraction of flipped training labels. */
  noise: number;
  /** Training seed. */
  seed: number;
  /** Short unique name, e.g. `rul-noise30-seed1` (a run-folder name). */
  name: string;
  /** Full configuration input of the run. */
  config: TrainConfigInput;
}

/** The outcome of one run. */
export interface AblationResult {
  /** Variant trained. */
  variant: string;
  /** Fraction of flipped training labels. */
  noise: number;
  /** Training seed. */
  seed: number;
  /** Highest test accuracy over the epochs (the official script's number). */
  bestTestAcc: number;
  /** Test accuracy after the last epoch (the paper's noise tables). */
  lastTestAcc: number;
}

/** One row of the aggregated table: a variant at a noise rate over its seeds. */
export interface AblationRow {
  /** Variant. */
  variant: string;
  /** Noise rate. */
  noise: number;
  /** Number of seeds aggregated. */
  seeds: number;
  /** Best-epoch accuracy: mean, sample s.d. (0 for one seed) and the per-seed values. */
  best: { mean: number; std: number; values: number[] };
  /** Last-epoch accuracy: mean, sample s.d. and the per-seed values. */
  last: { mean: number; std: number; values: number[] };
}

/** Noise rate as a percentage label, e.g. 0.3 → "30 %". */
export function noiseLabel(noise: number): string {
  return `${Math.round(noise * 100)} %`;
}

/** Expand a plan into jobs, ordered noise → variant → seed. */
export function ablationJobs(plan: AblationPlan): AblationJob[] {
  if (plan.variants.length === 0 || plan.noises.length === 0 || plan.seeds.length === 0) {
    throw new Error("ablationJobs: the plan needs at least one variant, noise rate and seed");
  }
  const jobs: AblationJob[] = [];
  for (const noise of plan.noises) {
    if (!(noise >= 0 && noise < 1)) throw new Error(`ablationJobs: noise ${noise} not in [0, 1)`);
    for (const variant of plan.variants) {
      for (const seed of plan.seeds) {
        const pct = String(Math.round(noise * 100)).padStart(2, "0");
        jobs.push({
          variant,
          noise,
          seed,
          name: `${variant}-noise${pct}-seed${seed}`,
          config: mergeConfig(plan.config, { variant, seed, data: { noise } }),
        });
      }
    }
  }
  return jobs;
}

/** What {@link runAblation} needs from a training run. */
export interface RunOutcome {
  /** Best-epoch test accuracy. */
  bestTestAcc: number;
  /** Last-epoch test accuracy. */
  lastTestAcc: number;
}

/**
 * Run the jobs one after another with `trainFn` and collect the results; `onResult` is called
 * after each run (e.g. to refresh a live table), with the results so far.
 *
 * @throws Error naming the job when a run fails.
 */
export async function runAblation(
  jobs: readonly AblationJob[],
  trainFn: (job: AblationJob) => Promise<RunOutcome>,
  onResult?: (
    result: AblationResult,
    done: readonly AblationResult[],
    total: number,
  ) => void | Promise<void>,
): Promise<AblationResult[]> {
  const done: AblationResult[] = [];
  for (const job of jobs) {
    let r: RunOutcome;
    try {
      r = await trainFn(job);
    } catch (e) {
      throw new Error(`ablation run ${job.name} failed: ${(e as Error).message}`, { cause: e });
    }
    const res: AblationResult = {
      variant: job.variant,
      noise: job.noise,
      seed: job.seed,
      bestTestAcc: r.bestTestAcc,
      lastTestAcc: r.lastTestAcc,
    };
    done.push(res);
    await onResult?.(res, done, jobs.length);
  }
  return done;
}

function stats(values: number[]): { mean: number; std: number; values: number[] } {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const ss = values.reduce((a, v) => a + (v - mean) ** 2, 0);
  return { mean, std: n > 1 ? Math.sqrt(ss / (n - 1)) : 0, values };
}

/**
 * Aggregate results over seeds: one row per (noise, variant), in order of first appearance.
 * @throws Error when a result is not finite or a (variant, noise, seed) appears twice.
 */
export function summarizeAblation(results: readonly AblationResult[]): AblationRow[] {
  const groups = new Map<string, AblationResult[]>();
  const seen = new Set<string>();
  for (const r of results) {
    if (!Number.isFinite(r.bestTestAcc) || !Number.isFinite(r.lastTestAcc)) {
      throw new Error(
        `summarizeAblation: ${r.variant} noise ${r.noise} seed ${r.seed}: not finite`,
      );
    }
    const id = `${r.variant}|${r.noise}|${r.seed}`;
    if (seen.has(id)) {
      throw new Error(`summarizeAblation: ${r.variant} noise ${r.noise} seed ${r.seed} twice`);
    }
    seen.add(id);
    const key = `${r.noise}|${r.variant}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(r);
  }
  const rows = [...groups.values()].map((g) => ({
    variant: g[0].variant,
    noise: g[0].noise,
    seeds: g.length,
    best: stats(g.map((r) => r.bestTestAcc)),
    last: stats(g.map((r) => r.lastTestAcc)),
  }));
  return rows.sort((a, b) => a.noise - b.noise);
}

/** The table as Markdown (accuracies in %, mean ± s.d.), for `Deno.jupyter.md` or a file. */
export function ablationMarkdown(rows: readonly AblationRow[]): string {
  const pct = (s: { mean: number; std: number }) =>
    `${(100 * s.mean).toFixed(2)} ± ${(100 * s.std).toFixed(2)}`;
  const lines = [
    "| noise | variant | seeds | best-epoch acc (%) | last-epoch acc (%) |",
    "| ---: | --- | ---: | ---: | ---: |",
    ...rows.map((r) =>
      `| ${noiseLabel(r.noise)} | ${r.variant} | ${r.seeds} | ${pct(r.best)} | ${pct(r.last)} |`
    ),
  ];
  return lines.join("\n");
}

/**
 * Entries of the ablation bar chart (`ablationBars` of lib/plots): one bar per variant ×
 * noise rate, named `variant @ noise`, holding the per-seed values of the chosen metric.
 */
export function ablationEntries(
  rows: readonly AblationRow[],
  metric: "best" | "last",
): { name: string; values: number[] }[] {
  const multiNoise = new Set(rows.map((r) => r.noise)).size > 1;
  return rows.map((r) => ({
    name: multiNoise ? `${r.variant} @ ${noiseLabel(r.noise)}` : r.variant,
    values: r[metric].values,
  }));
}
