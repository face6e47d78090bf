//! How anomalous each service is, and since when.
//!
//! Per metric series: a robust z-score of every point against the median and MAD of the
//! pre-incident window (robust, so a baseline that already contains the start of the fault or a
//! few spikes still gives the right level), then a one-sided CUSUM change point: the onset is
//! the index after which the summed excess `z - ALLOWANCE` is largest, i.e. where a shift that
//! persists to the end of the series began. The magnitude is the lower median of the z-scores
//! from the onset on, so one spike at the end does not make a healthy service anomalous.

/// Points this close before the incident start (seconds) are not trusted as baseline.
pub const BASELINE_GUARD_S: f64 = 60.0;
/// Baseline points needed before the guard window; with fewer, the first half of the series is
/// used instead.
const MIN_BASELINE_POINTS: usize = 3;
/// MAD → standard deviation for normal data.
const MAD_TO_SD: f64 = 1.4826;
/// z-scores are clipped here: NaN-free, and one absurd value cannot dominate.
const Z_CLIP: f64 = 50.0;
/// Clip used inside the CUSUM so the onset is placed by persistence, not by one huge point.
const CUSUM_CLIP: f64 = 10.0;
/// CUSUM allowance in z units: shifts smaller than this are noise.
const ALLOWANCE: f64 = 1.5;
/// Summed excess needed to call a change.
const CUSUM_THRESHOLD: f64 = 4.0;
/// z-score below which a shift does not count at all; the score saturates above it.
const Z_FLOOR: f64 = 2.0;
/// z-scale of the saturation: score = 1 − exp(−(z − Z_FLOOR)/Z_SCALE).
const Z_SCALE: f64 = 4.0;
/// Error-rate noise floor (absolute fraction): half a percentage point.
const ERROR_FLOOR: f64 = 0.005;
/// Relative noise floor for every metric.
const RELATIVE_FLOOR: f64 = 0.05;
/// Relative noise floor for latencies: a p99 wanders ±15–20 % on its own (few slow requests
/// decide it), and on a short history its MAD can be tiny. The real chain ranked a service whose
/// p99 drifted +25 % above the one failing 15 % of its requests before this floor.
const LATENCY_FLOOR: f64 = 0.15;

/// Which way a metric goes when something is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Errors, latency, saturation: up is bad.
    Up,
    /// Success ratio, availability: down is bad.
    Down,
    /// Anything else (throughput, …): either way is suspicious.
    Both,
}

/// Guess the bad direction from the metric's name, so bundles from any exporter work.
pub fn direction_of(metric: &str) -> Direction {
    let m = metric.to_ascii_lowercase();
    let has = |w: &[&str]| w.iter().any(|x| m.contains(x));
    if has(&["success", "availab", "apdex", "uptime"]) {
        Direction::Down
    } else if has(&[
        "error",
        "fail",
        "latency",
        "duration",
        "p99",
        "p95",
        "p50",
        "timeout",
        "5xx",
        "cpu",
        "mem",
        "saturation",
        "queue",
        "lag",
        "retr",
    ]) {
        Direction::Up
    } else {
        Direction::Both
    }
}

fn is_error_like(metric: &str) -> bool {
    let m = metric.to_ascii_lowercase();
    m.contains("error") || m.contains("fail") || m.contains("5xx")
}

/// Latency under any of the names exporters give it (`latency_ms`, `http_request_duration_p99`,
/// `response_time`, `rt_p95`): all of them wander by a few slow requests.
fn is_latency_like(metric: &str) -> bool {
    let m = metric.to_ascii_lowercase();
    [
        "latency",
        "duration",
        "response_time",
        "p50",
        "p90",
        "p95",
        "p99",
    ]
    .iter()
    .any(|w| m.contains(w))
        || m.split(|c: char| !c.is_ascii_alphanumeric())
            .any(|w| w == "rt")
}

/// One metric's verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricAnomaly {
    /// Metric name.
    pub metric: String,
    /// Anomaly in [0,1].
    pub score: f64,
    /// Lower-median robust z from the onset on.
    pub z: f64,
    /// Onset (unix seconds), when a change was found.
    pub onset: Option<f64>,
    /// Baseline median.
    pub baseline: f64,
    /// Median of the values from the onset on.
    pub current: f64,
}

/// A service's verdict over all its metrics.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServiceAnomaly {
    /// Whether any metric had enough finite points to judge: a service without is *unobserved*
    /// and its state must be inferred from its neighbours.
    pub observed: bool,
    /// The strongest metric's score, in [0,1].
    pub score: f64,
    /// Earliest onset among the metrics that carry the anomaly.
    pub onset: Option<f64>,
    /// Anomalous metrics, strongest first.
    pub metrics: Vec<MetricAnomaly>,
}

