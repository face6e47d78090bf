//! Detection, root-cause analysis, code localization and fix planning: everything before a
//! single byte of production changes.

use super::{Pipeline, Step, Stop};
use crate::domain::{CodeLocation, Cohort, Incident, Outcome};
use crate::events::{EndCause, EventKind};
use crate::localize;
use crate::ports::FixRequest;
use crate::rca::{self, BundleAlert, BundleDeploy, BundleEdge, BundleService, RcaBundle};
use crate::state::State;
use std::collections::BTreeMap;

/// How far back RCA looks at metrics, ms.
const RCA_LOOKBACK_MS: i64 = 300_000;
/// Widest metric bucket for RCA series, ms: wide enough to average out per-second noise.
const RCA_BUCKET_MS: i64 = 10_000;
/// Narrowest bucket, ms (the finest a scraped series resolves).
const RCA_MIN_BUCKET_MS: i64 = 1_000;
/// Points per series the ranker wants: a baseline and an episode of several points each. A young
/// fleet (or a short retention) gets narrower buckets rather than a three-point series in which
/// the incident is one trailing point that looks like a spike.
const RCA_TARGET_POINTS: i64 = 30;
/// How far back RCA looks at commits, s.
const RCA_COMMIT_LOOKBACK_S: i64 = 86_400;

impl Pipeline {
    /// Poll the alert source until something fires (or give up).
    pub(super) fn detect(&mut self) -> Step<()> {
        let started = self.ports.clock.now_ms();
        let alerts = loop {
            let now = self.ports.clock.now_ms();
            let mut alerts = self.ports.alerts.poll(now).map_err(|e| {
                Stop::new(
                    Outcome::Failed,
                    EndCause::BackendUnavailable {
                        port: "alerts".into(),
                    },
                    format!("detection failed: {e}"),
                )
            })?;
            if let Some(only) = &self.settings.only_service {
                alerts.retain(|a| &a.service == only);
            }
            if !alerts.is_empty() {
                break alerts;
            }
            if (now - started) as u64 >= self.settings.pacing.detect_timeout_ms {
                return Err(Stop::new(
                    Outcome::Failed,
                    EndCause::NothingDetected,
                    match &self.settings.only_service {
                        Some(only) => {
                            format!("no incident detected: {only} stayed within its thresholds")
                        }
                        None => "no incident detected: every service stayed within its thresholds"
                            .to_string(),
                    },
                ));
            }
            self.pace(self.settings.pacing.poll_ms)?;
        };
        let now = self.ports.clock.now_ms();
        self.incident_id = match &self.settings.incident_id {
            Some(id) => id.clone(),
            None => super::incident_id(self.settings.seed, now, &self.settings.taken_incident_ids),
        };
        let first = alerts[0].clone();
        for a in alerts {
            self.found.alerts.push(a.clone());
            self.emit(EventKind::AlertReceived { alert: a })?;
        }
        let error_rate = if first.name == "HighErrorRate" {
            first.value
        } else {
            0.0
        };
        let title = format!(
            "{} on {}: {}",
            first.name,
            first.service,
            if first.name == "HighErrorRate" {
                format!(
                    "{:.1}% errors (threshold {:.1}%)",
                    first.value * 100.0,
                    first.threshold * 100.0
                )
            } else {
                format!(
                    "p99 {:.0} ms (threshold {:.0} ms)",
                    first.value, first.threshold
                )
            }
        );
        let incident = Incident {
            id: self.incident_id.clone(),
            service: first.service.clone(),
            severity: first.severity,
            title: title.clone(),
            opened_at_ms: now,
            error_rate,
        };
        self.emit(EventKind::IncidentOpened {
            service: first.service,
            severity: first.severity,
            title,
            error_rate,
        })?;
        self.found.incident = Some(incident);
        self.emit_topology(self.settings.detection.window_ms)?;
        self.checkpoint()
    }

