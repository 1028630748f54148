/**
 * Shared helper of the fused Adam tests (wasm engine, oneDNN cpu store): 4 steps of the library's
 * Adam on three parameters (weight decay on and off) with the fused update on or off; returns
 * every parameter and state array afterwards.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { Adam, setFusedAdam } from "../../lib/train/mod.ts";

/** Parameters and Adam state after 4 steps, fused update on or off. */
export function adamRuns(fusedOn: boolean): tf.TypedArray[] {
  // Sizes: below one SIMD vector, an odd tail, several 64-byte blocks per thread.
  const shapes = [[3], [7, 5], [33, 17, 3]];
  setFusedAdam(fusedOn);
  try {
    const vars = shapes.map((s, i) =>
      tf.variable(tf.randomNormal(s, 0, 1, "float32", 10 + i), true, `p${i}`)
    );
    const opt = new Adam([
      {
        name: "decay",
        params: new Map([["p0", vars[0]], ["p1", vars[1]]]),
        lr: 1e-3,
        weightDecay: 1e-4,
      },
      { name: "plain", params: new Map([["p2", vars[2]]]), lr: 3e-2, weightDecay: 0 },
    ]);
    for (let step = 0; step < 4; step++) {
      const grads = new Map(
        vars.map((v, i) =>
          [
            `p${i}`,
            // Seeds ≥ 1: TF.js treats seed 0 as "no seed".
            tf.randomNormal(v.shape, 0, 1 + step, "float32", 100 * step + i + 1),
          ] as [string, tf.Tensor]
        ),
      );
      opt.step(grads);
      tf.dispose([...grads.values()]);
    }
    const out = vars.map((v) => v.dataSync().slice());
    const st = opt.getState();
    const state = [...st.values()].map((t) => t.dataSync().slice());
    tf.dispose([...st.values()]);
    opt.dispose();
    tf.dispose(vars);
    return [...out, ...state];
  } finally {
    setFusedAdam(true);
  }
}
