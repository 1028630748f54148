import { sampleErasing } from "../../lib/data/transforms.ts";
import { Rng } from "../../lib/random.ts";
const M = 400000; let n = 0, a = 0, a2 = 0, hs = 0, ws = 0, big = 0, full = 0;
for (let k = 0; k < M; k++) {
  const rng = new Rng(k * 7919 + 13);
  const b = sampleErasing(32, 32, rng);
  if (!b) continue;
  n++; const ar = b.h * b.w; a += ar; a2 += ar * ar; hs += b.h; ws += b.w; if (ar >= 256) big++;
}
console.log(JSON.stringify({ side: "ours", p: n / M, mean_area: a / n, sd_area: Math.sqrt(a2 / n - (a / n) ** 2), se_mean: Math.sqrt(a2 / n - (a / n) ** 2) / Math.sqrt(n), mean_h: hs / n, mean_w: ws / n, p_area_ge_256: big / n }));
