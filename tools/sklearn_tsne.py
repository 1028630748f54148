#!/usr/bin/env python3
"""scikit-learn side of `deno task bench:tsne`, and generator of the t-SNE test fixtures.

Dev-time only (Debian's python3-sklearn; call with /usr/bin/python3). Never a runtime dependency.

  run      --input X.f32 --rows N --cols D [--perplexity 30] [--iterations 1000] [--seed 0]
           --output Y.f64
           Reads a raw little-endian float32 row-major matrix, runs sklearn.manifold.TSNE
           (Barnes-Hut, angle 0.5, init "pca", learning_rate "auto") and writes the embedding as
           raw little-endian float64 (N x 2). Prints one JSON line: seconds, sklearn version,
           KL divergence, iterations.
  fixture  --output tests/tsne/fixtures/trustworthiness.json
           Writes small random inputs/embeddings with sklearn's trustworthiness for k = 1..4.
"""
import argparse
import json
import os
import sys
import time

import numpy as np


def cmd_run(a):
    import sklearn
    from sklearn.manifold import TSNE

    x = np.fromfile(a.input, dtype="<f4")
    if x.size != a.rows * a.cols:
        sys.exit(f"{a.input}: {x.size} float32 values, expected {a.rows} x {a.cols}")
    x = x.reshape(a.rows, a.cols)
    kw = dict(n_components=2, perplexity=a.perplexity, early_exaggeration=12.0,
              learning_rate="auto", init="pca", method="barnes_hut", angle=0.5,
              random_state=a.seed)
    # scikit-learn renamed n_iter to max_iter in 1.5.
    major, minor = (int(v) for v in sklearn.__version__.split(".")[:2])
    kw["max_iter" if (major, minor) >= (1, 5) else "n_iter"] = a.iterations
    t0 = time.perf_counter()
    tsne = TSNE(**kw)
    y = tsne.fit_transform(x)
    seconds = time.perf_counter() - t0
    tmp = a.output + ".tmp"
    np.asarray(y, dtype="<f8").tofile(tmp)
    os.replace(tmp, a.output)
    print(json.dumps({"seconds": seconds, "sklearn": sklearn.__version__,
                      "kl_divergence": float(tsne.kl_divergence_),
                      "iterations": int(tsne.n_iter_)}))


def cmd_fixture(a):
    import sklearn
    from sklearn.manifold import trustworthiness

    rng = np.random.default_rng(7)
    cases = []
    for n, d in [(12, 3), (20, 5), (31, 4)]:
        x = rng.normal(size=(n, d))
        # A noisy 2-D view: part structure, part noise, so trustworthiness is neither 0 nor 1.
        y = x[:, :2] + 0.7 * rng.normal(size=(n, 2))
        ks = [k for k in (1, 2, 3, 4) if k < n / 2]
        cases.append({"x": x.tolist(), "y": y.tolist(),
                      "trustworthiness": {str(k): float(trustworthiness(x, y, n_neighbors=k))
                                          for k in ks}})
    out = {"generator": "tools/sklearn_tsne.py fixture", "sklearn": sklearn.__version__,
           "cases": cases}
    tmp = a.output + ".tmp"
    os.makedirs(os.path.dirname(a.output) or ".", exist_ok=True)
    with open(tmp, "w") as f:
        json.dump(out, f)
    os.replace(tmp, a.output)
    print(f"wrote {a.output}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--input", required=True)
    r.add_argument("--rows", type=int, required=True)
    r.add_argument("--cols", type=int, required=True)
    r.add_argument("--perplexity", type=float, default=30.0)
    r.add_argument("--iterations", type=int, default=1000)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--output", required=True)
    f = sub.add_parser("fixture")
    f.add_argument("--output", default="tests/tsne/fixtures/trustworthiness.json")
    a = p.parse_args()
    {"run": cmd_run, "fixture": cmd_fixture}[a.cmd](a)


if __name__ == "__main__":
    main()
