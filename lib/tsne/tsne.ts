/**
 * Barnes-Hut t-SNE (van der Maaten 2014) with the optimisation schedule of scikit-learn's
 * `TSNE` (1.2): exact kNN on 3·perplexity neighbours, perplexity calibration, symmetrised P,
 * early exaggeration 12 for 250 iterations with momentum 0.5, then momentum 0.8, per-parameter
 * gains (+0.2 / ×0.8, floor 0.01), learning rate "auto" = max(N / exaggeration / 4, 50) and PCA
 * initialisation scaled to standard deviation 1e-4.
 *
 * @module
 */
import { conditionalProbabilities, type CsrMatrix, symmetrize } from "./affinities.ts";
import { BarnesHutTree, klDivergence } from "./barnes_hut.ts";
import { ForceEngine } from "./force_engine.ts";
import { exactKnn } from "./knn.ts";
import { type Matrix, type MatrixLike, toMatrix } from "./matrix.ts";
import { pca } from "./pca.ts";
import { createRng } from "../random.ts";

/** Progress report passed to {@link TsneOptions.onProgress}. */
export interface TsneProgress {
  /** Iterations completed so far. */
  iteration: number;
  /** Total iterations planned. */
  totalIterations: number;
  /** `"exaggeration"` during early exaggeration, then `"main"`. */
  phase: "exaggeration" | "main";
  /** KL(P‖Q) of the current embedding (P exaggerated during the first phase, like sklearn). */
  klDivergence: number;
  /** Euclidean norm of the last gradient. */
  gradNorm: number;
  /** Seconds since optimisation started. */
  elapsed: number;
  /** The current embedding (live view, interleaved x,y; copy it to keep it). */
  embedding: Float64Array;
}

/** Options of {@link tsne} (defaults follow scikit-learn 1.2). */
export interface TsneOptions {
  /** Perplexity (default 30). */
  perplexity?: number;
  /** Total iterations including early exaggeration (default 1000). */
  iterations?: number;
  /** Early exaggeration factor (default 12). */
  earlyExaggeration?: number;
  /** Iterations with exaggeration and momentum 0.5 (default 250). */
  exaggerationIterations?: number;
  /** Learning rate, or "auto" = max(N / earlyExaggeration / 4, 50) (default "auto"). */
  learningRate?: number | "auto";
  /** "pca" (default), "random" (N(0, 1e-4²)) or explicit interleaved positions (length 2N). */
  init?: "pca" | "random" | Float64Array;
  /** Seed for the random initialisation (default 0). */
  seed?: number;
  /** Barnes-Hut angle θ (default 0.5). */
  theta?: number;
  /** Neighbours per point (default min(N − 1, ⌊3·perplexity + 1⌋)). */
  neighbors?: number;
  /** Momentum in the exaggeration phase (default 0.5). */
  momentum?: number;
  /** Momentum afterwards (default 0.8). */
  finalMomentum?: number;
  /** Minimum gain (default 0.01). */
  minGain?: number;
  /** Stop when the gradient norm falls below this at a check (default 1e-7). */
  minGradNorm?: number;
  /** Report progress (and check convergence) every this many iterations (default 50). */
  progressEvery?: number;
  /**
   * Threads for the force computation (worker threads + the caller). "auto" (default): all cores
   * up to 4 when N ≥ 2000, else 1. The result does not depend on it.
   */
  threads?: number | "auto";
  /** Called every `progressEvery` iterations and at the end; return `false` to stop early. */
  onProgress?: (p: TsneProgress) => void | boolean | Promise<void | boolean>;
}

/** Result of {@link tsne}. */
export interface TsneResult {
  /** 2-D embedding, interleaved x0,y0,x1,y1,… (length 2N). */
  embedding: Float64Array;
  /** Number of points. */
  rows: number;
  /** Final KL divergence (Barnes-Hut normalisation). */
  klDivergence: number;
  /** Iterations actually run. */
  iterations: number;
  /** Threads used for the forces. */
  threads: number;
  /** Seconds spent in each stage. */
  timings: { knn: number; affinities: number; optimize: number; total: number };
}

/** Joint probabilities and the timings of their computation (first stage of t-SNE). */
export interface TsneAffinities {
  /** Symmetric P (sums to 1). */
  P: CsrMatrix;
  /** Seconds for the kNN search. */
  knnSeconds: number;
  /** Seconds for the perplexity search and symmetrisation. */
  affinitySeconds: number;
}

/**
 * Computes the sparse joint probabilities P of t-SNE for points `x`.
 *
 * @param x input points.
 * @param perplexity target perplexity.
 * @param neighbors neighbours per point (default ⌊3·perplexity + 1⌋, capped at N − 1).
 */
export function jointProbabilities(
  x: Matrix,
  perplexity: number,
  neighbors?: number,
): TsneAffinities {
  const n = x.rows;
  const k = neighbors ?? Math.min(n - 1, Math.floor(3 * perplexity + 1));
  let t0 = performance.now();
  const knn = exactKnn(x, k);
  const knnSeconds = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const P = symmetrize(knn, conditionalProbabilities(knn, perplexity));
  return { P, knnSeconds, affinitySeconds: (performance.now() - t0) / 1000 };
}

