import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { adamRuns } from "./_adam_fused.ts";
import { initBackend } from "../../lib/backend.ts";
import { Adam, ADAM_STATE_PREFIX, ExponentialLR } from "../../lib/train/mod.ts";
import { wasmGemmActive } from "../../lib/engine/mod.ts";

/** Fixture from tools/make_optim_fixtures.py (torch.optim.Adam + ExponentialLR). */
interface Fixture {
  betas: [number, number];
  eps: number;
  weightDecay: number;
  gamma: number;
  groups: { name: string; params: string[]; lr: number }[];
  shapes: Record<string, number[]>;
  initial: Record<string, number[]>;
  epochs: {
    lrs: number[];
    steps: { grads: Record<string, number[]>; after: Record<string, number[]> }[];
  }[];
  finalLrs: number[];
  finalState: Record<string, { step: number; exp_avg: number[]; exp_avg_sq: number[] }>;
}

/** Assert that `fn` throws an Error whose message contains `text`. */
function throwsWith(fn: () => unknown, _cls: ErrorConstructor, text: string) {
  assert.throws(fn, (e: Error) => e.message.includes(text) || assert.fail(e.message));
}

const fixture: Fixture = JSON.parse(
  Deno.readTextFileSync(new URL("../fixtures/train/adam.json", import.meta.url)),
);

function build() {
  const vars = new Map<string, tf.Variable>();
  for (const [n, vals] of Object.entries(fixture.initial)) {
    vars.set(n, tf.variable(tf.tensor(vals, fixture.shapes[n]), true));
  }
  const opt = new Adam(
    fixture.groups.map((g) => ({
      name: g.name,
      lr: g.lr,
      params: new Map(g.params.map((n) => [n, vars.get(n)!])),
    })),
    {
      beta1: fixture.betas[0],
      beta2: fixture.betas[1],
      eps: fixture.eps,
      weightDecay: fixture.weightDecay,
    },
  );
  const sched = new ExponentialLR(opt, fixture.gamma);
  return { vars, opt, sched };
}

function maxRelErr(got: ArrayLike<number>, want: number[]): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]) / Math.max(Math.abs(want[i]), 1e-6);
    worst = Math.max(worst, err);
  }
  return worst;
}

function runSteps(
  vars: Map<string, tf.Variable>,
  opt: Adam,
  sched: ExponentialLR,
  epochs: Fixture["epochs"],
  check: boolean,
) {
  for (const ep of epochs) {
    if (check) {
      assert.deepStrictEqual(opt.groups.map((g) => g.lr), ep.lrs);
    }
    for (const st of ep.steps) {
      const grads = new Map<string, tf.Tensor>();
      for (const [n, g] of Object.entries(st.grads)) {
        grads.set(n, tf.tensor(g, fixture.shapes[n]));
      }
      opt.step(grads);
      tf.dispose([...grads.values()]);
      if (check) {
        for (const [n, want] of Object.entries(st.after)) {
          const err = maxRelErr(vars.get(n)!.dataSync(), want);
          assert(err < 1e-5, `param ${n}: relative error ${err}`);
        }
      }
    }
    sched.step();
  }
}

Deno.test("Adam + ExponentialLR match torch.optim over 3 epochs, 2 groups, a skipped grad", async () => {
  await initBackend();
  const { vars, opt, sched } = build();
  runSteps(vars, opt, sched, fixture.epochs, true);
  assert.deepStrictEqual(opt.groups.map((g) => g.lr), fixture.finalLrs);
  const state = opt.getState();
  for (const [n, want] of Object.entries(fixture.finalState)) {
    assert.deepStrictEqual(state.get(ADAM_STATE_PREFIX.step + n)!.dataSync()[0], want.step);
    assert.deepStrictEqual(opt.stepCount(n), want.step);
    const m = maxRelErr(state.get(ADAM_STATE_PREFIX.expAvg + n)!.dataSync(), want.exp_avg);
    const v = maxRelErr(state.get(ADAM_STATE_PREFIX.expAvgSq + n)!.dataSync(), want.exp_avg_sq);
    assert(m < 1e-5 && v < 1e-5, `state ${n}: exp_avg err ${m}, exp_avg_sq err ${v}`);
  }
  tf.dispose([...state.values()]);
  opt.dispose();
  tf.dispose([...vars.values()]);
});

