// State-dict mapping: missing / unexpected / shape-mismatched keys are reported (and printed);
// strict mode turns any of them into an error without touching the model.
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend.ts";
import { createModel } from "../../lib/model/mod.ts";
import { assert } from "../_assert.ts";

await initBackend();

const SMALL = {
  inputSize: 64,
  featureDim: 16,
  widths: [8, 16, 32, 64] as [number, number, number, number],
};

Deno.test("mismatches are reported and printed; strict mode refuses and changes nothing", () => {
  const src = createModel({ kind: "rul", ...SMALL, seed: 1 });
  const dst = createModel({ kind: "rul", ...SMALL, seed: 2 });
  const sd = src.stateDict();
  sd.get("mu.3.bias")!.dispose();
  sd.delete("mu.3.bias");
  sd.set("bogus.weight", tf.zeros([3]));
  sd.get("fc.weight")!.dispose();
  sd.set("fc.weight", tf.zeros([5, 16]));
  const before = dst.stateDict();

  let msg = "";
  try {
    dst.loadStateDict(sd, { strict: true, file: "ck.pth", log: null });
  } catch (e) {
    msg = (e as Error).message;
  }
  for (
    const n of [
      "ck.pth",
      "missing: mu.3.bias",
      "unexpected: bogus.weight",
      "fc.weight",
      "[7,16]",
      "[5,16]",
    ]
  ) {
    assert(msg.includes(n), `strict error "${msg}" lacks ${n}`);
  }
  const same = dst.stateDict();
  for (const [k, t] of before) {
    assert(tf.equal(t, same.get(k)!).all().dataSync()[0] === 1, `strict failure changed ${k}`);
  }

  const lines: string[] = [];
  const r = dst.loadStateDict(sd, { log: (l) => lines.push(l), source: "model" });
  assert(r.missing.join() === "mu.3.bias", `missing ${r.missing}`);
  assert(r.unexpected.join() === "bogus.weight", `unexpected ${r.unexpected}`);
  assert(r.mismatched.length === 1 && r.mismatched[0].name === "fc.weight", "mismatched");
  assert(
    r.mismatched[0].expected.join() === "7,16" && r.mismatched[0].got.join() === "5,16",
    "shapes",
  );
  assert(r.loaded.length === before.size - 2, `loaded ${r.loaded.length}`);
  const text = lines.join("\n");
  for (const n of ["mu.3.bias", "bogus.weight", "fc.weight"]) {
    assert(text.includes(n), `printed ${n}`);
  }
  const after = dst.stateDict();
  const srcW = sd.get("features.0.weight")!;
  assert(tf.equal(after.get("features.0.weight")!, srcW).all().dataSync()[0] === 1, "loaded");
  tf.dispose([...sd.values(), ...before.values(), ...same.values(), ...after.values()]);
  src.dispose();
  dst.dispose();
});

Deno.test("DataParallel prefix, absent num_batches_tracked, torchvision names into RUL", () => {
  const src = createModel({ kind: "rul", ...SMALL, seed: 1 });
  const dst = createModel({ kind: "rul", ...SMALL, seed: 2 });
  const sd = src.stateDict();
  const wrapped = new Map<string, tf.Tensor>();
  for (const [k, t] of sd) if (!k.endsWith("num_batches_tracked")) wrapped.set("module." + k, t);
  const r = dst.loadStateDict(wrapped, { strict: true, log: null });
  assert(r.strippedModulePrefix && r.source === "model", "prefix stripped");
  // 20 BatchNorms in the backbone + 2 per head
  assert(r.defaulted.length === 24 && r.missing.length === 0, `defaulted ${r.defaulted.length}`);

  // a torchvision-named backbone (as resnet18_msceleb.pth) loads only the backbone
  const base = createModel({ kind: "baseline", ...SMALL, seed: 4 });
  const bsd = base.stateDict();
  const r2 = dst.loadStateDict(bsd, { log: null });
  assert(r2.source === "backbone", r2.source);
  assert(
    r2.missing.length === 0 && r2.unexpected.join() === "fc.weight,fc.bias",
    `${r2.unexpected}`,
  );
  const got = dst.stateDict();
  assert(
    tf.equal(got.get("features.7.1.conv2.weight")!, bsd.get("layer4.1.conv2.weight")!).all()
      .dataSync()[0] === 1,
    "layer4 mapped to features.7",
  );
  tf.dispose([...sd.values(), ...bsd.values(), ...got.values()]);
  src.dispose();
  dst.dispose();
  base.dispose();
});
