// E2/E3 (ours): per-parameter init statistics and the optimiser groups of the bench's trainer
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend.ts";
import { createModel } from "../../lib/model/create.ts";
import { variantSwitches } from "../../lib/rul/variants.ts";
await initBackend();
const out: Record<string, unknown> = {};
for (const variant of ["baseline", "rul"] as const) {
  const m = createModel({ ...variantSwitches(variant), inputSize: 32, widths: [32, 64, 128, 256], numClasses: 10, seed: 0 });
  const sd = m.stateDict();
  const names = new Set(m.namedParameters().keys());
  const stats: Record<string, number[]> = {};
  for (const [k, t] of sd) {
    if (!names.has(k)) continue;
    const v = t.dataSync() as Float32Array;
    let s = 0, s2 = 0, mx = 0;
    for (const x of v) { s += x; s2 += x * x; mx = Math.max(mx, Math.abs(x)); }
    const mean = s / v.length;
    stats[k] = [v.length, mean, Math.sqrt(s2 / v.length - mean * mean), mx];
  }
  const g = m.trainableGroups();
  const cls = new Set(g.classifier);
  out[variant] = {
    stats,
    classifier: [...m.namedParameters()].filter(([, v]) => cls.has(v)).map(([n]) => n),
    backboneCount: g.backbone.length,
  };
  tf.dispose([...sd.values()]);
  m.dispose();
}
console.log(JSON.stringify(out));
