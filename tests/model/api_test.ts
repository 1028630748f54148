// Model API: parameter groups, no tensor leaks over training steps, BN bookkeeping, dropout
// reproducibility, RUL variants, config validation.
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend.ts";
import {
  backboneOutputShape,
  createModel,
  disposeModelOutput,
  resolveModelConfig,
  type RulModel,
} from "../../lib/model/mod.ts";
import { hardestDifferentLabelPairing } from "../../lib/rul/mod.ts";
import { mulberry32 } from "../../lib/random.ts";
import { assert } from "../_assert.ts";

await initBackend();

const SMALL = {
  inputSize: 64,
  featureDim: 16,
  widths: [8, 16, 32, 64] as [number, number, number, number],
};

Deno.test("backbone output shape follows the input size (PyTorch floor formula)", () => {
  assert(backboneOutputShape(224).join() === "7,7,512", "224");
  assert(backboneOutputShape(112).join() === "4,4,512", "112");
  assert(backboneOutputShape(100).join() === "4,4,512", "100: 50,25,13,7,4");
  assert(backboneOutputShape(64, [8, 16, 32, 64]).join() === "2,2,64", "64");
});

Deno.test("parameter groups and names", () => {
  const model = createModel({ kind: "rul", ...SMALL });
  const g = model.trainableGroups();
  const named = model.namedParameters();
  const fc = [named.get("fc.weight"), named.get("fc.bias")];
  assert(g.classifier.length === 2 && g.classifier.every((v) => fc.includes(v)), "classifier");
  assert(g.backbone.length + 2 === model.trainableVariables().length, "backbone + heads");
  assert(g.backbone.includes(named.get("log_var.3.weight")!), "heads in backbone group");
  assert(named.size === 70 && model.namedBuffers().size === 72, `${named.size} params`);
  assert(model.namedBuffers().has("mu.0.running_var"), "head BN buffers");
  assert(!named.has("mu.0.weight"), "BN2d of the heads has no affine");
  model.dispose();
  const base = createModel({ kind: "baseline", ...SMALL });
  assert(base.namedParameters().get("fc.weight")!.shape.join() === "64,7", "baseline fc [in,out]");
  assert(base.namedParameters().has("layer4.1.bn2.bias"), "torchvision names");
  base.dispose();
});

Deno.test("train steps leak no tensors and keep BN bookkeeping", () => {
  for (const kind of ["rul", "baseline"] as const) {
    const model = createModel({ kind, ...SMALL });
    const x = tf.randomNormal([4, 64, 64, 3], 0, 1, "float32", 1) as tf.Tensor4D;
    const labels = Int32Array.from([0, 1, 2, 0]);
    let before = -1;
    for (let i = 0; i < 3; i++) {
      const { value, grads } = tf.variableGrads(
        () => model.loss(model.forwardTrain(x, { labels }), labels),
        model.trainableVariables(),
      );
      assert(Number.isFinite(value.dataSync()[0]), "finite loss");
      assert(Object.keys(grads).length === model.trainableVariables().length, "all grads");
      tf.dispose([value, grads]);
      if (i === 0) before = tf.memory().numTensors;
    }
    assert(
      tf.memory().numTensors === before,
      `${kind}: leak ${before} -> ${tf.memory().numTensors}`,
    );
    const nbt = model.namedBuffers().get(
      kind === "rul" ? "features.1.num_batches_tracked" : "bn1.num_batches_tracked",
    )!;
    assert(nbt.dataSync()[0] === 3, `num_batches_tracked ${nbt.dataSync()[0]}`);
    const ev = model.forwardEval(x);
    assert(ev.logits.shape.join() === "4,7", "eval logits");
    assert((ev.u === null) === (kind === "baseline"), "u only for RUL");
    disposeModelOutput(ev);
    assert(nbt.dataSync()[0] === 3, "eval does not touch BN stats");
    x.dispose();
    model.dispose();
  }
});

