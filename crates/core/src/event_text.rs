//! One readable line per event, for the headless text mode and logs. Kept separate from the JSON
//! path so wording can improve without touching the Contract.

use crate::events::{Event, EventKind};

/// `HH:MM:SS.mmm` of an RFC 3339 timestamp (the date adds nothing during one incident).
fn clock_part(ts: &str) -> &str {
    ts.get(11..23).unwrap_or(ts)
}

/// A human line for an event; `None` for events that are noise in text mode.
pub fn describe(ev: &Event) -> Option<String> {
    Some(format!("{}  {}", clock_part(&ev.ts), body(&ev.kind)))
}

/// Lines of a deploy command's output shown under its `deploy_step` line (the event keeps more).
const DEPLOY_OUTPUT_LINES: usize = 20;

/// The event in words: a 10-column kind label, then the detail (possibly over several lines).
/// Shared by the text mode and the cockpit's timeline so both say the same thing.
pub fn body(kind: &EventKind) -> String {
    match kind {
        EventKind::AlertReceived { alert } => format!(
            "alert     {} on {} ({} {:.4} > {:.4}, from {})",
            alert.name,
            alert.service,
            alert.severity.as_str(),
            alert.value,
            alert.threshold,
            alert.source
        ),
        EventKind::AlertResolved { alert } => format!(
            "resolved  {} on {} stopped firing (from {})",
            alert.name, alert.service, alert.source
        ),
        EventKind::IncidentOpened { title, .. } => format!("incident  opened: {title}"),
        EventKind::Topology { services, .. } => {
            let sick: Vec<&str> = services
                .iter()
                .filter(|s| s.unhealthy)
                .map(|s| s.name.as_str())
                .collect();
            format!(
                "fleet     {} services, unhealthy: {}",
                services.len(),
                if sick.is_empty() { "none".to_string() } else { sick.join(", ") }
            )
        }
        EventKind::StateChanged { from, to } => format!("state     {from} → {to}"),
        EventKind::TransitionRefused { reason, .. } => format!("REFUSED   {reason}"),
        EventKind::RcaRanked { candidates } => {
            let mut s = String::from("rca       candidates:");
            for c in candidates.iter().take(3) {
                s.push_str(&format!(
                    "\n            {:>3.0}%  {}{}  — {}",
                    c.confidence * 100.0,
                    c.service,
                    c.commit.as_deref().map(|x| format!(" @ {x}")).unwrap_or_default(),
                    c.evidence.first().cloned().unwrap_or_default()
                ));
            }
            s
        }
        EventKind::Localized {
            file,
            line,
            function,
            exception,
            message,
            blame_commit,
            blame_author,
            ..
        } => format!(
            "localized {file}:{line} in {function}(): {exception}: {message}{}",
            match (blame_commit, blame_author) {
                (Some(c), Some(a)) => format!(" (last changed in {c} by {a})"),
                _ => String::new(),
            }
        ),
        EventKind::FixProposed {
            template,
            file,
            lines_added,
            lines_removed,
            diff,
            ..
        } => format!(
            "fix       {template} on {file} (+{lines_added} −{lines_removed})\n{}",
            diff.lines()
                .map(|l| format!("            {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        ),
        EventKind::GateResult(g) => format!(
            "gate      {:<16} {}  {}",
            g.gate,
            if g.passed { "PASS" } else { "FAIL" },
            g.reason
        ),
        EventKind::FixCommitted {
            branch,
            commit,
            reused,
            pushed_to,
            push_error,
            ..
        } => format!(
            "commit    {} on {branch}{}{}",
            commit.get(..7).unwrap_or(commit),
            if *reused { ", reused from an earlier run" } else { "" },
            match (pushed_to, push_error) {
                (Some(r), _) => format!(", pushed to {r}"),
                (None, Some(e)) => format!(", NOT pushed: {e}"),
                (None, None) => String::new(),
            }
        ),
        EventKind::Decision { justification } => {
            format!("decision  {}: {} — {}", justification.decision, justification.outcome, justification.reasoning)
        }
        EventKind::AwaitingApproval {
            reasons,
            risk_score,
            strategy,
            diff_summary,
            gates_summary,
            ..
        } => format!(
            "APPROVAL  needed (strategy score {risk_score:.2} → {strategy}; {diff_summary}; {gates_summary}):\n{}",
            reasons
                .iter()
                .map(|r| format!("            - {r}"))
                .collect::<Vec<_>>()
                .join("\n")
        ),
        EventKind::ApprovalCounted {
            actor,
            comment,
            given,
            required,
        } => format!(
            "approval  {given} of {required} approvals: approved by {actor}{}; waiting for another approver",
            if comment.is_empty() { String::new() } else { format!(" ({comment})") }
        ),
        EventKind::Approval {
            decision,
            actor,
            comment,
        } => format!(
            "approval  {decision} by {actor}{}",
            if comment.is_empty() { String::new() } else { format!(": {comment}") }
        ),
        EventKind::LockAcquired {
            resource,
            fence,
            waited_ms,
            ..
        } => format!("lock      acquired {resource} (fence {fence}, waited {waited_ms} ms)"),
        EventKind::LockReleased { resource, .. } => format!("lock      released {resource}"),
        EventKind::Deployed { service, percent, fence } => {
            format!("deploy    {service}: {percent}% of traffic on the patched version (fence {fence})")
        }
        EventKind::DeployStep {
            action,
            service,
            percent,
            fence,
            ok,
            exit_code,
            duration_ms,
            output,
            error,
            ..
        } => {
            let ended = match (ok, exit_code, error) {
                (true, _, _) => "ok".to_string(),
                (false, _, Some(e)) => format!("FAILED: {}", e.lines().next().unwrap_or_default()),
                (false, Some(c), None) => format!("FAILED with exit code {c}"),
                (false, None, None) => "FAILED".to_string(),
            };
            let code = exit_code.map(|c| format!("exit {c}, ")).unwrap_or_default();
            let mut s = format!(
                "{:<10}{action} {percent}% on {service}: {ended} ({code}{:.1} s, fence {fence})",
                if *ok { "deploy" } else { "DEPLOY" },
                *duration_ms as f64 / 1000.0
            );
            let lines: Vec<&str> = output.lines().collect();
            for l in &lines[lines.len().saturating_sub(DEPLOY_OUTPUT_LINES)..] {
                s.push_str(&format!("\n            │ {l}"));
            }
            s
        }
        EventKind::CanaryMetrics {
            step,
            baseline,
            canary,
            ..
        } => format!(
            "metrics   {step}: errors baseline {:.2}% vs new {:.2}%, p99 {:.0} vs {:.0} ms",
            baseline.error_rate * 100.0,
            canary.error_rate * 100.0,
            baseline.latency_p99_ms,
            canary.latency_p99_ms
        ),
        EventKind::Verification {
            phase,
            verdict,
            score,
            reason,
            ..
        } => format!("verdict   {phase}: {verdict} (score {score:.0}) — {reason}"),
        EventKind::RolledBack { service, reason } => format!("ROLLBACK  {service}: {reason}"),
        EventKind::PipelinePaused { by } => format!("paused    by {by}"),
        EventKind::PipelineResumed { by } => format!("resumed   by {by}"),
        EventKind::Note { message } => format!("note      {message}"),
        EventKind::RolloutHeld { message, .. } => format!("hold      {message}"),
        EventKind::NotificationSent {
            channel,
            notice,
            ok,
            attempts,
            detail,
        } => format!(
            "notify    {channel} {notice}: {} after {attempts} attempt(s) — {detail}",
            if *ok { "sent" } else { "NOT SENT" }
        ),
        EventKind::Finished {
            outcome,
            state,
            reason,
            ..
        } => {
            format!("finished  {} in {state}: {reason}", outcome.as_str())
        }
    }
}
