import {
  attraction,
  BarnesHutTree,
  conditionalProbabilities,
  exactKnn,
  gaussianClusters,
  jointProbabilities,
  knnAccuracy,
  type Matrix,
  symmetrize,
  tsne,
  tsneAsync,
} from "../../lib/tsne/mod.ts";
import { createRng } from "../../lib/random.ts";
import { assert } from "../_assert.ts";

function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  const rng = createRng(seed);
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal() * 3 + 5;
  return { data, rows, cols };
}

Deno.test("exactKnn matches sorting all pairwise distances", () => {
  const x = randomMatrix(150, 7, 1);
  const k = 9;
  const r = exactKnn(x, k);
  for (let i = 0; i < x.rows; i++) {
    const all: [number, number][] = [];
    for (let j = 0; j < x.rows; j++) {
      if (j === i) continue;
      let s = 0;
      for (let c = 0; c < x.cols; c++) s += (x.data[i * 7 + c] - x.data[j * 7 + c]) ** 2;
      all.push([s, j]);
    }
    all.sort((a, b) => a[0] - b[0]);
    for (let t = 0; t < k; t++) {
      assert(r.indices[i * k + t] === all[t][1], `row ${i} neighbour ${t}`);
      assert(Math.abs(r.distances[i * k + t] - all[t][0]) < 1e-9 * (1 + all[t][0]), `dist ${i}`);
    }
  }
});

Deno.test("perplexity calibration reaches the target perplexity on every row", () => {
  const x = randomMatrix(200, 5, 2);
  const knn = exactKnn(x, 40);
  for (const perp of [5, 12]) {
    const P = conditionalProbabilities(knn, perp);
    for (let i = 0; i < 200; i++) {
      let s = 0, h = 0;
      for (let t = 0; t < 40; t++) {
        const p = P[i * 40 + t];
        s += p;
        if (p > 0) h -= p * Math.log(p);
      }
      assert(Math.abs(s - 1) < 1e-9, `row ${i} sums to ${s}`);
      assert(Math.abs(Math.exp(h) - perp) < 1e-3 * perp, `row ${i}: perplexity ${Math.exp(h)}`);
    }
  }
});

Deno.test("symmetrize equals dense (P + Pᵀ) / sum", () => {
  const n = 60, k = 8;
  const x = randomMatrix(n, 4, 3);
  const knn = exactKnn(x, k);
  const cond = conditionalProbabilities(knn, 3);
  const dense = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) {
      const j = knn.indices[i * k + t];
      dense[i * n + j] += cond[i * k + t];
      dense[j * n + i] += cond[i * k + t];
    }
  }
  let total = 0;
  for (const v of dense) total += v;
  const P = symmetrize(knn, cond);
  const got = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let t = P.rowPtr[i]; t < P.rowPtr[i + 1]; t++) {
      if (t > P.rowPtr[i]) assert(P.colIdx[t] > P.colIdx[t - 1], "columns sorted, unique");
      got[i * n + P.colIdx[t]] = P.values[t];
    }
  }
  for (let t = 0; t < n * n; t++) {
    assert(
      Math.abs(got[t] - dense[t] / total) < 1e-15,
      `entry ${t}: ${got[t]} vs ${dense[t] / total}`,
    );
  }
});

Deno.test("Barnes-Hut repulsion: θ = 0 is exact, θ = 0.5 is close", () => {
  const n = 400;
  const rng = createRng(4);
  const y = new Float64Array(2 * n);
  for (let t = 0; t < y.length; t++) y[t] = rng.normal() * 10;
  y[2] = y[0]; // a duplicate point
  y[3] = y[1];
  const fx = new Float64Array(2 * n);
  let Z = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      const dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
      const q = 1 / (1 + dx * dx + dy * dy);
      Z += q;
      fx[2 * i] += q * q * dx;
      fx[2 * i + 1] += q * q * dy;
    }
  }
  const tree = new BarnesHutTree();
  tree.build(y, n);
  const rep = new Float64Array(2 * n);
  const z0 = tree.repulsion(y, n, 0, rep);
  assert(Math.abs(z0 - Z) < 1e-9 * Z, `exact Z ${z0} vs ${Z}`);
  for (let t = 0; t < 2 * n; t++) assert(Math.abs(rep[t] - fx[t]) < 1e-12, `exact force ${t}`);
  const z5 = tree.repulsion(y, n, 0.5, rep);
  assert(Math.abs(z5 - Z) < 0.01 * Z, `θ=0.5 Z ${z5} vs ${Z}`);
  let err = 0, norm = 0;
  for (let t = 0; t < 2 * n; t++) {
    err += (rep[t] - fx[t]) ** 2;
    norm += fx[t] ** 2;
  }
  assert(Math.sqrt(err / norm) < 0.05, `θ=0.5 relative force error ${Math.sqrt(err / norm)}`);
});

