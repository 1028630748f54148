/**
 * Ablation grids for the notebooks: expand variants × noise rates × swept hyper-parameters × seeds
 * into runs, run them one after another with any training function (the notebook passes the
 * {@link train} of lib/train), and aggregate the best-epoch and last-epoch test accuracy over seeds
 * (mean ± sample s.d.) into a table and into the entries of the ablation bar chart. Runs that
 * are missing (not finished, failed, cancelled) can be passed to {@link summarizeAblation} and are
 * shown as missing. lib/grid runs the same jobs as separate processes or on Slurm. Each variant is
 * also compared with the reference over the same seeds (paired t interval of the difference).
 *
 * @module
 */
import { type PairedInterval, pairedTInterval } from "../eval/stats.ts";
import { mergeConfig, optionName, TRAIN_OPTIONS, type TrainConfigInput } from "../train/config.ts";
import type { Variant } from "../rul/variants.ts";
import type { AblationPlan } from "./settings.ts";

/** One run of a grid. */
export interface AblationJob {
  /** Variant trained. */
  variant: Variant;
  /** Fraction of flipped training labels. */
  noise: number;
  /** Training seed. */
  seed: number;
  /** Values of the swept hyper-parameters, by dotted config key (empty without a sweep). */
  params: Record<string, number | string | boolean>;
  /**
   * Row label of the aggregated table: the variant, followed by the swept values
   * (e.g. `rul lr-backbone=0.001`); the seeds of one label and noise rate are aggregated.
   */
  label: string;
  /**
   * Short unique name, e.g. `rul-noise30-seed1` or `rul-noise30-lr-backbone0.001-seed1` (a
   * run-folder name: letters, digits, `.`, `_` and `-` only).
   */
  name: string;
  /** Full configuration input of the run. */
  config: TrainConfigInput;
}

/** The outcome of one run. */
export interface AblationResult {
  /** Variant trained, or the job's {@link AblationJob.label} when hyper-parameters are swept. */
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
  /** Seeds of this row whose run is missing (not finished); empty when none is. */
  missing: number[];
  /** Best-epoch accuracy: mean, sample s.d. (0 for one seed) and the per-seed values. */
  best: { mean: number; std: number; values: number[] };
  /** Last-epoch accuracy: mean, sample s.d. and the per-seed values. */
  last: { mean: number; std: number; values: number[] };
}

/** Noise rate as a percentage label, e.g. 0.3 → "30 %". */
export function noiseLabel(noise: number): string {
  return `${Math.round(noise * 100)} %`;
}

function valueText(v: unknown): string {
  return typeof v === "number" ? String(v) : String(v).replace(/[^A-Za-z0-9._-]+/g, "_");
}

/**
 * The swept hyper-parameters of a plan as (dotted key, CLI flag, values), checked: every key is a
 * training option other than variant, seed and data.noise (the grid's own axes), with at least one
 * value.
 *
 * @throws Error naming the key and listing the valid keys.
 */
export function sweepAxes(
  plan: AblationPlan,
): { key: string; flag: string; values: (number | string | boolean)[] }[] {
  const axes = [];
  for (const [key, values] of Object.entries(plan.sweep ?? {})) {
    const spec = TRAIN_OPTIONS.find((o) => o.key === key);
    if (!spec || key === "variant" || key === "seed" || key === "data.noise") {
      const valid = TRAIN_OPTIONS.map((o) => o.key).filter((k) =>
        k !== "variant" && k !== "seed" && k !== "data.noise"
      );
      throw new Error(
        `ablation plan: cannot sweep "${key}"` +
          (spec ? " (it is an axis of the grid: use variants, noises or seeds)" : "") +
          `; sweepable keys: ${valid.join(", ")}`,
      );
    }
    if (!Array.isArray(values) || values.length === 0) {
      throw new Error(`ablation plan: sweep "${key}" needs a non-empty list of values`);
    }
    axes.push({ key, flag: optionName(key), values });
  }
  return axes;
}