/// Lower median (for an even count, the smaller middle value): robust even with two points.
fn lower_median(sorted: &[f64]) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[(sorted.len() - 1) / 2]
}

/// Median by selection (linear time; the slice is reordered).
fn median(v: &mut [f64]) -> f64 {
    let n = v.len();
    if n == 0 {
        return 0.0;
    }
    let (_, hi, _) = v.select_nth_unstable_by(n / 2, f64::total_cmp);
    let hi = *hi;
    if n % 2 == 1 {
        return hi;
    }
    let lo = v[..n / 2].iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lo + hi) / 2.0
}

/// Judge one series against the pre-incident window ending `BASELINE_GUARD_S` before `start`.
pub fn metric_anomaly(name: &str, series: &[(f64, f64)], start: f64) -> Option<MetricAnomaly> {
    let clean = series.iter().all(|(t, v)| t.is_finite() && v.is_finite())
        && series.is_sorted_by(|a, b| a.0 <= b.0);
    let owned: Vec<(f64, f64)>;
    let pts: &[(f64, f64)] = if clean {
        series
    } else {
        let mut v: Vec<(f64, f64)> = series
            .iter()
            .copied()
            .filter(|(t, v)| t.is_finite() && v.is_finite())
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        owned = v;
        &owned
    };
    if pts.len() < 2 {
        return None;
    }
    let n = pts.len();
    let guarded = pts
        .iter()
        .take_while(|(t, _)| *t < start - BASELINE_GUARD_S)
        .count();
    // With little history before the guard (a young service, a short lookback) the baseline is
    // the earliest points: a fault that began shortly before the incident must not be half of
    // its own baseline, which a split at the middle would make it.
    let base_len = if guarded >= MIN_BASELINE_POINTS {
        guarded
    } else {
        (n / 3).max(MIN_BASELINE_POINTS.min(n / 2)).max(1)
    }
    .min(n - 1);
    let first = judge(name, pts, start, base_len);
    // A short history holds the fault's first points in the baseline window itself (the guard
    // is 60 s, a detection can take longer). When the change point falls inside the baseline
    // and enough points precede it, judge again against those points only: the median and MAD
    // of a clean baseline, not of one already half in the episode.
    match first.onset_index {
        Some(k) if k < base_len && k >= MIN_BASELINE_POINTS && n < LONG_SERIES => {
            let second = judge(name, pts, start, k);
            if second.anomaly.score >= first.anomaly.score {
                Some(second.anomaly)
            } else {
                Some(first.anomaly)
            }
        }
        _ => Some(first.anomaly),
    }
}

/// Series at least this long have enough clean baseline that one pass is robust.
const LONG_SERIES: usize = 40;

/// A verdict and where its episode starts.
struct Judged {
    anomaly: MetricAnomaly,
    onset_index: Option<usize>,
}

/// Score a clean, sorted series of at least two points against its first `base_len` points.
fn judge(name: &str, pts: &[(f64, f64)], start: f64, base_len: usize) -> Judged {
    let n = pts.len();
    let mut base: Vec<f64> = pts[..base_len].iter().map(|p| p.1).collect();
    let med = median(&mut base);
    base.iter_mut().for_each(|x| *x = (*x - med).abs());
    let mad = median(&mut base);
    let mut floor = RELATIVE_FLOOR * med.abs();
    if is_error_like(name) {
        floor = floor.max(ERROR_FLOOR);
    } else if is_latency_like(name) {
        floor = LATENCY_FLOOR * med.abs();
    }
    let scale = (MAD_TO_SD * mad).max(floor).max(1e-9);
    let dir = direction_of(name);
    let z: Vec<f64> = pts
        .iter()
        .map(|(_, v)| {
            let raw = (v - med) / scale;
            let z = match dir {
                Direction::Up => raw,
                Direction::Down => -raw,
                Direction::Both => raw.abs(),
            };
            if z.is_nan() {
                0.0
            } else {
                z.clamp(-Z_CLIP, Z_CLIP)
            }
        })
        .collect();
    // Backward CUSUM: best start of a shift that lasts to the end.
    let (mut best_k, mut best_sum, mut sum) = (n, 0.0f64, 0.0f64);
    for k in (0..n).rev() {
        sum += z[k].min(CUSUM_CLIP) - ALLOWANCE;
        if sum >= best_sum {
            best_sum = sum;
            best_k = k;
        }
    }
    // Points that may belong to the incident: at least this many must be in the episode, so a
    // single trailing spike is not enough when the bundle has more recent data.
    let recent = pts
        .iter()
        .filter(|(t, _)| *t >= start - BASELINE_GUARD_S)
        .count();
    let need = recent.clamp(1, 2);
    let mut out = MetricAnomaly {
        metric: name.to_string(),
        score: 0.0,
        z: 0.0,
        onset: None,
        baseline: med,
        current: pts[n - 1].1,
    };
    if best_k >= n || best_sum < CUSUM_THRESHOLD || n - best_k < need {
        return Judged {
            anomaly: out,
            onset_index: None,
        };
    }
    let mut ep: Vec<f64> = z[best_k..].to_vec();
    ep.sort_by(f64::total_cmp);
    let zmed = lower_median(&ep);
    out.z = zmed;
    let mut tail: Vec<f64> = pts[best_k..].iter().map(|p| p.1).collect();
    out.current = median(&mut tail);
    out.onset = Some(pts[best_k].0);
    out.score = if zmed > Z_FLOOR {
        1.0 - (-(zmed - Z_FLOOR) / Z_SCALE).exp()
    } else {
        0.0
    };
    Judged {
        anomaly: out,
        onset_index: Some(best_k),
    }
}

