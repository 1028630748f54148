// RUL math against hand-computed values: uncertainty, mix weights, mixed features,
// cross-entropy, add-up loss (0.5/0.5 and by w) and its gradient, pairings.
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend.ts";
import {
  addUpLoss,
  crossEntropy,
  differentLabelPairing,
  halfMixWeights,
  hardestDifferentLabelPairing,
  hardestDifferentLabelPairingOnDevice,
  mixFeatures,
  mixWeights,
  permuteRows,
  perSampleCrossEntropy,
  randomPermutation,
  rulTrainingStep,
  uncertainty,
  validatePairing,
  VARIANT_HELP,
  VARIANTS,
  variantSwitches,
} from "../../lib/rul/mod.ts";
import { mulberry32 } from "../../lib/random.ts";
import { assert } from "../_assert.ts";

await initBackend();

function close(t: tf.Tensor | number[], want: number[], what: string, tol = 1e-6) {
  const got = Array.isArray(t) ? t : Array.from(t.dataSync());
  assert(got.length === want.length, `${what}: ${got.length} values, want ${want.length}`);
  got.forEach((v, i) => {
    assert(
      Math.abs(v - want[i]) <= tol * Math.max(1, Math.abs(want[i])),
      `${what}[${i}] = ${v}, want ${want[i]}`,
    );
  });
}

Deno.test("uncertainty u = mean exp(log σ²)", () => {
  const lv = tf.tensor2d([[0, Math.log(2)], [Math.log(3), Math.log(3)]]);
  close(uncertainty(lv), [1.5, 3], "u");
  lv.dispose();
});

Deno.test("mix weights and mixed features", () => {
  const u = tf.tensor1d([1, 3, 2]);
  const perm = [1, 2, 0];
  const w = mixWeights(u, perm);
  close(w.w, [1 / 4, 3 / 5, 2 / 3], "w");
  close(w.wPartner, [3 / 4, 2 / 5, 1 / 3], "wPartner");
  const mu = tf.tensor2d([[1, 0], [0, 1], [2, 2]]);
  close(permuteRows(mu, perm), [0, 1, 2, 2, 1, 0], "permuteRows");
  close(mixFeatures(mu, w, perm), [0.25, 0.75, 0.8, 1.4, 5 / 3, 4 / 3], "mixed");
  const half = halfMixWeights(3);
  close(mixFeatures(mu, half, perm), [0.5, 0.5, 1, 1.5, 1.5, 1], "mixed 0.5");
  tf.dispose([u, w.w, w.wPartner, mu, half.w, half.wPartner]);
});

/** log-softmax of one row, computed independently in float64. */
function logSoftmax(row: number[]): number[] {
  const m = Math.max(...row);
  const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
  return row.map((v) => v - lse);
}

Deno.test("cross-entropy and add-up loss (0.5/0.5 and weighted by w)", () => {
  const rows = [[1, 2, 3], [0.5, -1, 2], [0, 0, 0]];
  const labels = [0, 2, 1];
  const perm = [2, 0, 1];
  const logits = tf.tensor2d(rows);
  const ls = rows.map(logSoftmax);
  const ceA = labels.map((y, i) => -ls[i][y]);
  const ceB = labels.map((_, i) => -ls[i][labels[perm[i]]]);
  close(perSampleCrossEntropy(logits, labels), ceA, "per-sample CE");
  close(crossEntropy(logits, Int32Array.from(labels)), [ceA.reduce((a, b) => a + b) / 3], "CE");
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  close(addUpLoss(logits, labels, perm), [0.5 * mean(ceA) + 0.5 * mean(ceB)], "add-up");
  const wv = [0.2, 0.5, 0.9];
  const w = tf.tensor1d(wv);
  const want = mean(wv.map((x, i) => x * ceA[i] + (1 - x) * ceB[i]));
  close(addUpLoss(logits, tf.tensor1d(labels, "int32"), perm, "w", w), [want], "add-up by w");
  // gradient of the 0.5/0.5 loss w.r.t. the logits: (softmax − (e_y + e_y[p]) / 2) / N
  const g = tf.grad((l: tf.Tensor) => addUpLoss(l as tf.Tensor2D, labels, perm))(logits);
  const wantG: number[] = [];
  rows.forEach((_, i) => {
    ls[i].forEach((v, k) => {
      const target = 0.5 * (k === labels[i] ? 1 : 0) + 0.5 * (k === labels[perm[i]] ? 1 : 0);
      wantG.push((Math.exp(v) - target) / 3);
    });
  });
  close(g, wantG, "d loss / d logits");
  // gradient of the w-weighted loss w.r.t. w: (CE_a − CE_b) / N
  const gw = tf.grad((x: tf.Tensor) => addUpLoss(logits, labels, perm, "w", x as tf.Tensor1D))(w);
  close(gw, ceA.map((a, i) => (a - ceB[i]) / 3), "d loss / d w");
  tf.dispose([logits, w, g, gw]);
});