Deno.test("dropout is active in train mode and reproducible with a seeded rng", () => {
  const model = createModel({ kind: "rul", ...SMALL, dropout: 0.4 });
  const x = tf.randomNormal([4, 64, 64, 3], 0, 1, "float32", 1) as tf.Tensor4D;
  const perm = [1, 0, 3, 2];
  const run = (seed: number) => {
    const o = model.forwardTrain(x, { perm, rng: mulberry32(seed) });
    const mu = Array.from(o.mu!.dataSync());
    disposeModelOutput(o);
    return mu;
  };
  const a = run(1);
  const b = run(1);
  const c = run(2);
  assert(a.every((v, i) => v === b[i]), "same seed, same dropout mask");
  assert(a.some((v, i) => v !== c[i]), "another seed, another mask");
  x.dispose();
  model.dispose();
});

Deno.test("dropout sits between the heads' BatchNorm2d and Linear, at rate p, scaled by 1/(1−p)", () => {
  const p = 0.4;
  const model = createModel({ kind: "rul", ...SMALL, dropout: p }) as RulModel;
  const x = tf.randomNormal([4, 64, 64, 3], 0, 1, "float32", 1) as tf.Tensor4D;
  const seed = 5;
  const sd = model.stateDict(); // before the forward: weights and the old running statistics
  const heads = model.forwardHeads(x, mulberry32(seed));
  const after = model.stateDict();
  // the μ head's dropout seed: the first draw of the forward's generator (rul_model.ts)
  const s1 = Math.floor(mulberry32(seed)() * 2 ** 31);
  const got = heads.mu!.arraySync() as number[][];
  const want = tf.tidy(() => {
    const f = heads.featureMap;
    const [n, h, w, c] = f.shape;
    // [0] BatchNorm2d(C, eps 2e-5, affine=False), batch statistics (biased variance)
    const m = tf.mean(f, [0, 1, 2]);
    const v = tf.mean(tf.square(tf.sub(f, m)), [0, 1, 2]);
    const xhat = tf.div(tf.sub(f, m), tf.sqrt(tf.add(v, 2e-5)));
    // [1] Dropout(p): the mask TF.js draws for this seed, checked by hand: every kept value is
    // scaled by exactly 1/(1−p), and about p of them are zero
    const mask = tf.dropout(tf.onesLike(xhat), p, undefined, s1).dataSync();
    const scale = Math.fround(1 / Math.fround(1 - p));
    const zeros = mask.filter((a) => a === 0).length;
    assert(mask.every((a) => a === 0 || Math.abs(a - scale) < 1e-6), "mask values 0 or 1/(1−p)");
    assert(Math.abs(zeros / mask.length - p) < 0.06, `dropped ${zeros}/${mask.length}, p = ${p}`);
    const dropped = tf.mul(xhat, tf.tensor(mask, xhat.shape));
    // [2] Flatten channel-major (PyTorch's NCHW view), [3] Linear, [4] BatchNorm1d (batch stats)
    const flat = tf.reshape(tf.transpose(dropped, [0, 3, 1, 2]), [n, c * h * w]);
    const z = tf.add(tf.matMul(flat, sd.get("mu.3.weight")!, false, true), sd.get("mu.3.bias")!);
    const zm = tf.mean(z, 0), zv = tf.mean(tf.square(tf.sub(z, zm)), 0);
    // BatchNorm1d's running statistics (momentum 0.1, unbiased variance) see the scaled z: the
    // 1/(1−p) scaling, invisible in the normalised train output, decides the eval-mode μ
    const rm = tf.add(tf.mul(sd.get("mu.4.running_mean")!, 0.9), tf.mul(zm, 0.1));
    const rv = tf.add(tf.mul(sd.get("mu.4.running_var")!, 0.9), tf.mul(zv, 0.1 * n / (n - 1)));
    for (const [name, t] of [["running_mean", rm], ["running_var", rv]] as const) {
      const a = after.get(`mu.4.${name}`)!.dataSync(), b = t.dataSync();
      const e = Math.max(...b.map((q, k) => Math.abs(q - a[k]))) / Math.max(...b.map(Math.abs));
      assert(e < 1e-4, `mu.4.${name}: relative error ${e}`);
    }
    const y = tf.add(
      tf.mul(tf.div(tf.sub(z, zm), tf.sqrt(tf.add(zv, 2e-5))), sd.get("mu.4.weight")!),
      sd.get("mu.4.bias")!,
    );
    return y.arraySync() as number[][];
  });
  let err = 0, den = 0;
  got.forEach((row, i) =>
    row.forEach((a, j) => {
      err = Math.max(err, Math.abs(a - want[i][j]));
      den = Math.max(den, Math.abs(want[i][j]));
    })
  );
  assert(err / den < 1e-4, `μ vs the hand head: relative error ${err / den}`);
  tf.dispose([x, heads.featureMap, heads.mu!, heads.logVar!, ...sd.values(), ...after.values()]);
  model.dispose();
});