Deno.test("Adam state export/import resumes bit-exactly and does not leak", async () => {
  await initBackend();
  // Uninterrupted run.
  const a = build();
  runSteps(a.vars, a.opt, a.sched, fixture.epochs, false);
  // Interrupted after epoch 1: export state, rebuild from the exported params, resume.
  const b = build();
  runSteps(b.vars, b.opt, b.sched, fixture.epochs.slice(0, 1), false);
  const before = tf.memory().numTensors;
  const saved = b.opt.getState();
  const savedParams = new Map([...b.vars].map(([n, v]) => [n, tf.clone(v)]));
  b.opt.dispose();
  tf.dispose([...b.vars.values()]);
  const c = build();
  for (const [n, t] of savedParams) c.vars.get(n)!.assign(t);
  c.opt.setState(saved);
  c.sched.setLastEpoch(1);
  tf.dispose([...saved.values(), ...savedParams.values()]);
  runSteps(c.vars, c.opt, c.sched, fixture.epochs.slice(1), false);
  for (const [n, v] of a.vars) {
    assert.deepStrictEqual(Array.from(c.vars.get(n)!.dataSync()), Array.from(v.dataSync()), n);
  }
  assert.deepStrictEqual(c.opt.groups.map((g) => g.lr), a.opt.groups.map((g) => g.lr));
  a.opt.dispose();
  c.opt.dispose();
  tf.dispose([...a.vars.values(), ...c.vars.values()]);
  assert(tf.memory().numTensors <= before, "tensors leaked");
});

Deno.test("Adam rejects bad options, unknown gradients and bad state", async () => {
  await initBackend();
  const { vars, opt } = build();
  throwsWith(() => new Adam([]), Error, "at least one parameter group");
  throwsWith(
    () => new Adam([{ name: "g", lr: 1e-3, params: vars }], { beta1: 1 }),
    Error,
    "beta1",
  );
  const g = tf.zeros([2]);
  throwsWith(() => opt.step(new Map([["nope", g]])), Error, 'unknown parameter "nope"');
  throwsWith(
    () => opt.step(new Map([["classifier.bias", g]])),
    Error,
    'gradient of "classifier.bias" has shape [2]',
  );
  const bad = new Map<string, tf.Tensor>([[
    ADAM_STATE_PREFIX.step + "classifier.bias",
    tf.scalar(1),
  ]]);
  throwsWith(
    () => opt.setState(bad),
    Error,
    `missing "${ADAM_STATE_PREFIX.expAvg}classifier.bias"`,
  );
  throwsWith(() => new ExponentialLR(opt, 0), Error, "gamma");
  tf.dispose([g, ...bad.values()]);
  opt.dispose();
  tf.dispose([...vars.values()]);
});

Deno.test("Adam step keeps numTensors flat", async () => {
  await initBackend();
  const { vars, opt } = build();
  const grads = new Map(
    [...vars].map(([n, v]) => [n, tf.onesLike(v)] as [string, tf.Tensor]),
  );
  opt.step(grads); // allocates state
  const n0 = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) opt.step(grads);
  assert.deepStrictEqual(tf.memory().numTensors, n0);
  tf.dispose([...grads.values()]);
  opt.dispose();
  tf.dispose([...vars.values()]);
});

Deno.test("fused wasm Adam update is bit-identical to the TF.js ops (weight decay on and off)", async () => {
  await initBackend({ backend: "wasm" });
  if (!wasmGemmActive()) throw new Error("the engine's wasm kernels are not active");
  const fused = adamRuns(true), ops = adamRuns(false);
  assert.strictEqual(fused.length, ops.length);
  for (let i = 0; i < ops.length; i++) {
    const a = new Uint8Array(fused[i].buffer), b = new Uint8Array(ops[i].buffer);
    assert.deepStrictEqual(a, b, `array ${i} differs`);
  }
});
