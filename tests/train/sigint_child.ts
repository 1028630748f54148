/**
 * Child process of tests/train/stop_test.ts: trains a tiny model, printing `step N` after every
 * step, until the parent's SIGINT stops it; then trains one more epoch (the process and the
 * trainer must still work) and prints both stops as one JSON line.
 */
import { initBackend } from "../../lib/backend.ts";
import { synthFerSplits } from "../../lib/data/synthfer.ts";
import { Trainer } from "../../lib/train/mod.ts";

await initBackend();
// The last step finished when the SIGINT reached this process (delivered to every listener in the
// same turn of the event loop as the trainer's), and how many steps finished after it. The signal
// arrives either in the trainer's check right after a step (the trainer stops there: 0 steps after)
// or while the next step computes (it awaits data and results; it stops after that step: 1 after).
let lastStep = 0;
let sigintAtStep: number | null = null;
let stepsAfterSigint = 0;
let firstRunDone = false;
const onSigint = () => {
  sigintAtStep ??= lastStep;
};
Deno.addSignalListener("SIGINT", onSigint);
const { train, test } = synthFerSplits({ train: 64, test: 16, size: 32, seed: 1 });
const t = await Trainer.create({
  config: {
    epochs: 20,
    batchSize: 8,
    evalBatchSize: 16,
    seed: 3,
    model: { inputSize: 32, widths: [4, 4, 8, 8], featureDim: 8 },
  },
  out: null,
  data: { train, test },
  log: null,
  progress: "silent",
  hooks: {
    onStep: (info) => {
      lastStep = info.globalStep;
      if (sigintAtStep !== null && !firstRunDone) stepsAfterSigint++;
      console.log(`step ${info.globalStep}`);
    },
  },
});
const first = await t.run();
firstRunDone = true;
const done = t.epochsDone;
const second = await t.run(done + 1);
console.log(
  JSON.stringify({
    first: first.stopped,
    second: second.stopped,
    epochsAfter: t.epochsDone,
    sigintAtStep,
    stepsAfterSigint,
  }),
);
t.dispose();
Deno.removeSignalListener("SIGINT", onSigint);
