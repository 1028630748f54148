// The figures a bench:noisy measurement file records (bench/noisy_runs.ts benchNoisySummary),
// against values computed by hand from three made-up runs per variant.
import { benchNoisyMarkdown, benchNoisySummary, type Run } from "../../bench/noisy_runs.ts";
import { assertEquals } from "../_assert.ts";

function run(variant: string, seed: number, best: number, last: number, auroc: number | null): Run {
  return {
    variant,
    noise: 0.4,
    seed,
    bestTestAcc: best,
    bestEpoch: 3,
    lastTestAcc: last,
    aurocU: auroc,
    seconds: 120,
    records: [{ epoch: 1, test_acc: last, train_acc_flipped: null, eval_fit_flipped: 0.25 }],
  } as Run;
}

Deno.test("benchNoisySummary: mean ± s.d., paired and Welch intervals match hand computation", () => {
  const ours = [
    run("baseline", 0, 0.70, 0.60, null),
    run("baseline", 1, 0.72, 0.62, null),
    run("baseline", 2, 0.74, 0.64, null),
    run("rul", 0, 0.75, 0.70, 0.6),
    run("rul", 1, 0.75, 0.73, 0.7),
    run("rul", 2, 0.75, 0.70, 0.8),
  ];
  const torch = [run("rul", 0, 0.70, 0.66, 0.5), run("rul", 1, 0.70, 0.68, 0.5)];
  const s = benchNoisySummary(ours, torch);
  const rul = s.rows.find((r) => r.variant === "rul")!;
  // last: 70, 73, 70 -> mean 71, sample s.d. sqrt(((−1)²+2²+(−1)²)/2) = sqrt(3) = 1.732
  assertEquals(rul.last_pct, { mean: 71, sd: 1.73, n: 3 });
  assertEquals(rul.auroc, { mean: 0.7, sd: 0.1 });
  assertEquals(rul.eval_fit_flipped_last_pct, { mean: 25, sd: 0, n: 3 });
  const base = s.rows.find((r) => r.variant === "baseline")!;
  assertEquals(base.best_pct, { mean: 72, sd: 2, n: 3 });
  // paired rul − baseline, last: differences +10, +11, +6 points: mean 9, s.d. sqrt(7) = 2.6458,
  // t(0.975, 2) = 4.302653: half width 4.302653 · 2.6458 / √3 = 6.5725
  const p = s.paired[0];
  assertEquals(p.comparison, "rul − baseline");
  assertEquals(p.last_per_seed_pts, [10, 11, 6]);
  assertEquals(p.last_pts, { mean: 9, low: 2.43, high: 15.57 });
  assertEquals(rul.minus_reference_last_pts, p.last_pts);
  assertEquals(rul.other_minus_reference_last_pts, null); // the PyTorch side has no baseline here
  assertEquals(base.minus_reference_last_pts, null);
  // ours − PyTorch, Welch, last: 71 − 67 = 4; variances 3 (n 3) and 2 (n 2): se² = 1 + 1 = 2,
  // df = 4 / (1/2 + 1/1) = 2.667, t(0.975, 2.667) = 3.41977 (scipy.stats.t.ppf): half 4.8363
  assertEquals(rul.minus_other_last_pts, { mean: 4, low: -0.84, high: 8.84 });
  // the PyTorch side's own figures: AUROC 0.5 and 0.5 (s.d. 0), fit 25 % in both runs
  assertEquals(rul.other_auroc, { mean: 0.5, sd: 0 });
  assertEquals(rul.other_eval_fit_flipped_last_pct, { mean: 25, sd: 0, n: 2 });
  assertEquals(base.other_auroc, undefined); // no PyTorch baseline runs: no PyTorch columns
  assertEquals(s.runs.length, 6);
  assertEquals(s.runs[3], {
    variant: "rul",
    noise_pct: 40,
    seed: 0,
    best_pct: 75,
    best_epoch: 3,
    last_pct: 70,
    auroc: 0.6,
    minutes: 2,
  });
});

Deno.test("benchNoisyMarkdown: one line per row, figures as the summary holds them", () => {
  const ours = [0, 1, 2].flatMap((seed) => [
    run("baseline", seed, 0.70, 0.60 + 0.02 * seed, null),
    run("rul", seed, 0.75, [0.70, 0.73, 0.70][seed], [0.6, 0.7, 0.8][seed]),
  ]);
  const torch = [run("rul", 0, 0.70, 0.66, 0.5), run("rul", 1, 0.70, 0.68, 0.5)];
  const md = benchNoisyMarkdown(benchNoisySummary(ours, torch).rows).split("\n");
  // header, rule, baseline, rul; blank; header, rule, baseline, rul; final newline
  assertEquals(md.length, 10);
  // AUROC ours − PyTorch, Welch: 0.7 − 0.5; variances 0.01 (n 3) and 0 (n 2): se² = 0.01 / 3,
  // df = 2, t(0.975, 2) = 4.302653: half width 4.302653 · 0.057735 = 0.2484
  assertEquals(
    md[3],
    "| 40 % | rul | 75.00 ± 0.00 | 70.00 ± 0.00 | 71.00 ± 1.73 | 67.00 ± 1.41 | +4.00 [−0.84, +8.84] |",
  );
  assertEquals(
    md[8],
    "| 40 % | rul | +9.00 [+2.43, +15.57] | – | 25.0 ± 0.0 / 25.0 ± 0.0 | 0.700 ± 0.100 / " +
      "0.500 ± 0.000 | +0.200 [−0.048, +0.448] |",
  );
  assertEquals(md[2].split(" | ")[3], "n/a"); // no PyTorch baseline
});
