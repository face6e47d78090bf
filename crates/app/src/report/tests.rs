//! Report tests on small hand-written logs: each names the fact a reviewer relies on.

use super::markdown::{duration, num};
use super::*;
use ccp_audit::FileAuditLog;
use ccp_core::domain::{Alert, Outcome, Severity};
use ccp_core::events::{Event, EventKind, GateOutcome};
use ccp_core::explain::Justification;
use ccp_core::state::State;
use serde_json::json;

const A: &str = "INC-20260101-AAAA";
const B: &str = "INC-20260101-BBBB";

/// Appends events in the pipeline's envelope (the event minus `seq`, `ts`, `type`).
struct Log {
    log: FileAuditLog,
    dir: tempfile::TempDir,
}

impl Log {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let log = FileAuditLog::open(&dir.path().join("audit.jsonl"), false).unwrap();
        Log { log, dir }
    }

    fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("audit.jsonl")
    }

    fn ev(&mut self, ts: &str, actor: &str, incident: &str, kind: EventKind) -> &mut Self {
        let ev = Event {
            seq: 0,
            ts: ts.into(),
            kind,
            incident: incident.into(),
        };
        let mut data = serde_json::to_value(&ev).unwrap();
        let obj = data.as_object_mut().unwrap();
        let ty = obj.remove("type").unwrap();
        obj.remove("seq");
        obj.remove("ts");
        self.log
            .append(ts, actor, ty.as_str().unwrap(), data)
            .unwrap();
        self
    }

    fn go(&mut self, ts: &str, id: &str, from: State, to: State) -> &mut Self {
        self.ev(ts, "ccp", id, EventKind::StateChanged { from, to })
    }
}

fn t(s: u32) -> String {
    format!("2026-01-01T10:{:02}:{:02}.000Z", s / 60, s % 60)
}

/// A short resolved run of incident A: alert, open, analysis, one gate, a decision, approval,
/// a lock, a canary verdict, a notification, finished.
fn resolved_run(l: &mut Log) {
    l.ev(
        &t(0),
        "ccp",
        A,
        EventKind::AlertReceived {
            alert: Alert {
                name: "HighErrorRate".into(),
                service: "payments".into(),
                severity: Severity::Critical,
                value: 0.15,
                threshold: 0.02,
                source: "test".into(),
                at_ms: 0,
            },
        },
    )
    .ev(
        &t(0),
        "ccp",
        A,
        EventKind::IncidentOpened {
            service: "payments".into(),
            severity: Severity::Critical,
            title: "HighErrorRate on payments | 15%".into(),
            error_rate: 0.15,
        },
    )
    .go(&t(0), A, State::Detected, State::Analyzing)
    .go(&t(3), A, State::Analyzing, State::RcaComplete)
    .ev(
        &t(5),
        "ccp",
        A,
        EventKind::GateResult(GateOutcome {
            gate: "tests".into(),
            passed: true,
            value: json!({"failures": 0}),
            threshold: json!({"failures": 0}),
            reason: "17 tests, 0 failures".into(),
            output: None,
        }),
    )
    .ev(
        &t(5),
        "ccp",
        A,
        EventKind::GateResult(GateOutcome {
            gate: "risk_score".into(),
            passed: false,
            value: json!(0.8),
            threshold: json!(0.7),
            reason: "risk 0.80 > max 0.70".into(),
            output: None,
        }),
    )
    .ev(
        &t(6),
        "ccp",
        A,
        EventKind::Decision {
            justification: Justification::new("risk_score", "CANARY_DEPLOY")
                .input("criticality", 0.9)
                .factor("criticality", 0.9, 0.4, "business criticality")
                .constraint("> 0.7 → MANUAL_REVIEW")
                .alternative("DIRECT_DEPLOY rejected")
                .reasoning("score 0.625 → CANARY_DEPLOY")
                .confidence(0.8),
        },
    )
    .ev(
        &t(7),
        "oncall",
        A,
        EventKind::Approval {
            decision: "approve".into(),
            actor: "dana".into(),
            comment: "looks | right".into(),
        },
    )
    .ev(
        &t(8),
        "ccp",
        A,
        EventKind::LockAcquired {
            resource: "service:payments".into(),
            owner: "op-1".into(),
            fence: 4,
            waited_ms: 250,
        },
    )
    .go(&t(8), A, State::RcaComplete, State::Verification)
    .ev(
        &t(38),
        "ccp",
        A,
        EventKind::Verification {
            phase: "final".into(),
            verdict: "pass".into(),
            score: 100.0,
            reason: "no metric got worse".into(),
            metrics: vec![serde_json::from_value(json!({
                "name": "error_rate", "n_baseline": 100, "n_canary": 90,
                "baseline_median": 0.1, "canary_median": 0.01, "mann_whitney_u": null,
                "p_value": 1e-9, "welch_t": null, "welch_p": null, "effect": -0.09,
                "ci95": [-0.1, -0.08], "direction": "increase_is_bad", "verdict": "pass",
                "reason": "significantly better"
            }))
            .unwrap()],
        },
    )
    .ev(
        &t(39),
        "ccp",
        A,
        EventKind::NotificationSent {
            channel: "slack".into(),
            notice: "finished".into(),
            ok: false,
            attempts: 3,
            detail: "HTTP 500".into(),
        },
    )
    .go(&t(40), A, State::Verification, State::Closed)
    .ev(
        &t(100),
        "ccp",
        A,
        EventKind::Finished {
            outcome: Outcome::Resolved,
            state: State::Closed,
            reason: "incident resolved and closed".into(),
            cause: None,
        },
    );
}