Deno.test("attraction equals Σ_j p_ij q_ij (y_i − y_j) computed densely", () => {
  const n = 50;
  const x = randomMatrix(n, 3, 5);
  const { P } = jointProbabilities(x, 5);
  const rng = createRng(6);
  const y = new Float64Array(2 * n).map(() => rng.normal());
  const a = new Float64Array(2 * n);
  attraction(y, P, a);
  for (let i = 0; i < n; i++) {
    let ex = 0, ey = 0;
    for (let t = P.rowPtr[i]; t < P.rowPtr[i + 1]; t++) {
      const j = P.colIdx[t];
      const dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
      const q = 1 / (1 + dx * dx + dy * dy);
      ex += P.values[t] * q * dx;
      ey += P.values[t] * q * dy;
    }
    assert(Math.abs(a[2 * i] - ex) < 1e-15 && Math.abs(a[2 * i + 1] - ey) < 1e-15, `row ${i}`);
  }
});

/**
 * The t-SNE cost whose gradient the optimiser follows, written from its definition (van der
 * Maaten 2014): with q̃_ij = 1/(1 + ‖y_i − y_j‖²), Z = Σ_{i≠j} q̃_ij and early exaggeration α,
 * C(y) = −α Σ_ij p_ij log q̃_ij + log Z (α = 1: KL(P‖Q) up to a constant), whose gradient is
 * 4 Σ_j (α p_ij − q̃_ij/Z) q̃_ij (y_i − y_j).
 */
function tsneCost(y: Float64Array, P: ReturnType<typeof jointProbabilities>["P"], alpha: number) {
  const n = P.rows;
  let z = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      const dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
      z += 1 / (1 + dx * dx + dy * dy);
    }
  }
  let attr = 0;
  for (let i = 0; i < n; i++) {
    for (let t = P.rowPtr[i]; t < P.rowPtr[i + 1]; t++) {
      const j = P.colIdx[t];
      const dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
      attr += P.values[t] * Math.log(1 + dx * dx + dy * dy);
    }
  }
  return alpha * attr + Math.log(z);
}

Deno.test("t-SNE's assembled gradient equals the derivative of its cost (finite differences)", () => {
  const x = randomMatrix(25, 5, 4);
  const n = x.rows;
  const { P } = jointProbabilities(x, 5);
  const rng = createRng(9);
  const y0 = Float64Array.from({ length: 2 * n }, () => rng.normal());
  for (const alpha of [1, 4]) {
    // one step from y0: update 0, gains 1 → 0.8, so y1 = y0 − 0.8·lr·∇C (θ = 0: exact forces)
    const r = tsne(x, {
      perplexity: 5,
      init: y0,
      iterations: 1,
      learningRate: 1,
      theta: 0,
      earlyExaggeration: alpha,
      exaggerationIterations: alpha === 1 ? 0 : 1,
    });
    const grad = Array.from(r.embedding, (v, t) => (y0[t] - v) / 0.8);
    // central differences of the cost, h = 1e-5 (error ~ h²)
    const h = 1e-5;
    const fd = Array.from(y0, (_, t) => {
      const a = Float64Array.from(y0), b = Float64Array.from(y0);
      a[t] += h;
      b[t] -= h;
      return (tsneCost(a, P, alpha) - tsneCost(b, P, alpha)) / (2 * h);
    });
    const scale = Math.max(...fd.map(Math.abs));
    const err = Math.max(...fd.map((g, t) => Math.abs(g - grad[t]))) / scale;
    assert(scale > 1e-3, `gradient too small to test: ${scale}`);
    assert(err < 1e-6, `α = ${alpha}: gradient relative error ${err} against finite differences`);
  }
});