/**
 * Expand a plan into jobs, ordered noise → variant → swept values (first key slowest) → seed.
 * Each swept value is set at its dotted key of the run's config.
 *
 * @throws Error when an axis is empty, a noise rate is outside [0, 1) or a sweep key is unknown.
 */
export function ablationJobs(plan: AblationPlan): AblationJob[] {
  if (plan.variants.length === 0 || plan.noises.length === 0 || plan.seeds.length === 0) {
    throw new Error("ablationJobs: the plan needs at least one variant, noise rate and seed");
  }
  const axes = sweepAxes(plan);
  let combos: Record<string, number | string | boolean>[] = [{}];
  for (const a of axes) combos = combos.flatMap((c) => a.values.map((v) => ({ ...c, [a.key]: v })));
  const jobs: AblationJob[] = [];
  for (const noise of plan.noises) {
    if (!(noise >= 0 && noise < 1)) throw new Error(`ablationJobs: noise ${noise} not in [0, 1)`);
    for (const variant of plan.variants) {
      for (const params of combos) {
        const swept = axes.map((a) => ({ flag: a.flag, v: params[a.key] }));
        const label = [variant, ...swept.map((p) => `${p.flag}=${p.v}`)].join(" ");
        const nameParams = swept.map((p) => `-${p.flag}${valueText(p.v)}`).join("");
        const sweepInput: Record<string, unknown> = {};
        for (const [key, v] of Object.entries(params)) setDotted(sweepInput, key, v);
        for (const seed of plan.seeds) {
          const pct = String(Math.round(noise * 100)).padStart(2, "0");
          jobs.push({
            variant,
            noise,
            seed,
            params,
            label,
            name: `${variant}-noise${pct}${nameParams}-seed${seed}`,
            config: mergeConfig(plan.config, sweepInput as TrainConfigInput, {
              variant,
              seed,
              data: { noise },
            }),
          });
        }
      }
    }
  }
  const names = new Set<string>();
  for (const j of jobs) {
    if (names.has(j.name)) throw new Error(`ablationJobs: two runs are named ${j.name}`);
    names.add(j.name);
  }
  return jobs;
}

function setDotted(obj: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split(".");
  let o = obj;
  for (const p of parts.slice(0, -1)) o = (o[p] ??= {}) as Record<string, unknown>;
  o[parts[parts.length - 1]] = value;
}

/** What {@link runAblation} needs from a training run. */
export interface RunOutcome {
  /** Best-epoch test accuracy. */
  bestTestAcc: number;
  /** Last-epoch test accuracy. */
  lastTestAcc: number;
  /** Set when the run stopped early (the trainer's `result.stopped`, e.g. an interrupt). */
  stopped?: { reason: string; epoch: number; step: number } | null;
}

/**
 * Run the jobs one after another with `trainFn` and collect the results; `onResult` is called
 * after each run (e.g. to refresh a live table), with the results so far. A run that reports
 * `stopped` (Kernel > Interrupt during a run) ends the grid: the completed runs are returned.
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
    if (r.stopped) {
      // An interrupted (or otherwise stopped) run ends the grid: its numbers are from a partial
      // training, so only the completed runs are returned.
      console.log(
        `ablation: run ${job.name} stopped (${r.stopped.reason}) in epoch ${r.stopped.epoch}; ` +
          `grid ended after ${done.length} complete run(s) of ${jobs.length}`,
      );
      break;
    }
    const res: AblationResult = {
      variant: job.label,
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
  if (n === 0) return { mean: NaN, std: NaN, values };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const ss = values.reduce((a, v) => a + (v - mean) ** 2, 0);
  return { mean, std: n > 1 ? Math.sqrt(ss / (n - 1)) : 0, values };
}

/** A run of the grid without a result (see {@link summarizeAblation}). */
export interface MissingRun {
  /** Variant (or label, as in {@link AblationResult.variant}). */
  variant: string;
  /** Noise rate. */
  noise: number;
  /** Seed. */
  seed: number;
}