    /// Tell front-ends what the service graph looks like and how healthy each service was over the
    /// last `window_ms`.
    /// Informational: if the graph or metrics cannot be read, a note says so and the run goes on.
    pub(super) fn emit_topology(&mut self, window_ms: i64) -> Step<()> {
        let now = self.ports.clock.now_ms();
        let d = self.settings.detection.clone();
        let read = || -> Result<_, crate::ports::PortError> {
            let nodes = self.ports.graph.nodes()?;
            let edges = self.ports.graph.edges()?;
            let mut services = Vec::with_capacity(nodes.len());
            for n in nodes {
                let w = crate::domain::WindowStats::of(&self.ports.metrics.samples(
                    &n.name,
                    Cohort::All,
                    now - window_ms,
                    now,
                )?);
                let unhealthy = w.requests >= d.min_requests
                    && (w.error_rate > d.error_rate_threshold
                        || w.latency_p99_ms > d.latency_p99_threshold_ms);
                services.push(crate::domain::ServiceHealth {
                    name: n.name,
                    criticality: n.criticality,
                    error_rate: w.error_rate,
                    latency_p99_ms: w.latency_p99_ms,
                    unhealthy,
                });
            }
            Ok((services, edges))
        };
        match read() {
            Ok((services, edges)) => self.emit(EventKind::Topology { services, edges }),
            Err(e) => self.emit(EventKind::Note {
                message: format!("service graph unavailable for display: {e}"),
            }),
        }
    }

    /// Build the RCA bundle from the ports and rank candidates.
    pub(super) fn analyze(&mut self) -> Step<()> {
        self.go(State::Analyzing)?;
        self.pace(self.settings.pacing.analyze_ms)?;
        let bundle = self.build_bundle()?;
        if tracing::enabled!(tracing::Level::DEBUG) {
            // The exact input, so `ccp rca` can replay a ranking someone questions.
            let json = serde_json::to_string(&bundle).unwrap_or_default();
            tracing::debug!(bundle = %json, "rca input");
        }
        let result = self.scoped(rca::rank(&bundle))?;
        self.emit(EventKind::RcaRanked {
            candidates: result.candidates.clone(),
        })?;
        self.emit(EventKind::Decision {
            justification: result.justification,
        })?;
        if result.candidates.is_empty() {
            self.go(State::Escalated)?;
            return Err(Stop::new(
                Outcome::Escalated,
                EndCause::NoRootCause,
                "RCA found no anomalous service: a human has to look",
            ));
        }
        // Low confidence is judged with the other override rules right before approval.
        self.found.rca = result.candidates;
        self.go(State::RcaComplete)
    }

    fn build_bundle(&self) -> Step<RcaBundle> {
        let port_err = |e: crate::ports::PortError| {
            Stop::new(
                Outcome::Escalated,
                EndCause::BackendUnavailable {
                    port: "metrics".into(),
                },
                format!("RCA could not read its inputs: {e}"),
            )
        };
        let now = self.ports.clock.now_ms();
        let nodes = self.ports.graph.nodes().map_err(port_err)?;
        let edges = self.ports.graph.edges().map_err(port_err)?;
        let mut raw = Vec::with_capacity(nodes.len());
        for n in &nodes {
            let samples = self
                .ports
                .metrics
                .samples(&n.name, Cohort::All, now - RCA_LOOKBACK_MS, now)
                .map_err(port_err)?;
            raw.push((n.name.clone(), samples));
        }
        let earliest = raw
            .iter()
            .filter_map(|(_, s)| s.first().map(|x| x.t_ms))
            .min()
            .unwrap_or(now - RCA_LOOKBACK_MS);
        let bucket_ms = rca_bucket_ms(now - earliest);
        let metrics: BTreeMap<_, _> = raw
            .into_iter()
            .map(|(name, samples)| {
                let series = bucket_series(&samples, now - RCA_LOOKBACK_MS, bucket_ms);
                (name, series)
            })
            .collect();
        let since = now / 1000 - RCA_COMMIT_LOOKBACK_S;
        let commits = self.ports.repo.commits_since(since).map_err(port_err)?;
        let mut deploys = Vec::new();
        for n in &nodes {
            let Some(dir) = self.ports.repo.service_dir(&n.name) else {
                continue;
            };
            let prefix = format!("{}/", dir.trim_end_matches('/'));
            for c in commits
                .iter()
                .filter(|c| c.files.iter().any(|f| f.starts_with(&prefix)))
            {
                deploys.push(BundleDeploy {
                    service: n.name.clone(),
                    at: c.time_unix,
                    commit: c.id.clone(),
                    files: c.files.clone(),
                    lines_changed: c.lines_changed,
                    message: Some(c.message.clone()),
                });
            }
        }
        // The error-log port's recent errors: stack-trace files for change evidence, and the
        // texts themselves so the ranker can read which dependency a caller's errors name. The
        // port gives no timestamps: its errors are recent by contract.
        let mut trace_files = Vec::new();
        let mut logs = BTreeMap::new();
        for n in &nodes {
            let texts = self.ports.errors.recent_errors(&n.name).unwrap_or_default();
            for text in &texts {
                if let Ok(t) = localize::parse_trace(text) {
                    trace_files.extend(t.frames.iter().map(|f| f.file.clone()));
                }
            }
            if !texts.is_empty() {
                let lines: Vec<rca::BundleLogLine> = texts
                    .into_iter()
                    .take(rca::logs::MAX_ENTRIES)
                    .map(|text| rca::BundleLogLine { at: None, text })
                    .collect();
                logs.insert(n.name.clone(), lines);
            }
        }
        // The incident's own alert first, then every other alert it opened with: in an alert
        // storm without history, which alerting services call which is the evidence there is.
        let alerts = self
            .found
            .incident
            .iter()
            .map(|i| BundleAlert {
                service: i.service.clone(),
                name: "incident".into(),
                at: i.opened_at_ms / 1000,
                severity: i.severity.as_str().into(),
            })
            .chain(self.found.alerts.iter().map(|a| BundleAlert {
                service: a.service.clone(),
                name: a.name.clone(),
                at: a.at_ms / 1000,
                severity: a.severity.as_str().into(),
            }))
            .collect();
        Ok(RcaBundle {
            incident_start: now / 1000,
            services: nodes
                .iter()
                .map(|n| BundleService {
                    name: n.name.clone(),
                    criticality: n.criticality,
                })
                .collect(),
            edges: edges
                .into_iter()
                .map(|(from, to)| BundleEdge { from, to })
                .collect(),
            metrics,
            deploys: Some(deploys),
            alerts,
            trace_files,
            logs,
        })
    }

