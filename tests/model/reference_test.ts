// The RUL and baseline models against PyTorch (fixtures from tools/make_fixtures.py): forward
// values and loss to 3e-5, gradients to 1e-4 (relative to the largest reference magnitude), in
// eval and train mode, including BatchNorm running statistics after a train step. The fixture's
// own float32-vs-float64 error is 7.5e-6 forward / 1.2e-5 gradients (its metadata); our engines
// measured at most 1.1e-5 / 2.0e-5 (wasm, wasm + oneDNN, oneDNN cpu store, cpu; the worst is
// printed), so the bounds leave 3-5× headroom and no more.
import * as tf from "@tensorflow/tfjs-core";
import { describeBackend, initBackend } from "../../lib/backend.ts";
import { onednnActive } from "../../lib/engine/mod.ts";
import { createModel, disposeModelOutput, type TrainOutput } from "../../lib/model/mod.ts";
import { readSafetensors, readWeightsFile } from "../../lib/io/mod.ts";
import { addUpLoss } from "../../lib/rul/mod.ts";
import { assertClose as check, FIXTURES } from "./compare.ts";

await initBackend();

const worst: Record<string, number> = {};
function assertClose(name: string, a: tf.Tensor, b: tf.Tensor, tol: number): void {
  const err = check(name, a, b, tol);
  const kind = tol === GRAD ? "grad" : "forward";
  worst[kind] = Math.max(worst[kind] ?? 0, err);
}

const FWD = 3e-5;
const GRAD = 1e-4;
const CONFIG = {
  inputSize: 64,
  numClasses: 7,
  featureDim: 16,
  dropout: 0,
  widths: [8, 16, 32, 64] as [number, number, number, number],
};

Deno.test("RUL model matches PyTorch (eval, train forward, loss, grads, running stats)", async () => {
  const sd = (await readWeightsFile(FIXTURES + "rul_small.pth", "state_dict")).tensors;
  const { tensors: exp } = await readSafetensors(FIXTURES + "rul_small_expected.safetensors");
  const e = (k: string) => {
    const t = exp.get(k);
    if (!t) throw new Error(`fixture lacks ${k}`);
    return t;
  };
  const model = createModel({ kind: "rul", ...CONFIG });
  const report = model.loadStateDict(sd, { strict: true, log: null });
  if (report.loaded.length !== sd.size) {
    throw new Error(`loaded ${report.loaded.length}/${sd.size}`);
  }
  const x = e("x") as tf.Tensor4D;
  const labels = Int32Array.from(e("labels").dataSync());
  const perm = Int32Array.from(e("perm").dataSync());
  const start = tf.memory().numTensors;

  const ev = model.forwardEval(x);
  assertClose("eval.logits", ev.logits, e("eval.logits"), FWD);
  assertClose("eval.mu", ev.features, e("eval.mu"), FWD);
  assertClose("eval.u", ev.u!, e("eval.u"), FWD);
  disposeModelOutput(ev);

  let out: TrainOutput | null = null;
  const { value, grads } = tf.variableGrads(() => {
    const o = model.forwardTrain(x, { perm, labels });
    out = { ...o };
    for (const t of Object.values(o)) if (t instanceof tf.Tensor) tf.keep(t);
    return o.loss!; // the add-up loss of the RUL step (lib/rul/step.ts)
  }, model.trainableVariables());
  const o = out as unknown as TrainOutput;
  assertClose("train.features", o.featureMap, e("train.features"), FWD);
  assertClose("train.mu", o.mu!, e("train.mu"), FWD);
  assertClose("train.logVar", o.logVar!, e("train.logVar"), FWD);
  assertClose("train.u", o.u!, e("train.u"), FWD);
  assertClose("train.w", o.w!, e("train.w"), FWD);
  assertClose("train.mixed", o.mixed!, e("train.mixed"), FWD);
  assertClose("train.logits", o.logits, e("train.logits"), FWD);
  assertClose("train.loss", value, e("train.loss"), FWD);
  const again = model.loss(o, labels);
  assertClose("model.loss", again, e("train.loss"), FWD);
  again.dispose();
  const lw = addUpLoss(o.logits, labels, perm, "w", o.w!);
  assertClose("train.loss_w", lw, e("train.loss_w"), FWD);
  lw.dispose();

  const params = model.namedParameters();
  const gradNames = [...exp.keys()].filter((k) => k.startsWith("grad."));
  if (gradNames.length < 8) throw new Error("fixture has too few gradients");
  for (const k of gradNames) {
    const name = k.slice(5);
    const v = params.get(name)!;
    const g = model.toTorchLayout(name, grads[v.name]);
    assertClose(k, g, e(k), GRAD);
    g.dispose();
  }
  tf.dispose([value, grads]);
  disposeModelOutput(o);

  const after = model.stateDict();
  for (const k of [...exp.keys()].filter((k) => k.startsWith("after."))) {
    assertClose(k, after.get(k.slice(6))!, e(k), FWD);
  }
  tf.dispose([...after.values()]);
  if (tf.memory().numTensors !== start) {
    throw new Error(`tensor leak: ${start} -> ${tf.memory().numTensors}`);
  }
  model.dispose();
  tf.dispose([...sd.values(), ...exp.values()]);
});

Deno.test("baseline model matches PyTorch (eval logits, train loss, grads)", async () => {
  const rul = (await readWeightsFile(FIXTURES + "rul_small.pth")).tensors;
  const { tensors: exp } = await readSafetensors(FIXTURES + "rul_small_expected.safetensors");
  const sd = new Map<string, tf.Tensor>();
  for (const [k, t] of rul) if (k.startsWith("features.")) sd.set(k, t);
  sd.set("fc.weight", exp.get("baseline.fc.weight")!);
  sd.set("fc.bias", exp.get("baseline.fc.bias")!);
  const model = createModel({ kind: "baseline", ...CONFIG });
  // features.N names are mapped onto torchvision names (conv1, bn1, layerK)
  model.loadStateDict(sd, { strict: true, log: null });
  const x = exp.get("x") as tf.Tensor4D;
  const labels = Int32Array.from(exp.get("labels")!.dataSync());
  const ev = model.forwardEval(x);
  assertClose("baseline.eval.logits", ev.logits, exp.get("baseline.eval.logits")!, FWD);
  disposeModelOutput(ev);
  const { value, grads } = tf.variableGrads(() => {
    const o = model.forwardTrain(x, { labels });
    const loss = model.loss(o, labels);
    assertClose("baseline out.loss", o.loss!, loss, 0);
    return loss;
  }, model.trainableVariables());
  assertClose("baseline.train.loss", value, exp.get("baseline.train.loss")!, FWD);
  const params = model.namedParameters();
  for (const name of ["conv1.weight", "fc.weight"]) {
    const g = model.toTorchLayout(name, grads[params.get(name)!.name]);
    assertClose(name, g, exp.get(`baseline.grad.${name}`)!, GRAD);
    g.dispose();
  }
  tf.dispose([value, grads]);
  model.dispose();
  tf.dispose([...rul.values(), ...exp.values()]);
  console.log(`worst relative errors (${tf.getBackend()}): ${JSON.stringify(worst)}`);
  // which engine ran (onednn_cpu_store_test.ts checks this line)
  console.log(`engine: ${describeBackend()}; oneDNN kernels active: ${onednnActive()}`);
});
