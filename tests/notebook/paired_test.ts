import { assert, assertAlmostEquals, assertEquals } from "../_assert.ts";
import {
  type AblationResult,
  intervalVerdict,
  pairedDifferences,
  pairedMarkdown,
} from "../../lib/notebook/ablation.ts";

const r = (variant: string, seed: number, best: number, last: number, noise = 0.3) =>
  ({ variant, noise, seed, bestTestAcc: best, lastTestAcc: last }) as AblationResult;

Deno.test("pairedDifferences pairs by seed and builds the paired t interval", () => {
  const results = [
    r("baseline", 0, 0.70, 0.68),
    r("rul", 0, 0.71, 0.70),
    r("baseline", 1, 0.72, 0.69),
    r("rul", 1, 0.74, 0.72),
    r("baseline", 2, 0.69, 0.66),
    r("rul", 2, 0.72, 0.70),
    r("rul", 7, 0.99, 0.99), // no baseline for seed 7: left out
  ];
  const [row, ...rest] = pairedDifferences(results);
  assertEquals(rest.length, 0);
  assertEquals(row.seeds, [0, 1, 2]);
  // last: differences .02 .03 .04 → mean .03, sd .01, half width 4.3027·.01/√3 = .024841
  row.last.differences.forEach((d, i) => assertAlmostEquals(d, [0.02, 0.03, 0.04][i], 1e-12));
  assertAlmostEquals(row.last.mean, 0.03, 1e-12);
  assertAlmostEquals(row.last.low, 0.03 - 0.024841, 1e-5);
  assertEquals(intervalVerdict(row.last), "ahead");
  // best: .01 .02 .03 → mean .02, same width → [−.0048, .0448]: contains 0
  assertEquals(intervalVerdict(row.best), "no difference established");
  const md = pairedMarkdown([row]);
  assert(
    md.includes("| 30 % | rul − baseline | 3 | +2.00 [−0.48, +4.48] (+1.00, +2.00, +3.00)"),
    md,
  );
  assert(md.includes("| rul ahead |"), md);
  // one common seed only: no row
  assertEquals(pairedDifferences([r("baseline", 0, 0.5, 0.5), r("rul", 0, 0.6, 0.6)]).length, 0);
});