fn other_incident(l: &mut Log) {
    l.ev(
        &t(200),
        "ccp",
        B,
        EventKind::IncidentOpened {
            service: "orders".into(),
            severity: Severity::High,
            title: "B".into(),
            error_rate: 0.05,
        },
    )
    .go(&t(201), B, State::Detected, State::Analyzing);
}

#[test]
fn a_resolved_run_is_reported_with_its_facts() {
    let mut l = Log::new();
    resolved_run(&mut l);
    let r = make(&l.path(), None).unwrap();
    assert!(r.integrity.verified);
    assert_eq!(r.header.incident, A);
    assert_eq!(r.header.service.as_deref(), Some("payments"));
    assert_eq!(r.header.severity.as_deref(), Some("critical"));
    assert_eq!(r.header.outcome.as_deref(), Some("resolved"));
    assert_eq!(r.header.final_state.as_deref(), Some("CLOSED"));
    assert_eq!(r.header.mttr_seconds, Some(100.0));
    let states: Vec<&str> = r.timeline.iter().map(|s| s.state.as_str()).collect();
    assert_eq!(
        states,
        [
            "DETECTED",
            "ANALYZING",
            "RCA_COMPLETE",
            "VERIFICATION",
            "CLOSED"
        ]
    );
    let durations: Vec<Option<f64>> = r.timeline.iter().map(|s| s.duration_seconds).collect();
    assert_eq!(
        durations,
        [Some(0.0), Some(3.0), Some(5.0), Some(32.0), Some(60.0)]
    );
    assert_eq!((r.gates.total, r.gates.passed, r.gates.failed), (2, 1, 1));
    assert_eq!(r.decisions.len(), 1);
    assert_eq!(
        r.decisions[0].justification.reasoning,
        "score 0.625 → CANARY_DEPLOY"
    );
    assert_eq!(r.approvals.decisions[0].actor, "dana");
    assert_eq!(r.locks[0].waited_ms, Some(250));
    assert_eq!(r.verifications[0].metrics[0].name, "error_rate");
    assert!(!r.notifications[0].ok);
    assert!(r.recovery.is_empty());
    assert_eq!(
        r.outcome.as_ref().map(|o| o.reason.as_str()),
        Some("incident resolved and closed")
    );
}

#[test]
fn markdown_shows_justifications_gates_and_approvals_without_breaking_tables() {
    let mut l = Log::new();
    resolved_run(&mut l);
    let md = render(&make(&l.path(), None).unwrap(), Format::Md);
    assert!(md.starts_with(&format!(
        "# Incident report: {A}\n\nAudit chain: **verified**"
    )));
    assert!(
        md.contains("| MTTR | 1m 40s (opened → finished, log time) |"),
        "{md}"
    );
    assert!(
        md.contains("| Title | HighErrorRate on payments \\| 15% |"),
        "{md}"
    );
    assert!(md.contains("**Reasoning:** score 0.625 → CANARY_DEPLOY"));
    assert!(md.contains("| criticality | 0.9 | 0.4 | business criticality |"));
    // A constraint starting with `>` stays a list item, not a quote.
    assert!(md.contains("- \\> 0.7 → MANUAL_REVIEW"), "{md}");
    assert!(md.contains("- DIRECT_DEPLOY rejected"));
    assert!(md.contains("## Safety gates (2 evaluated: 1 passed, 1 failed)"));
    assert!(md.contains("| risk_score | **FAILED** | 0.8 | 0.7 | risk 0.80 > max 0.70 |"));
    assert!(md.contains("| dana | approve | looks \\| right |"), "{md}");
    assert!(
        md.contains(
            "| error_rate | pass | pass | 1 | 100/90 | 0.1 | 0.01 | -0.09 | [-0.1, -0.08] | — | 1.00e-9 | — |"
        ),
        "{md}"
    );
    assert!(md.contains("| slack | finished | **no** | 3 | HTTP 500 |"));
    assert!(md.contains("**resolved** in state CLOSED"));
    assert!(!md.contains("unverified"));
}