    /// Parse the root service's latest stack trace, pick the culprit frame, blame it.
    pub(super) fn localize(&mut self) -> Step<()> {
        self.pace(self.settings.pacing.localize_ms)?;
        let service = self.root_service();
        let escalate = |cause: EndCause, why: String| Stop::new(Outcome::Escalated, cause, why);
        let errors = self
            .ports
            .errors
            .recent_errors(&service)
            .unwrap_or_default();
        let trace = errors.iter().find_map(|t| localize::parse_trace(t).ok());
        let Some(trace) = trace else {
            self.go(State::Escalated)?;
            return Err(escalate(
                EndCause::NoStackTrace {
                    service: service.clone(),
                },
                format!("no parsable stack trace from {service}: cannot localize the fault"),
            ));
        };
        let files = self.ports.repo.files().map_err(|e| {
            escalate(
                EndCause::BackendUnavailable {
                    port: "repository".into(),
                },
                format!("cannot list repository files: {e}"),
            )
        })?;
        let Some((frame, path)) = localize::culprit_frame(&trace, &files) else {
            self.go(State::Escalated)?;
            return Err(escalate(
                EndCause::NoStackTrace {
                    service: service.clone(),
                },
                format!(
                    "no frame of the {} trace is in the repository",
                    trace.exception_type
                ),
            ));
        };
        let blame = self.ports.repo.blame(&path, frame.line).ok();
        let loc = CodeLocation {
            file: path,
            line: frame.line,
            function: frame.function.clone(),
            code: frame.code.clone(),
            exception: trace.exception_type.clone(),
            message: trace.message.clone(),
            blame_commit: blame.as_ref().map(|b| b.short.clone()),
            blame_author: blame.as_ref().map(|b| b.author.clone()),
        };
        self.emit(EventKind::Localized {
            file: loc.file.clone(),
            line: loc.line,
            function: loc.function.clone(),
            code: loc.code.clone(),
            exception: loc.exception.clone(),
            message: loc.message.clone(),
            blame_commit: loc.blame_commit.clone(),
            blame_author: loc.blame_author.clone(),
        })?;
        self.found.location = Some(loc);
        self.go(State::CodeLocated)
    }

