// SCN against PyTorch float64 references from tools/make_method_fixtures.py (the official
// src/train.py semantics): the step from given features (α, weighted logits, high group, rank,
// CE and total loss, every gradient) to 1e-5 relative; the relabelling rule exactly; the whole
// model's training step (loss, gradients, BN running statistics) and evaluation; three Adam steps.
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend.ts";
import { scnRelabel, scnTrainingStep } from "../../lib/scn/step.ts";
import { type ScnModel } from "../../lib/model/scn_model.ts";
import { disposeModelOutput } from "../../lib/model/mod.ts";
import { assertClose } from "../model/compare.ts";
import { assert } from "../_assert.ts";
import {
  adamLosses,
  compareAdamUpdates,
  compareGradsAndBuffers,
  compareModelLoss,
  fixtureModel,
  readMethodFixture,
  torchLinear,
} from "./_fixture.ts";

await initBackend();

const STEP = 1e-5; // the step from given features, float32 against float64
const FWD = 1e-4; // the whole model (float32 backbone), as tests/model/reference_test.ts
const GRAD = 1e-3;
// Adam's first update is lr·sign(g + wd·w) elementwise: an element whose g + wd·w lies within
// float32 rounding of zero takes ±lr depending on the summation order, and the later steps carry
// it on (see tests/methods/eac_test.ts). Measured on fc's 3-step update: 1.4e-5 (oneDNN, 2
// threads), 2.7e-3 (oneDNN, 1 thread), within 1e-3 on wasm; bound 1e-2.
const ADAM = 1e-2;

Deno.test("SCN step matches PyTorch float64 (α, logits, rank term, losses, gradients)", async () => {
  const fx = await readMethodFixture("scn");
  const e = (k: string) => fx.get("step." + k);
  const start = tf.memory().numTensors;
  const labels = fx.labels("step.labels");
  const f = (feat: tf.Tensor, fw: tf.Tensor, fb: tf.Tensor, aw: tf.Tensor, ab: tf.Tensor) =>
    scnTrainingStep({
      features: feat as tf.Tensor2D,
      importance: torchLinear(aw, ab),
      classifier: torchLinear(fw, fb),
      labels,
    });
  const args = ["features", "fc.weight", "fc.bias", "alpha.0.weight", "alpha.0.bias"].map(e);
  const out = f(args[0], args[1], args[2], args[3], args[4]);
  for (const k of ["alpha", "logits", "rankLoss", "ceLoss", "loss"] as const) {
    assertClose(`step.${k}`, out[k]!, e(k), STEP);
  }
  assertClose("step.highMask", out.highMask, e("highMask"), 0);
  assert(out.rankLoss.dataSync()[0] > 0, "the fixture's rank term is active");
  tf.dispose(Object.values(out));
  const grads = tf.grads((a, b, c, d, g) => f(a, b, c, d, g).loss!)(args);
  ["features", "fc.weight", "fc.bias", "alpha.0.weight", "alpha.0.bias"].forEach((k, i) => {
    assertClose(`step.grad.${k}`, grads[i], e("grad." + k), STEP);
  });
  tf.dispose(grads);
  assert(tf.memory().numTensors === start, `tensor leak: ${start} -> ${tf.memory().numTensors}`);
  fx.dispose();
});

Deno.test("SCN relabelling rule matches the official one (margin 0.2, persistent table)", async () => {
  const fx = await readMethodFixture("scn");
  const idx = fx.labels("relabel.indexes");
  const table = fx.labels("relabel.before");
  const want = fx.labels("relabel.after");
  const batchLabels = Int32Array.from(idx, (i) => table[i]);
  const d = scnRelabel(fx.get("relabel.logits").dataSync(), 7, batchLabels);
  d.positions.forEach((p, j) => (table[idx[p]] = d.newLabels[j]));
  assert(table.join() === want.join(), `table ${table} want ${want}`);
  assert(d.positions.length > 0, "the fixture relabels some samples");
  fx.dispose();
});

Deno.test("SCN model: one training step and evaluation match PyTorch", async () => {
  const fx = await readMethodFixture("scn");
  const model = fixtureModel("scn", fx) as ScnModel;
  const x = fx.get("x") as tf.Tensor4D;
  const labels = fx.labels();
  const start = tf.memory().numTensors;
  const { value, grads } = tf.variableGrads(() => {
    const s = model.forwardStep(x, labels);
    assertClose("train.pooled", tf.mean(s.featureMap, [1, 2]), fx.get("train.pooled"), FWD);
    for (const k of ["alpha", "logits", "rankLoss", "ceLoss"] as const) {
      assertClose(`train.${k}`, s[k]!, fx.get("train." + k), FWD);
    }
    assertClose("train.highMask", s.highMask, fx.get("train.highMask"), 0);
    return s.loss!;
  }, model.trainableVariables());
  assertClose("train.loss", value, fx.get("train.loss"), FWD);
  const n = compareGradsAndBuffers(model, grads, fx, GRAD, FWD);
  assert(n >= 10 && fx.tensors.has("grad.alpha.0.weight"), "fixture gradients");
  tf.dispose([value, grads]);
  // evaluation after the step (running statistics updated by it), as the fixture
  const ev = model.forwardEval(x);
  assertClose("eval.logits", ev.logits, fx.get("eval.logits"), FWD);
  assertClose("eval.alpha", ev.score!, fx.get("eval.alpha"), FWD);
  disposeModelOutput(ev);
  // the trainer's path: forwardTrain's loss and score, model.loss from them
  compareModelLoss(model, x, labels);
  assert(tf.memory().numTensors === start, `tensor leak: ${start} -> ${tf.memory().numTensors}`);
  model.dispose();
  fx.dispose();
});

Deno.test("SCN: three Adam steps (lr 1e-3, weight decay 1e-4) match PyTorch", async () => {
  const fx = await readMethodFixture("scn");
  const model = fixtureModel("scn", fx);
  const x = fx.get("x") as tf.Tensor4D;
  const losses = adamLosses(model, x, fx.labels(), 1e-3, 3);
  const lt = tf.tensor1d(losses);
  assertClose("adam.losses", lt, fx.get("adam.losses"), FWD);
  compareAdamUpdates(model, fx, ["fc.weight", "alpha.0.weight"], ADAM);
  lt.dispose();
  model.dispose();
  fx.dispose();
});