#[test]
fn json_carries_the_same_content_under_stable_names() {
    let mut l = Log::new();
    resolved_run(&mut l);
    let v: serde_json::Value =
        serde_json::from_str(&render(&make(&l.path(), None).unwrap(), Format::Json)).unwrap();
    assert_eq!(v["report_version"], 1);
    assert_eq!(v["integrity"]["verified"], true);
    assert_eq!(v["header"]["outcome"], "resolved");
    assert_eq!(v["header"]["mttr_seconds"], 100.0);
    assert_eq!(v["timeline"][1]["state"], "ANALYZING");
    assert_eq!(v["timeline"][1]["seq"], 2);
    assert_eq!(v["timeline"][1]["verified"], true);
    assert_eq!(v["gates"]["failed"], 1);
    assert_eq!(
        v["decisions"][0]["justification"]["factors"][0]["weight"],
        0.4
    );
    assert_eq!(v["approvals"]["decisions"][0]["comment"], "looks | right");
    assert_eq!(v["verifications"][0]["metrics"][0]["p_value"], 1e-9);
    assert_eq!(v["outcome"]["state"], "CLOSED");
}

#[test]
fn the_incident_is_chosen_or_the_log_lists_its_incidents() {
    let mut l = Log::new();
    resolved_run(&mut l);
    other_incident(&mut l);
    match make(&l.path(), None) {
        Err(ReportError::IncidentRequired { available, .. }) => assert_eq!(available, [A, B]),
        other => panic!("{other:?}"),
    }
    let e = make(&l.path(), Some("INC-nope")).unwrap_err();
    assert!(
        e.to_string()
            .contains(&format!("incidents in this log: {A}, {B}")),
        "{e}"
    );
    let r = make(&l.path(), Some(B)).unwrap();
    assert_eq!(r.header.service.as_deref(), Some("orders"));
    assert_eq!(r.header.outcome, None);
    assert_eq!(r.timeline.last().map(|s| s.duration_seconds), Some(None));
    let md = render(&r, Format::Md);
    assert!(md.contains("no `finished` record"), "{md}");
}

#[test]
fn a_tampered_log_still_renders_but_says_where_the_chain_broke() {
    let mut l = Log::new();
    resolved_run(&mut l);
    let path = l.path();
    let text = std::fs::read_to_string(&path).unwrap();
    let forged = text.replacen("\"actor\":\"dana\"", "\"actor\":\"mallory\"", 1);
    assert_ne!(text, forged);
    std::fs::write(&path, forged).unwrap();
    let r = make(&path, None).unwrap();
    let b = r.integrity.broken.clone().unwrap();
    assert_eq!((b.seq, b.kind.as_str()), (7, "hash mismatch"));
    assert!(!r.integrity.verified);
    assert_eq!(r.integrity.verified_records, 7);
    assert!(r.gates.results.iter().all(|g| g.at.verified));
    assert_eq!(r.approvals.decisions[0].actor, "mallory");
    assert!(!r.approvals.decisions[0].at.verified);
    assert!(r.outcome.as_ref().is_some_and(|o| !o.at.verified));
    let md = render(&r, Format::Md);
    let second = md.lines().nth(2).unwrap_or_default();
    assert!(
        second.starts_with("> **⚠ AUDIT CHAIN BROKEN at seq 7 (line 8): hash mismatch.**"),
        "{md}"
    );
    assert!(md.contains(
        "| mallory | approve | looks \\| right | 2026-01-01T10:00:07.000Z | 7 ⚠ unverified |"
    ));
    let mut out = Vec::new();
    let mut err = Vec::new();
    assert_eq!(
        run(&path, None, Format::Json, &mut out, &mut err).unwrap(),
        EXIT_OK
    );
    assert!(String::from_utf8_lossy(&err).contains("broken at seq 7"));
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["integrity"]["broken"]["seq"], 7);
    assert_eq!(v["approvals"]["decisions"][0]["verified"], false);
}

