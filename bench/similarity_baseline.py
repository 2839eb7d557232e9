"""The baseline for bench/similarity.bench.ts: SVCCA and RSA with a permutation null the way a
researcher computes them today with numpy/scipy — every permuted score recomputed from scratch
(both sides' SVDs; both RDMs and a scipy Spearman). Prints one JSON object.

usage: similarity_baseline.py --metric svcca|rsa --a A.npy --b B.npy --perms P.npy --count K
(P.npy: int32 [N, n]; permutation p pairs row i of A with row P[p, i] of B; the first K are scored)
"""
import argparse
import json
import time

import numpy as np
from scipy.stats import spearmanr


def svcca(x, y):
    def basis(m):
        mc = m - m.mean(axis=0)
        u, s, _ = np.linalg.svd(mc, full_matrices=False)
        var = s**2
        k = int(np.searchsorted(np.cumsum(var) / var.sum(), 0.99) + 1)
        return u[:, :k]

    ux, uy = basis(x), basis(y)
    rho = np.linalg.svd(ux.T @ uy, compute_uv=False)
    return float(np.mean(np.minimum(rho, 1.0)))


def rsa(x, y):
    def rdm(m):
        # Pearson correlation of rows = cosine of row-centred rows (as the original code does it)
        z = m - m.mean(axis=1, keepdims=True)
        z /= np.linalg.norm(z, axis=1, keepdims=True)
        s = z @ z.T
        return s[np.triu_indices(len(m), 1)]

    return float(spearmanr(rdm(x), rdm(y)).statistic)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--metric", choices=["svcca", "rsa"], required=True)
    ap.add_argument("--a", required=True)
    ap.add_argument("--b", required=True)
    ap.add_argument("--perms", required=True)
    ap.add_argument("--count", type=int, required=True)
    args = ap.parse_args()
    x = np.load(args.a).astype(np.float64)
    y = np.load(args.b).astype(np.float64)
    perms = np.load(args.perms)[: args.count]
    score = svcca if args.metric == "svcca" else rsa
    t0 = time.perf_counter()
    observed = score(x, y)
    t1 = time.perf_counter()
    scores = [score(x, y[p]) for p in perms]
    t2 = time.perf_counter()
    print(json.dumps({
        "metric": args.metric,
        "observed": observed,
        "observed_seconds": t1 - t0,
        "scores": scores,
        "seconds_per_permutation": (t2 - t1) / max(1, len(perms)),
    }))


if __name__ == "__main__":
    main()