Deno.test("RUL variants: no sigma head (w = 0.5), hardest pairing, explicit perm", () => {
  const x = tf.randomNormal([4, 64, 64, 3], 0, 1, "float32", 1) as tf.Tensor4D;
  const labels = Int32Array.from([0, 0, 1, 1]);
  const ns = createModel({ kind: "rul", ...SMALL, dropout: 0, sigmaHead: false });
  assert(![...ns.namedParameters().keys()].some((k) => k.startsWith("log_var")), "no σ head");
  const o = ns.forwardTrain(x, { perm: [1, 0, 3, 2] });
  assert(o.u === null && o.logVar === null, "no u");
  assert(Array.from(o.w!.dataSync()).every((v) => v === 0.5), "w = 0.5");
  const mu = o.mu!.arraySync();
  const mixed = o.mixed!.arraySync();
  const p = [1, 0, 3, 2];
  for (let i = 0; i < 4; i++) {
    for (let d = 0; d < 16; d++) {
      const want = 0.5 * mu[i][d] + 0.5 * mu[p[i]][d];
      assert(Math.abs(mixed[i][d] - want) <= 1e-6 * (1 + Math.abs(want)), "mixed = mean of pair");
    }
  }
  disposeModelOutput(o);
  ns.dispose();
  const hard = createModel({ kind: "rul", ...SMALL, dropout: 0, pairing: "hardest" });
  let threw = false;
  try {
    hard.forwardTrain(x);
  } catch (e) {
    threw = (e as Error).message.includes("labels");
  }
  assert(threw, "hardest pairing needs labels");
  const h = hard.forwardTrain(x, { labels });
  const ref = hardestDifferentLabelPairing(h.mu!, labels);
  const hp = h.perm as Int32Array; // on the host: wasm/cpu read synchronously
  assert(hp.join() === ref.join(), `hardest pairing ${hp} vs ${ref}`);
  for (let i = 0; i < 4; i++) assert(labels[hp[i]] !== labels[i], "different labels");
  disposeModelOutput(h);
  hard.dispose();
  x.dispose();
});

Deno.test("bad configs and inputs give clear errors", () => {
  const bad = (cfg: object, needle: string) => {
    try {
      resolveModelConfig(cfg);
    } catch (e) {
      assert((e as Error).message.includes(needle), (e as Error).message);
      return;
    }
    throw new Error(`accepted ${JSON.stringify(cfg)}`);
  };
  bad({ kind: "vgg" }, "kind");
  bad({ dropout: 1 }, "dropout");
  bad({ inputSize: 20 }, "inputSize");
  bad({ pairing: "nearest" }, "pairing");
  const model = createModel({ kind: "rul", ...SMALL });
  const x = tf.zeros([2, 32, 32, 3]) as tf.Tensor4D;
  let msg = "";
  try {
    model.forwardEval(x);
  } catch (e) {
    msg = (e as Error).message;
  }
  assert(msg.includes("[N, 64, 64, 3]") && msg.includes("2,32,32,3"), msg);
  let one = "";
  try {
    model.forwardTrain(tf.zeros([1, 64, 64, 3]) as tf.Tensor4D);
  } catch (e) {
    one = (e as Error).message;
  }
  assert(one.includes("more than 1 value per channel"), one);
  x.dispose();
  model.dispose();
});
