import assert from "node:assert/strict";
import {
  accuracy,
  argmaxRows,
  balancedAccuracy,
  confusionMatrix,
  mostUncertain,
  noisyLabelDetection,
  perClassAccuracy,
  rocAuc,
  rocCurve,
  softmaxRows,
} from "../../lib/eval/mod.ts";

function throwsWith(fn: () => unknown, text: string) {
  assert.throws(fn, (e: Error) => e.message.includes(text) || assert.fail(e.message));
}

Deno.test("accuracy, confusion matrix and per-class accuracy on a hand-made example", () => {
  const labels = [0, 0, 1, 1, 1, 2];
  const preds = [0, 1, 1, 1, 2, 2];
  assert.equal(accuracy(preds, labels), 4 / 6);
  assert.deepEqual(confusionMatrix(preds, labels, 3), [[1, 1, 0], [0, 2, 1], [0, 0, 1]]);
  assert.deepEqual(perClassAccuracy(preds, labels, 4), [0.5, 2 / 3, 1, NaN]);
  assert.equal(balancedAccuracy(preds, labels, 4), (0.5 + 2 / 3 + 1) / 3);
  throwsWith(() => accuracy([0], [0, 1]), "differ in length");
  throwsWith(() => confusionMatrix([0, 7], [0, 1], 3), "value 7 at index 1");
});

Deno.test("argmaxRows and softmaxRows", () => {
  assert.deepEqual(Array.from(argmaxRows([1, 3, 3, -1, -2, -3], 3)), [1, 0]);
  const p = softmaxRows([0, Math.log(3), 1000, 1000], 2);
  assert.ok(Math.abs(p[0] - 0.25) < 1e-7 && Math.abs(p[1] - 0.75) < 1e-7);
  assert.deepEqual(Array.from(p.slice(2)), [0.5, 0.5]);
  throwsWith(() => argmaxRows([1, 2, 3], 2), "do not form rows of 2");
});

/** Independent reference: probability that a random positive outscores a random negative. */
function pairwiseAuc(s: number[], y: number[]): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < s.length; i++) {
    for (let j = 0; j < s.length; j++) {
      if (y[i] === 1 && y[j] === 0) {
        den++;
        num += s[i] > s[j] ? 1 : s[i] === s[j] ? 0.5 : 0;
      }
    }
  }
  return num / den;
}

Deno.test("rocAuc matches hand-computed values, including ties (sklearn semantics)", () => {
  // sklearn's docstring example: roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75.
  assert.equal(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75);
  // Ties: positives {0.9, 0.5}, negatives {0.5, 0.5}: (2 wins + 2 half-ties) / 4 = 0.75.
  assert.equal(rocAuc([0.5, 0.5, 0.5, 0.9], [0, 1, 0, 1]), 0.75);
  // All tied: 0.5. Perfect and inverted rankings: 1 and 0.
  assert.equal(rocAuc([1, 1, 1, 1], [0, 1, 0, 1]), 0.5);
  assert.equal(rocAuc([0.1, 0.2, 0.3], [false, true, true]), 1);
  assert.equal(rocAuc([0.3, 0.2, 0.1], [false, true, true]), 0);
  // Random data with many ties vs the pairwise definition.
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const s = Array.from({ length: 300 }, () => Math.floor(rnd() * 12) / 4);
  const y = s.map((v) => (rnd() < 0.2 + v / 5 ? 1 : 0));
  assert.ok(Math.abs(rocAuc(s, y) - pairwiseAuc(s, y)) < 1e-12);
  const c = rocCurve([0.5, 0.5, 0.5, 0.9], [0, 1, 0, 1]);
  assert.deepEqual(c.fpr, [0, 0, 1]);
  assert.deepEqual(c.tpr, [0, 0.5, 1]);
  assert.deepEqual(c.thresholds, [Infinity, 0.9, 0.5]);
  throwsWith(() => rocAuc([1, 2], [1, 1]), "only one class present");
  throwsWith(() => rocAuc([1, NaN], [0, 1]), "index 1 is NaN");
});

Deno.test("noisyLabelDetection and mostUncertain", () => {
  const u = [0.9, 0.1, 0.5, 0.5, 0.2];
  const labels = [1, 0, 2, 3, 4];
  const clean = [0, 0, 2, 1, 4];
  const d = noisyLabelDetection(u, labels, clean);
  // Flipped: indices 0 (u .9) and 3 (u .5); clean: .1, .5, .2 -> (3 + 2.5) / 6.
  assert.equal(d.auroc, 5.5 / 6);
  assert.equal(d.flipped, 2);
  assert.equal(d.meanUFlipped, 0.7);
  assert.ok(Math.abs(d.meanUClean - 0.8 / 3) < 1e-15);
  const top = mostUncertain(u, 3, { labels, cleanLabels: clean, files: ["a", "b", "c", "d", "e"] });
  assert.deepEqual(top.map((t) => t.index), [0, 2, 3]);
  assert.deepEqual(top.map((t) => t.flipped), [true, false, true]);
  assert.equal(top[1].file, "c");
  throwsWith(() => noisyLabelDetection(u, labels, labels), "0 of 5 labels are flipped");
  throwsWith(() => mostUncertain(u, 2, { labels: [1] }), "labels has 1 entries");
});
