/**
 * Fast Barnes-Hut t-SNE and PCA on typed arrays, plus embedding quality metrics.
 *
 * @example
 * ```ts
 * import { gaussianClusters, knnAccuracy, tsne } from "./mod.ts";
 * const { x, labels } = gaussianClusters(1000, 32);
 * const { embedding } = tsne(x, { perplexity: 30, seed: 1 });
 * console.log(knnAccuracy({ data: embedding, rows: 1000, cols: 2 }, labels));
 * ```
 *
 * @module
 */
export { type Matrix, type MatrixLike, toMatrix } from "./matrix.ts";
export { exactKnn, type KnnResult } from "./knn.ts";
export { conditionalProbabilities, type CsrMatrix, symmetrize } from "./affinities.ts";
export { attraction, BarnesHutTree, klDivergence } from "./barnes_hut.ts";
export { computeForces, type ForceBuffers } from "./kernel.ts";
export { ForceEngine, type Forces } from "./force_engine.ts";
export { pca, type PcaResult, symmetricEigen } from "./pca.ts";
export {
  initialEmbedding,
  jointProbabilities,
  tsne,
  type TsneAffinities,
  tsneAsync,
  type TsneOptions,
  type TsneProgress,
  type TsneResult,
} from "./tsne.ts";
export { knnAccuracy, trustworthiness } from "./metrics.ts";
export { gaussianClusters, type LabelledPoints } from "./data.ts";
