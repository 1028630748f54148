import { assert, assertAlmostEquals } from "../_assert.ts";
import {
  pairedTInterval,
  studentTCdf,
  studentTQuantile,
  welchTInterval,
} from "../../lib/eval/stats.ts";

Deno.test("Student t quantiles match the printed tables", () => {
  // Two-sided 95 % critical values (e.g. NIST/SEMATECH handbook table 1.3.6.7.2)
  for (
    const [df, t] of [[1, 12.706], [2, 4.303], [3, 3.182], [4, 2.776], [9, 2.262], [30, 2.042]]
  ) {
    assertAlmostEquals(studentTQuantile(0.975, df), t, 5e-4, `df ${df}`);
  }
  // closed forms: df 1 is Cauchy (tan), df 2 is t = (2p−1)/√(2p(1−p))
  assertAlmostEquals(studentTQuantile(0.9, 1), Math.tan(Math.PI * 0.4), 1e-7);
  const p = 0.8;
  assertAlmostEquals(studentTQuantile(p, 2), (2 * p - 1) / Math.sqrt(2 * p * (1 - p)), 1e-7);
  assertAlmostEquals(studentTCdf(0, 5), 0.5, 1e-12);
  assertAlmostEquals(studentTCdf(-2.015, 5), 0.05, 5e-5); // one-sided 95 % at df 5 is 2.015
  assert(studentTQuantile(0.025, 3) < 0);
});

Deno.test("paired t interval by hand", () => {
  // differences 1, 2, 3: mean 2, sd 1, half width 4.3027 · 1 / √3 = 2.4841
  const r = pairedTInterval([10, 20, 30], [11, 22, 33]);
  assertAlmostEquals(r.mean, 2, 1e-12);
  assertAlmostEquals(r.sd, 1, 1e-12);
  assertAlmostEquals(r.low, 2 - 2.48414, 1e-4);
  assertAlmostEquals(r.high, 2 + 2.48414, 1e-4);
  let threw = false;
  try {
    pairedTInterval([1], [2]);
  } catch {
    threw = true;
  }
  assert(threw, "one pair must be refused");
});

Deno.test("Welch t interval by hand and against scipy", () => {
  // a = 1, 2, 3 (s² 1), b = 4, 6, 8 (s² 4): b̄ − ā = 4, se² = 1/3 + 4/3 = 5/3,
  // ν = (5/3)² / ((1/3)²/2 + (4/3)²/2) = 50/17; t_{0.975, 50/17} = 3.21876 from
  // `python3 -c "import scipy.stats as s; print(s.t.ppf(0.975, 50/17))"` (scipy 1.10.1), and
  // scipy.stats.ttest_ind(b, a, equal_var=False).statistic = 4 / √(5/3) = 3.09839.
  const r = welchTInterval([1, 2, 3], [4, 6, 8]);
  assertAlmostEquals(r.mean, 4, 1e-12);
  assertAlmostEquals(r.se, Math.sqrt(5 / 3), 1e-12);
  assertAlmostEquals(r.df, 50 / 17, 1e-12);
  assertAlmostEquals(r.mean / r.se, 3.0983866769659336, 1e-9);
  assertAlmostEquals(r.low, -0.15539950318347096, 1e-6);
  assertAlmostEquals(r.high, 8.155399503183471, 1e-6);
  // unequal sizes: a swap negates the interval
  const s = welchTInterval([4, 6, 8], [1, 2, 3]);
  assertAlmostEquals(s.low, -r.high, 1e-9);
  for (const bad of [() => welchTInterval([1], [2, 3]), () => welchTInterval([1, 1], [2, 2])]) {
    let threw = false;
    try {
      bad();
    } catch {
      threw = true;
    }
    assert(threw, "a one-value sample or zero variance must be refused");
  }
});
