/**
 * Sample inputs for the figure tests: one figure of every kind, built from small, hand-made
 * results.
 *
 * @module
 */
import {
  ablationBars,
  confusionCounts,
  confusionHeatmap,
  embeddingScatter,
  type Figure,
  seedBandPanels,
  trainingCurves,
  uncertaintyByEpoch,
  uncertaintyGallery,
  uncertaintyHistogram,
} from "../../lib/plots/mod.ts";

/** 70 points, 10 per class, on a 7-spoke star (class c along angle 2πc/7). */
export function starEmbedding(): { embedding: Float64Array; labels: Int32Array } {
  const n = 70;
  const embedding = new Float64Array(2 * n);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 7, r = 1 + Math.floor(i / 7);
    labels[i] = c;
    embedding[2 * i] = r * Math.cos((2 * Math.PI * c) / 7);
    embedding[2 * i + 1] = r * Math.sin((2 * Math.PI * c) / 7);
  }
  return { embedding, labels };
}

/** A 12×10 RGB test pattern. */
export function testImage(
  seed: number,
): { data: Uint8Array; width: number; height: number; channels: number } {
  const width = 12, height = 10, channels = 3;
  const data = new Uint8Array(width * height * channels);
  for (let t = 0; t < data.length; t++) data[t] = (t * 7 + seed * 31) % 256;
  return { data, width, height, channels };
}

/** Every figure builder applied to sample inputs. */
export function sampleFigures(): Record<string, Figure> {
  const { embedding, labels } = starEmbedding();
  const u = Array.from(labels, (_, i) => (i % 10) / 10);
  return {
    scatter: embeddingScatter(embedding, labels, { title: "t-SNE" }),
    scatterSize: embeddingScatter(embedding, labels, { uncertainty: u, uncertaintyAs: "size" }),
    scatterOpacity: embeddingScatter(embedding, labels, {
      uncertainty: u,
      uncertaintyAs: "opacity",
    }),
    uByEpoch: uncertaintyByEpoch([
      {
        name: "seed 0",
        epochs: [1, 2, 3],
        meanUFlipped: [1.2, 1.1, 1.0],
        meanUClean: [1.2, 1.3, 1.4],
        auroc: [0.5, 0.42, 0.35],
      },
    ]),
    bands: seedBandPanels([
      {
        groups: ["baseline", "rul"].map((name, v) => ({
          name,
          seeds: [0, 1, 2].map((seed) => ({
            seed,
            epochs: [1, 2, 3],
            values: [0.5 + 0.05 * v + 0.01 * seed, 0.6 + 0.01 * seed, 0.55 + 0.1 * v],
          })),
        })),
        yLabel: "test accuracy",
        title: "test accuracy",
      },
      {
        groups: [{ name: "rul", seeds: [{ seed: 0, epochs: [1, 2, 3], values: [0.5, 0.4, 0.3] }] }],
        yLabel: "AUROC",
        band: "ci95",
        reference: { y: 0.5, name: "chance" },
      },
    ]),
    curves: trainingCurves([
      { name: "baseline", loss: [2, 1.5, 1.2], testAccuracy: [0.5, 0.6, 0.65] },
      { name: "RUL", epochs: [1, 2, 3], loss: [2, 1.4, 1.1], testAccuracy: [0.55, 0.66, 0.7] },
    ]),
    confusionCounts: confusionHeatmap(confusionCounts([0, 0, 1, 1, 2], [0, 1, 1, 1, 2], 7), {
      mode: "counts",
    }),
    confusionBoth: confusionHeatmap(confusionCounts([0, 0, 1, 1, 2], [0, 1, 1, 1, 2], 7), {
      mode: "both",
    }),
    histogram: uncertaintyHistogram([0.1, 0.2, 0.2, 0.3], [0.7, 0.8, 0.9], { bins: 8 }),
    gallery: uncertaintyGallery(
      [0, 1, 2, 3, 4].map((i) => ({
        image: testImage(i),
        label: i,
        prediction: (i + i % 2) % 7,
        uncertainty: i / 5,
      })),
      { columns: 3 },
    ),
    ablation: ablationBars([
      { name: "baseline", values: [0.80, 0.82, 0.81] },
      { name: "RUL", values: [0.86, 0.87] },
    ]),
  };
}
