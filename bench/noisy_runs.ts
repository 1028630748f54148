/**
 * The run files of `deno task bench:noisy` (bench/noisy.ts) and of its PyTorch twin
 * (tools/bench_noisy_torch.py): their types, the reader, and the summary a measurement file under
 * docs/measurements/ records (tools/measurement.ts `bench-noisy`).
 *
 * @module
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { type AblationResult, pairedDifferences } from "../lib/notebook/ablation.ts";
import { welchTInterval } from "../lib/eval/stats.ts";
import { meanStd } from "../lib/plots/ablation.ts";

/** Per-epoch figures of one run (both implementations write the same fields). */
export type EpochRecord = {
  epoch: number;
  test_acc: number;
  /** Training-mode fit of the flipped labels (augmented, mixed features for RUL). */
  train_acc_flipped: number | null;
  /** Eval-mode fit of the flipped labels: predicted class = noisy label, no augmentation. */
  eval_fit_flipped?: number | null;
  /** Eval-mode accuracy on the clean-labelled training samples. */
  eval_fit_clean?: number | null;
  /** Eval-mode AUROC for "flipped" of the method's per-sample score (RUL u, SCN α, EAC consistency; noise only). */
  auroc_u?: number | null;
};

/** The setting a run file was made under (a rerun skips a file only when it matches). */
export interface Setting {
  root: string;
  trainSize: number;
  testSize: number;
  size: number;
  widths: number[];
  epochs: number;
  init: string | null;
}

/** One run of either implementation. */
export interface Run extends AblationResult {
  bestEpoch: number;
  /** Eval-mode AUROC of the method's score after the last epoch (with noise), else null. */
  aurocU: number | null;
  seconds: number;
  records: EpochRecord[];
  setting?: Setting;
}

/** File name of one run: `<variant>-noise<pct>-seed<s>.json` (the PyTorch side uses the same). */
export const runFileName = (variant: string, noise: number, seed: number) =>
  `${variant}-noise${Math.round(100 * noise)}-seed${seed}.json`;

/** Runs in a results file (one run, an array of runs, or `{ results: [...] }`) or folder. */
export function readRuns(p: string): Run[] {
  if (fs.statSync(p).isDirectory()) {
    return fs.readdirSync(p).filter((f) => f.endsWith(".json")).sort().flatMap((f) =>
      readRuns(path.join(p, f))
    );
  }
  const doc = JSON.parse(fs.readFileSync(p, "utf8"));
  const runs = Array.isArray(doc) ? doc : Array.isArray(doc.results) ? doc.results : [doc];
  for (const r of runs) {
    if (typeof r?.variant !== "string" || typeof r?.noise !== "number") {
      throw new Error(`${p}: not a bench:noisy result (a run needs variant and noise)`);
    }
  }
  return runs as Run[];
}

const round = (v: number, d: number) => Math.round(v * 10 ** d) / 10 ** d;

/** Mean and s.d. in percent (2 decimals) of a figure over runs, or null without values. */
function pct(xs: number[]): { mean: number; sd: number; n: number } | null {
  if (!xs.length) return null;
  const m = meanStd(xs);
  return { mean: round(100 * m.mean, 2), sd: round(100 * m.std, 2), n: xs.length };
}

/** The last epoch's value of a record key, per run that has it. */
export function lastOf(rs: Run[], key: keyof EpochRecord): number[] {
  return rs.flatMap((r) => {
    const v = r.records[r.records.length - 1]?.[key];
    return typeof v === "number" ? [v] : [];
  });
}

/** The last-epoch AUROC of each run that has one. */
export function aurocs(rs: Run[]): number[] {
  return rs.flatMap((r) => (r.aurocU === null ? [] : [r.aurocU]));
}

/**
 * The figures of a measurement file for bench:noisy runs (docs/measurements/README.md): per noise
 * rate and variant, mean ± s.d. over seeds of the best- and last-epoch test accuracy (%), the
 * eval-mode fit of the flipped labels after the last epoch (%) and the AUROC of the method's score;
 * every variant − `reference` as a paired t interval over the common seeds (points); with `other`
 * runs (the PyTorch twin), this − other as a 95 % Welch interval; and each run's own figures.
 */
