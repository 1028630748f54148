/**
 * Writes a PNG contact sheet of SynthFER samples (one row per class) for eyeballing the generator.
 * Usage: deno run -A tools/data_synthfer_preview.ts [out.png] [size] [perClass] [seed]
 *
 * @module
 */
import sharp from "sharp";
import { drawSynthFerSample, renderSynthFer } from "../lib/data/synthfer.ts";

const out = Deno.args[0] ?? "synthfer_preview.png";
const size = Number(Deno.args[1] ?? 64);
const per = Number(Deno.args[2] ?? 8);
const seed = Number(Deno.args[3] ?? 0);
const sheet = new Uint8Array(7 * size * per * size * 3);
const filled = new Array(7).fill(0);
const img = new Uint8Array(size * size * 3);
for (let i = 0; filled.some((f) => f < per) && i < 100000; i++) {
  const s = drawSynthFerSample(i, { n: 0, seed, blendProb: 0 });
  if (filled[s.label] >= per) continue;
  renderSynthFer(s, size, img);
  const col = filled[s.label]++;
  for (let y = 0; y < size; y++) {
    const dst = ((s.label * size + y) * per * size + col * size) * 3;
    sheet.set(img.subarray(y * size * 3, (y + 1) * size * 3), dst);
  }
}
await sharp(sheet, { raw: { width: per * size, height: 7 * size, channels: 3 } }).png().toFile(out);
console.log(`wrote ${out}: rows = Surprise, Fear, Disgust, Happiness, Sadness, Anger, Neutral`);