/**
 * Aggregate results over seeds: one row per (noise, variant), in order of first appearance, noise
 * rates ascending. Runs in `missing` are counted in their row's {@link AblationRow.missing}; a
 * row whose runs are all missing has NaN statistics and no values.
 *
 * mean = (1/n) Σ v_i, s.d. = sqrt(Σ (v_i − mean)² / (n − 1)) (0 for n = 1).
 *
 * @throws Error when a result is not finite or a (variant, noise, seed) appears twice.
 */
export function summarizeAblation(
  results: readonly AblationResult[],
  missing: readonly MissingRun[] = [],
): AblationRow[] {
  const groups = new Map<string, { variant: string; noise: number; done: AblationResult[] }>();
  const missingOf = new Map<string, number[]>();
  const seen = new Set<string>();
  const group = (variant: string, noise: number) => {
    const key = `${noise}|${variant}`;
    if (!groups.has(key)) groups.set(key, { variant, noise, done: [] });
    return { key, g: groups.get(key)! };
  };
  const once = (variant: string, noise: number, seed: number) => {
    const id = `${variant}|${noise}|${seed}`;
    if (seen.has(id)) {
      throw new Error(`summarizeAblation: ${variant} noise ${noise} seed ${seed} twice`);
    }
    seen.add(id);
  };
  for (const r of results) {
    if (!Number.isFinite(r.bestTestAcc) || !Number.isFinite(r.lastTestAcc)) {
      throw new Error(
        `summarizeAblation: ${r.variant} noise ${r.noise} seed ${r.seed}: not finite`,
      );
    }
    once(r.variant, r.noise, r.seed);
    group(r.variant, r.noise).g.done.push(r);
  }
  for (const m of missing) {
    once(m.variant, m.noise, m.seed);
    const { key } = group(m.variant, m.noise);
    if (!missingOf.has(key)) missingOf.set(key, []);
    missingOf.get(key)!.push(m.seed);
  }
  const rows = [...groups.entries()].map(([key, g]) => ({
    variant: g.variant,
    noise: g.noise,
    seeds: g.done.length,
    missing: missingOf.get(key) ?? [],
    best: stats(g.done.map((r) => r.bestTestAcc)),
    last: stats(g.done.map((r) => r.lastTestAcc)),
  }));
  return rows.sort((a, b) => a.noise - b.noise);
}

/**
 * The table as Markdown (accuracies in %, mean ± s.d.), for `Deno.jupyter.md` or a file. A row
 * with missing runs says so in its seeds column (`1 of 3 (missing seeds 1, 2)`); a row without any
 * result shows `missing` in the accuracy columns.
 */
export function ablationMarkdown(rows: readonly AblationRow[]): string {
  const pct = (s: { mean: number; std: number }) =>
    Number.isFinite(s.mean)
      ? `${(100 * s.mean).toFixed(2)} ± ${(100 * s.std).toFixed(2)}`
      : "missing";
  const seeds = (r: AblationRow) =>
    r.missing.length === 0 ? `${r.seeds}` : `${r.seeds} of ${r.seeds + r.missing.length} ` +
      `(missing seed${r.missing.length > 1 ? "s" : ""} ${r.missing.join(", ")})`;
  const lines = [
    "| noise | variant | seeds | best-epoch acc (%) | last-epoch acc (%) |",
    "| ---: | --- | ---: | ---: | ---: |",
    ...rows.map((r) =>
      `| ${noiseLabel(r.noise)} | ${r.variant} | ${seeds(r)} | ${pct(r.best)} | ${pct(r.last)} |`
    ),
  ];
  return lines.join("\n");
}

/**
 * Entries of the ablation bar chart (`ablationBars` of lib/plots): one bar per variant ×
 * noise rate, named `variant @ noise`, holding the per-seed values of the chosen metric. Rows
 * without any result (all runs missing) get no bar.
 */
export function ablationEntries(
  rows: readonly AblationRow[],
  metric: "best" | "last",
): { name: string; values: number[] }[] {
  const multiNoise = new Set(rows.map((r) => r.noise)).size > 1;
  return rows.filter((r) => r.seeds > 0).map((r) => ({
    name: multiNoise ? `${r.variant} @ ${noiseLabel(r.noise)}` : r.variant,
    values: r[metric].values,
  }));
}

