"""The baselines for bench/similarity.bench.ts: SVCCA and RSA with a permutation null the way a
researcher computes them with numpy/scipy (float64, as numpy computes by default), two ways:

- scratch: every permuted score recomputed from scratch (both sides' SVDs; both RDMs and a scipy
  Spearman);
- reuse: what permuting the rows of B does not change, done once — SVCCA: each side's SVD once,
  then per permutation only svdvals(Uxᵀ · Uy[perm]); RSA: each side's RDM ranked once (z-scored
  ranks as symmetric n×n matrices), then per permutation one gather ZB[perm][:, perm] and one dot
  with ZA (both vectorised, BLAS for the products).

Prints one JSON object, with the BLAS library threadpoolctl reports (its internal API, version,
the CPU kernel it chose, threads).

usage: similarity_baseline.py --metric svcca|rsa --mode scratch|reuse --a A.npy --b B.npy --perms P.npy --count K
(P.npy: int32 [N, n]; permutation p pairs row i of A with row P[p, i] of B; the first K are scored)
"""
import argparse
import json
import time

import numpy as np
from scipy.stats import rankdata, spearmanr
from threadpoolctl import threadpool_info


def basis(m):
    mc = m - m.mean(axis=0)
    u, s, _ = np.linalg.svd(mc, full_matrices=False)
    var = s**2
    k = int(np.searchsorted(np.cumsum(var) / var.sum(), 0.99) + 1)
    return u[:, :k]


def svcca_of_bases(ux, uy):
    rho = np.linalg.svd(ux.T @ uy, compute_uv=False)
    return float(np.mean(np.minimum(rho, 1.0)))


def svcca(x, y):
    return svcca_of_bases(basis(x), basis(y))


def rdm(m):
    # Pearson correlation of rows = cosine of row-centred rows (as the original code does it)
    z = m - m.mean(axis=1, keepdims=True)
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    s = z @ z.T
    return s[np.triu_indices(len(m), 1)]


def rsa(x, y):
    return float(spearmanr(rdm(x), rdm(y)).statistic)


def ranked_rdm(m):
    """The RDM's upper triangle as z-scored ranks (unit length), in a symmetric n×n matrix."""
    n = len(m)
    r = rankdata(rdm(m))
    r -= r.mean()
    r /= np.linalg.norm(r)
    full = np.zeros((n, n))
    iu = np.triu_indices(n, 1)
    full[iu] = r
    full.T[iu] = r
    return full


def null(metric, mode, x, y, perms):
    """(observed, seconds for it, permuted scores, seconds for them)."""
    t0 = time.perf_counter()
    if mode == "scratch":
        score = svcca if metric == "svcca" else rsa
        observed = score(x, y)
        t1 = time.perf_counter()
        scores = [score(x, y[p]) for p in perms]
    elif metric == "svcca":
        ux, uy = basis(x), basis(y)
        observed = svcca_of_bases(ux, uy)
        t1 = time.perf_counter()
        scores = [svcca_of_bases(ux, uy[p]) for p in perms]
    else:
        za, zb = ranked_rdm(x), ranked_rdm(y)
        # Σ_{i<j} za_ij·zb_ij = ½ Σ_ij ZA_ij·ZB_ij (symmetric, zero diagonal)
        observed = 0.5 * float(np.vdot(za, zb))
        t1 = time.perf_counter()
        scores = [0.5 * float(np.vdot(za, zb[np.ix_(p, p)])) for p in perms]
    return observed, t1 - t0, scores, time.perf_counter() - t1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--metric", choices=["svcca", "rsa"], required=True)
    ap.add_argument("--mode", choices=["scratch", "reuse"], default="scratch")
    ap.add_argument("--a", required=True)
    ap.add_argument("--b", required=True)
    ap.add_argument("--perms", required=True)
    ap.add_argument("--count", type=int, required=True)
    args = ap.parse_args()
    x = np.load(args.a).astype(np.float64)
    y = np.load(args.b).astype(np.float64)
    perms = np.load(args.perms)[: args.count]
    observed, observed_seconds, scores, seconds = null(args.metric, args.mode, x, y, perms)
    blas = [
        {k: lib.get(k) for k in ("prefix", "internal_api", "version", "architecture", "num_threads", "threading_layer")}
        for lib in threadpool_info()
        if lib.get("user_api") == "blas"
    ]
    print(json.dumps({
        "metric": args.metric,
        "mode": args.mode,
        "observed": observed,
        "observed_seconds": observed_seconds,
        "scores": scores,
        "seconds_per_permutation": seconds / max(1, len(perms)),
        "blas": blas,
    }))


if __name__ == "__main__":
    main()
