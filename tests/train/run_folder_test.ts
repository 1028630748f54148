// Run folders (issue 12, finding 1): a reused folder is refused instead of overwritten, --overwrite
// removes every file of the earlier run, resume refuses a checkpoint of another configuration,
// and fresh readable folders with a `latest` pointer.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { initBackend } from "../../lib/backend.ts";
import {
  newRunFolder,
  readLatestRun,
  resolveTrainConfig,
  type TrainConfigInput,
  Trainer,
} from "../../lib/train/mod.ts";
import { runScript } from "../cli/_run.ts";
import { tinyData } from "./_tiny.ts";

const OLD: TrainConfigInput = {
  epochs: 2,
  batchSize: 16,
  evalBatchSize: 32,
  seed: 3,
  model: { inputSize: 32, widths: [4, 4, 8, 8], featureDim: 8 },
  data: { noise: 0.3 },
  optim: { lrBackbone: 2e-4 },
};
const NEW: TrainConfigInput = { ...OLD, data: { noise: 0 }, optim: { lrBackbone: 0.05 } };

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "rul-runfolder-"));

Deno.test("finding 1: a second run in the same folder is refused; the earlier run stays intact", async () => {
  await initBackend();
  const data = tinyData();
  const dir = tmp();
  const quiet = { log: null, progress: "silent" as const, data };
  const a = await Trainer.create({ ...quiet, config: OLD, out: dir });
  await a.run();
  await a.auditTrainingSet();
  a.dispose();
  const before = fs.readFileSync(path.join(dir, "config.json"), "utf8");
  const metricsBefore = fs.readFileSync(path.join(dir, "metrics.jsonl"), "utf8");
  await assert.rejects(
    Trainer.create({ ...quiet, config: NEW, out: dir }),
    (e: Error) => e.message.includes(dir) && /already holds a run/.test(e.message),
  );
  assert.equal(fs.readFileSync(path.join(dir, "config.json"), "utf8"), before);
  assert.equal(fs.readFileSync(path.join(dir, "metrics.jsonl"), "utf8"), metricsBefore);

  // --overwrite: no file of the old run stays beside the new one
  assert.ok(fs.existsSync(path.join(dir, "samples_train.csv")));
  const b = await Trainer.create({ ...quiet, config: NEW, out: dir, overwrite: true });
  b.dispose();
  assert.ok(!fs.existsSync(path.join(dir, "samples_train.csv")));
  assert.ok(!fs.existsSync(path.join(dir, "checkpoints")));
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")).data.noise, 0);
  fs.rmSync(dir, { recursive: true });
});

Deno.test("finding 1: resume refuses a checkpoint whose config differs from config.json (no mixed run)", async () => {
  await initBackend();
  const data = tinyData();
  const dir = tmp();
  const quiet = { log: null, progress: "silent" as const, data };
  const a = await Trainer.create({ ...quiet, config: { ...OLD, epochs: 3 }, out: dir });
  await a.run(2);
  a.dispose();
  // the state the old code left: the new run's config.json beside the old run's checkpoints
  const mixed = resolveTrainConfig({ ...NEW, epochs: 3 });
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(mixed));
  await assert.rejects(
    Trainer.create({ ...quiet, out: dir, resume: true }),
    (e: Error) =>
      /belongs to another run/.test(e.message) && /data\.noise: 0\.3 → 0/.test(e.message) &&
      /optim\.lrBackbone: 0\.0002 → 0\.05/.test(e.message),
  );
  fs.rmSync(dir, { recursive: true });
});

Deno.test("resume --epochs says that it rewrites config.json; resume with other changes is refused", async () => {
  await initBackend();
  const data = tinyData();
  const dir = tmp();
  const lines: string[] = [];
  const a = await Trainer.create({ log: null, progress: "silent", data, config: OLD, out: dir });
  await a.run(1);
  a.dispose();
  const b = await Trainer.create({
    log: (l) => lines.push(l),
    progress: "silent",
    data,
    out: dir,
    resume: true,
    config: { epochs: 3 },
  });
  b.dispose();
  assert.ok(lines.some((l) => /config\.json: epochs 2 → 3/.test(l)), lines.join("\n"));
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")).epochs, 3);
  await assert.rejects(
    Trainer.create({ log: null, data, out: dir, resume: true, config: { seed: 9 } }),
    /only epochs may change.*seed: 3 → 9/,
  );
  fs.rmSync(dir, { recursive: true });
});

Deno.test("a corrupt config.json of a run is named in the resume error", async () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, "config.json"), "{ not json");
  await assert.rejects(
    Trainer.create({ log: null, out: dir, resume: true }),
    (e: Error) =>
      e.message.includes(path.join(dir, "config.json")) && /not valid JSON/.test(e.message),
  );
  fs.rmSync(dir, { recursive: true });
});

Deno.test("newRunFolder: readable fresh folders, never reused, latest points at the newest", () => {
  const root = tmp();
  const cfg = resolveTrainConfig(OLD);
  const t = new Date("2026-11-30T21:05:01Z");
  const a = newRunFolder(root, cfg, { time: t });
  const b = newRunFolder(root, cfg, { time: t });
  assert.equal(path.basename(a), "rul-32px-w4-n0.3-e2-s3-20261130-210501");
  assert.equal(path.basename(b), "rul-32px-w4-n0.3-e2-s3-20261130-210501-2");
  assert.equal(readLatestRun(root), b);
  assert.equal(fs.realpathSync(path.join(root, "latest")), fs.realpathSync(b));
  fs.rmSync(root, { recursive: true });
});

Deno.test("train CLI: a reused --out is refused (exit 2, folder named), --overwrite replaces it", async () => {
  const dir = tmp();
  const args = [
    "--epochs=1",
    "--train-size=8",
    "--test-size=4",
    "--input-size=32",
    "--widths=4,4,8,8",
    "--batch-size=4",
    "--backend=cpu",
    "--progress=silent",
    "--no-audit",
    "--out",
    dir,
  ];
  const first = await runScript("cli/train.ts", args);
  assert.equal(first.code, 0, first.stderr);
  const again = await runScript("cli/train.ts", [...args, "--noise=0.2"]);
  assert.equal(again.code, 2, again.stdout);
  assert.match(again.stderr, /already holds a run/);
  assert.ok(again.stderr.includes(dir));
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")).data.noise, 0);
  const over = await runScript("cli/train.ts", [...args, "--noise=0.2", "--overwrite"]);
  assert.equal(over.code, 0, over.stderr);
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")).data.noise, 0.2);
  fs.rmSync(dir, { recursive: true });
});
