/**
 * t-SNE benchmark: our Barnes-Hut t-SNE vs scikit-learn's `TSNE` on the same 7-class
 * Gaussian-cluster data (D = 64, perplexity 30, 1000 iterations), run back to back. Both
 * embeddings are scored by the same TypeScript code: trustworthiness (k = 10) and 10-NN label
 * accuracy. Prints a table; the last line is one JSON object.
 *
 *   deno task bench:tsne                       # N = 3000 and 10000
 *   deno task bench:tsne --n 3000              # one size
 *   deno task bench:tsne --n 3000 --no-sklearn # ours only
 *
 * Options: --n LIST (comma-separated sizes), --dims 64, --iterations 1000, --perplexity 30,
 * --seed 0, --threads N (default auto: all cores up to 4), --no-sklearn, --python /usr/bin/python3.
 *
 * @module
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gaussianClusters, knnAccuracy, trustworthiness, tsne } from "../lib/tsne/mod.ts";

interface Side {
  seconds: number;
  trustworthiness: number;
  knn_accuracy: number;
  kl_divergence: number;
  iterations: number;
  threads?: number;
}

function parseArgs(args: string[]) {
  const opts = {
    n: [3000, 10000],
    dims: 64,
    iterations: 1000,
    perplexity: 30,
    seed: 0,
    sklearn: true,
    threads: "auto" as number | "auto",
    python: "/usr/bin/python3",
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const val = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`bench/tsne.ts: ${a} needs a value`);
      return v;
    };
    const int = (v: string) => {
      const x = Number(v);
      if (!Number.isInteger(x) || x <= 0) {
        throw new Error(`bench/tsne.ts: ${a} ${v} is not a positive integer`);
      }
      return x;
    };
    if (a === "--n") opts.n = val().split(",").map(int);
    else if (a === "--dims") opts.dims = int(val());
    else if (a === "--iterations") opts.iterations = int(val());
    else if (a === "--perplexity") opts.perplexity = Number(val());
    else if (a === "--seed") opts.seed = Number(val());
    else if (a === "--no-sklearn") opts.sklearn = false;
    else if (a === "--threads") opts.threads = int(val());
    else if (a === "--python") opts.python = val();
    else throw new Error(`bench/tsne.ts: unknown argument ${a}`);
  }
  return opts;
}

const opts = parseArgs(Deno.args);
const tmp = mkdtempSync(join(tmpdir(), "bench-tsne-"));
const results: Record<string, unknown>[] = [];
const fmt = (x: number, d = 4) => x.toFixed(d);
try {
  console.log(
    `t-SNE bench: 7 Gaussian clusters, D=${opts.dims}, perplexity ${opts.perplexity}, ` +
      `${opts.iterations} iterations; load average ${
        Deno.loadavg().map((v) => v.toFixed(2)).join(" ")
      }`,
  );
  console.log("| N | impl | seconds | trustworthiness@10 | 10-NN acc | KL |");
  console.log("|---|---|---|---|---|---|");
  for (const n of opts.n) {
    const { x, labels } = gaussianClusters(n, opts.dims, 7, 1, opts.seed);
    const score = (y: Float64Array) => {
      const m = { data: y, rows: n, cols: 2 };
      return {
        trustworthiness: trustworthiness(x, m, 10),
        knn_accuracy: knnAccuracy(m, labels, 10),
      };
    };
    const t0 = performance.now();
    const r = tsne(x, {
      perplexity: opts.perplexity,
      iterations: opts.iterations,
      seed: opts.seed,
      threads: opts.threads,
    });
    const ours: Side = {
      seconds: (performance.now() - t0) / 1000,
      ...score(r.embedding),
      kl_divergence: r.klDivergence,
      iterations: r.iterations,
      threads: r.threads,
    };
    console.log(
      `| ${n} | ours (TS, ${r.threads} thread${r.threads > 1 ? "s" : ""}) | ${
        fmt(ours.seconds, 2)
      } | ${fmt(ours.trustworthiness)} | ` +
        `${fmt(ours.knn_accuracy)} | ${fmt(ours.kl_divergence)} |`,
    );
    let sk: (Side & { version: string }) | null = null;
    if (opts.sklearn) {
      const input = join(tmp, `x${n}.f32`), output = join(tmp, `y${n}.f64`);
      const f32 = x.data instanceof Float32Array ? x.data : Float32Array.from(x.data);
      writeFileSync(input, new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength));
      const p = new Deno.Command(opts.python, {
        args: [
          "tools/sklearn_tsne.py",
          "run",
          "--input",
          input,
          "--rows",
          String(n),
          "--cols",
          String(opts.dims),
          "--perplexity",
          String(opts.perplexity),
          "--iterations",
          String(opts.iterations),
          "--seed",
          String(opts.seed),
          "--output",
          output,
        ],
        stdout: "piped",
        stderr: "piped",
      }).outputSync();
      if (!p.success) {
        throw new Error(`sklearn side failed:\n${new TextDecoder().decode(p.stderr)}`);
      }
      const info = JSON.parse(new TextDecoder().decode(p.stdout).trim().split("\n").pop()!);
      const y = new Float64Array(Deno.readFileSync(output).buffer);
      sk = {
        seconds: info.seconds,
        ...score(y),
        kl_divergence: info.kl_divergence,
        iterations: info.iterations,
        version: info.sklearn,
      };
      console.log(
        `| ${n} | scikit-learn ${sk.version} | ${fmt(sk.seconds, 2)} | ${
          fmt(sk.trustworthiness)
        } | ` +
          `${fmt(sk.knn_accuracy)} | ${fmt(sk.kl_divergence)} |`,
      );
    }
    results.push({
      n,
      ours,
      sklearn: sk,
      speedup: sk ? sk.seconds / ours.seconds : null,
      trustworthiness_diff: sk ? ours.trustworthiness - sk.trustworthiness : null,
    });
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
console.log(
  "note: timings depend on machine load (both sides run back to back); ours uses the threads " +
    "shown, scikit-learn's Barnes-Hut gradient uses OpenMP threads on all cores.",
);
console.log(JSON.stringify({
  bench: "tsne",
  dims: opts.dims,
  perplexity: opts.perplexity,
  iterations: opts.iterations,
  cores: navigator.hardwareConcurrency,
  loadavg: Deno.loadavg(),
  results,
}));
