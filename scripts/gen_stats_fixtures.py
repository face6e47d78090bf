#!/usr/bin/env python3
"""Generate tests/fixtures/stats/reference.json: SciPy reference results for
the canary statistics (Mann-Whitney U and Welch's t), read by
tests/stats_reference.rs.

Why a committed fixture instead of calling SciPy from the tests: the Rust
test suite must run anywhere (CI, laptops) without Python; SciPy is only
needed to *regenerate* the file, and the diff of the JSON shows exactly
which reference value moved when SciPy changes.

Usage (SciPy is not a project dependency; use a throwaway venv):

    python3 -m venv /tmp/scipy-venv
    /tmp/scipy-venv/bin/pip install scipy numpy
    /tmp/scipy-venv/bin/python scripts/gen_stats_fixtures.py

Reproducible: every random sample comes from numpy's PCG64 seeded with SEED
(one child generator per case, keyed by the case's position), and the
versions used are written into the JSON.

Conventions (checked against crates/core/src/stats):
* Our `mann_whitney_u(baseline, canary)` reports U of the *canary*, which is
  SciPy's `mannwhitneyu(canary, baseline).statistic` (U of the first
  argument). Likewise `welch_t_test(baseline, canary)` is
  `ttest_ind(canary, baseline, equal_var=False)` (t of canary - baseline).
* Non-finite numbers cannot be JSON numbers, so they are written as the
  strings "nan", "inf", "-inf" (both in samples and in SciPy results).
* "ours" on a case records where our behaviour intentionally differs from
  SciPy; the Rust test asserts the "ours" expectation instead of SciPy's.
* "tolerance" on a case records an absolute floor for a p-value whose
  SciPy value is exactly 0 (it underflowed); everything else is compared
  with relative error <= 1e-9.
"""

import json
import math
import platform
import sys
import warnings
from fractions import Fraction
from math import comb
from pathlib import Path

import numpy as np
import scipy
from scipy import stats

SEED = 20240611
OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "stats" / "reference.json"

# SciPy's `method="auto"` rule, scipy/stats/_mannwhitneyu.py::_mwu_choose_method
# (SciPy 1.17.1): asymptotic if both n1 > 8 and n2 > 8, else asymptotic if
# there are ties, else exact. Imported (private API) so the fixture records
# what SciPy itself chose; the Rust test checks our `Method::resolve` agrees.
try:
    from scipy.stats._mannwhitneyu import _mwu_choose_method
except ImportError:  # pragma: no cover - private API moved
    _mwu_choose_method = None


def enc(x):
    """A float as JSON: finite numbers as numbers, the rest as strings."""
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def has_ties(baseline, canary):
    pooled = list(baseline) + list(canary)
    # Same notion as SciPy's `t > 1` from rankdata: -0.0 == 0.0 is a tie.
    return len(set(pooled)) < len(pooled)


def exact_two_sided_p_bigint(n1, n2, u):
    """Independent check of SciPy's exact p with Python integers.

    Counts arrangements by the textbook recurrence
    f(m, n, k) = f(m-1, n, k-n) + f(m, n-1, k) and returns
    min(1, 2 * P(U <= n1*n2 - floor(max(U, n1*n2 - U)))), which is SciPy's
    `2 * sf(int(max(U1, U2)))`.
    """
    m, n = min(n1, n2), max(n1, n2)
    upper = int(max(u, n1 * n2 - u))  # int() truncates like SciPy's astype
    lower = n1 * n2 - upper
    # g[j][k]: arrangements of j values from the m-side and n_cur from the
    # n-side with U = k. The largest pooled value is either from the n-side
    # (U unchanged) or from the m-side (it beats all n_cur others).
    g = [[1] + [0] * lower for _ in range(m + 1)]  # n_cur = 0: U = 0
    for n_cur in range(1, n + 1):
        new = [[1] + [0] * lower]  # j = 0: one arrangement, U = 0
        for j in range(1, m + 1):
            row = g[j][:]
            below = new[j - 1]
            for k in range(n_cur, lower + 1):
                row[k] += below[k - n_cur]
            new.append(row)
        g = new
    count = sum(g[m][: lower + 1])
    p = Fraction(2 * count, comb(m + n, m))
    return float(min(p, Fraction(1)))


def mwu(canary, baseline, method):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = stats.mannwhitneyu(
            canary, baseline, alternative="two-sided", method=method, use_continuity=True
        )
    return {"u": enc(r.statistic), "p": enc(r.pvalue)}


def welch(canary, baseline):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = stats.ttest_ind(canary, baseline, equal_var=False)
    return {"t": enc(r.statistic), "p": enc(r.pvalue), "df": enc(r.df)}


