import * as tf from "@tensorflow/tfjs-core";
import { Adam, ExponentialLR } from "../../lib/train/mod.ts";
import { initBackend } from "../../lib/backend.ts";
await initBackend();
const v = tf.variable(tf.zeros([1]));
const opt = new Adam([{ name: "backbone", params: new Map([["a", v]]), lr: 2e-4 }, { name: "classifier", params: new Map([["b", tf.variable(tf.zeros([1]))]]), lr: 2e-3 }], { weightDecay: 1e-4 });
const s = new ExponentialLR(opt, 0.9);
const out: number[][] = [];
for (let e = 1; e <= 30; e++) { const l = s.lrs(); out.push([l.backbone, l.classifier]); s.step(); }
console.log(JSON.stringify(out));
