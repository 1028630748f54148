import { assertEquals } from "../_assert.ts";
import { evalFitOfNoisyLabels, fitOfNoisyLabels } from "../../lib/train/trainer.ts";

Deno.test("fitOfNoisyLabels: accuracy on flipped labels' noisy targets and mean u, by hand", () => {
  // samples: 0 clean hit, 1 clean miss, 2 flipped hit, 3 flipped miss, 4 flipped hit, 5 unseen
  const data = {
    labels: Int32Array.from([0, 1, 2, 0, 1, 2]),
    cleanLabels: Int32Array.from([0, 1, 1, 1, 0, 1]),
  };
  const hit = Uint8Array.from([1, 0, 1, 0, 1, 255]);
  const u = Float32Array.from([1, 2, 3, 5, 7, NaN]);
  const r = fitOfNoisyLabels(hit, u, data);
  assertEquals(r.train_acc_flipped, 2 / 3);
  assertEquals(r.train_acc_clean, 1 / 2);
  assertEquals(r.train_u_mean_flipped, 5); // (3 + 5 + 7) / 3
  assertEquals(r.train_u_mean_clean, 1.5);
  // no u: only the accuracies; no flipped label, or no clean labels: nothing
  assertEquals(Object.keys(fitOfNoisyLabels(hit, null, data)), [
    "train_acc_flipped",
    "train_acc_clean",
  ]);
  assertEquals(fitOfNoisyLabels(hit, u, { labels: data.labels, cleanLabels: data.labels }), {});
  assertEquals(fitOfNoisyLabels(hit, u, { labels: data.labels, cleanLabels: undefined }), {});
});

Deno.test("evalFitOfNoisyLabels: eval-mode fit of flipped labels, mean u and AUROC of u, by hand", () => {
  // samples 0-2 clean, 3-5 flipped (labels ≠ cleanLabels)
  const data = {
    labels: Int32Array.from([0, 1, 2, 0, 1, 2]),
    cleanLabels: Int32Array.from([0, 1, 2, 1, 2, 0]),
  };
  const predictions = Int32Array.from([0, 0, 2, 0, 2, 2]); // clean: 2 of 3 hit; flipped: 2 of 3
  const u = Float32Array.from([1, 4, 2, 3, 0.5, 5]);
  const r = evalFitOfNoisyLabels(predictions, u, data);
  assertEquals(r.eval_acc_clean, 2 / 3);
  assertEquals(r.eval_acc_flipped, 2 / 3);
  assertEquals(r.eval_u_mean_clean, 7 / 3);
  assertEquals(r.eval_u_mean_flipped, 8.5 / 3);
  // flipped u {3, 0.5, 5} vs clean u {1, 4, 2}: pairs won 2 + 0 + 3 = 5 of 9
  assertEquals(r.eval_u_auroc_noisy, 5 / 9);
  // no u: only the accuracies; no clean labels or no flipped label: nothing
  assertEquals(Object.keys(evalFitOfNoisyLabels(predictions, null, data)), [
    "eval_acc_flipped",
    "eval_acc_clean",
  ]);
  // another method's score (SCN α): flipped {0.9, 0.1, 0.2} vs clean {0.3, 0.8, 0.4}: pairs won
  // 3 + 0 + 0 = 3 of 9
  const alpha = Float32Array.from([0.3, 0.8, 0.4, 0.9, 0.1, 0.2]);
  const s = evalFitOfNoisyLabels(predictions, null, data, alpha);
  assertEquals(s.eval_score_auroc_noisy, 3 / 9);
  assertEquals(s.eval_u_auroc_noisy, undefined);
  assertEquals(evalFitOfNoisyLabels(predictions, u, { labels: data.labels }), {});
  assertEquals(
    evalFitOfNoisyLabels(predictions, u, { labels: data.labels, cleanLabels: data.labels }),
    {},
  );
});
