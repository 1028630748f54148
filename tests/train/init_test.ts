// `--init` (config.init): PyTorch .pth files (zip, legacy, MS-Celeb-style `state_dict` wrapper
// with a 1000-way fc) and our safetensors checkpoints, read by lib/io, loaded by the Trainer.
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gunzipSync } from "fflate";
import { initBackend } from "../../lib/backend.ts";
import { synthFerSplits } from "../../lib/data/synthfer.ts";
import { readWeightsFile } from "../../lib/io/mod.ts";
import {
  inferModelConfig,
  saveModelCheckpoint,
  type TrainConfigInput,
  Trainer,
} from "../../lib/train/mod.ts";

const FIX = new URL("../fixtures/model/", import.meta.url).pathname;
const SMALL: TrainConfigInput = {
  epochs: 1,
  batchSize: 4,
  model: { inputSize: 64, widths: [8, 16, 32, 64], featureDim: 16, dropout: 0 },
};

function data(size: number) {
  return synthFerSplits({ train: 8, test: 4, size, seed: 1 });
}

function sameValues(a: tf.Tensor, b: tf.Tensor, what: string) {
  assert.deepEqual([...a.shape], [...b.shape], `${what} shape`);
  const x = a.dataSync();
  const y = b.dataSync();
  for (let i = 0; i < x.length; i++) {
    if (!Object.is(x[i], y[i])) assert.fail(`${what}[${i}]: ${x[i]} vs ${y[i]}`);
  }
}

async function initFrom(file: string, config: TrainConfigInput, lines: string[]) {
  return await Trainer.create({
    config: { ...config, init: file },
    data: data(config.model!.inputSize!),
    log: (l) => lines.push(l),
    progress: "silent",
    workers: 0,
  });
}

Deno.test("--init loads a whole RUL model from .pth (zip and legacy) and from our safetensors", async () => {
  await initBackend();
  const before = tf.memory().numTensors;
  const ref = (await readWeightsFile(FIX + "rul_small.pth")).tensors;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rul-init-"));
  for (const file of ["rul_small.pth", "rul_small_legacy.pth", "saved"]) {
    let src = FIX + file;
    if (file === "saved") {
      // our own checkpoint written from a model initialised from the .pth
      const t0 = await initFrom(FIX + "rul_small.pth", SMALL, []);
      src = path.join(dir, "m.safetensors");
      await saveModelCheckpoint(src, t0.model, { epoch: 1 });
      t0.dispose();
    }
    const lines: string[] = [];
    const t = await initFrom(src, SMALL, lines);
    const sd = t.model.stateDict();
    assert.equal(sd.size, ref.size, file);
    for (const [k, v] of ref) sameValues(sd.get(k)!, v, `${file} ${k}`);
    tf.dispose([...sd.values()]);
    t.dispose();
  }
  tf.dispose([...ref.values()]);
  fs.rmSync(dir, { recursive: true });
  assert.equal(tf.memory().numTensors, before, "tensor leak");
});

Deno.test("--init with an MS-Celeb-style legacy .pth ({state_dict, epoch, arch}) loads the backbone", async () => {
  await initBackend();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rul-init-"));
  const file = path.join(dir, "resnet18_msceleb.pth");
  fs.writeFileSync(file, gunzipSync(fs.readFileSync(FIX + "msceleb_pattern_legacy.pth.gz")));
  const ref = (await readWeightsFile(file)).tensors;
  for (const variant of ["rul", "baseline"] as const) {
    const lines: string[] = [];
    const t = await initFrom(file, { epochs: 1, variant, model: { inputSize: 32 } }, lines);
    const log = lines.join("\n");
    assert.match(log, /fc\.weight/, "the 1000-way fc is reported");
    const sd = t.model.stateDict();
    const conv1 = variant === "rul" ? "features.0.weight" : "conv1.weight";
    const l4 = variant === "rul" ? "features.7.1.bn2.running_var" : "layer4.1.bn2.running_var";
    sameValues(sd.get(conv1)!, ref.get("conv1.weight")!, `${variant} conv1`);
    sameValues(sd.get(l4)!, ref.get("layer4.1.bn2.running_var")!, `${variant} layer4 bn`);
    tf.dispose([...sd.values()]);
    t.dispose();
  }
  tf.dispose([...ref.values()]);
  fs.rmSync(dir, { recursive: true });
});

Deno.test("--init errors name the file (missing, malicious, wrong shapes)", async () => {
  await initBackend();
  await assert.rejects(initFrom(FIX + "nope.pth", SMALL, []), /nope\.pth/);
  await assert.rejects(initFrom(FIX + "malicious_zip.pth", SMALL, []), /os\.system.*|refus/);
  // a model with other widths: only the first stage fits; an error (not a silent partial load)
  // unless initPartial
  const lines: string[] = [];
  await assert.rejects(
    initFrom(
      FIX + "rul_small.pth",
      { ...SMALL, model: { ...SMALL.model, widths: [8, 8, 8, 8] } },
      lines,
    ),
    /rul_small\.pth fills the model only partly \(61 tensors loaded .*81 shape-mismatched.*--init-partial/,
  );
  assert.match(lines.join("\n"), /mismatch|shape/i);
});

Deno.test("inferModelConfig reads kind, widths, classes, feature dim and map size from shapes", async () => {
  await initBackend();
  const rul = (await readWeightsFile(FIX + "rul_small.pth")).tensors;
  assert.deepEqual(inferModelConfig(rul), {
    kind: "rul",
    widths: [8, 16, 32, 64],
    numClasses: 7,
    featureDim: 16,
    sigmaHead: true,
    mapSize: 2,
  });
  // DataParallel prefix, no σ head
  const wrapped = new Map(
    [...rul].filter(([k]) => !k.startsWith("log_var.")).map(([k, t]) => ["module." + k, t]),
  );
  const w = inferModelConfig(wrapped);
  assert.equal(w.sigmaHead, false);
  assert.equal(w.kind, "rul");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rul-init-"));
  const file = path.join(dir, "r.pth");
  fs.writeFileSync(file, gunzipSync(fs.readFileSync(FIX + "resnet18_pattern.pth.gz")));
  const tv = (await readWeightsFile(file)).tensors;
  assert.deepEqual(inferModelConfig(tv), {
    kind: "baseline",
    widths: [64, 128, 256, 512],
    numClasses: 1000,
    featureDim: 512,
    sigmaHead: false,
    mapSize: null,
  });
  assert.throws(
    () => inferModelConfig(new Map([["fc.weight", rul.get("fc.weight")!]]), "x.pth"),
    /x\.pth: cannot infer the model: no first convolution/,
  );
  tf.dispose([...rul.values(), ...tv.values()]);
  fs.rmSync(dir, { recursive: true });
});