Deno.test("pairings: random permutation, different-label, hardest different-label", () => {
  const p = randomPermutation(64, mulberry32(0));
  assert([...p].sort((a, b) => a - b).every((v, i) => v === i), "is a permutation");
  assert(randomPermutation(64, mulberry32(0)).join() === p.join(), "seeded");
  assert(randomPermutation(64, mulberry32(1)).join() !== p.join(), "seed matters");
  validatePairing(p, 64);
  let bad = "";
  try {
    validatePairing([0, 5], 2);
  } catch (e) {
    bad = (e as Error).message;
  }
  assert(bad.includes("pairing[1] = 5"), bad);

  const labels = [0, 0, 1, 2, 1, 0];
  const d = differentLabelPairing(labels, mulberry32(3));
  d.forEach((j, i) => assert(labels[j] !== labels[i], `different-label ${i}->${j}`));
  assert(differentLabelPairing([4, 4, 4], mulberry32(3)).join() === "0,1,2", "single class: self");

  const f = tf.tensor2d([[0], [1], [5], [6]]);
  const h = hardestDifferentLabelPairing(f, [0, 0, 1, 1]);
  assert(h.join() === "2,2,1,1", `hardest ${h}`);
  f.dispose();
});

Deno.test("the whole RUL step against hand-computed values (u, w, mix, logits, add-up loss)", () => {
  // D = K = 2, the classifier doubles its input; u = [1, 3] from log σ² = log 1, log 3.
  const mu = tf.tensor2d([[1, 0], [0, 2]]);
  const logVar = tf.tensor2d([[0, 0], [Math.log(3), Math.log(3)]]);
  const labels = [0, 1];
  const classifier = (z: tf.Tensor2D) => tf.mul(z, 2) as tf.Tensor2D;
  const rng = mulberry32(0);
  const before = tf.memory().numTensors;
  // w = [1/4, 3/4]; mixed_0 = ¼·(1,0) + ¾·(0,2) = (0.25, 1.5); mixed_1 = ¾·(0,2) + ¼·(1,0).
  const logits = [[0.5, 3], [0.5, 3]];
  const ce = (l: number[], y: number) => Math.log(Math.exp(l[0]) + Math.exp(l[1])) - l[y];
  const half = 0.5 * (ce(logits[0], 0) + ce(logits[1], 1)) / 2 +
    0.5 * (ce(logits[0], 1) + ce(logits[1], 0)) / 2;
  const byW = (0.25 * ce(logits[0], 0) + 0.75 * ce(logits[0], 1) +
    0.75 * ce(logits[1], 1) + 0.25 * ce(logits[1], 0)) / 2;
  for (const [weighting, want] of [["half", half], ["w", byW]] as const) {
    const s = rulTrainingStep({ mu, logVar, classifier, labels, perm: [1, 0], rng }, {
      pairing: "random",
      addUpWeighting: weighting,
    });
    assert((s.perm as Int32Array).join() === "1,0", `perm ${s.perm}`);
    close(s.u!, [1, 3], "u");
    close(s.w, [0.25, 0.75], "w");
    close(s.wPartner, [0.75, 0.25], "partner share");
    close(s.mixed, [0.25, 1.5, 0.25, 1.5], "mixed");
    close(s.logits, logits.flat(), "logits");
    close(s.loss!, [want], `add-up loss (${weighting})`, 1e-5);
    tf.dispose([s.u!, s.w, s.wPartner, s.mixed, s.logits, s.loss!]);
  }
  // Without σ head: w = 0.5; without labels: no loss; random pairing from the rng.
  const ns = rulTrainingStep({ mu, logVar: null, classifier, rng: mulberry32(5) }, {
    pairing: "random",
    addUpWeighting: "half",
  });
  assert(ns.u === null && ns.loss === null, "no u, no loss");
  assert(
    (ns.perm as Int32Array).join() === randomPermutation(2, mulberry32(5)).join(),
    "random pairing",
  );
  close(ns.w, [0.5, 0.5], "w without σ head");
  tf.dispose([ns.w, ns.wPartner, ns.mixed, ns.logits]);
  assert(tf.memory().numTensors === before, "the step leaks no tensors");
  let msg = "";
  try {
    rulTrainingStep({ mu, logVar, classifier, rng }, {
      pairing: "hardest",
      addUpWeighting: "half",
    });
  } catch (e) {
    msg = (e as Error).message;
  }
  assert(msg.includes(`pairing "hardest" needs the labels`), msg);
  tf.dispose([mu, logVar]);
});

