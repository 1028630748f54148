/**
 * `deno task train`: train RUL, the baseline or an ablation from flags or a JSON config, writing
 * a run folder (config.json, metrics.csv/.jsonl, checkpoints, per-sample tables, summary.json).
 *
 * @module
 */
import * as fs from "node:fs";
import {
  newRunFolder,
  resolveTrainConfig,
  type RunSummary,
  setOption,
  type TrainConfigInput,
  Trainer,
  writeRunSummary,
} from "../lib/train/mod.ts";
import { VARIANT_HELP } from "../lib/rul/variants.ts";
import { type CliFlag, type Command, runCommand, TRAIN_FLAGS } from "./args.ts";

const FLAGS: CliFlag[] = [
  { flag: "config", type: "string", help: "JSON file with (some of) the options below" },
  {
    flag: "out",
    type: "string",
    help: "run folder (refused when it already holds a run, unless --resume or --overwrite)",
    defaultText: "a new runs/<variant>-<settings>-<time>/, pointed at by runs/latest",
  },
  { flag: "resume", type: "bool", help: "continue the run in --out from its last checkpoint" },
  { flag: "overwrite", type: "bool", help: "replace the run already in --out (deletes its files)" },
  {
    flag: "audit",
    type: "bool",
    help: "after training, evaluate the training set: per-sample table + noisy-label AUROC",
    defaultText: "true",
  },
];

const DESCRIPTION = [
  "Train a facial-expression model with the official RUL recipe (Adam 2e-4/2e-3, weight decay",
  "1e-4, ExponentialLR 0.9, batch 64, 60 epochs) on SynthFER (default), RAF-DB, a folder-per-class",
  "dataset, Fashion-MNIST or a prepared cache. Reports best-epoch and last-epoch test accuracy.",
  "",
  "variants:",
  ...Object.entries(VARIANT_HELP).map(([k, v]) => `  ${k.padEnd(20)}${v}`),
  "",
  "examples:",
  "  deno task train --epochs 5 --input-size 64 --noise 0.3 --out runs/rul-quick",
  "  deno task train --data rafdb --data-root ~/RAF-DB --init resnet18_msceleb.pth",
  "  deno task train --out runs/rul-quick --resume --epochs 8",
].join("\n");

function readConfigFile(file: string): TrainConfigInput {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(`cannot read --config ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`--config ${file} is not valid JSON: ${(e as Error).message}`);
  }
}

async function main(args: Command): Promise<void> {
  const cfgFile = args.text("config");
  const input: TrainConfigInput = cfgFile ? readConfigFile(cfgFile) : {};
  // Validate the file alone first so its errors name it.
  if (cfgFile) resolveTrainConfig(input, cfgFile);
  for (const [key, value] of args.options) setOption(input, key, value);
  const resume = args.flags.get("resume") === true;
  const config = resolveTrainConfig(input, "options");
  const overwrite = args.flags.get("overwrite") === true;
  const outFlag = args.text("out");
  if (resume && !outFlag) throw new Error("--resume needs --out (the run folder to continue)");
  if (resume && overwrite) throw new Error("--resume and --overwrite exclude each other");
  const out = outFlag ?? newRunFolder("runs", config);
  if (resume && args.options.size > 0) {
    const extra = [...args.options.keys()].filter((k) => k !== "epochs");
    if (extra.length) {
      throw new Error(
        `--resume uses the run's saved config; only --epochs may change (got ${extra.join(", ")})`,
      );
    }
  }
  await args.startBackend();
  const trainer = await Trainer.create({
    config: resume ? (args.options.has("epochs") ? { epochs: config.epochs } : undefined) : input,
    out,
    resume,
    overwrite,
    progress: args.progress,
    workers: args.workers,
  });
  try {
    console.log(`run folder: ${out}`);
    const r = await trainer.run();
    const summary: RunSummary = {
      variant: trainer.config.variant,
      epochs: r.epochs,
      best_epoch_test_acc: r.bestTestAcc,
      best_epoch: r.bestEpoch,
      last_epoch_test_acc: r.lastTestAcc,
    };
    await trainer.writeTestTable();
    let scoreName = "u";
    if (args.flags.get("audit") !== false) {
      const audit = await trainer.auditTrainingSet();
      scoreName = audit.score === "alpha" ? "α" : audit.score ?? "u";
      summary.train_noisy_label_auroc = audit.noisyAuroc;
      if (audit.meanU) summary.train_mean_u = audit.meanU;
    }
    writeRunSummary(out, summary);
    console.log(
      `done: best-epoch test acc ${(r.bestTestAcc * 100).toFixed(2)} % (epoch ${r.bestEpoch}), ` +
        `last-epoch test acc ${(r.lastTestAcc * 100).toFixed(2)} %` +
        (summary.train_noisy_label_auroc != null
          ? `, noisy-label AUROC of ${scoreName} ${summary.train_noisy_label_auroc.toFixed(3)}`
          : ""),
    );
  } finally {
    trainer.dispose();
  }
}

if (import.meta.main) {
  await runCommand(
    {
      usage: "deno task train [options]",
      description: DESCRIPTION,
      flags: FLAGS,
      options: TRAIN_FLAGS,
    },
    main,
  );
}
