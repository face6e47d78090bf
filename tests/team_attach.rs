//! Three cockpits attached to one `ccp serve` in tmux, as an on-call team would use them:
//! alice approves in hers, bob's shows it with her name, bob gives the second approval the
//! two-person rule needs, and vera's read-only cockpit refuses the approve key. Two incidents
//! run at once (demo/team-fleet.yaml), and picking one in the Incidents pane switches the panes.
//!
//! Needs python3 (the fleet runs the demo's real Python code) and tmux (tests/run.sh installs it).

mod common;

use common::tmux::Pane;
use sha2::{Digest, Sha256};
use std::process::Stdio;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(120);

fn sha(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn cockpit(name: &str, addr: &str, token: &str, extra: &str) -> Pane {
    let cmd = format!(
        "cd {root} && CCP_TOKEN={token} {bin} attach http://{addr} {extra}; echo EXIT=$?; sleep 120",
        root = env!("CARGO_MANIFEST_DIR"),
        bin = env!("CARGO_BIN_EXE_ccp"),
    );
    Pane::spawn(name, 140, 40, &cmd)
}

#[test]
fn attached_cockpits_share_one_desk_with_identities() {
    if !common::python_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let config = format!(
        "environment: production\nmetrics:\n  fleet: \"{fleet}\"\nauth:\n  two_person_rule: all\n  operators:\n    - {{ name: alice, roles: [approver], token_sha256: \"{a}\" }}\n    - {{ name: bob, roles: [approver], token_sha256: \"{b}\" }}\n    - {{ name: vera, roles: [viewer], token_sha256: \"{v}\" }}\n",
        fleet = common::demo_dir().join("team-fleet.yaml").display(),
        a = sha("alice-token-e2e"),
        b = sha("bob-token-e2e"),
        v = sha("vera-token-e2e"),
    );
    let served = common::serve::Served::start(dir.path(), &config, "fast", Stdio::null());
    let a = cockpit("attach-a", &served.addr, "alice-token-e2e", "");
    let b = cockpit("attach-b", &served.addr, "bob-token-e2e", "");
    let c = cockpit("attach-c", &served.addr, "vera-token-e2e", "--read-only");
    let bad = cockpit("attach-bad", &served.addr, "nope", "");

    // A wrong token is refused at start, with the reason, and exit 2.
    let screen = bad.wait_for("EXIT=", WAIT);
    assert!(
        screen.contains("not authenticated") && screen.contains("EXIT=2"),
        "{screen}"
    );

    // Everyone sees the same approval request; with two incidents open, both are listed.
    let screen = a.wait_for("Approval required", WAIT);
    assert!(
        screen.contains(&format!("alice@{}", served.addr)),
        "{screen}"
    );
    assert!(screen.contains("0 of 2 approvals"), "{screen}");
    b.wait_for("Approval required", WAIT);
    let screen = c.wait_for("READ-ONLY", WAIT);
    assert!(screen.contains("vera@"), "{screen}");
    let screen = c.wait_for("read-only: watching", WAIT);
    assert!(
        !screen.contains("[a] approve") && !screen.contains("a approve"),
        "a read-only cockpit offers no approve key:\n{screen}"
    );
    let a_screen = a.wait_for("payment-service", WAIT);
    assert!(
        a_screen.contains("catalog-service"),
        "both incidents listed:\n{a_screen}"
    );

    // alice approves; bob's cockpit shows it with her name.
    a.keys(&["a"]);
    let screen = b.wait_for("1 of 2 approvals (by alice)", Duration::from_secs(20));
    assert!(screen.contains("bob@"), "{screen}");
    c.wait_for("approved by alice", Duration::from_secs(20));

    // vera's cockpit is read-only: the approve key is refused there and nothing is sent.
    c.keys(&["a"]);
    c.wait_for("read-only cockpit", Duration::from_secs(10));

    // alice cannot be the second approver of her own request.
    a.keys(&["a"]);
    a.wait_for("already approved", Duration::from_secs(20));

    // bob gives the second approval: the rollout starts, every cockpit sees it.
    b.keys(&["a"]);
    c.wait_for("% of traffic on the", WAIT);
    a.wait_for("% of traffic on the", WAIT);

    // The audit log names the two identities, never a token.
    let audit = std::fs::read_to_string(dir.path().join("state/audit.jsonl")).expect("audit log");
    let actors: Vec<String> = audit
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|r| {
            matches!(
                r["type"].as_str().or(r["kind"].as_str()),
                Some("approval") | Some("approval_counted")
            )
        })
        .filter_map(|r| r["actor"].as_str().map(str::to_string))
        .collect();
    assert!(actors.contains(&"alice".to_string()), "{actors:?}");
    assert!(actors.contains(&"bob".to_string()), "{actors:?}");
    assert!(
        !audit.contains("token-e2e"),
        "a token reached the audit log"
    );

    // Quitting an attached cockpit only detaches: the operations go on at the server.
    c.keys(&["q"]);
    c.wait_for("EXIT=0", Duration::from_secs(20));
    a.wait_for("CANARY_50", WAIT);
}

/// A free loopback port (bound, then released for the server to take).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[test]
fn a_server_killed_mid_rollout_recovers_and_attached_cockpits_reconnect() {
    if !common::python_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let config = format!(
        "environment: production\nauth:\n  two_person_rule: none\n  operators:\n    - {{ name: alice, roles: [approver], token_sha256: \"{a}\" }}\n",
        a = sha("alice-token-e2e"),
    );
    let listen = format!("127.0.0.1:{}", free_port());
    let mut served =
        common::serve::Served::start_at(dir.path(), &config, "realtime", Stdio::null(), &listen);
    let a = cockpit("restart-a", &listen, "alice-token-e2e", "");
    a.wait_for("Approval required", WAIT);
    a.keys(&["a"]);
    a.wait_for("% of traffic on the", WAIT);

    // The server dies mid-rollout: the cockpit says its picture may be stale.
    let _ = served.child.kill();
    let _ = served.child.wait();
    a.wait_for("reconnecting", Duration::from_secs(20));

    // Restarted on the same port: crash recovery rolls the canary back, the cockpit reconnects,
    // reloads, shows how the interrupted incident ended, and follows the new one.
    let _again =
        common::serve::Served::start_at(dir.path(), &config, "realtime", Stdio::null(), &listen);
    let screen = a.wait_for("ROLLED_BACK", WAIT);
    assert!(!screen.contains("reconnecting"), "{screen}");
    let audit = std::fs::read_to_string(dir.path().join("state/audit.jsonl")).expect("audit");
    assert!(
        audit.contains("recovered after a crash"),
        "crash recovery ran"
    );
    a.wait_for("Approval required", WAIT);
}
