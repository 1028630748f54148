import { assert, assertAlmostEquals } from "../_assert.ts";
import { pairedTInterval, studentTCdf, studentTQuantile } from "../../lib/eval/stats.ts";

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
