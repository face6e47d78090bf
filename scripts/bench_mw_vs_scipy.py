#!/usr/bin/env python3
"""Mann-Whitney U on 2 x N samples: ccp against SciPy, on the same data, in the same run.

Writes the samples (seeded, rounded so there are ties, as real latencies have) to a file, times
`scipy.stats.mannwhitneyu(method="asymptotic")` in this process, runs `ccp bench --mw FILE`, checks
the two agree on U and p, and prints both medians and their ratio. Timings are not asserted
anywhere; record them in BENCHMARKS.md.

Usage (SciPy is not a project dependency; use a throwaway venv):
    python3 -m venv /tmp/scipy-venv && /tmp/scipy-venv/bin/pip install scipy numpy
    cargo build --release
    /tmp/scipy-venv/bin/python scripts/bench_mw_vs_scipy.py [--n 100000] [--runs 15]
"""
import argparse
import json
import subprocess
import sys
import tempfile
import time

import numpy as np
from scipy.stats import mannwhitneyu


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--ccp", default="target/release/ccp")
    args = ap.parse_args()
    rng = np.random.default_rng(20261123)
    base = np.round(rng.lognormal(np.log(120), 0.25, args.n), 1)
    canary = np.round(rng.lognormal(np.log(121), 0.25, args.n), 1)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"baseline": base.tolist(), "canary": canary.tolist()}, f)
        path = f.name
    times = []
    for _ in range(args.runs):
        t = time.perf_counter()
        r = mannwhitneyu(canary, base, alternative="two-sided", method="asymptotic")
        times.append(time.perf_counter() - t)
    scipy_s = sorted(times)[len(times) // 2]
    out = subprocess.run([args.ccp, "bench", "--mw", path, "--runs", str(args.runs)],
                         check=True, capture_output=True, text=True)
    ours = json.loads(out.stdout)
    rel = abs(ours["p_value"] - r.pvalue) / max(r.pvalue, 1e-300)
    print(f"Mann-Whitney U, 2 x {args.n} samples (ties from 0.1 ms rounding), {args.runs} runs, median:")
    print(f"  SciPy {sys.modules['scipy'].__version__}  {scipy_s * 1e3:9.2f} ms   U={r.statistic:.1f} p={r.pvalue:.12g}")
    print(f"  ccp          {ours['median_s'] * 1e3:9.2f} ms   U={ours['u']:.1f} p={ours['p_value']:.12g}")
    print(f"  baseline: comparator sort of the pooled floats (the old ccp path) {ours['sort_median_s'] * 1e3:.2f} ms")
    print(f"  ratio SciPy / ccp = {scipy_s / ours['median_s']:.1f}x; p-values agree to {rel:.1e} relative")
    return 0 if rel < 1e-9 and ours["u"] == r.statistic else 1


if __name__ == "__main__":
    sys.exit(main())