export function benchNoisySummary(runs: Run[], other: Run[] = [], reference = "baseline") {
  const keyOf = (r: Run) => `${r.noise}|${r.variant}`;
  const groups = [...new Set(runs.map(keyOf))].map((k) => runs.filter((r) => keyOf(r) === k))
    .sort((a, b) => a[0].noise - b[0].noise);
  const pts = (v: number) => round(100 * v, 2);
  const welch = (a: number[], b: number[], scale: number, d: number) => {
    if (a.length < 2 || b.length < 2) return null;
    let w;
    try {
      w = welchTInterval(b, a);
    } catch {
      return null; // both samples without spread: no interval
    }
    return {
      mean: round(scale * w.mean, d),
      low: round(scale * w.low, d),
      high: round(scale * w.high, d),
    };
  };
  const interval = (p: { mean: number; low: number; high: number }) => ({
    mean: pts(p.mean),
    low: pts(p.low),
    high: pts(p.high),
  });
  const pairedOf = (rs: Run[]) => pairedDifferences(rs as AblationResult[], reference);
  const oursPaired = pairedOf(runs), otherPaired = pairedOf(other);
  const find = (ps: ReturnType<typeof pairedOf>, r: Run) =>
    ps.find((p) => p.variant === r.variant && p.noise === r.noise);
  const rows = groups.map((rs) => {
    const { noise, variant } = rs[0];
    const po = find(oursPaired, rs[0]), pt = find(otherPaired, rs[0]);
    const au = aurocs(rs);
    const twin = other.filter((r) => keyOf(r) === keyOf(rs[0]));
    return {
      noise_pct: Math.round(100 * noise),
      variant,
      seeds: rs.map((r) => r.seed).sort((a, b) => a - b),
      best_pct: pct(rs.map((r) => r.bestTestAcc)),
      last_pct: pct(rs.map((r) => r.lastTestAcc)),
      eval_fit_flipped_last_pct: noise > 0 ? pct(lastOf(rs, "eval_fit_flipped")) : null,
      auroc: au.length ? { mean: round(meanStd(au).mean, 3), sd: round(meanStd(au).std, 3) } : null,
      // this variant − the reference (paired over seeds, last epoch), ours and the other side's
      minus_reference_last_pts: po ? interval(po.last) : null,
      other_minus_reference_last_pts: pt ? interval(pt.last) : null,
      ...(twin.length
        ? {
          other_seeds: twin.map((r) => r.seed).sort((a, b) => a - b),
          other_best_pct: pct(twin.map((r) => r.bestTestAcc)),
          other_last_pct: pct(twin.map((r) => r.lastTestAcc)),
          other_eval_fit_flipped_last_pct: noise > 0 ? pct(lastOf(twin, "eval_fit_flipped")) : null,
          other_auroc: aurocs(twin).length
            ? {
              mean: round(meanStd(aurocs(twin)).mean, 3),
              sd: round(meanStd(aurocs(twin)).std, 3),
            }
            : null,
          minus_other_last_pts: welch(
            rs.map((r) => r.lastTestAcc),
            twin.map((r) => r.lastTestAcc),
            100,
            2,
          ),
          minus_other_best_pts: welch(
            rs.map((r) => r.bestTestAcc),
            twin.map((r) => r.bestTestAcc),
            100,
            2,
          ),
          minus_other_auroc: welch(au, aurocs(twin), 1, 3),
        }
        : {}),
    };
  });
  const paired = oursPaired.map((p) => ({
    noise_pct: Math.round(100 * p.noise),
    comparison: `${p.variant} − ${p.reference}`,
    seeds: p.seeds,
    best_pts: interval(p.best),
    last_pts: interval(p.last),
    last_per_seed_pts: p.last.differences.map(pts),
    best_per_seed_pts: p.best.differences.map(pts),
  }));
  const perRun = runs.map((r) => ({
    variant: r.variant,
    noise_pct: Math.round(100 * r.noise),
    seed: r.seed,
    best_pct: pts(r.bestTestAcc),
    best_epoch: r.bestEpoch,
    last_pct: pts(r.lastTestAcc),
    auroc: r.aurocU === null ? null : round(r.aurocU, 3),
    minutes: round(r.seconds / 60, 1),
  }));
  return { rows, paired, runs: perRun };
}

type SummaryRow = ReturnType<typeof benchNoisySummary>["rows"][number];

/**
 * The two markdown tables docs/results.md shows for a bench:noisy measurement file's `rows`
 * (accuracy beside PyTorch; differences, fit and AUROC), one line per row as the claims test
 * expects. Missing figures print `n/a` (no such runs) or `–` (no interval).
 */
export function benchNoisyMarkdown(rows: SummaryRow[]): string {
  type MS = { mean: number; sd: number } | null | undefined;
  type IV = { mean: number; low: number; high: number } | null | undefined;
  const ms = (x: MS, d = 2) => x ? `${x.mean.toFixed(d)} ± ${x.sd.toFixed(d)}` : "n/a";
  const sign = (v: number, d: number) => `${v < 0 ? "−" : "+"}${Math.abs(v).toFixed(d)}`;
  const iv = (x: IV, d = 2) =>
    x ? `${sign(x.mean, d)} [${sign(x.low, d)}, ${sign(x.high, d)}]` : "–";
  const both = (a: MS, b: MS, d: number) => `${ms(a, d)} / ${ms(b, d)}`;
  const o = (r: SummaryRow) => r as SummaryRow & Record<string, unknown>;
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  /** A table: header cells, the alignment rule, then one line per row (noise and variant first). */
  const table = (head: string[], rule: string[], cells: (r: SummaryRow) => string[]) =>
    [
      line(["noise", "variant", ...head]),
      line(["---:", "---", ...rule]),
      ...rows.map((r) => line([`${r.noise_pct} %`, r.variant, ...cells(r)])),
    ].join("\n");
  const t1 = table(
    [
      "ours best %",
      "PyTorch best %",
      "ours last %",
      "PyTorch last %",
      "ours − PyTorch, last (Welch 95 %)",
    ],
    ["---:", "---:", "---:", "---:", "---"],
    (r) => [
      ms(r.best_pct),
      ms(o(r).other_best_pct as MS),
      ms(r.last_pct),
      ms(o(r).other_last_pct as MS),
      iv(o(r).minus_other_last_pts as IV),
    ],
  );
  const t2 = table(
    [
      "ours − baseline, last (paired 95 %)",
      "PyTorch − baseline, last (paired 95 %)",
      "eval fit of flipped %, ours / PyTorch",
      "AUROC of its score, ours / PyTorch",
      "AUROC ours − PyTorch (Welch 95 %)",
    ],
    ["---", "---", "---:", "---:", "---"],
    (r) => [
      iv(r.minus_reference_last_pts),
      iv(r.other_minus_reference_last_pts),
      r.noise_pct > 0
        ? both(r.eval_fit_flipped_last_pct, o(r).other_eval_fit_flipped_last_pct as MS, 1)
        : "n/a",
      r.auroc || o(r).other_auroc ? both(r.auroc, o(r).other_auroc as MS, 3) : "n/a",
      iv(o(r).minus_other_auroc as IV, 3),
    ],
  );
  return `${t1}\n\n${t2}\n`;
}
