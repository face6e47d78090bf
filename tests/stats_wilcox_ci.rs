//! Our Hodges–Lehmann shift and its Mann–Whitney interval against R's
//! `wilcox.test(canary, baseline, conf.int = TRUE)`, from the committed fixture
//! `tests/fixtures/stats/wilcox_ci.json` (written by `scripts/gen_wilcox_ci_fixtures.R`; R is
//! needed only to regenerate it).
//!
//! Small samples without ties use the exact null distribution in both, and the ends are the same
//! listed differences: they must agree to the last bit but for rounding. With ties or 50 or
//! more values a side, R finds each end with `uniroot(tol = 1e-4)` on the continuity-corrected
//! normal approximation, which lands within 1e-4 of the jump we select exactly, so the
//! comparison allows 2e-4.

use ccp_core::stats::hodges_lehmann::hodges_lehmann_ci;
use serde_json::Value;

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn cases() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/stats/wilcox_ci.json"
    );
    let text = std::fs::read_to_string(path).expect("fixture");
    let doc: Value = serde_json::from_str(&text).expect("fixture is JSON");
    doc["cases"].as_array().expect("cases").clone()
}

#[test]
fn interval_and_estimate_agree_with_r() {
    let cases = cases();
    assert!(cases.len() >= 8, "the fixture lost cases");
    for case in &cases {
        let name = case["name"].as_str().expect("name");
        let (b, c) = (numbers(&case["baseline"]), numbers(&case["canary"]));
        let got = hodges_lehmann_ci(&b, &c, 0.95).unwrap_or_else(|| panic!("{name}: no interval"));
        let exact = case["exact"].as_bool().expect("exact");
        assert_eq!(got.exact, exact, "{name}: exact vs asymptotic");
        let tol = if exact { 1e-9 } else { 2e-4 };
        let want = numbers(&case["conf_int"]);
        let want_estimate = case["estimate"].as_f64().expect("estimate");
        if name.starts_with("error_rates_mostly_zero") {
            // Nine differences in ten are exactly 0 here: R's uniroot wanders on the flat step
            // and even returns its ends crossed. Ours are the order statistics, which are 0.
            assert!(
                want[0] > want[1],
                "{name}: R fixed its flat-step roots; compare again"
            );
            assert!(
                (got.lo, got.estimate, got.hi) == (0.0, 0.0, 0.0),
                "{name}: {got:?}"
            );
            for w in want.iter().chain([&want_estimate]) {
                assert!(
                    w.abs() < 1e-4,
                    "{name}: R's ends should be 0 within uniroot's tol"
                );
            }
            continue;
        }
        // The estimate is the median of the differences; R's asymptotic one is a root anywhere
        // on the flat step between the two middle differences (within uniroot's tol).
        let mid = numbers(&case["middle_differences"]);
        assert_eq!(
            got.estimate,
            mid[0] + 0.5 * (mid[1] - mid[0]),
            "{name}: estimate"
        );
        assert!(
            want_estimate >= mid[0] - tol && want_estimate <= mid[1] + tol,
            "{name}: R's estimate {want_estimate} is off the middle step {mid:?}"
        );
        for (what, ours, r) in [
            ("lower end", got.lo, want[0]),
            ("upper end", got.hi, want[1]),
        ] {
            assert!(
                (ours - r).abs() <= tol,
                "{name}: {what} {ours} vs R {r} (tolerance {tol})"
            );
        }
    }
}

#[test]
fn estimate_is_inside_the_interval_and_shift_covers_the_truth() {
    // On a known shift of +5 with 2 000 values a side the interval covers 5 and excludes 0.
    let mut rng = ccp_core::stats::Rng::new(8);
    let b: Vec<f64> = (0..2000).map(|_| rng.normal(100.0, 10.0)).collect();
    let c: Vec<f64> = (0..2000).map(|_| rng.normal(105.0, 10.0)).collect();
    let r = hodges_lehmann_ci(&b, &c, 0.95).expect("interval");
    assert!(r.lo <= r.estimate && r.estimate <= r.hi, "{r:?}");
    assert!(r.lo < 5.0 && 5.0 < r.hi && r.lo > 0.0, "{r:?}");
    let wider = hodges_lehmann_ci(&b, &c, 0.99).expect("interval");
    assert!(
        wider.lo < r.lo && wider.hi > r.hi,
        "99 % must be wider than 95 %"
    );
}
