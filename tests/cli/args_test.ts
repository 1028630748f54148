// CLI flags of the training options (names, text parsing, help) and the presets the demo,
// notebooks and pretraining share, checked against the values written out by hand.
import assert from "node:assert/strict";
import { helpText, parseArgs, parseOptionValue, TRAIN_FLAGS } from "../../cli/args.ts";
import { TINY_CONFIG } from "../../cli/demo.ts";
import { scaleConfig } from "../../lib/notebook/settings.ts";
import {
  DEFAULT_TRAIN_CONFIG,
  DEMO_CONFIG,
  NOISY_PROTOCOL_EPOCHS,
  QUICK_INIT,
  resolveTrainConfig,
} from "../../lib/train/mod.ts";
import { DEFAULT_MODEL_CONFIG } from "../../lib/model/config.ts";

Deno.test("every training option has its documented flag", () => {
  assert.deepEqual(Object.fromEntries(TRAIN_FLAGS.map((o) => [o.key, o.flag])), {
    "variant": "variant",
    "epochs": "epochs",
    "batchSize": "batch-size",
    "evalBatchSize": "eval-batch-size",
    "seed": "seed",
    "init": "init",
    "initPartial": "init-partial",
    "relabelEpoch": "relabel-epoch",
    "model.inputSize": "input-size",
    "model.featureDim": "feature-dim",
    "model.dropout": "dropout",
    "model.widths": "widths",
    "data.source": "data",
    "data.root": "data-root",
    "data.noise": "noise",
    "data.noiseFile": "noise-file",
    "data.trainSize": "train-size",
    "data.testSize": "test-size",
    "data.augment": "augment",
    "optim.lrBackbone": "lr-backbone",
    "optim.lrClassifier": "lr-classifier",
    "optim.weightDecay": "weight-decay",
    "optim.beta1": "beta1",
    "optim.beta2": "beta2",
    "optim.eps": "eps",
    "optim.gamma": "gamma",
  });
});

Deno.test("flag text is parsed, validated and named in errors; help shows defaults", () => {
  const a = parseArgs(
    ["--widths", "8,8,16,16", "--no-augment", "--init=none", "--lr-backbone", "1e-3", "x"],
    TRAIN_FLAGS,
    [],
  );
  assert.deepEqual([...a.options], [
    ["model.widths", [8, 8, 16, 16]],
    ["data.augment", false],
    ["init", null],
    ["optim.lrBackbone", 1e-3],
  ]);
  assert.deepEqual(a.positional, ["x"]);
  const noise = TRAIN_FLAGS.find((o) => o.flag === "noise")!;
  assert.throws(() => parseOptionValue(noise, "1.5"), /--noise "1.5": expected a number >= 0/);
  assert.throws(() => parseArgs(["--epoch", "3"], TRAIN_FLAGS, []), /did you mean --epochs/);
  const help = helpText("u", "d", TRAIN_FLAGS, []);
  assert.match(help, /--input-size VALUE +input size \(px\); an integer >= 32 \(default 224;/);
  assert.match(help, /--widths VALUE .*\(default 64,128,256,512; config key model.widths\)/);
});

Deno.test("model defaults are written once; the presets resolve to the settings they name", () => {
  const m = DEFAULT_TRAIN_CONFIG.model;
  for (const k of ["inputSize", "featureDim", "dropout", "widths"] as const) {
    assert.deepEqual(m[k], DEFAULT_MODEL_CONFIG[k], k);
  }
  // The demo's protocol written out (docs/training.md: the quick preset on 1,000 / 500 images,
  // NOISY_PROTOCOL_EPOCHS epochs chosen from the baseline's curves).
  assert.deepEqual(
    resolveTrainConfig(DEMO_CONFIG),
    resolveTrainConfig({
      epochs: NOISY_PROTOCOL_EPOCHS,
      batchSize: 64,
      seed: 0,
      init: QUICK_INIT,
      model: { inputSize: 48, widths: [32, 64, 128, 256], featureDim: 64, dropout: 0.4 },
      data: { source: "synthfer", noise: 0.3, trainSize: 1000, testSize: 500, augment: true },
    }),
  );
  // The notebooks' quick scale as written before (lib/notebook/settings.ts).
  assert.deepEqual(
    resolveTrainConfig(scaleConfig("quick")),
    resolveTrainConfig({
      epochs: 4,
      batchSize: 64,
      evalBatchSize: 100,
      init: QUICK_INIT,
      model: { inputSize: 48, widths: [32, 64, 128, 256] },
      data: { source: "synthfer", trainSize: 2000, testSize: 500 },
    }),
  );
  assert.equal(resolveTrainConfig(TINY_CONFIG).init, null);
});