Deno.test("t-SNE separates well-separated clusters (10-NN accuracy ≈ 1)", () => {
  const n = 700;
  const { x, labels } = gaussianClusters(n, 20, 7, 3, 11);
  const progress: number[] = [];
  const r = tsne(x, {
    seed: 3,
    iterations: 500,
    onProgress: (p) => void progress.push(p.klDivergence),
  });
  assert(r.embedding.length === 2 * n && r.iterations === 500, "shape / iterations");
  for (const v of r.embedding) assert(Number.isFinite(v), "finite embedding");
  const acc = knnAccuracy({ data: r.embedding, rows: n, cols: 2 }, labels, 10);
  assert(acc >= 0.99, `10-NN accuracy ${acc}`);
  assert(progress.length === 10, `progress called ${progress.length} times`);
  assert(progress[9] < progress[5], `KL decreases after exaggeration: ${progress}`);
});

Deno.test("t-SNE is reproducible by seed (and the seed matters)", async () => {
  const { x } = gaussianClusters(300, 10, 3, 2, 5);
  const opts = { iterations: 200, init: "random" as const, perplexity: 20 };
  const a = tsne(x, { ...opts, seed: 7 }).embedding;
  const b = tsne(x, { ...opts, seed: 7 }).embedding;
  const c = tsne(x, { ...opts, seed: 8 }).embedding;
  const d = (await tsneAsync(x, { ...opts, seed: 7 })).embedding;
  assert(a.every((v, i) => v === b[i]), "same seed, different result");
  assert(a.every((v, i) => v === d[i]), "tsneAsync differs from tsne");
  assert(!a.every((v, i) => v === c[i]), "different seeds gave identical results");
  const p1 = tsne(x, { iterations: 50, seed: 1 }).embedding;
  const p2 = tsne(x, { iterations: 50, seed: 2 }).embedding;
  assert(p1.every((v, i) => v === p2[i]), "PCA init must not depend on the seed");
});

Deno.test("t-SNE rejects bad input with clear errors", () => {
  const bad = (f: () => unknown, re: RegExp) => {
    try {
      f();
    } catch (e) {
      assert(re.test(String(e)), `wrong error: ${e}`);
      return;
    }
    throw new Error(`no error for ${re}`);
  };
  bad(() => tsne([[1, 2], [3, NaN], [1, 1], [0, 0], [2, 2]]), /row 1, column 1 is NaN/);
  bad(() => tsne([[1, 2], [3], [1, 1], [0, 0]]), /row 1 has 1 values, expected 2/);
  bad(() => tsne(randomMatrix(10, 3, 1), { perplexity: 30 }), /perplexity \(30\) must be less/);
  bad(() => tsne(randomMatrix(10, 3, 1), { perplexity: 3, theta: -1 }), /theta = -1/);
  bad(() => tsne({ data: new Float64Array(5), rows: 2, cols: 3 }), /data length 5 != rows\*cols/);
});

Deno.test("early stop: onProgress returning false stops the run", () => {
  const { x } = gaussianClusters(200, 5, 2, 2, 1);
  const r = tsne(x, { perplexity: 10, progressEvery: 10, onProgress: (p) => p.iteration < 30 });
  assert(r.iterations === 30, `stopped at ${r.iterations}`);
});

Deno.test("worker threads give exactly the single-threaded result", () => {
  const { x } = gaussianClusters(1200, 16, 7, 2, 21);
  const opts = { iterations: 120, seed: 4 };
  const one = tsne(x, { ...opts, threads: 1 });
  const two = tsne(x, { ...opts, threads: 2 });
  assert(one.threads === 1 && two.threads === 2, `threads ${one.threads}, ${two.threads}`);
  assert(one.embedding.every((v, i) => v === two.embedding[i]), "threads changed the embedding");
  assert(one.klDivergence === two.klDivergence, "threads changed the KL divergence");
});