def exact_is_reliable(n1, n2):
    """Whether SciPy's exact path is exact in float64 here.

    SciPy builds the counts with float64 dot products (uint64 x int64
    promotes to float64) of size up to (n1*n2/2) * C(n1+n2, n1); below 2**53
    every intermediate is an exactly represented integer.
    """
    m = min(n1, n2)
    return (n1 * n2 // 2 + 1) * comb(n1 + n2, m) < 2**53


def case(name, tags, baseline, canary, description, ours=None, tolerance=None):
    baseline = [float(x) for x in baseline]
    canary = [float(x) for x in canary]
    finite = all(math.isfinite(x) for x in baseline + canary)
    ties = has_ties(baseline, canary)
    entry = {
        "name": name,
        "tags": tags,
        "description": description,
        "baseline": [enc(x) for x in baseline],
        "canary": [enc(x) for x in canary],
        "has_ties": ties,
    }
    mw = {"asymptotic": mwu(canary, baseline, "asymptotic")}
    n1, n2 = len(canary), len(baseline)
    if finite and exact_is_reliable(n1, n2):
        mw["exact"] = mwu(canary, baseline, "exact")
        check = exact_two_sided_p_bigint(n1, n2, float(mw["exact"]["u"]))
        got = mw["exact"]["p"]
        assert abs(got - check) <= 1e-13 * check, (name, got, check)
        mw["exact"]["p_bigint"] = check
    auto = mwu(canary, baseline, "auto")
    if finite:
        chosen = (
            _mwu_choose_method(n1, n2, ties)
            if _mwu_choose_method is not None
            else ("asymptotic" if (n1 > 8 and n2 > 8) or ties else "exact")
        )
        # SciPy's own choice must reproduce SciPy's own auto result.
        direct = mwu(canary, baseline, chosen)
        assert direct["p"] == auto["p"], (name, direct, auto)
        auto["method"] = chosen
    mw["auto"] = auto
    entry["mannwhitneyu"] = mw
    entry["ttest_ind"] = welch(canary, baseline)
    if ours is not None:
        entry["ours"] = ours
    if tolerance is not None:
        entry["tolerance"] = tolerance
    return entry


def main():
    root = np.random.default_rng(SEED)
    seeds = root.spawn(64)
    rng = iter(seeds)
    cases = []

    # --- Hand-written samples shared with the unit tests (stats/mod.rs). ---
    cases.append(case(
        "no_ties_interleaved_8v8", ["exact", "tiny"],
        [1.1, 2.3, 3.7, 4.2, 5.9, 6.4, 7.8, 8.5],
        [2.0, 3.1, 4.9, 6.6, 9.2, 10.4, 11.3, 12.7],
        "samples::NO_TIES; 8 vs 8 without ties, so auto uses the exact path",
    ))
    cases.append(case(
        "many_zeros_error_counts", ["ties", "heavy_ties", "unequal"],
        [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0],
        [0, 1, 0, 2, 3, 0, 1, 0, 4, 2, 0, 1, 3, 0, 0, 5],
        "samples::MANY_ZEROS; per-second error counts, mostly zeros",
    ))
    cases.append(case(
        "unequal_15v4_no_ties", ["unequal", "exact"],
        [12.0, 15.5, 11.2, 14.8, 13.3, 16.1, 12.9, 15.0, 14.2, 13.7, 11.8, 15.9,
         12.4, 14.5, 13.1],
        [17.2, 18.9, 16.4, 19.5],
        "samples::UNEQUAL; the canary (4) is small, no ties: auto is exact",
    ))
    cases.append(case(
        "canary_lower_with_ties", ["ties"],
        [5, 5, 6, 6, 7, 7, 8, 8, 9, 9],
        [4, 4, 5, 5, 5, 6, 6, 6, 7, 7],
        "samples::CANARY_LOWER; negative z",
    ))
    cases.append(case(
        "far_apart_30v25", ["far_apart", "unequal"],
        [i * 0.1 for i in range(30)],
        [2.5 + i * 0.13 for i in range(25)],
        "the unit tests' far-apart case; p ~ 1e-9",
    ))
    cases.append(case(
        "tiny_2v3_no_ties", ["tiny", "exact", "unequal"],
        [1, 2], [3, 4, 5],
        "smallest interesting exact case; asymptotic p 0.149 vs exact p 0.2",
    ))

    # --- n = 1 on one side. ---
    r = next(rng)
    cases.append(case(
        "canary_n1", ["n1", "unequal", "exact"],
        r.normal(100, 10, 12).tolist(), [131.5],
        "a single canary value above 12 baseline values; Welch is undefined",
        ours={"welch": None,
              "note": "welch_t_test needs >= 2 values per side (a sample variance); "
                      "SciPy returns NaN, we return None and the judge reports no Welch t"},
    ))
    r = next(rng)
    cases.append(case(
        "baseline_n1", ["n1", "unequal", "exact"],
        [42.0], r.normal(40, 3, 7).tolist(),
        "a single baseline value against 7 canary values",
        ours={"welch": None,
              "note": "welch_t_test needs >= 2 values per side; SciPy returns NaN"},
    ))
    cases.append(case(
        "both_n1", ["n1", "tiny", "exact"],
        [1.0], [2.0],
        "1 vs 1: the only possible two-sided p is 1",
        ours={"welch": None,
              "note": "welch_t_test needs >= 2 values per side; SciPy returns NaN"},
    ))

    # --- Constant samples. ---
    cases.append(case(
        "constant_identical", ["constant", "ties"],
        [3.0] * 5, [3.0] * 3,
        "both samples the same constant: no information at all",
        ours={"welch": {"t": 0.0, "df": 6.0, "p": 1.0},
              "note": "both variances are 0 and the means are equal: SciPy gives "
                      "t = p = NaN (0/0) and df = 1; we define t = 0, p = 1 (nothing "
                      "changed) and df = n_c + n_b - 2 so the judge never sees NaN"},
    ))
    cases.append(case(
        "constant_different", ["constant", "ties", "far_apart"],
        [3.0] * 5, [4.0] * 3,
        "two different constants: as different as it gets",
        ours={"welch": {"t": "inf", "df": 6.0, "p": 0.0},
              "note": "both variances are 0: SciPy agrees on t = +inf, p = 0 but "
                      "reports df = 1 (0/0 fallback); we report df = n_c + n_b - 2"},
    ))
    r = next(rng)
    cases.append(case(
        "constant_vs_varied", ["constant", "ties", "unequal"],
        [5.0] * 10, (5.0 + r.normal(0.5, 1.0, 12)).tolist(),
        "a constant baseline (e.g. a pinned gauge) vs a varying canary",
    ))
    cases.append(case(
        "identical_varied_samples", ["ties"],
        [1, 2, 3, 4, 5], [1, 2, 3, 4, 5],
        "the same sample on both sides: U = n1 n2 / 2, p = 1",
    ))

    # --- Heavy ties from a seeded RNG. ---
    r = next(rng)
    cases.append(case(
        "poisson_error_counts_120v80", ["ties", "heavy_ties", "unequal", "large"],
        r.poisson(0.3, 120).tolist(), r.poisson(0.6, 80).tolist(),
        "per-second error counts, ~70% zeros, canary rate doubled",
    ))
    r = next(rng)
    cases.append(case(
        "rounded_latency_200v200_ties", ["ties", "large"],
        np.round(r.lognormal(4.0, 0.3, 200)).tolist(),
        np.round(r.lognormal(4.02, 0.3, 200)).tolist(),
        "latencies rounded to whole ms: many ties, tiny shift",
    ))
    r = next(rng)
    cases.append(case(
        "tiny_with_ties_exact_vs_asymptotic", ["ties", "tiny", "exact"],
        [1, 2, 2, 3, 5], [2, 4, 5, 6],
        "small with ties: auto falls back to asymptotic; SciPy's exact method "
        "(no tie correction, U truncated) is recorded too",
    ))

    # --- Tiny samples without ties (exact path). ---
    for n_b, n_c, shift in [(3, 5, 1.0), (5, 3, -0.5), (7, 8, 0.8), (8, 6, 0.0),
                            (8, 8, 0.3), (4, 8, 2.0)]:
        r = next(rng)
        cases.append(case(
            f"tiny_exact_{n_b}v{n_c}", ["tiny", "exact"] + (["unequal"] if n_b != n_c else []),
            r.normal(0, 1, n_b).tolist(), r.normal(shift, 1, n_c).tolist(),
            f"continuous normal samples, canary shifted by {shift}",
        ))
    cases.append(case(
        "exact_fully_separated_8v8", ["tiny", "exact", "far_apart"],
        [float(i) for i in range(8)], [float(i) + 100.5 for i in range(8)],
        "every canary value above every baseline value: the smallest exact p, 2/C(16,8)",
    ))
    r = next(rng)
    cases.append(case(
        "exact_small_canary_large_baseline_6v150", ["exact", "unequal", "large"],
        r.lognormal(3.0, 0.5, 150).tolist(), r.lognormal(3.4, 0.5, 6).tolist(),
        "one side small (6 <= 8), the other large, no ties: SciPy's auto still "
        "uses the exact distribution",
    ))
    r = next(rng)
    cases.append(case(
        "nine_v_nine_no_ties_is_asymptotic", ["tiny", "large_boundary"],
        r.normal(0, 1, 9).tolist(), r.normal(1, 1, 9).tolist(),
        "both sizes 9 > 8: auto switches to asymptotic even without ties",
    ))

    # --- Larger samples (asymptotic). ---
    r = next(rng)
    cases.append(case(
        "large_normal_200v200_small_shift", ["large"],
        r.normal(100, 15, 200).tolist(), r.normal(103, 15, 200).tolist(),
        "n = 200 per side, no ties, a 0.2 sd shift",
    ))
    r = next(rng)
    cases.append(case(
        "large_lognormal_250v180", ["large", "unequal"],
        r.lognormal(5.0, 0.6, 250).tolist(), r.lognormal(5.05, 0.8, 180).tolist(),
        "skewed latency-like samples with unequal variances and sizes",
    ))
    r = next(rng)
    cases.append(case(
        "large_far_apart_200v200", ["large", "far_apart"],
        r.normal(100, 10, 200).tolist(), r.normal(130, 10, 200).tolist(),
        "3 sd apart: both p-values tiny (~1e-60 and below) but representable",
    ))
    cases.append(case(
        "large_disjoint_underflow_200v200", ["large", "far_apart", "underflow"],
        [float(i) for i in range(200)], [float(i) + 1000.0 for i in range(200)],
        "completely separated with zero overlap: the Welch p-value underflows",
        tolerance={"welch_p_abs": 1e-300,
                   "note": "SciPy's Welch p is exactly 0.0 (the true value is below "
                           "the smallest double); we only require p <= 1e-300"},
    ))

    # --- Negative values and signed zeros. ---
    r = next(rng)
    cases.append(case(
        "negative_values", ["negative", "unequal"],
        (r.normal(-50, 20, 40)).tolist() + [-0.0],
        (r.normal(-40, 25, 30)).tolist() + [0.0],
        "negative and mixed-sign values (e.g. clock skew deltas); -0.0 and 0.0 "
        "are a tie, as in SciPy",
    ))
    r = next(rng)
    cases.append(case(
        "negative_tiny_exact", ["negative", "tiny", "exact"],
        (-r.lognormal(0, 1, 5)).tolist(), (-r.lognormal(0.5, 1, 7)).tolist(),
        "all-negative small samples without ties: exact path",
    ))

    # --- Non-finite input: must be rejected by our API. ---
    reject_note = ("ranks and means of non-finite values are meaningless; "
                   "judge_files fails with StatsError::NonFinite naming side, metric "
                   "and index, and judge_metric returns NoData. SciPy's numbers are "
                   "recorded for information only")
    cases.append(case(
        "nan_in_baseline", ["non_finite"],
        [1.0, 2.0, 3.0, float("nan"), 5.0, 6.0], [2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
        "NaN in the baseline: SciPy (nan_policy='propagate') returns NaN",
        ours={"reject": {"side": "baseline", "index": 3}, "note": reject_note},
    ))
    cases.append(case(
        "inf_in_canary", ["non_finite"],
        [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [2.0, float("inf"), 4.0, 5.0, 6.0, 7.0],
        "+inf in the canary: SciPy ranks it as the largest value and returns a "
        "finite p; we refuse instead (an inf latency is an exporter bug)",
        ours={"reject": {"side": "canary", "index": 1}, "note": reject_note},
    ))
    cases.append(case(
        "neg_inf_in_canary", ["non_finite"],
        [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [2.0, 3.0, 4.0, 5.0, 6.0, float("-inf")],
        "-inf in the canary",
        ours={"reject": {"side": "canary", "index": 5}, "note": reject_note},
    ))

    names = [c["name"] for c in cases]
    assert len(names) == len(set(names)), "duplicate case names"

    doc = {
        "generator": "scripts/gen_stats_fixtures.py",
        "seed": SEED,
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
        },
        "calls": {
            "mannwhitneyu": "scipy.stats.mannwhitneyu(canary, baseline, "
                            "alternative='two-sided', method=M, use_continuity=True) "
                            "for M in asymptotic, exact (only where SciPy's exact "
                            "counts are exact in float64; p_bigint is an independent "
                            "integer check), auto (method = what SciPy chose)",
            "ttest_ind": "scipy.stats.ttest_ind(canary, baseline, equal_var=False); "
                         "df is res.df",
            "auto_rule": "scipy/stats/_mannwhitneyu.py::_mwu_choose_method: "
                         "asymptotic if n1 > 8 and n2 > 8, else asymptotic if any "
                         "ties, else exact",
        },
        "encoding": "non-finite floats are the strings 'nan', 'inf', '-inf'",
        "cases": cases,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
