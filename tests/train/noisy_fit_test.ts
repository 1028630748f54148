import { assertEquals } from "../_assert.ts";
import { fitOfNoisyLabels } from "../../lib/train/trainer.ts";

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