/** Validated options with every default filled in. */
interface Resolved {
  perplexity: number;
  iterations: number;
  exaggeration: number;
  exaggerationIterations: number;
  learningRate: number;
  theta: number;
  momentum: number;
  finalMomentum: number;
  minGain: number;
  minGradNorm: number;
  progressEvery: number;
  threads: number;
}

function resolve(n: number, o: TsneOptions): Resolved {
  const num = (name: string, v: number | undefined, def: number, ok: (x: number) => boolean) => {
    const x = v ?? def;
    if (typeof x !== "number" || !Number.isFinite(x) || !ok(x)) {
      throw new Error(`tsne: invalid option ${name} = ${v}`);
    }
    return x;
  };
  const exaggeration = num("earlyExaggeration", o.earlyExaggeration, 12, (x) => x >= 1);
  const perplexity = num("perplexity", o.perplexity, 30, (x) => x > 0);
  if (perplexity >= n) {
    throw new Error(
      `tsne: perplexity (${perplexity}) must be less than the number of points (${n})`,
    );
  }
  const lr = o.learningRate ?? "auto";
  return {
    perplexity,
    iterations: num("iterations", o.iterations, 1000, (x) => Number.isInteger(x) && x >= 0),
    exaggeration,
    exaggerationIterations: num(
      "exaggerationIterations",
      o.exaggerationIterations,
      250,
      (x) => Number.isInteger(x) && x >= 0,
    ),
    learningRate: lr === "auto"
      ? Math.max(n / exaggeration / 4, 50)
      : num("learningRate", lr, 0, (x) => x > 0),
    theta: num("theta", o.theta, 0.5, (x) => x >= 0),
    momentum: num("momentum", o.momentum, 0.5, (x) => x >= 0 && x < 1),
    finalMomentum: num("finalMomentum", o.finalMomentum, 0.8, (x) => x >= 0 && x < 1),
    minGain: num("minGain", o.minGain, 0.01, (x) => x >= 0),
    minGradNorm: num("minGradNorm", o.minGradNorm, 1e-7, (x) => x >= 0),
    progressEvery: num("progressEvery", o.progressEvery, 50, (x) => Number.isInteger(x) && x > 0),
    threads: o.threads === undefined || o.threads === "auto"
      ? (n >= 2000 ? Math.max(1, Math.min(navigator.hardwareConcurrency ?? 1, 4)) : 1)
      : num("threads", o.threads, 1, (x) => Number.isInteger(x) && x >= 1 && x <= 64),
  };
}

/**
 * Initial positions: PCA scaled so the first coordinate has standard deviation 1e-4 (sklearn),
 * seeded N(0, 1e-4²), or a copy of the explicit array.
 */
export function initialEmbedding(
  x: Matrix,
  init: TsneOptions["init"] = "pca",
  seed = 0,
): Float64Array {
  const n = x.rows;
  if (init instanceof Float64Array) {
    if (init.length !== 2 * n) {
      throw new Error(`tsne: init has length ${init.length}, expected 2 * ${n}`);
    }
    return Float64Array.from(init);
  }
  if (init === "random") {
    const rng = createRng(seed);
    const y = new Float64Array(2 * n);
    for (let t = 0; t < y.length; t++) y[t] = 1e-4 * rng.normal();
    return y;
  }
  if (init !== "pca") throw new Error(`tsne: init must be "pca", "random" or a Float64Array`);
  if (x.cols < 2) throw new Error(`tsne: PCA init needs at least 2 features, got ${x.cols}`);
  const y = pca(x, 2, seed).projection;
  let m = 0, s = 0;
  for (let i = 0; i < n; i++) m += y[2 * i];
  m /= n;
  for (let i = 0; i < n; i++) s += (y[2 * i] - m) ** 2;
  const std = Math.sqrt(s / n) || 1;
  for (let t = 0; t < y.length; t++) y[t] = (y[t] / std) * 1e-4;
  return y;
}

/** Optimiser state: one gradient-descent step at a time over a fixed P. */
class Optimizer {
  readonly y: Float64Array;
  private readonly update: Float64Array;
  private readonly gains: Float64Array;
  private readonly tree = new BarnesHutTree();
  private readonly engine: ForceEngine;
  iteration = 0;
  sumQ = 1;
  gradNorm = Infinity;

  constructor(readonly P: CsrMatrix, y0: Float64Array, readonly o: Resolved) {
    const len = y0.length;
    this.y = y0;
    this.update = new Float64Array(len);
    this.gains = new Float64Array(len).fill(1);
    this.engine = new ForceEngine(P, o.threads);
  }

  /** Threads actually used. */
  get threads(): number {
    return this.engine.threads;
  }

  /** Stops worker threads. */
  close(): void {
    this.engine.close();
  }

  get phase(): "exaggeration" | "main" {
    return this.iteration < this.o.exaggerationIterations ? "exaggeration" : "main";
  }