#[test]
fn lines_that_are_not_records_are_counted_and_the_rest_still_read() {
    let mut l = Log::new();
    resolved_run(&mut l);
    let path = l.path();
    let mut text = std::fs::read_to_string(&path).unwrap();
    let cut = text.find("\"type\":\"gate_result\"").unwrap();
    let line_start = text[..cut].rfind('\n').map_or(0, |i| i + 1);
    text.insert_str(line_start, "garbage\n");
    text.push_str("{\"seq\":99,\"ts\":");
    std::fs::write(&path, text).unwrap();
    let r = make(&path, None).unwrap();
    assert_eq!(r.integrity.unreadable_lines.len(), 2);
    assert_eq!(r.integrity.broken.as_ref().map(|b| b.line), Some(5));
    assert_eq!(r.header.outcome.as_deref(), Some("resolved"));
    let md = render(&r, Format::Md);
    assert!(md.contains("2 line(s) of the log are not records"), "{md}");
}

#[test]
fn crash_recovery_records_get_their_own_section() {
    let mut l = Log::new();
    other_incident(&mut l);
    l.ev(
        &t(300),
        crate::crash_recovery::ACTOR,
        "",
        EventKind::Note {
            message: "recovery: the last record (seq 9) was torn by a crash".into(),
        },
    )
    .ev(
        &t(300),
        crate::crash_recovery::ACTOR,
        B,
        EventKind::StateChanged {
            from: State::Analyzing,
            to: State::Escalated,
        },
    )
    .ev(
        &t(300),
        crate::crash_recovery::ACTOR,
        B,
        EventKind::Finished {
            outcome: Outcome::Escalated,
            state: State::Escalated,
            reason: "recovered after a crash in ANALYZING".into(),
            cause: None,
        },
    );
    let r = make(&l.path(), Some(B)).unwrap();
    let kinds: Vec<(&str, bool)> = r
        .recovery
        .iter()
        .map(|e| (e.kind.as_str(), e.log_level))
        .collect();
    assert_eq!(
        kinds,
        [
            ("note", true),
            ("state_changed", false),
            ("finished", false)
        ]
    );
    assert_eq!(r.recovery[1].summary, "ANALYZING → ESCALATED");
    assert_eq!(r.header.outcome.as_deref(), Some("escalated"));
    assert_eq!(
        r.timeline.last().map(|s| s.at.actor.as_str()),
        Some("ccp-recover")
    );
    let md = render(&r, Format::Md);
    assert!(
        md.contains("`note` (whole log): recovery: the last record (seq 9) was torn"),
        "{md}"
    );
}

#[test]
fn unreadable_or_empty_logs_are_errors_that_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.jsonl");
    let mut out = Vec::new();
    let mut err = Vec::new();
    assert_eq!(
        run(&missing, None, Format::Md, &mut out, &mut err).unwrap(),
        EXIT_BAD_INPUT
    );
    let msg = String::from_utf8_lossy(&err);
    assert!(
        msg.contains("cannot read audit log") && msg.contains("nope.jsonl"),
        "{msg}"
    );
    assert!(out.is_empty());
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    assert!(matches!(
        make(&empty, None),
        Err(ReportError::NoIncidents { unreadable: 0, .. })
    ));
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello\nworld\n").unwrap();
    let e = make(&text, None).unwrap_err();
    assert!(
        e.to_string().contains("2 lines are not audit records"),
        "{e}"
    );
}

#[test]
fn numbers_and_durations_read_naturally() {
    assert_eq!(num(3.0), "3");
    assert_eq!(num(0.625), "0.625");
    assert_eq!(num(0.6250000000000001), "0.625");
    assert_eq!(num(2.18e-17), "2.18e-17");
    assert_eq!(num(0.0), "0");
    assert_eq!(duration(0.5), "500 ms");
    assert_eq!(duration(5.5), "5.5 s");
    assert_eq!(duration(106.5), "1m 46.5s");
    assert_eq!(duration(3725.0), "1h 2m 5s");
}

#[test]
fn the_header_names_the_root_cause_not_the_service_that_alerted() {
    let mut l = Log::new();
    l.ev(
        &t(0),
        "ccp",
        B,
        EventKind::IncidentOpened {
            service: "orders".into(),
            severity: Severity::High,
            title: "B".into(),
            error_rate: 0.05,
        },
    )
    .ev(
        &t(5),
        "ccp",
        B,
        EventKind::RcaRanked {
            candidates: vec![ccp_core::domain::RcaCandidate {
                service: "postgres_primary".into(),
                commit: None,
                confidence: 0.8,
                evidence: Vec::new(),
            }],
        },
    );
    let r = make(&l.path(), Some(B)).unwrap();
    assert_eq!(r.header.service.as_deref(), Some("postgres_primary"));
}
