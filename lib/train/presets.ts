/**
 * The presets: the quick setting shared by the demo, the notebooks' `quick` scale and the
 * pretraining script (48 px, ResNet-18 layout at half width, 4 epochs, batch 64, started from the
 * committed SynthFER-pretrained backbone), and the demo's data on top of it.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { mergeConfig, type TrainConfigInput } from "./config.ts";

/**
 * Absolute path of the committed backbone pretrained on a clean SynthFER split disjoint from the
 * demo's and the notebooks' data (data seed 1; 48 px, widths 32-64-128-256; written by
 * `deno task pretrain`, see docs/training.md, "Pretraining protocol"): the quick setting starts
 * from it, as the paper starts from MS-Celeb-1M.
 */
export const QUICK_INIT: string = fileURLToPath(
  new URL("../../data/fixtures/synthfer_pretrained_backbone_48px_w32.safetensors", import.meta.url),
);

/**
 * The quick setting: small enough for a 2-core CPU, chosen before seeing results. 48 px input,
 * ResNet-18 layout at half width (32-64-128-256), 4 epochs, batch 64, the official optimiser and
 * schedule, from {@link QUICK_INIT}; the embedded SynthFER data (sizes and noise set by the user).
 */
export const QUICK_PRESET: Readonly<TrainConfigInput> = Object.freeze<TrainConfigInput>({
  epochs: 4,
  batchSize: 64,
  init: QUICK_INIT,
  model: { inputSize: 48, widths: [32, 64, 128, 256] },
  data: { source: "synthfer" },
});

/**
 * The demo's setting (`deno task demo`): {@link QUICK_PRESET} on 5,000 training / 1,000 test
 * SynthFER images with 30 % symmetric label noise, seed 0.
 */
export const DEMO_CONFIG: Readonly<TrainConfigInput> = Object.freeze(mergeConfig(QUICK_PRESET, {
  seed: 0,
  data: { noise: 0.3, trainSize: 5000, testSize: 1000 },
}));