  step(): void {
    const { y, update, gains, o } = this;
    const n = this.P.rows;
    const early = this.iteration < o.exaggerationIterations;
    const exag = early ? o.exaggeration : 1;
    const momentum = early ? o.momentum : o.finalMomentum;
    this.tree.build(y, n);
    const { attr, rep, sumQ } = this.engine.compute(y, this.tree, o.theta);
    this.sumQ = sumQ;
    const invZ = 1 / Math.max(sumQ, 1e-300);
    const lr = o.learningRate, minGain = o.minGain;
    let g2 = 0;
    for (let t = 0; t < y.length; t++) {
      const grad = 4 * (exag * attr[t] - rep[t] * invZ);
      g2 += grad * grad;
      const u = update[t];
      let gain = gains[t];
      gain = u * grad < 0 ? gain + 0.2 : gain * 0.8;
      if (gain < minGain) gain = minGain;
      gains[t] = gain;
      const nu = momentum * u - lr * gain * grad;
      update[t] = nu;
      y[t] += nu;
    }
    this.gradNorm = Math.sqrt(g2);
    this.iteration++;
  }

  progress(t0: number): TsneProgress {
    const early = this.iteration <= this.o.exaggerationIterations &&
      this.o.exaggerationIterations > 0;
    let kl = klDivergence(this.y, this.P, this.sumQ);
    if (early) {
      // KL with exaggerated P (as sklearn reports it): Σ αp log(αp/q) = α·KL + α·log α.
      const a = this.o.exaggeration;
      kl = a * kl + a * Math.log(a);
    }
    return {
      iteration: this.iteration,
      totalIterations: this.o.iterations,
      phase: early ? "exaggeration" : "main",
      klDivergence: kl,
      gradNorm: this.gradNorm,
      elapsed: (performance.now() - t0) / 1000,
      embedding: this.y,
    };
  }
}

function setup(x: MatrixLike, options: TsneOptions) {
  const tStart = performance.now();
  const X = toMatrix(x, "tsne");
  if (X.rows < 4) throw new Error(`tsne: need at least 4 points, got ${X.rows}`);
  const o = resolve(X.rows, options);
  const aff = jointProbabilities(X, o.perplexity, options.neighbors);
  const y0 = initialEmbedding(X, options.init ?? "pca", options.seed ?? 0);
  return { X, o, aff, opt: new Optimizer(aff.P, y0, o), tStart };
}

function finish(
  s: ReturnType<typeof setup>,
  tOpt: number,
): TsneResult {
  const now = performance.now();
  return {
    embedding: s.opt.y,
    rows: s.X.rows,
    klDivergence: klDivergence(s.opt.y, s.aff.P, s.opt.sumQ),
    iterations: s.opt.iteration,
    threads: s.opt.threads,
    timings: {
      knn: s.aff.knnSeconds,
      affinities: s.aff.affinitySeconds,
      optimize: (now - tOpt) / 1000,
      total: (now - s.tStart) / 1000,
    },
  };
}

/**
 * The optimisation loop shared by {@link tsne} and {@link tsneAsync}: steps until the iteration
 * budget, yielding a progress report every `progressEvery` iterations; the caller sends back what
 * `onProgress` returned (`false` stops early, as does a gradient norm under `minGradNorm`).
 */
function* optimize(
  s: ReturnType<typeof setup>,
  tOpt: number,
): Generator<TsneProgress, void, unknown> {
  const { opt, o } = s;
  while (opt.iteration < o.iterations) {
    opt.step();
    if (opt.iteration % o.progressEvery === 0 || opt.iteration === o.iterations) {
      const p = opt.progress(tOpt);
      const r = yield p;
      if (r === false || p.gradNorm < o.minGradNorm) break;
    }
  }
}

/**
 * Runs t-SNE synchronously and returns the 2-D embedding. Deterministic for a given input,
 * options and seed. A promise returned by `onProgress` is not awaited (use {@link tsneAsync}).
 *
 * @param x input points (rows × features) as a {@link Matrix} or `number[][]`.
 * @param options see {@link TsneOptions}.
 */
export function tsne(x: MatrixLike, options: TsneOptions = {}): TsneResult {
  const s = setup(x, options);
  const tOpt = performance.now();
  try {
    const run = optimize(s, tOpt);
    for (let r = run.next(); !r.done; r = run.next(options.onProgress?.(r.value)));
  } finally {
    s.opt.close();
  }
  return finish(s, tOpt);
}

/**
 * Like {@link tsne} but awaits `onProgress` (so a notebook can update a live display) and yields
 * to the event loop at every progress report. Produces the same embedding as {@link tsne}.
 */
export async function tsneAsync(x: MatrixLike, options: TsneOptions = {}): Promise<TsneResult> {
  const s = setup(x, options);
  const tOpt = performance.now();
  try {
    const run = optimize(s, tOpt);
    for (let r = run.next(); !r.done;) {
      const answer = await options.onProgress?.(r.value);
      await new Promise((res) => setTimeout(res, 0));
      r = run.next(answer);
    }
  } finally {
    s.opt.close();
  }
  return finish(s, tOpt);
}
