// Checkpoint layouts (pure): the official RUL {model_state_dict, fc_state_dict}, {state_dict}
// with and without a DataParallel prefix, {model}, bare, an explicit key; clear errors; the
// official split as the exact inverse of the merge.
import assert from "node:assert/strict";
import { normalizeCheckpointLayout, toOfficialRulLayout } from "../../lib/io/checkpoint_layout.ts";

/** A stand-in tensor (the normaliser only asks the predicate). */
class T {
  constructor(readonly id: string) {}
}
const isT = (x: unknown): x is T => x instanceof T;
const dict = (entries: [string, unknown][]) => new Map<string, unknown>(entries);
const sd = (...names: string[]) => dict(names.map((n) => [n, new T(n)]));
const RES18 = ["features.0.weight", "features.1.running_var", "mu.3.weight", "log_var.4.bias"];

function ids(m: Map<string, T>): [string, string][] {
  return [...m].map(([k, v]) => [k, v.id]);
}

Deno.test("official RUL layout: model_state_dict + fc_state_dict merge into fc.*", () => {
  const obj = dict([
    ["model_state_dict", sd(...RES18)],
    ["fc_state_dict", sd("weight", "bias")],
    ["epoch", 30],
  ]);
  const n = normalizeCheckpointLayout(obj, isT, { file: "acc_888.pth" });
  assert.equal(n.layout, "official-rul");
  assert.deepEqual(ids(n.stateDict), [
    ...RES18.map((k): [string, string] => [k, k]),
    ["fc.weight", "weight"],
    ["fc.bias", "bias"],
  ]);
  assert.deepEqual(n.ignored, ["epoch"]);
  assert.equal(n.strippedModulePrefix, false);
  assert.match(
    n.description,
    /official RUL layout: model_state_dict \(4 tensors\) \+ fc_state_dict/,
  );
  // the split is the exact inverse
  const back = toOfficialRulLayout(n.stateDict);
  assert.deepEqual(ids(back.model_state_dict), RES18.map((k) => [k, k]));
  assert.deepEqual(ids(back.fc_state_dict), [["weight", "weight"], ["bias", "bias"]]);
});

Deno.test("wrapped, DataParallel and bare layouts", () => {
  const mod = sd(...RES18.map((k) => "module." + k), "module.fc.weight");
  const cases: [unknown, string, boolean][] = [
    [
      dict([["state_dict", mod], ["epoch", 3], ["optimizer", dict([["lr", 1]])]]),
      "state_dict",
      true,
    ],
    [dict([["state_dict", sd(...RES18, "fc.weight")]]), "state_dict", false],
    [dict([["model", sd(...RES18, "fc.weight")], ["args", "x"]]), "model", false],
    [dict([["model_state_dict", sd(...RES18, "fc.weight")]]), "model_state_dict", false],
    [dict([["net", mod]]), "net", true],
    [sd(...RES18, "fc.weight"), "bare", false],
    [mod, "bare", true],
  ];
  for (const [obj, layout, stripped] of cases) {
    const n = normalizeCheckpointLayout(obj, isT, { file: "f.pth" });
    assert.equal(n.layout, layout);
    assert.equal(n.strippedModulePrefix, stripped, layout);
    assert.deepEqual([...n.stateDict.keys()], [...RES18, "fc.weight"], layout);
    if (stripped) assert.match(n.description, /DataParallel 'module\.' prefix removed/);
  }
  const n = normalizeCheckpointLayout(cases[0][0], isT);
  assert.deepEqual(n.ignored, ["epoch", "optimizer"]);
  // an explicit key wins over recognition (e.g. only the backbone of an official file)
  const official = dict([["model_state_dict", sd(...RES18)], ["fc_state_dict", sd("weight")]]);
  const k = normalizeCheckpointLayout(official, isT, { key: "model_state_dict" });
  assert.equal(k.layout, "key");
  assert.deepEqual([...k.stateDict.keys()], RES18);
  assert.deepEqual(k.ignored, ["fc_state_dict"]);
});

Deno.test("unrecognised layouts and conflicts give errors naming the file and the keys", () => {
  assert.throws(
    () =>
      normalizeCheckpointLayout(dict([["weights_ema", 1], ["epoch", 2]]), isT, { file: "x.pth" }),
    /x\.pth: no state dict found \(top-level keys: weights_ema, epoch\); recognised layouts: .*official RUL/,
  );
  assert.throws(
    () => normalizeCheckpointLayout(dict([["a", sd("w")]]), isT, { file: "y.pth", key: "b" }),
    /y\.pth: no key 'b' \(top-level keys: a\)/,
  );
  assert.throws(
    () => normalizeCheckpointLayout(dict([["a", 3]]), isT, { file: "z.pth", key: "a" }),
    /z\.pth: 'a' is not a state dict of tensors/,
  );
  assert.throws(
    () =>
      normalizeCheckpointLayout(
        dict([["model_state_dict", sd(...RES18, "fc.weight")], ["fc_state_dict", sd("weight")]]),
        isT,
        { file: "both.pth" },
      ),
    /both\.pth: model_state_dict already holds fc\.weight/,
  );
  assert.throws(
    () => normalizeCheckpointLayout(42, isT, { file: "n.pth" }),
    /n\.pth: not a checkpoint/,
  );
  assert.throws(
    () => toOfficialRulLayout(sd("conv1.weight", "layer1.0.conv1.weight", "fc.weight")),
    /needs a RUL model.*--format pth/,
  );
  assert.throws(
    () => toOfficialRulLayout(sd("features.0.weight", "mu.3.weight", "fc.weight")),
    /no σ head/,
  );
});
