import { knnAccuracy, trustworthiness } from "../../lib/tsne/mod.ts";
import { assert } from "../_assert.ts";

interface Case {
  x: number[][];
  y: number[][];
  trustworthiness: Record<string, number>;
}

Deno.test("trustworthiness matches scikit-learn (fixture from tools/sklearn_tsne.py fixture)", () => {
  const fx = JSON.parse(
    Deno.readTextFileSync(new URL("./fixtures/trustworthiness.json", import.meta.url)),
  ) as { cases: Case[] };
  assert(fx.cases.length >= 3, "fixture has cases");
  let checked = 0;
  for (const c of fx.cases) {
    for (const [k, want] of Object.entries(c.trustworthiness)) {
      const got = trustworthiness(c.x, c.y, Number(k));
      assert(Math.abs(got - want) < 1e-12, `n=${c.x.length} k=${k}: ${got} vs sklearn ${want}`);
      checked++;
    }
  }
  assert(checked >= 9, `only ${checked} values checked`);
});

Deno.test("trustworthiness: hand-computed 1-D case", () => {
  // Irregular spacing (no distance ties); the embedding swaps points 0 and 5.
  const xs = [[0], [1], [2.3], [3.7], [5.4], [7.5]];
  const ys = [[7.5], [1], [2.3], [3.7], [5.4], [0]]; // swap 0 and 5
  // X 1-NN: 0→1, 1→0, 2→1 (1.3 vs 1.4), 3→2, 4→3, 5→4.
  // Y 1-NN: point0@7.5→4 (5.4), point1@1→5 (0, d1) vs 2 (d1.3) → 5, point2@2.3→1, point3→2,
  //   point4@5.4→3 (d1.7) vs 0 (d2.1) → 3, point5@0→1.
  // Penalties (rank in X − 1): i=0,j=4: X ranks from 0: 1,2,3,4 → rank 4 → 3.
  //   i=1,j=5: distances from 1: 0:1, 2:1.3, 3:2.7, 4:4.4, 5:6.5 → rank 5 → 4.
  //   i=5,j=1: distances from 5: 4:2.1, 3:3.8, 2:5.2, 1:6.5, 0:7.5 → rank 4 → 3.
  //   others are X neighbours → 0. Sum = 10.
  const n = 6, k = 1;
  const want = 1 - (2 / (n * k * (2 * n - 3 * k - 1))) * 10;
  const got = trustworthiness(xs, ys, 1);
  assert(Math.abs(got - want) < 1e-12, `${got} vs hand ${want}`);
  assert(trustworthiness(xs, xs, 2) === 1, "identity embedding is perfectly trustworthy");
});

Deno.test("knnAccuracy: hand-computed case", () => {
  // Two groups on a line; the point at 2.6 is labelled 1 but sits with the 0s.
  const y = [[0], [1], [2], [2.6], [10], [11], [12]];
  const labels = [0, 0, 0, 1, 1, 1, 1];
  // k = 3: 0→{1,2,2.6}: 0,0,1 → 0 ✓; 1→{0,2,2.6}: 0,0,1 ✓; 2→{2.6,1,0} ✓;
  // 2.6→{2,1,0}: 0 ✗; 10→{11,12,2.6}: 1 ✓; 11→{10,12,2.6} ✓; 12→{11,10,2.6} ✓ → 6/7.
  const acc = knnAccuracy(y, labels, 3);
  assert(Math.abs(acc - 6 / 7) < 1e-15, `accuracy ${acc}`);
});