/// Anomalies below this are noise.
pub const MIN_ANOMALY: f64 = 0.1;

/// Judge every metric of a service; `None` metrics map means no data at all.
pub fn service_anomaly(
    metrics: Option<&std::collections::BTreeMap<String, Vec<(f64, f64)>>>,
    start: f64,
) -> ServiceAnomaly {
    let Some(metrics) = metrics else {
        return ServiceAnomaly::default();
    };
    let mut judged: Vec<MetricAnomaly> = metrics
        .iter()
        .filter_map(|(name, s)| metric_anomaly(name, s, start))
        .collect();
    let observed = !judged.is_empty();
    judged.retain(|m| m.score >= MIN_ANOMALY);
    judged.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.metric.cmp(&b.metric)));
    let score = judged.first().map_or(0.0, |m| m.score);
    let onset = judged
        .iter()
        .filter(|m| m.score >= 0.5 * score)
        .filter_map(|m| m.onset)
        .min_by(f64::total_cmp);
    ServiceAnomaly {
        observed,
        score,
        onset,
        metrics: judged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(values: &[f64]) -> Vec<(f64, f64)> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| (1000.0 + 10.0 * i as f64, *v))
            .collect()
    }

    #[test]
    fn step_is_found_with_its_onset() {
        let mut v = vec![0.01; 30];
        v.extend([0.2; 6]);
        let s = series(&v);
        let m = metric_anomaly("error_rate", &s, 1000.0 + 10.0 * 36.0).expect("judged");
        assert!(m.score > 0.9, "{m:?}");
        assert_eq!(m.onset, Some(1300.0));
    }

    #[test]
    fn one_trailing_spike_is_not_an_incident() {
        let mut v: Vec<f64> = (0..36).map(|i| 100.0 + (i % 5) as f64).collect();
        v.push(900.0);
        v.push(101.0);
        let s = series(&v);
        let m = metric_anomaly("latency_p99_ms", &s, 1000.0 + 10.0 * 37.0).expect("judged");
        assert_eq!(m.score, 0.0, "{m:?}");
    }

    #[test]
    fn noisy_baseline_absorbs_moderate_shift() {
        let v: Vec<f64> = (0..40)
            .map(|i| if i % 2 == 0 { 50.0 } else { 150.0 })
            .collect();
        let m = metric_anomaly("latency_p99_ms", &series(&v), 1400.0).expect("judged");
        assert_eq!(m.score, 0.0, "{m:?}");
    }

    #[test]
    fn latency_floor_applies_under_any_exporter_name() {
        for name in [
            "latency_p99_ms",
            "http_request_duration_seconds_p99",
            "response_time",
            "rt",
        ] {
            assert!(is_latency_like(name), "{name}");
        }
        for name in ["error_rate", "cpu_cores", "throughput", "start_time"] {
            assert!(!is_latency_like(name), "{name}");
        }
        // A flat p99 that drifts +12 %: within the latency noise floor under any name.
        let mut v = vec![200.0; 30];
        v.extend([224.0; 6]);
        for name in ["latency_p99_ms", "request_duration_p99"] {
            let m = metric_anomaly(name, &series(&v), 1360.0).expect("judged");
            assert_eq!(m.score, 0.0, "{name}: {m:?}");
        }
    }

    #[test]
    fn hostile_values_do_not_panic() {
        let s = vec![
            (f64::NAN, 1.0),
            (1.0, f64::INFINITY),
            (2.0, 1e308),
            (3.0, -1e308),
            (4.0, 0.0),
        ];
        let m = metric_anomaly("x", &s, 4.0);
        assert!(m.is_some_and(|m| m.score.is_finite()));
        assert!(metric_anomaly("x", &[], 0.0).is_none());
    }
}
