//! Plain-language wording of verdicts.
//!
//! Why separate: the on-call engineer reads these strings at 3 a.m.; the
//! wording rules (units, signs, significant digits) are easier to keep
//! consistent and tested in one place than scattered through the judge.

/// How a judged metric turned out; drives both the verdict (in the judge) and the wording here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// p ≥ alpha.
    NoSignificantChange,
    /// Significant, but |shift| within tolerance (or zero).
    WithinTolerance,
    /// Significant, material, harmless direction.
    Better,
    /// Significant, material, bad direction.
    Worse,
}

/// Below this p-value we switch to scientific notation (`2.1e-9`), because
/// fixed notation would print an unreadable run of zeros.
const P_SCIENTIFIC_BELOW: f64 = 1e-3;

/// Numbers feeding one metric's reason.
pub(crate) struct Evidence {
    pub baseline_median: f64,
    pub canary_median: f64,
    /// Shift used for the decision (median shift, or mean shift on ties).
    pub shift: f64,
    pub medians_tied: bool,
    pub p_value: f64,
    /// Render values as percentages and shifts as percentage points.
    pub percent: bool,
    pub tolerance: f64,
}

/// E.g. `canary error_rate median 0.31% vs baseline 15.1% (-14.8 pp),
/// p=2.1e-9: significantly better`.
pub(crate) fn metric_reason(name: &str, ev: &Evidence, outcome: Outcome) -> String {
    format!(
        "canary {name} median {} vs baseline {} ({}), p={}: {}",
        fmt_value(ev.canary_median, ev.percent),
        fmt_value(ev.baseline_median, ev.percent),
        describe_shift(ev),
        fmt_p(ev.p_value),
        outcome_words(outcome, ev.tolerance)
    )
}

/// Heuristic: a metric is a fraction (shown as %) when a `_`/`-`/`.`
/// separated word of its name is `rate`, `ratio`, `frac` or `fraction`
/// and every sample lies in [0, 1]. Why: `error_rate` samples are usually
/// fractions, and "0.31%" reads faster than "0.0031".
pub(crate) fn is_fraction_metric(name: &str, baseline: &[f64], canary: &[f64]) -> bool {
    let lower = name.to_ascii_lowercase();
    let named = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| matches!(w, "rate" | "ratio" | "frac" | "fraction"));
    named
        && baseline
            .iter()
            .chain(canary)
            .all(|x| (0.0..=1.0).contains(x))
}

/// The parenthesised shift: absolute (and relative) change, or pp.
fn describe_shift(ev: &Evidence) -> String {
    if ev.medians_tied {
        if ev.shift == 0.0 {
            return "median and mean unchanged".to_string();
        }
        return format!("median unchanged, mean {}", fmt_delta(ev.shift, ev.percent));
    }
    if ev.percent || ev.baseline_median == 0.0 {
        return fmt_delta(ev.shift, ev.percent);
    }
    let relative = 100.0 * ev.shift / ev.baseline_median.abs();
    format!("{}, {}%", fmt_delta(ev.shift, false), fmt_signed(relative))
}

/// The verdict in words.
fn outcome_words(outcome: Outcome, tolerance: f64) -> String {
    match outcome {
        Outcome::NoSignificantChange => "no significant difference".to_string(),
        Outcome::WithinTolerance if tolerance > 0.0 => format!(
            "significant, but within the {}% tolerance",
            fmt_num(100.0 * tolerance)
        ),
        Outcome::WithinTolerance => "significant rank difference, but no shift".to_string(),
        Outcome::Better => "significantly better".to_string(),
        Outcome::Worse => "significantly worse".to_string(),
    }
}

/// A value, as a percentage for fraction metrics.
fn fmt_value(x: f64, percent: bool) -> String {
    if percent {
        format!("{}%", fmt_num(100.0 * x))
    } else {
        fmt_num(x)
    }
}

/// A signed shift, in percentage points for fraction metrics.
fn fmt_delta(x: f64, percent: bool) -> String {
    if percent {
        format!("{} pp", fmt_signed(100.0 * x))
    } else {
        fmt_signed(x)
    }
}

/// `fmt_num` with an explicit `+` for increases, so direction is never
/// ambiguous in a reason string.
fn fmt_signed(x: f64) -> String {
    if x > 0.0 {
        format!("+{}", fmt_num(x))
    } else {
        fmt_num(x)
    }
}

/// p-value: fixed notation normally, scientific when tiny.
fn fmt_p(p: f64) -> String {
    if p > 0.0 && p < P_SCIENTIFIC_BELOW {
        format!("{p:.1e}")
    } else {
        fmt_num(p)
    }
}

/// Three significant digits with trailing zeros trimmed (`212`, `15.1`,
/// `0.31`): enough precision to act on, short enough to scan.
pub(crate) fn fmt_num(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    if x == 0.0 {
        return "0".to_string();
    }
    let a = x.abs();
    if !(1e-3..1e6).contains(&a) {
        return format!("{x:.2e}");
    }
    let digits = (2 - a.log10().floor() as i32).max(0) as usize;
    trim_zeros(format!("{x:.digits$}"))
}

/// Drops trailing fractional zeros and a dangling decimal point.
fn trim_zeros(s: String) -> String {
    if !s.contains('.') {
        return s;
    }
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short_and_signed() {
        assert_eq!(fmt_num(212.4), "212");
        assert_eq!(fmt_num(15.1), "15.1");
        assert_eq!(fmt_num(0.31), "0.31");
        assert_eq!(fmt_num(66.666_666), "66.7");
        assert_eq!(fmt_num(100.0), "100");
        assert_eq!(fmt_num(-14.8), "-14.8");
        assert_eq!(fmt_num(2_500_000.0), "2.50e6");
        assert_eq!(fmt_signed(32.0), "+32");
        assert_eq!(fmt_p(2.1e-9), "2.1e-9");
        assert_eq!(fmt_p(0.0338), "0.0338");
        assert_eq!(fmt_p(1.0), "1");
    }

    #[test]
    fn fraction_heuristic() {
        assert!(is_fraction_metric("error_rate", &[0.1], &[0.0]));
        assert!(is_fraction_metric("cache-hit-ratio", &[1.0], &[0.5]));
        assert!(!is_fraction_metric("error_rate", &[12.0], &[0.5]));
        assert!(!is_fraction_metric("migrate_ms", &[0.1], &[0.2]));
    }

    #[test]
    fn reason_matches_spec_example_shape() {
        let ev = Evidence {
            baseline_median: 0.151,
            canary_median: 0.0031,
            shift: 0.0031 - 0.151,
            medians_tied: false,
            p_value: 2.1e-9,
            percent: true,
            tolerance: 0.0,
        };
        assert_eq!(
            metric_reason("error_rate", &ev, Outcome::Better),
            "canary error_rate median 0.31% vs baseline 15.1% (-14.8 pp), p=2.1e-9: \
             significantly better"
        );
    }
}