/** One row of {@link pairedDifferences}: a variant minus the reference at one noise rate. */
export interface PairedRow {
  /** Variant compared. */
  variant: string;
  /** Reference variant (usually the baseline). */
  reference: string;
  /** Noise rate. */
  noise: number;
  /** Seeds paired (sorted). */
  seeds: number[];
  /** Paired t interval of best-epoch accuracy, variant − reference. */
  best: PairedInterval;
  /** Paired t interval of last-epoch accuracy, variant − reference. */
  last: PairedInterval;
}

/**
 * Paired comparison over seeds: for every variant other than `reference` and every noise rate,
 * the differences variant − reference of the best-epoch and last-epoch accuracy of the SAME seed
 * (same data, same flipped labels, same initial backbone), and the paired t interval of their mean
 * (`d̄ ± t_{(1+level)/2, n−1} · s_d / √n`; lib/eval/stats). Seeds present for only one of the two
 * are left out; fewer than 2 common seeds gives no row.
 */
export function pairedDifferences(
  results: readonly AblationResult[],
  reference = "baseline",
  level = 0.95,
): PairedRow[] {
  const key = (r: AblationResult) => `${r.variant}|${r.noise}|${r.seed}`;
  const byKey = new Map(results.map((r) => [key(r), r]));
  const rows: PairedRow[] = [];
  const seen = new Set<string>();
  for (const r of results) {
    const id = `${r.variant}|${r.noise}`;
    if (r.variant === reference || seen.has(id)) continue;
    seen.add(id);
    const pairs = results
      .filter((x) => x.variant === r.variant && x.noise === r.noise)
      .map((x) => [byKey.get(`${reference}|${x.noise}|${x.seed}`), x] as const)
      .filter((p): p is readonly [AblationResult, AblationResult] => p[0] !== undefined)
      .sort((a, b) => a[1].seed - b[1].seed);
    if (pairs.length < 2) continue;
    rows.push({
      variant: r.variant,
      reference,
      noise: r.noise,
      seeds: pairs.map((p) => p[1].seed),
      best: pairedTInterval(
        pairs.map((p) => p[0].bestTestAcc),
        pairs.map((p) => p[1].bestTestAcc),
        level,
      ),
      last: pairedTInterval(
        pairs.map((p) => p[0].lastTestAcc),
        pairs.map((p) => p[1].lastTestAcc),
        level,
      ),
    });
  }
  return rows.sort((a, b) => a.noise - b.noise);
}

/** What a paired interval supports: ahead, behind, or no difference established (contains 0). */
export function intervalVerdict(
  p: PairedInterval,
): "ahead" | "behind" | "no difference established" {
  return p.low > 0 ? "ahead" : p.high < 0 ? "behind" : "no difference established";
}

/** `rul ahead` / `rul behind` / `no difference established` for a variant's interval. */
export function verdictText(variant: string, p: PairedInterval): string {
  const v = intervalVerdict(p);
  return v === "no difference established" ? v : `${variant} ${v}`;
}

/** The paired comparison as Markdown (points of accuracy: mean difference, interval, per seed). */
export function pairedMarkdown(rows: readonly PairedRow[]): string {
  const pts = (v: number) => `${v >= 0 ? "+" : "−"}${Math.abs(100 * v).toFixed(2)}`;
  const cell = (p: PairedInterval) =>
    `${pts(p.mean)} [${pts(p.low)}, ${pts(p.high)}] (${p.differences.map(pts).join(", ")})`;
  const level = rows[0] ? Math.round(rows[0].last.level * 100) : 95;
  return [
    `| noise | comparison | seeds | best-epoch: mean [${level} % paired t interval] (per seed) | ` +
    `last-epoch: mean [${level} % paired t interval] (per seed) | last-epoch verdict |`,
    "| ---: | --- | ---: | --- | --- | --- |",
    ...rows.map((r) =>
      `| ${noiseLabel(r.noise)} | ${r.variant} − ${r.reference} | ${r.seeds.length} | ` +
      `${cell(r.best)} | ${cell(r.last)} | ${verdictText(r.variant, r.last)} |`
    ),
  ].join("\n");
}
