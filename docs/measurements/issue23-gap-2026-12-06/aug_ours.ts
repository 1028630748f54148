// E1 (ours): statistics of this project's train transform on the first N Fashion-MNIST training
// images, epoch 0..E-1 of seed 0, exactly as BatchLoader/fillBatch draws them (sampleSeed(seed,
// epoch, position)); also dumps the test transform of the first 64 images for an exact comparison.
import { loadFashionMnist } from "../../lib/data/fashion_mnist.ts";
import { testTransform, trainTransform } from "../../lib/data/transforms.ts";
import { sampleSeed } from "../../lib/data/batch_core.ts";
import { Rng } from "../../lib/random.ts";

const N = Number(Deno.args[0] ?? 5000), EPOCHS = Number(Deno.args[1] ?? 2), SIZE = 32;
const ds = await loadFashionMnist({ split: "train", limit: N });
const per = SIZE * SIZE * 3;
const out = new Float32Array(per);
let flip = 0, noise = 0, erased = 0, areaSum = 0, hSum = 0, wSum = 0, zeroSum = 0;
let s1 = 0, s2 = 0, cnt = 0;
const areaHist = new Array(11).fill(0);
for (let e = 0; e < EPOCHS; e++) {
  for (let k = 0; k < N; k++) {
    const img = ds.pixels.subarray(k * 784, (k + 1) * 784);
    const tr = trainTransform(img, 28, 28, 1, { size: SIZE }, new Rng(sampleSeed(0, e, k)), out, 0);
    if (tr.pixel === "flip") flip++;
    if (tr.pixel === "noise") noise++;
    if (tr.erase) {
      erased++;
      areaSum += tr.erase.h * tr.erase.w;
      hSum += tr.erase.h;
      wSum += tr.erase.w;
      areaHist[Math.min(10, Math.floor(tr.erase.h * tr.erase.w / 25.6))]++;
    }
    let z = 0;
    for (let p = 0; p < SIZE * SIZE; p++) if (out[p * 3] === 0) z++;
    zeroSum += z;
    for (let i = 0; i < per; i += 3) {
      s1 += out[i];
      s2 += out[i] * out[i];
      cnt++;
    }
  }
}
const T = N * EPOCHS;
const mean = s1 / cnt;
console.log(JSON.stringify({
  side: "ours",
  samples: T,
  p_flip: flip / T,
  p_noise: noise / T,
  p_erase: erased / T,
  mean_erase_area_px: areaSum / erased,
  mean_erase_h: hSum / erased,
  mean_erase_w: wSum / erased,
  mean_zero_px_per_image_ch0: zeroSum / T,
  erase_area_hist_per_25_6px: areaHist.map((v) => +(v / erased).toFixed(4)),
  ch0_mean: mean,
  ch0_std: Math.sqrt(s2 / cnt - mean * mean),
}));
// test transform of the first 64 images (channel-last, 3 channels) for an exact comparison
const test = new Float32Array(64 * per);
for (let k = 0; k < 64; k++) {
  testTransform(ds.pixels.subarray(k * 784, (k + 1) * 784), 28, 28, 1, { size: SIZE }, test, k * per);
}
Deno.writeFileSync(new URL("./test64_ours.f32", import.meta.url), new Uint8Array(test.buffer));
