/**
 * Early stops of `Trainer.run` (step budget, condition, abort signal, SIGINT as Jupyter's
 * interrupt sends it) and the user-supplied training step.
 */
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { initBackend } from "../../lib/backend.ts";
import {
  CHECKPOINT_LAST,
  CHECKPOINT_STOPPED,
  defaultTrainStep,
  readCheckpoint,
  Trainer,
  type TrainStep,
} from "../../lib/train/mod.ts";
import { TINY, tinyData } from "./_tiny.ts";

const quiet = { log: null, progress: "silent" as const };

Deno.test("stop: maxSteps mid-epoch writes stopped.safetensors, keeps last = last epoch, returns partial result", async () => {
  await initBackend();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rul-stop-"));
  const t = await Trainer.create({ ...quiet, config: TINY, out: dir, data: tinyData() });
  try {
    // 40 images / batch 16 = 3 steps per epoch: step 4 is the first step of epoch 2.
    const r = await t.run(undefined, { maxSteps: 4 });
    assert.ok(r.stopped);
    assert.equal(r.stopped.reason, "max-steps");
    assert.deepEqual([r.stopped.epoch, r.stopped.step, r.stopped.steps], [2, 1, 3]);
    assert.equal(r.stopped.globalStep, 4);
    assert.equal(r.epochs, 1, "one complete epoch");
    assert.equal(r.records.length, 1);
    assert.ok(Number.isFinite(r.stopped.meanLoss));
    assert.equal(r.stopped.checkpoint, path.join(dir, CHECKPOINT_STOPPED));
    const stopped = readCheckpoint(path.join(dir, CHECKPOINT_STOPPED));
    const last = readCheckpoint(path.join(dir, CHECKPOINT_LAST));
    try {
      assert.equal(stopped.epoch, 1);
      assert.equal(stopped.globalStep, 4);
      assert.ok(stopped.hasOptimizerState, "optimiser state beside the stopped weights");
      assert.equal(last.epoch, 1);
      assert.equal(last.globalStep, 3, "last.safetensors is the completed epoch 1");
      // The stopped file holds the weights as they are now (after step 4).
      const sd = t.model.stateDict();
      try {
        for (const [name, v] of sd) {
          const a = v.dataSync(), b = stopped.tensors.get(name)!.dataSync();
          assert.deepEqual(Array.from(b), Array.from(a), `${name} equals the live weights`);
        }
      } finally {
        tf.dispose([...sd.values()]);
      }
    } finally {
      tf.dispose([...stopped.tensors.values(), ...last.tensors.values()]);
    }
    const json = JSON.parse(fs.readFileSync(path.join(dir, "stopped.json"), "utf8"));
    assert.equal(json.reason, "max-steps");
    assert.equal(json.epochsDone, 1);
  } finally {
    t.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

Deno.test("stop: condition hook, abort signal before the first epoch, no tensor leak", async () => {
  await initBackend();
  const t = await Trainer.create({ ...quiet, config: TINY, out: null, data: tinyData() });
  try {
    const seen: number[] = [];
    const r1 = await t.run(undefined, {
      when: (info) => {
        seen.push(info.globalStep);
        return info.globalStep === 2;
      },
    });
    assert.deepEqual(seen, [1, 2]);
    assert.equal(r1.stopped?.reason, "condition");
    assert.equal(r1.stopped?.checkpoint, null, "no run folder: no checkpoint");
    const before = tf.memory().numTensors;
    const ac = new AbortController();
    ac.abort();
    const r2 = await t.run(undefined, { signal: ac.signal });
    assert.equal(r2.stopped?.reason, "signal");
    assert.equal(r2.stopped?.step, 0, "stopped at the epoch boundary");
    const r3 = await t.run(undefined, { maxSteps: t.globalStep + 2 });
    assert.equal(r3.stopped?.reason, "max-steps");
    assert.equal(tf.memory().numTensors, before, "no tensors leak across stops");
    const r4 = await t.run(1);
    assert.equal(r4.stopped, null, "a later run without stop conditions trains normally");
  } finally {
    t.dispose();
  }
});

Deno.test({
  name: "stop: SIGINT from outside (as Jupyter's interrupt sends it) stops at the next step; the " +
    "process lives on and trains again",
  ignore: Deno.build.os === "windows",
  async fn() {
    // deno test owns SIGINT in its own process, so the training runs in a child, as in a kernel.
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("./sigint_child.ts", import.meta.url).pathname],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const lines: string[] = [];
    let sent = false;
    const dec = new TextDecoder();
    let buf = "";
    for await (const chunk of child.stdout) {
      buf += dec.decode(chunk);
      const parts = buf.split("\n");
      buf = parts.pop()!;
      for (const l of parts) {
        lines.push(l);
        if (!sent && l === "step 2") {
          child.kill("SIGINT");
          sent = true;
        }
      }
    }
    const status = await child.status;
    const err = dec.decode(await new Response(child.stderr).arrayBuffer());
    assert.equal(status.code, 0, `child failed: ${err}\n${lines.join("\n")}`);
    const result = JSON.parse(lines.find((l) => l.startsWith("{"))!);
    assert.equal(result.first.reason, "interrupt");
    // Stopped at the end of the step in progress when the signal arrived: the trainer's check
    // right after step N (0 steps after it) or inside step N + 1 (1 step after), not at the end
    // of the epoch (8 steps) or of the run (160 steps). The parent reacts to "step 2" with lag.
    assert.ok(result.sigintAtStep >= 2, `SIGINT seen after step ${result.sigintAtStep}`);
    assert.ok(
      result.stepsAfterSigint <= 1,
      `${result.stepsAfterSigint} steps finished after the SIGINT (after step ${result.sigintAtStep})`,
    );
    const stopAt = result.sigintAtStep + result.stepsAfterSigint;
    assert.equal(
      result.first.globalStep,
      stopAt,
      `stopped at step ${result.first.globalStep}, SIGINT arrived after step ${result.sigintAtStep}`,
    );
    assert.equal(result.first.step, (stopAt - 1) % 8 + 1, "step within the epoch");
    assert.equal(result.second, null, "the next run trains to its end: the interrupt is spent");
    assert.ok(result.epochsAfter >= 1);
  },
});

Deno.test("custom step: a step written outside lib/ is the one trained", async () => {
  await initBackend();
  // Zero loss (and no weight decay): Adam's update is exactly 0, so the weights must not move.
  const config = { ...TINY, epochs: 1, optim: { weightDecay: 0 } };
  let calls = 0;
  const zero: TrainStep = (ctx) => {
    calls++;
    const out = defaultTrainStep(ctx);
    return { ...out, loss: tf.mul(out.loss, 0) as tf.Scalar };
  };
  const t = await Trainer.create({ ...quiet, config, out: null, data: tinyData(), step: zero });
  try {
    const before = t.model.trainableVariables().map((v) => Array.from(v.dataSync()));
    const r = await t.run();
    assert.equal(calls, 3, "called once per step");
    assert.equal(r.records[0].train_loss, 0);
    const after = t.model.trainableVariables().map((v) => Array.from(v.dataSync()));
    assert.deepEqual(after, before, "zero loss: weights unchanged");
  } finally {
    t.dispose();
  }
  const bad: TrainStep = (ctx) => ({ ...defaultTrainStep(ctx), loss: tf.zeros([2]) as never });
  const t2 = await Trainer.create({ ...quiet, config, out: null, data: tinyData(), step: bad });
  try {
    await assert.rejects(() => t2.run(), /must return \{ loss: scalar, logits \}.*shape \[2\]/);
  } finally {
    t2.dispose();
  }
});