Deno.test("variant table: every variant has help text and the switches it names", () => {
  assert(VARIANTS[0] === "rul" && VARIANTS.length === 8, VARIANTS.join());
  for (const v of VARIANTS) assert(VARIANT_HELP[v].length > 10, `help of ${v}`);
  const official = { kind: "rul", pairing: "random", addUpWeighting: "half", sigmaHead: true };
  const want: Record<string, object> = {
    "rul": official,
    "baseline": { ...official, kind: "baseline" },
    "rul-pair-different": { ...official, pairing: "different-label" },
    "rul-pair-hardest": { ...official, pairing: "hardest" },
    "rul-addup-w": { ...official, addUpWeighting: "w" },
    "rul-no-sigma": { ...official, sigmaHead: false },
    "scn": { ...official, kind: "scn" },
    "eac": { ...official, kind: "eac" },
  };
  for (const v of VARIANTS) {
    assert(JSON.stringify(variantSwitches(v)) === JSON.stringify(want[v]), `switches of ${v}`);
  }
});

Deno.test("hardest pairing on the device equals the host one; add-up loss takes a tensor pairing", async () => {
  await initBackend();
  const labels = [0, 0, 1, 2, 1, 0, 3, 3];
  // A single-label batch pairs every sample with itself on both sides.
  const lone = tf.tensor2d([[1, 2], [3, 4]]);
  const dl = hardestDifferentLabelPairingOnDevice(lone, [5, 5]);
  assert((await dl.data()).join() === "0,1", "single label: self");
  tf.dispose([lone, dl]);
  const rng = mulberry32(4);
  const f = tf.tensor2d(Array.from({ length: 8 * 5 }, () => rng() * 4 - 2), [8, 5]);
  const host = hardestDifferentLabelPairing(f, labels);
  const dev = hardestDifferentLabelPairingOnDevice(f, labels);
  assert(dev.dtype === "int32" && (await dev.data()).join() === host.join(), `${host}`);
  const logits = tf.tensor2d(Array.from({ length: 8 * 4 }, () => rng() * 2 - 1), [8, 4]);
  const y = Int32Array.from(labels);
  const a = addUpLoss(logits, y, host).dataSync()[0];
  const b = addUpLoss(logits, y, dev).dataSync()[0];
  assert(a === b, `host ${a} vs tensor ${b}`);
  tf.dispose([f, dev, logits]);
});
