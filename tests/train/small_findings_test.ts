// The smaller findings of issue 12 (point 6), each from its reproduction: --init matching nothing
// (or only partly), image folders whose train/test classes differ or are empty, numeric flags in
// hexadecimal. (Safetensors dtype/overlap/metadata: tests/io/bounded_test.ts; a corrupt run
// config.json and --resume --epochs: tests/train/run_folder_test.ts.)
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { initBackend } from "../../lib/backend.ts";
import { encodeJpeg, generateSynthFer, imageAt } from "../../lib/data/mod.ts";
import { synthFerSplits } from "../../lib/data/synthfer.ts";
import { writeSafetensors } from "../../lib/io/safetensors.ts";
import { createModel } from "../../lib/model/create.ts";
import { loadRunData, resolveTrainConfig, Trainer } from "../../lib/train/mod.ts";
import { parseArgs, TRAIN_FLAGS } from "../../cli/args.ts";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "rul-small-"));
const MODEL = {
  inputSize: 32,
  widths: [4, 4, 8, 8] as [number, number, number, number],
  featureDim: 8,
};

async function initWith(file: string, extra: Record<string, unknown> = {}): Promise<string[]> {
  const lines: string[] = [];
  const t = await Trainer.create({
    config: { epochs: 1, batchSize: 8, model: MODEL, init: file, ...extra },
    data: synthFerSplits({ train: 16, test: 8, size: 32, seed: 1 }),
    log: (l) => lines.push(l),
    progress: "silent",
  });
  t.dispose();
  return lines;
}

Deno.test("point 6: --init matching no tensor fails naming the file; a partial match needs initPartial", async () => {
  await initBackend();
  const dir = tmp();
  // a state dict whose names fit nothing of the model
  const none = path.join(dir, "unrelated.safetensors");
  await writeSafetensors(none, new Map([["encoder.weight", tf.zeros([3, 3])]]));
  await assert.rejects(
    initWith(none),
    (e: Error) =>
      e.message.includes(none) && /no tensor fits the model \(0 tensors loaded/.test(e.message),
  );
  // the model's own state dict without one tensor: partial
  const m = createModel({ ...MODEL, numClasses: 7, seed: 1 });
  const sd = m.stateDict();
  const dropped = [...sd.keys()].find((k) => k.endsWith("weight"))!;
  sd.get(dropped)!.dispose();
  sd.delete(dropped);
  const part = path.join(dir, "partial.safetensors");
  await writeSafetensors(part, sd);
  tf.dispose([...sd.values()]);
  m.dispose();
  await assert.rejects(initWith(part), /fills the model only partly .*1 missing.*--init-partial/);
  const lines = await initWith(part, { initPartial: true });
  assert.ok(
    lines.some((l) => /init .*partial\.safetensors: \d+ tensors loaded .*1 missing/.test(l)),
    lines.join("\n"),
  );
  fs.rmSync(dir, { recursive: true });
});

async function imageFolders(train: Record<string, number>, test: Record<string, number>) {
  const root = tmp();
  const ds = generateSynthFer({ n: 4, size: 20, seed: 3 });
  for (const [split, spec] of [["train", train], ["test", test]] as const) {
    for (const [cls, count] of Object.entries(spec)) {
      fs.mkdirSync(path.join(root, split, cls), { recursive: true });
      for (let i = 0; i < count; i++) {
        fs.writeFileSync(
          path.join(root, split, cls, `img${i}.jpg`),
          await encodeJpeg(imageAt(ds, i % 4), 20, 20, 3),
        );
      }
    }
  }
  return root;
}

Deno.test("point 6: image folders need the same non-empty classes in train and test (the error names the class)", async () => {
  const load = (root: string) =>
    loadRunData(resolveTrainConfig({ model: MODEL, data: { source: "folder", root } }), () => {});
  const empty = await imageFolders({ angry: 2, happy: 0, sad: 2 }, { angry: 1, happy: 1, sad: 1 });
  await assert.rejects(
    load(empty),
    (e: Error) =>
      e.message.includes(path.join(empty, "train", "happy")) &&
      /"happy" holds no image/.test(e.message),
  );
  const extra = await imageFolders({ angry: 2, sad: 2 }, { angry: 1, fear: 1, sad: 1 });
  await assert.rejects(
    load(extra),
    (e: Error) =>
      e.message.includes(path.join(extra, "test", "fear")) &&
      /class "fear" is not among/.test(e.message),
  );
  const ok = await imageFolders({ angry: 2, sad: 2 }, { angry: 1, sad: 1 });
  const { train, test } = await load(ok);
  assert.deepEqual([train.n, test.n], [4, 2]);
  for (const d of [empty, extra, ok]) fs.rmSync(d, { recursive: true });
});

Deno.test("point 6: numeric flags accept decimal and scientific notation only (--lr-backbone 0x10 is refused)", () => {
  const parse = (...argv: string[]) => parseArgs(argv, TRAIN_FLAGS, []).options;
  assert.throws(() => parse("--lr-backbone", "0x10"), /--lr-backbone "0x10": expected a number/);
  assert.throws(() => parse("--epochs", "0b11"), /--epochs "0b11"/);
  assert.throws(() => parse("--batch-size", "1_6"), /--batch-size "1_6"/);
  assert.throws(() => parse("--widths", "0x8,8,8,8"), /--widths/);
  assert.equal(parse("--lr-backbone", "2e-4").get("optim.lrBackbone"), 2e-4);
  assert.equal(parse("--lr-backbone", ".5").get("optim.lrBackbone"), 0.5);
  assert.equal(parse("--noise=0.3").get("data.noise"), 0.3);
  assert.equal(parse("--epochs", "1E1").get("epochs"), 10);
});