    /// Ask the fix generator for a patch.
    pub(super) fn plan_fix(&mut self) -> Step<()> {
        self.pace(self.settings.pacing.plan_ms)?;
        let Some(loc) = self.found.location.clone() else {
            return Err(Stop::new(
                Outcome::Failed,
                EndCause::Internal,
                "internal: no code location",
            ));
        };
        let source = self.ports.repo.read_file(&loc.file).map_err(|e| {
            Stop::new(
                Outcome::Escalated,
                EndCause::BackendUnavailable {
                    port: "repository".into(),
                },
                format!("cannot read {}: {e}", loc.file),
            )
        })?;
        let req = FixRequest {
            service: self.root_service(),
            file: loc.file.clone(),
            line: loc.line,
            source,
            exception: loc.exception.clone(),
            message: loc.message.clone(),
        };
        let plan = match self.ports.fixer.propose(&req) {
            Ok(p) => p,
            Err(e) => {
                self.go(State::Escalated)?;
                return Err(Stop::new(
                    Outcome::Escalated,
                    EndCause::NoFixTemplate,
                    format!("no fix template applies: {e}"),
                ));
            }
        };
        let mut justification = crate::explain::Justification::new("fix_template", &plan.template)
            .input("exception", &loc.exception)
            .input("message", &loc.message)
            .input("file", &loc.file)
            .input("line", loc.line)
            .reasoning(plan.description.clone())
            .confidence(plan.confidence);
        for a in &plan.alternatives {
            justification = justification.alternative(a.clone());
        }
        self.emit(EventKind::Decision { justification })?;
        self.go(State::FixPlanned)?;
        self.pace(self.settings.pacing.plan_ms)?;
        self.emit(EventKind::FixProposed {
            template: plan.template.clone(),
            file: plan.file.clone(),
            line: plan.line,
            description: plan.description.clone(),
            lines_added: plan.lines_added,
            lines_removed: plan.lines_removed,
            diff: plan.diff.clone(),
            alternatives: plan.alternatives.clone(),
        })?;
        self.found.plan = Some(plan);
        self.go(State::PatchReady)
    }

    /// The top RCA candidate (falls back to the alerting service).
    pub(crate) fn root_service(&self) -> String {
        self.found
            .rca
            .first()
            .map(|c| c.service.clone())
            .or_else(|| self.found.incident.as_ref().map(|i| i.service.clone()))
            .unwrap_or_default()
    }
}

/// One bucket width for every series of a bundle (onsets are compared across services, so they
/// must share a grid): whole seconds, about [`RCA_TARGET_POINTS`] over the history there is.
fn rca_bucket_ms(history_ms: i64) -> i64 {
    let per_point = history_ms / RCA_TARGET_POINTS;
    (per_point / 1000 * 1000).clamp(RCA_MIN_BUCKET_MS, RCA_BUCKET_MS)
}

/// Buckets of error rate and p99 for the RCA bundle, aligned to the window start so the same run
/// always buckets the same seconds together.
fn bucket_series(
    samples: &[crate::domain::Sample],
    origin: i64,
    bucket_ms: i64,
) -> BTreeMap<String, Vec<(f64, f64)>> {
    let mut err = Vec::new();
    let mut p99 = Vec::new();
    let bucket = |t: i64| (t - origin).div_euclid(bucket_ms);
    for chunk in samples.chunk_by(|a, b| bucket(a.t_ms) == bucket(b.t_ms)) {
        let w = crate::domain::WindowStats::of(chunk);
        if w.requests == 0 {
            continue;
        }
        let t = (origin + bucket(chunk[0].t_ms) * bucket_ms) as f64 / 1000.0;
        err.push((t, w.error_rate));
        p99.push((t, w.latency_p99_ms));
    }
    BTreeMap::from([
        ("error_rate".to_string(), err),
        ("latency_p99_ms".to_string(), p99),
    ])
}

#[cfg(test)]
mod tests {
    use super::rca_bucket_ms;

    #[test]
    fn short_history_gets_narrow_buckets_long_history_ten_seconds() {
        assert_eq!(rca_bucket_ms(30_000), 1_000);
        assert_eq!(rca_bucket_ms(0), 1_000);
        assert_eq!(rca_bucket_ms(95_000), 3_000);
        assert_eq!(rca_bucket_ms(300_000), 10_000);
        assert_eq!(rca_bucket_ms(86_400_000), 10_000);
    }
}
