//! The state machine's table: every legal transition is accepted, everything else refused with the
//! state unchanged, and the Contract's spelling of every state round-trips through JSON.

use ccp_core::state::{State, StateMachine, ALL_STATES};
use State::*;

/// The Contract's transitions, written out independently of `State::successors`.
const LEGAL: &[(State, State)] = &[
    (Detected, Analyzing),
    (Detected, Escalated),
    (Analyzing, RcaComplete),
    (Analyzing, Escalated),
    (RcaComplete, CodeLocated),
    (RcaComplete, Escalated),
    (CodeLocated, FixPlanned),
    (CodeLocated, Escalated),
    (FixPlanned, PatchReady),
    (FixPlanned, Escalated),
    (PatchReady, GatesPassed),
    (PatchReady, GatesFailed),
    (PatchReady, Escalated),
    (GatesPassed, PausedForHumanReview),
    (GatesPassed, Locked),
    (GatesPassed, Escalated),
    (PausedForHumanReview, Locked),
    (PausedForHumanReview, Rejected),
    (PausedForHumanReview, Escalated),
    (Locked, Canary10),
    (Locked, FullDeploy),
    (Locked, PausedForHumanReview),
    (Locked, Escalated),
    (Canary10, HealthCheck),
    (Canary10, Rollback),
    (Canary10, Escalated),
    (HealthCheck, Canary50),
    (HealthCheck, FullDeploy),
    (HealthCheck, Rollback),
    (HealthCheck, Escalated),
    (Canary50, HealthCheck),
    (Canary50, Rollback),
    (Canary50, Escalated),
    (FullDeploy, Verification),
    (FullDeploy, Rollback),
    (FullDeploy, Escalated),
    (Verification, Success),
    (Verification, Rollback),
    (Verification, Escalated),
    (Success, Closed),
    (Rollback, RolledBack),
    (Rollback, Escalated),
];

/// A machine forced into `from` by walking a legal path to it.
fn machine_at(from: State) -> StateMachine {
    let mut m = StateMachine::new();
    let mut path = vec![from];
    let mut cur = from;
    while cur != Detected {
        let prev = LEGAL
            .iter()
            .find(|(a, b)| *b == cur && *a != cur && !path.contains(a))
            .map(|(a, _)| *a)
            .unwrap_or_else(|| panic!("no legal path to {cur}"));
        path.push(prev);
        cur = prev;
    }
    path.reverse();
    for s in &path[1..] {
        m.transition(*s)
            .unwrap_or_else(|e| panic!("walking to {from}: {e}"));
    }
    assert_eq!(m.current(), from);
    m
}

#[test]
fn every_pair_is_legal_exactly_when_listed() {
    let mut legal_seen = 0;
    for from in ALL_STATES {
        for to in ALL_STATES {
            let listed = LEGAL.contains(&(from, to));
            assert_eq!(from.can_go_to(to), listed, "{from} → {to}");
            if from == Detected || LEGAL.iter().any(|(_, b)| *b == from) {
                let mut m = machine_at(from);
                let before = m.history().len();
                match m.transition(to) {
                    Ok(prev) => {
                        assert!(listed, "{from} → {to} was applied but is illegal");
                        assert_eq!(prev, from);
                        assert_eq!(m.current(), to);
                        legal_seen += 1;
                    }
                    Err(e) => {
                        assert!(!listed, "{from} → {to} refused but legal");
                        assert_eq!(m.current(), from, "a refused move leaves the state alone");
                        assert_eq!(m.history().len(), before);
                        assert_eq!((e.from, e.to), (from, to));
                    }
                }
            }
        }
    }
    assert_eq!(legal_seen, LEGAL.len());
}

#[test]
fn sample_of_illegal_moves_is_explained() {
    for (from, to) in [
        (Detected, Canary10),
        (GatesFailed, GatesPassed),
        (PatchReady, Locked),
        (Canary10, Canary50),
        (Closed, Detected),
        (Rejected, Locked),
        (Verification, Closed),
    ] {
        assert!(!from.can_go_to(to), "{from} → {to}");
    }
    let mut m = StateMachine::new();
    let e = m
        .transition(FullDeploy)
        .expect_err("cannot deploy from DETECTED");
    let msg = e.to_string();
    assert!(
        msg.contains("DETECTED") && msg.contains("FULL_DEPLOY") && msg.contains("ANALYZING"),
        "{msg}"
    );
    let mut closed = machine_at(Closed);
    let e = closed.transition(Analyzing).expect_err("terminal");
    assert!(e.to_string().contains("terminal"), "{e}");
}

#[test]
fn terminal_states_have_no_exit_and_contract_spelling_roundtrips() {
    for s in ALL_STATES {
        assert_eq!(s.is_terminal(), s.successors().is_empty(), "{s}");
        let json = serde_json::to_string(&s).expect("serialize");
        assert_eq!(json, format!("\"{}\"", s.as_str()));
        let back: State = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, s);
    }
    assert_eq!(
        serde_json::to_string(&Canary10).expect("s"),
        "\"CANARY_10\""
    );
    assert_eq!(
        serde_json::to_string(&PausedForHumanReview).expect("s"),
        "\"PAUSED_FOR_HUMAN_REVIEW\""
    );
}
