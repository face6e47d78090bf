//! The embedded alert source: thresholds over any `MetricsSource`. It is what turns the simulated
//! fleet's traffic into alerts, and it works just as well over Prometheus data.

use super::domain::{Alert, Cohort, Millis, Severity, WindowStats};
use super::ports::{AlertSource, MetricsSource, PortResult};
use std::sync::Arc;

/// Detection thresholds.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectionSettings {
    /// Error-rate threshold (fraction).
    pub error_rate_threshold: f64,
    /// p99 latency threshold, ms.
    pub latency_p99_threshold_ms: f64,
    /// Window the rates are computed over, ms.
    pub window_ms: i64,
    /// Fewer requests than this in the window never alert (too little evidence).
    pub min_requests: u64,
}

impl Default for DetectionSettings {
    fn default() -> Self {
        Self {
            error_rate_threshold: 0.02,
            latency_p99_threshold_ms: 500.0,
            window_ms: 60_000,
            min_requests: 100,
        }
    }
}

/// Threshold detector over a metrics source.
pub struct ThresholdDetector {
    metrics: Arc<dyn MetricsSource>,
    settings: DetectionSettings,
}

impl ThresholdDetector {
    /// Wrap a metrics source.
    pub fn new(metrics: Arc<dyn MetricsSource>, settings: DetectionSettings) -> Self {
        Self { metrics, settings }
    }
}

impl AlertSource for ThresholdDetector {
    fn poll(&self, now_ms: Millis) -> PortResult<Vec<Alert>> {
        let s = &self.settings;
        let mut alerts = Vec::new();
        let services = self.metrics.services();
        let mut failures = Vec::new();
        for service in services.iter().cloned() {
            // One service without data (not scraped yet, renamed) must not blind detection for
            // the others; only a source that answers for nobody is an error.
            let samples =
                match self
                    .metrics
                    .samples(&service, Cohort::All, now_ms - s.window_ms, now_ms)
                {
                    Ok(v) => v,
                    Err(e) => {
                        tracing::warn!(service, "detection skipped: {e}");
                        failures.push(e);
                        continue;
                    }
                };
            let w = WindowStats::of(&samples);
            if w.requests < s.min_requests {
                continue;
            }
            if w.error_rate > s.error_rate_threshold {
                alerts.push(Alert {
                    name: "HighErrorRate".into(),
                    service: service.clone(),
                    severity: Severity::from_error_rate(w.error_rate),
                    value: w.error_rate,
                    threshold: s.error_rate_threshold,
                    source: "embedded-detector".into(),
                    at_ms: now_ms,
                });
            }
            if w.latency_p99_ms > s.latency_p99_threshold_ms {
                alerts.push(Alert {
                    name: "HighLatency".into(),
                    service,
                    severity: Severity::High,
                    value: w.latency_p99_ms,
                    threshold: s.latency_p99_threshold_ms,
                    source: "embedded-detector".into(),
                    at_ms: now_ms,
                });
            }
        }
        if !services.is_empty() && failures.len() == services.len() {
            if let Some(e) = failures.into_iter().next() {
                return Err(e);
            }
        }
        alerts.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then(
                    b.value
                        .partial_cmp(&a.value)
                        .unwrap_or(std::cmp::Ordering::Equal),
                )
                .then(a.service.cmp(&b.service))
        });
        Ok(alerts)
    }
}
