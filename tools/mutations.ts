/**
 * The mutations of `deno task mutants` (tools/mutants.ts): for each test fixed in issue 24, a
 * break of the code it guards. `find` must occur exactly once in `file`.
 *
 * @module
 */

/** One mutation. */
export interface Mutation {
  /** Short id (item number + letter). */
  id: string;
  /** The issue-24 item it belongs to. */
  item: number;
  /** What the mutation breaks, in words. */
  what: string;
  /** File to mutate, relative to the repository root. */
  file: string;
  /** Exact text to replace (must occur exactly once). */
  find: string;
  /** Replacement. */
  replace: string;
  /** Test files to run (relative to the root). */
  tests: string[];
  /** `deno test --filter` (optional). */
  filter?: string;
  /** Extra environment for the test run. */
  env?: Record<string, string>;
}

/** Every mutation, in issue order. */
export const MUTATIONS: Mutation[] = [
  {
    id: "1a",
    item: 1,
    what: "the trainer drops the variant's switches (every variant trains plain RUL)",
    file: "lib/train/trainer.ts",
    find: "      ...variantSwitches(config.variant),\n",
    replace: "",
    tests: ["tests/train/trainer_test.ts"],
    filter: "/variant|addup/",
  },
  {
    id: "1b",
    item: 1,
    what: "different-label pairing falls back to a random permutation",
    file: "lib/rul/step.ts",
    find: "? differentLabelPairing(labels, input.rng)",
    replace: "? randomPermutation(n, input.rng)",
    tests: ["tests/train/trainer_test.ts"],
    filter: "/variant/",
  },
  {
    id: "1c",
    item: 1,
    what: "the w-weighted add-up loss swaps w and 1 − w",
    file: "lib/rul/loss.ts",
    find: "tf.add(tf.mul(w, ceA), tf.mul(tf.sub(1, w), ceB))",
    replace: "tf.add(tf.mul(tf.sub(1, w), ceA), tf.mul(w, ceB))",
    tests: ["tests/train/trainer_test.ts"],
    filter: "/addup/",
  },
  {
    id: "1d",
    item: 1,
    what: "the σ head is built whatever the variant says",
    file: "lib/model/rul_model.ts",
    find: "this.logVar = config.sigmaHead",
    replace: "this.logVar = true",
    tests: ["tests/train/trainer_test.ts"],
    filter: "/variant/",
  },
  {
    id: "5a",
    item: 5,
    what: "the audit scores −u (AUROC of the reversed score)",
    file: "lib/eval/audit.ts",
    find: "auroc: rocAuc(u, flipped),",
    replace: "auroc: rocAuc(Array.from(u, (v) => -v), flipped),",
    tests: ["tests/train/trainer_test.ts"],
    filter: "/audit/",
  },
  {
    id: "5b",
    item: 5,
    what: "the audit scores clean labels as the positives",
    file: "lib/eval/audit.ts",
    find: "auroc: rocAuc(u, flipped),",
    replace: "auroc: rocAuc(u, flipped.map((f) => !f)),",
    tests: ["tests/train/trainer_test.ts"],
    filter: "/audit/",
  },
  {
    id: "5c",
    item: 5,
    what: "u misaligned with the samples (shifted by one) in the audit",
    file: "lib/train/trainer.ts",
    find: "const d = noisyLabelDetection(values, train.labels, train.cleanLabels);",
    replace:
      "const d = noisyLabelDetection(Float32Array.from(values, (_, i) => values[(i + 1) % ev.n]), train.labels, train.cleanLabels);",
    tests: ["tests/train/trainer_test.ts"],
    filter: "/audit/",
  },
  {
    id: "4a",
    item: 4,
    what: "evaluation writes each batch's features at the logits' stride (wrong offset)",
    file: "lib/train/evaluate.ts",
    find: "features.set(ft as Float32Array, done * featureDim);",
    replace: "features.set(ft as Float32Array, done * k);",
    tests: ["tests/train/evaluate_test.ts"],
  },
  {
    id: "4b",
    item: 4,
    what: "evaluation of a tensor batch drops the partial last batch",
    file: "lib/train/evaluate.ts",
    find: "for (let i = 0; i < n; i += batchSize) {",
    replace: "for (let i = 0; i + batchSize <= n; i += batchSize) {",
    tests: ["tests/cli/eval_test.ts"],
    filter: "batches of 4",
  },
  {
    id: "4c",
    item: 4,
    what: "evaluation writes u one sample early from the second batch on",
    file: "lib/train/evaluate.ts",
    find: "if (u && uu) u.set(uu as Float32Array, done);",
    replace: "if (u && uu) u.set(uu as Float32Array, Math.max(0, done - 1));",
    tests: ["tests/train/evaluate_test.ts"],
  },
  {
    id: "2a",
    item: 2,
    what:
      "(test harness) the timed kills land after the child has finished: the old test counted these no-op resumes as passes",
    file: "tests/train/crash_test.ts",
    find: ": { afterMs: rng() * ref.trainMs };",
    replace: ": { afterMs: 1e6 + rng() * ref.trainMs };",
    tests: ["tests/train/crash_test.ts"],
    filter: "20 seeded instants",
  },
  {
    id: "3a",
    item: 3,
    what: "SIGINT stops at the end of the epoch instead of the end of the step",
    file: "lib/train/trainer.ts",
    find: "if (reason && step < steps) {",
    replace: 'if (reason && step < steps && reason !== "interrupt") {',
    tests: ["tests/train/stop_test.ts"],
    filter: "SIGINT",
  },
  {
    id: "15a",
    item: 15,
    what:
      "(environment) a broken python3-torch in CI (import fails): the PyTorch checks must fail, not be ignored",
    file: "tests/_python.ts",
    find: 'args: ["-c", "import torch"],',
    replace: 'args: ["-c", "import torch_missing_in_ci"],',
    tests: ["tests/io/torch_writer_test.ts"],
    env: { RUL_REQUIRE_DEPS: "1" },
  },
  {
    id: "15b",
    item: 15,
    what: "(environment) Fashion-MNIST absent in CI: the test must fail, not return early",
    file: "tests/data/fashion_mnist_test.ts",
    find: '"t10k-labels-idx1-ubyte.gz"',
    replace: '"t10k-labels-idx1-ubyte.gz.absent"',
    tests: ["tests/data/fashion_mnist_test.ts"],
    env: { RUL_REQUIRE_DEPS: "1" },
  },
  {
    id: "6a",
    item: 6,
    what:
      "the oneDNN max-pool kernel crashes with an error that names oneDNN (was counted as a skip)",
    file: "lib/engine/onednn.ts",
    find:
      'const pr = poolPrims(x.shape, k, stride, pad);\n      const y = newOutput(b, pr.dstShape, "float32");',
    replace:
      'throw new Error("RulDnnMaxPool: oneDNN primitive not created (another layout)");\n      const pr = poolPrims(x.shape, k, stride, pad);\n      const y = newOutput(b, pr.dstShape, "float32");',
    tests: ["tests/engine/maxpool_test.ts"],
    filter: "oneDNN",
  },
  {
    id: "6b",
    item: 6,
    what: "the oneDNN max-pool backward reads y instead of dy (a finite gradient at the NaN)",
    file: "lib/engine/onednn.ts",
    find: "lib.run(pr.bwd, [at(b, dy), at(b, ws), at(b, dx)]);",
    replace: "lib.run(pr.bwd, [at(b, y), at(b, ws), at(b, dx)]);",
    tests: ["tests/engine/maxpool_test.ts"],
    filter: "oneDNN",
  },
  {
    id: "13a",
    item: 13,
    what: "the max-pool gradient sends a tie to the last maximum instead of the first",
    file: "lib/engine/maxpool.ts",
    find: "if (v > best[ch] || arg[ch] < 0 || v !== v) {",
    replace: "if (v >= best[ch] || arg[ch] < 0 || v !== v) {",
    tests: ["tests/engine/maxpool_test.ts"],
    filter: "many ties",
  },
  {
    id: "7a",
    item: 7,
    what: "the wasm channel-kernel batch-norm forward drops eps",
    file: "lib/engine/batchnorm.ts",
    find: "const inv = tf.rsqrt(tf.add(variance, eps)) as tf.Tensor1D;",
    replace: "const inv = tf.rsqrt(variance) as tf.Tensor1D;",
    tests: ["tests/engine/batchnorm_test.ts"],
  },
  {
    id: "7b",
    item: 7,
    what: "the oneDNN batch-norm forward gets eps = 0",
    file: "lib/engine/batchnorm.ts",
    find: "const [y, mean, variance, ws] = dnnlBatchNorm(xi, g, b, eps, fused);",
    replace: "const [y, mean, variance, ws] = dnnlBatchNorm(xi, g, b, 0, fused);",
    tests: ["tests/engine/onednn_cpu_store_test.ts"],
    filter: "batch-norm",
  },
  {
    id: "12a",
    item: 12,
    what: "the wasm channel kernels never run (batch norm falls back to TF.js's kernels)",
    file: "lib/engine/wasm_gemm.ts",
    find: "x.shape[x.rank - 1] % CHAN_GROUP === 0 && x.size > 0;",
    replace: "x.shape[x.rank - 1] % CHAN_GROUP === 0 && x.size < 0;",
    tests: ["tests/engine/batchnorm_test.ts"],
  },
  {
    id: "18a",
    item: 18,
    what: "the grad-filter reduction blocking drops the last output row of the last block",
    file: "lib/engine/gemm_jobs.ts",
    find: "const nO = Math.min(ohBlock, ho - oh0);",
    replace:
      "const nO = Math.min(ohBlock, ho - oh0) - (oh0 > 0 && oh0 + ohBlock >= ho && n0 + nP >= n ? 1 : 0);",
    tests: ["tests/engine/gemm_test.ts"],
    filter: "exactly",
  },
  {
    id: "10a",
    item: 10,
    what: "grey images replicated with the red channel's mean/std in all three channels",
    file: "lib/data/transforms.ts",
    find: "for (let k = 0; k < 3; k++) out[offset + p * 3 + k] = luts[k][v];",
    replace: "for (let k = 0; k < 3; k++) out[offset + p * 3 + k] = luts[0][v];",
    tests: ["tests/data/batch_test.ts"],
    filter: "grey",
  },
  {
    id: "16a",
    item: 16,
    what: "bool tensors written with the dtype U8 (PyTorch would load uint8, not bool)",
    file: "lib/io/safetensors.ts",
    find:
      'const DTYPE_OUT: Record<string, string> = { float32: "F32", int32: "I32", bool: "BOOL" };',
    replace:
      'const DTYPE_OUT: Record<string, string> = { float32: "F32", int32: "I32", bool: "U8" };',
    tests: ["tests/io/safetensors_test.ts"],
    filter: "Python",
  },
  {
    id: "17a",
    item: 17,
    what: "sfc32's rotation 21 → 20 (a plausible transcription slip)",
    file: "lib/random.ts",
    find: "this.#c = (this.#c << 21) | (this.#c >>> 11);",
    replace: "this.#c = (this.#c << 20) | (this.#c >>> 12);",
    tests: ["tests/random_test.ts"],
  },
  {
    id: "8a",
    item: 8,
    what:
      "the batch-norm backward uses 2·eps (gradients off by ≤ 1e-3 relative: inside the old 1e-3 bound)",
    file: "lib/engine/batchnorm.ts",
    find: "if (dnnl) return dnnlBatchNormGrad(dy, xi, mean, variance, g, b, eps, ws);",
    replace: "if (dnnl) return dnnlBatchNormGrad(dy, xi, mean, variance, g, b, eps * 2, ws);",
    tests: ["tests/model/reference_test.ts"],
  },
  {
    id: "14a",
    item: 14,
    what: "oneDNN's kernels never become active (the cpu store run falls back to plain TF.js cpu)",
    file: "lib/engine/onednn.ts",
    find: "return state !== null && forced !== false && tf.getBackend() === state.store &&",
    replace:
      'return state !== null && forced !== false && tf.getBackend() === state.store + "-off" &&',
    tests: ["tests/engine/onednn_cpu_store_test.ts"],
    filter: "PyTorch fixtures",
  },
  {
    id: "11a",
    item: 11,
    what: "the t-SNE gradient halves the repulsion (a wrong 1/Z normalisation)",
    file: "lib/tsne/tsne.ts",
    find: "const grad = 4 * (exag * attr[t] - rep[t] * invZ);",
    replace: "const grad = 4 * (exag * attr[t] - rep[t] * invZ * 0.5);",
    tests: ["tests/tsne/tsne_test.ts"],
    filter: "assembled",
  },
  {
    id: "11b",
    item: 11,
    what: "early exaggeration is not applied to the attraction",
    file: "lib/tsne/tsne.ts",
    find: "const grad = 4 * (exag * attr[t] - rep[t] * invZ);",
    replace: "const grad = 4 * (attr[t] - rep[t] * invZ);",
    tests: ["tests/tsne/tsne_test.ts"],
    filter: "assembled",
  },
  {
    id: "9a",
    item: 9,
    what: "the heads' dropout at half the configured rate",
    file: "lib/model/rul_model.ts",
    find: "h = tf.dropout(h, this.dropout, undefined, dropoutSeed) as tf.Tensor4D;",
    replace: "h = tf.dropout(h, this.dropout / 2, undefined, dropoutSeed) as tf.Tensor4D;",
    tests: ["tests/model/api_test.ts"],
    filter: "dropout sits",
  },
  {
    id: "9b",
    item: 9,
    what: "the heads' dropout without the 1/(1−p) scaling",
    file: "lib/model/rul_model.ts",
    find: "h = tf.dropout(h, this.dropout, undefined, dropoutSeed) as tf.Tensor4D;",
    replace:
      "h = tf.mul(tf.dropout(h, this.dropout, undefined, dropoutSeed), 1 - this.dropout) as tf.Tensor4D;",
    tests: ["tests/model/api_test.ts"],
    filter: "dropout sits",
  },
  {
    id: "9c",
    item: 9,
    what: "the heads' dropout moved after the flatten-Linear-BatchNorm1d (on μ itself)",
    file: "lib/model/rul_model.ts",
    find: "return this.bn1d.apply(this.linear.apply(flat), training);",
    replace:
      "const out = this.bn1d.apply(this.linear.apply(flat), training);\n    return training && this.dropout > 0 ? tf.dropout(out, this.dropout, undefined, dropoutSeed) as tf.Tensor2D : out;",
    tests: ["tests/model/api_test.ts"],
    filter: "dropout sits",
  },
];
