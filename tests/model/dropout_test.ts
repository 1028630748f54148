// Dropout in the RUL heads (official `nn.Sequential(BatchNorm2d, Dropout(p), Flatten, Linear,
// BatchNorm1d)`): where it acts and how it scales, checked against the definitions with no
// fixture. With the μ head's Linear set to the identity (feature dimension = channels, 1 × 1
// map) and zero bias, the head's training-mode output is BatchNorm1d(d) with
// d = dropout(BatchNorm2d(f)): every dropped element of a column has the same value
// (−mean/√(var + eps)), about p of them are dropped, the kept ones are BatchNorm2d(f) / (1 − p)
// (PyTorch's inverted dropout), and BatchNorm1d's running variance after the step is
// 0.9 + 0.1 · (unbiased variance of d), which sees the 1 / (1 − p) scale that the normalisation
// itself hides.
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend.ts";
import { createModel, type RulModel } from "../../lib/model/mod.ts";
import { mulberry32 } from "../../lib/random.ts";

await initBackend();

Deno.test("RUL heads: dropout after BatchNorm2d, element-wise, scaled by 1/(1 − p)", () => {
  const p = 0.4, C = 16, N = 256, EPS = 2e-5;
  const model = createModel({
    kind: "rul",
    inputSize: 32,
    numClasses: 10,
    featureDim: C,
    dropout: p,
    widths: [4, 8, 8, C],
  }) as RulModel;
  const eye = tf.eye(C);
  const zeros = tf.zeros([C]);
  model.loadStateDict(new Map([["mu.3.weight", eye], ["mu.3.bias", zeros]]), {
    source: "model",
    log: null,
  });
  const x = tf.randomNormal([N, 32, 32, 3], 0, 1, "float32", 7) as tf.Tensor4D;
  const { featureMap, mu, logVar } = model.forwardHeads(x, mulberry32(5));
  const f = featureMap.reshape([N, C]).arraySync() as number[][];
  const out = mu.arraySync() as number[][];
  const sd = model.stateDict();
  const runVar = sd.get("mu.4.running_var")!.arraySync() as number[];
  tf.dispose([...sd.values()]);
  let dropped = 0;
  for (let c = 0; c < C; c++) {
    // BatchNorm2d (train mode, no affine): batch mean and biased variance of the channel
    const col = f.map((r) => r[c]);
    const m = col.reduce((a, b) => a + b, 0) / N;
    const v = col.reduce((a, b) => a + (b - m) ** 2, 0) / N;
    const z = col.map((t) => (t - m) / Math.sqrt(v + EPS));
    // the dropped elements share one output value: the column's most frequent value
    const counts = new Map<number, number>();
    for (const r of out) counts.set(r[c], (counts.get(r[c]) ?? 0) + 1);
    const [mode, k] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0];
    if (k < N * 0.2) throw new Error(`column ${c}: no shared dropped value (${k} of ${N})`);
    dropped += k;
    const d = out.map((r, i) => (r[c] === mode ? 0 : z[i] / (1 - p)));
    const dm = d.reduce((a, b) => a + b, 0) / N;
    const dv = d.reduce((a, b) => a + (b - dm) ** 2, 0) / N;
    for (let i = 0; i < N; i++) {
      const want = (d[i] - dm) / Math.sqrt(dv + EPS);
      if (Math.abs(out[i][c] - want) > 1e-3) {
        throw new Error(`column ${c} row ${i}: head output ${out[i][c]}, expected ${want}`);
      }
    }
    const wantVar = 0.9 + 0.1 * dv * N / (N - 1);
    if (Math.abs(runVar[c] - wantVar) > 1e-3 * wantVar) {
      throw new Error(`column ${c}: running variance ${runVar[c]}, expected ${wantVar}`);
    }
  }
  const frac = dropped / (N * C); // binomial: sd √(0.24 / 4096) = 0.0077
  if (Math.abs(frac - p) > 0.04) throw new Error(`dropped fraction ${frac}, expected ${p}`);
  tf.dispose([eye, zeros, x, featureMap, mu, logVar!]);
  model.dispose();
});
