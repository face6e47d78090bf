//! The markdown rendering, written to be read in a post-incident review: the chain's verdict
//! first (loudly when broken), then the facts, then every decision with its justification.
//! Entries the chain does not vouch for carry a ⚠ so they cannot be mistaken for trusted ones.

use super::model::*;
use ccp_core::stats::judge::MetricResult;
use std::fmt::Write;

/// Marker put on entries read after a chain break.
const UNVERIFIED: &str = "⚠ unverified";

/// The whole report.
pub(super) fn render(r: &Report) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# Incident report: {}\n", r.header.incident);
    integrity(&mut o, &r.integrity, &r.audit_file);
    header(&mut o, r);
    timeline(&mut o, &r.timeline);
    diagnosis(&mut o, &r.diagnosis);
    decisions(&mut o, &r.decisions);
    gates(&mut o, &r.gates);
    approvals(&mut o, &r.approvals);
    verifications(&mut o, &r.verifications, &r.canary_windows);
    deployments(&mut o, &r.deployments);
    locks(&mut o, &r.locks);
    rollbacks(&mut o, &r.rollbacks);
    notifications(&mut o, &r.notifications);
    recovery(&mut o, &r.recovery);
    notes(&mut o, &r.notes);
    outcome(&mut o, r.outcome.as_ref());
    unread(&mut o, &r.unread);
    o
}

/// A table cell: no pipes or newlines, so the table stays a table.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// A list item's text: a table-safe cell whose first character cannot start a quote, heading
/// or nested list (constraints like `> 0.7 → MANUAL_REVIEW` would otherwise become a quote).
fn item(s: &str) -> String {
    let c = cell(s);
    match c.chars().next() {
        Some('>' | '#' | '-' | '+' | '*' | '|') => format!("\\{c}"),
        _ => c,
    }
}

/// A number as a person reads it: integers plain, small p-values in scientific notation,
/// others with up to four decimals.
pub(super) fn num(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return format!("{x:.0}");
    }
    if x != 0.0 && x.abs() < 1e-3 {
        return format!("{x:.2e}");
    }
    let s = format!("{x:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn opt_num(x: Option<f64>) -> String {
    x.map(num).unwrap_or_else(|| "—".into())
}

/// A JSON value inline: strings bare, everything else compact JSON.
fn value(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.as_f64().map(num).unwrap_or_else(|| n.to_string()),
        other => other.to_string(),
    }
}

/// Seconds as `1h 2m 3s`, `2m 5.5s`, `12.5 s` or `500 ms`.
pub(super) fn duration(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return num(secs) + " s";
    }
    if secs < 1.0 {
        return format!("{:.0} ms", secs * 1000.0);
    }
    let whole = secs.floor() as u64;
    let frac = secs - whole as f64;
    let (h, m, s) = (whole / 3600, (whole % 3600) / 60, whole % 60);
    let s = num(s as f64 + frac);
    match (h, m) {
        (0, 0) => format!("{s} s"),
        (0, m) => format!("{m}m {s}s"),
        (h, m) => format!("{h}h {m}m {s}s"),
    }
}

/// The seq cell of a table row, with the unverified marker when it applies.
fn seq(at: &At) -> String {
    if at.verified {
        at.seq.to_string()
    } else {
        format!("{} {UNVERIFIED}", at.seq)
    }
}

/// ` (⚠ unverified)` after a heading or line, or nothing.
fn mark(at: &At) -> &'static str {
    if at.verified {
        ""
    } else {
        " (⚠ unverified)"
    }
}

fn none(o: &mut String) {
    let _ = writeln!(o, "_none_\n");
}

fn integrity(o: &mut String, i: &Integrity, file: &str) {
    if let Some(b) = &i.broken {
        let _ = writeln!(
            o,
            "> **⚠ AUDIT CHAIN BROKEN at seq {} (line {}): {}.**",
            b.seq, b.line, b.kind
        );
        let _ = writeln!(o, "> {}", cell(&b.message));
        let _ = writeln!(
            o,
            "> Only the first {} records verified. Everything from seq {} on is **UNVERIFIED**: it is shown as read and marked {UNVERIFIED}; \
             check the original log with `ccp audit verify {file}` before relying on it.\n",
            i.verified_records, b.seq
        );
    } else if i.unreadable_lines.is_empty() {
        let _ = writeln!(
            o,
            "Audit chain: **verified** ({} records, every hash checked).\n",
            i.records
        );
    }
    if !i.unreadable_lines.is_empty() {
        let _ = writeln!(
            o,
            "> **⚠ {} line(s) of the log are not records and were skipped:**",
            i.unreadable_lines.len()
        );
        for u in &i.unreadable_lines {
            let _ = writeln!(o, "> - line {}: {}", u.line, cell(&u.detail));
        }
        o.push('\n');
    }
}

fn header(o: &mut String, r: &Report) {
    let h = &r.header;
    let dash = |s: &Option<String>| s.clone().unwrap_or_else(|| "—".into());
    let _ = writeln!(o, "| | |\n|---|---|");
    let rows = [
        ("Incident", h.incident.clone()),
        ("Service", dash(&h.service)),
        ("Severity", dash(&h.severity)),
        ("Title", dash(&h.title)),
        ("Opened", dash(&h.opened_at)),
        ("Closed", dash(&h.closed_at)),
        (
            "Outcome",
            h.outcome
                .as_ref()
                .map(|x| format!("**{x}**"))
                .unwrap_or_else(|| "— (not finished in this log)".into()),
        ),
        ("Final state", dash(&h.final_state)),
        (
            "MTTR",
            h.mttr_seconds
                .map(|s| format!("{} (opened → finished, log time)", duration(s)))
                .unwrap_or_else(|| "—".into()),
        ),
        ("Audit log", format!("`{}`", r.audit_file)),
    ];
    for (k, v) in rows {
        let _ = writeln!(o, "| {k} | {} |", cell(&v));
    }
    o.push('\n');
}

fn timeline(o: &mut String, stages: &[Stage]) {
    let _ = writeln!(o, "## Timeline\n");
    if stages.is_empty() {
        return none(o);
    }
    let _ = writeln!(
        o,
        "| # | State | Entered | Duration | By | seq |\n|---|---|---|---|---|---|"
    );
    for (i, s) in stages.iter().enumerate() {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} |",
            i + 1,
            s.state,
            s.at.ts,
            s.duration_seconds
                .map(duration)
                .unwrap_or_else(|| "—".into()),
            cell(&s.at.actor),
            seq(&s.at)
        );
    }
    o.push('\n');
}

fn diagnosis(o: &mut String, d: &Diagnosis) {
    let _ = writeln!(o, "## Diagnosis and fix\n");
    if !d.alerts.is_empty() {
        let _ = writeln!(o, "**Alerts**\n");
        for a in &d.alerts {
            let _ = writeln!(
                o,
                "- {} {} on {} ({}): value {} vs threshold {}, at {} (seq {}){}",
                if a.resolved { "resolved:" } else { "received:" },
                a.name,
                a.service,
                a.severity,
                num(a.value),
                num(a.threshold),
                a.at.ts,
                a.at.seq,
                mark(&a.at)
            );
        }
        o.push('\n');
    }
    if !d.rca_candidates.is_empty() {
        let _ = writeln!(o, "**Root-cause candidates** (best first)\n");
        for (i, c) in d.rca_candidates.iter().enumerate() {
            let _ = writeln!(
                o,
                "{}. {}{} — confidence {}",
                i + 1,
                c.service,
                c.commit
                    .as_deref()
                    .map(|x| format!(" @ {x}"))
                    .unwrap_or_default(),
                num(c.confidence)
            );
            for e in &c.evidence {
                let _ = writeln!(o, "   - {}", item(e));
            }
        }
        o.push('\n');
    }
    if let Some(l) = &d.localized {
        let _ = writeln!(
            o,
            "**Located:** `{}:{}` in `{}` — {}{}{}\n",
            l.file,
            l.line,
            l.function,
            cell(&l.exception),
            match (&l.blame_commit, &l.blame_author) {
                (Some(c), Some(a)) => format!(" (last changed in {c} by {a})"),
                (Some(c), None) => format!(" (last changed in {c})"),
                _ => String::new(),
            },
            mark(&l.at)
        );
    }
    if let Some(f) = &d.fix {
        let _ = writeln!(
            o,
            "**Fix:** template `{}` on `{}:{}` (+{} −{}): {}{}\n",
            f.template,
            f.file,
            f.line,
            f.lines_added,
            f.lines_removed,
            cell(&f.description),
            mark(&f.at)
        );
    }
    if let Some(c) = &d.commit {
        let _ = writeln!(
            o,
            "**Committed:** {} on branch `{}`{}{}{}\n",
            c.commit,
            c.branch,
            c.pushed_to
                .as_deref()
                .map(|p| format!(", pushed to {p}"))
                .unwrap_or_default(),
            c.push_error
                .as_deref()
                .map(|e| format!(", push failed: {}", cell(e)))
                .unwrap_or_default(),
            mark(&c.at)
        );
    }
    if d.alerts.is_empty()
        && d.rca_candidates.is_empty()
        && d.localized.is_none()
        && d.fix.is_none()
        && d.commit.is_none()
    {
        none(o);
    }
}

fn decisions(o: &mut String, ds: &[DecisionEntry]) {
    let _ = writeln!(o, "## Decisions ({})\n", ds.len());
    if ds.is_empty() {
        return none(o);
    }
    for (i, d) in ds.iter().enumerate() {
        let j = &d.justification;
        let _ = writeln!(
            o,
            "### {}. {} → {}{}\n",
            i + 1,
            j.decision,
            cell(&j.outcome),
            mark(&d.at)
        );
        let _ = writeln!(
            o,
            "seq {} · {} · by {} · confidence **{}**\n",
            d.at.seq,
            d.at.ts,
            d.at.actor,
            num(j.confidence)
        );
        let _ = writeln!(
            o,
            "**Reasoning:** {}\n",
            if j.reasoning.is_empty() {
                "—".to_string()
            } else {
                cell(&j.reasoning)
            }
        );
        if !j.inputs.is_empty() {
            let _ = writeln!(o, "**Inputs**\n\n| Input | Value |\n|---|---|");
            for (k, v) in &j.inputs {
                let _ = writeln!(o, "| {} | {} |", cell(k), cell(&value(v)));
            }
            o.push('\n');
        }
        if !j.factors.is_empty() {
            let _ = writeln!(
                o,
                "**Weighted factors**\n\n| Factor | Value | Weight | Note |\n|---|---|---|---|"
            );
            for f in &j.factors {
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} |",
                    cell(&f.name),
                    num(f.value),
                    num(f.weight),
                    cell(&f.note)
                );
            }
            o.push('\n');
        }
        list(o, "Constraints", &j.constraints);
        list(o, "Alternatives considered", &j.alternatives);
    }
}

fn list(o: &mut String, title: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(o, "**{title}**\n");
    for c in items {
        let _ = writeln!(o, "- {}", item(c));
    }
    o.push('\n');
}

fn gates(o: &mut String, g: &Gates) {
    let _ = writeln!(
        o,
        "## Safety gates ({} evaluated: {} passed, {} failed)\n",
        g.total, g.passed, g.failed
    );
    if g.results.is_empty() {
        return none(o);
    }
    let _ = writeln!(
        o,
        "| Gate | Result | Value | Threshold | Reason | seq |\n|---|---|---|---|---|---|"
    );
    for e in &g.results {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} |",
            cell(&e.gate),
            if e.passed { "passed" } else { "**FAILED**" },
            cell(&value(&e.value)),
            cell(&value(&e.threshold)),
            cell(&e.reason),
            seq(&e.at)
        );
    }
    o.push('\n');
}

fn approvals(o: &mut String, a: &Approvals) {
    let _ = writeln!(o, "## Approvals\n");
    if a.requests.is_empty() && a.decisions.is_empty() {
        let _ = writeln!(o, "_No human review was asked for._\n");
        return;
    }
    for q in &a.requests {
        let _ = writeln!(
            o,
            "Review asked at {} (seq {}){}: risk {}, strategy {}, {}; {}",
            q.at.ts,
            q.at.seq,
            mark(&q.at),
            num(q.risk_score),
            q.strategy,
            cell(&q.gates_summary),
            cell(&q.diff_summary)
        );
        for reason in &q.reasons {
            let _ = writeln!(o, "- {}", item(reason));
        }
        o.push('\n');
    }
    if a.decisions.is_empty() {
        let _ = writeln!(o, "_No answer in the log._\n");
        return;
    }
    let _ = writeln!(
        o,
        "| Who | Decision | Comment | When | seq |\n|---|---|---|---|---|"
    );
    for d in &a.decisions {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} |",
            cell(&d.actor),
            cell(&d.decision),
            cell(&d.comment),
            d.at.ts,
            seq(&d.at)
        );
    }
    o.push('\n');
}

fn verifications(o: &mut String, vs: &[VerificationEntry], windows: &[CanaryWindow]) {
    let _ = writeln!(o, "## Canary and verification\n");
    if vs.is_empty() && windows.is_empty() {
        return none(o);
    }
    if !windows.is_empty() {
        let _ = writeln!(
            o,
            "| Window | Traffic | Baseline err | Canary err | Baseline p99 ms | Canary p99 ms | Requests (b/c) | seq |\n|---|---|---|---|---|---|---|---|"
        );
        for w in windows {
            let _ = writeln!(
                o,
                "| {} | {}% | {} | {} | {} | {} | {}/{} | {} |",
                w.step,
                w.percent,
                pct(w.baseline.error_rate),
                pct(w.canary.error_rate),
                num(w.baseline.latency_p99_ms),
                num(w.canary.latency_p99_ms),
                w.baseline.requests,
                w.canary.requests,
                seq(&w.at)
            );
        }
        o.push('\n');
    }
    for v in vs {
        let _ = writeln!(
            o,
            "### {}: **{}** (score {}){}\n",
            v.phase,
            v.verdict,
            num(v.score),
            mark(&v.at)
        );
        let _ = writeln!(o, "seq {} · {} — {}\n", v.at.seq, v.at.ts, cell(&v.reason));
        metric_table(o, &v.metrics);
    }
}

fn pct(x: f64) -> String {
    format!("{}%", num(x * 100.0))
}

fn metric_table(o: &mut String, ms: &[MetricResult]) {
    if ms.is_empty() {
        return;
    }
    let _ = writeln!(
        o,
        "| Metric | Verdict | Class | Weight | n (b/c) | Baseline median | Canary median | Median shift | HL shift [95 % CI] | U | p | p adjusted | Welch t | Welch p | Bad direction |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    );
    for m in ms {
        let verdict = super::build::wire_str(&m.verdict);
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {}/{} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(&m.name),
            if verdict == "fail" {
                "**fail**".to_string()
            } else {
                verdict
            },
            super::build::wire_str(&m.classification),
            num(m.weight),
            m.n_baseline,
            m.n_canary,
            opt_num(m.baseline_median),
            opt_num(m.canary_median),
            opt_num(m.effect),
            match (m.hodges_lehmann, m.ci95) {
                (Some(hl), Some([a, b])) => format!("{} [{}, {}]", num(hl), num(a), num(b)),
                (None, Some([a, b])) => format!("[{}, {}]", num(a), num(b)),
                _ => "—".into(),
            },
            opt_num(m.mann_whitney_u),
            m.p_exact
                .map(|p| format!("{} (exact)", num(p)))
                .unwrap_or_else(|| opt_num(m.p_value)),
            opt_num(m.p_adjusted),
            opt_num(m.welch_t),
            opt_num(m.welch_p),
            super::build::wire_str(&m.direction)
        );
    }
    o.push('\n');
    for m in ms {
        let _ = writeln!(o, "- {}: {}", m.name, cell(&m.reason));
    }
    o.push('\n');
}

fn deployments(o: &mut String, ds: &[DeploymentEntry]) {
    let _ = writeln!(o, "## Deployments\n");
    if ds.is_empty() {
        return none(o);
    }
    let _ = writeln!(
        o,
        "| Action | Service | Traffic | Fence | Result | When | seq |\n|---|---|---|---|---|---|---|"
    );
    for d in ds {
        let _ = writeln!(
            o,
            "| {} | {} | {}% | {} | {} | {} | {} |",
            cell(&d.action),
            cell(&d.service),
            d.percent,
            d.fence,
            if d.ok {
                "ok".to_string()
            } else {
                format!("**failed** {}", cell(d.detail.as_deref().unwrap_or("")))
            },
            d.at.ts,
            seq(&d.at)
        );
    }
    o.push('\n');
}

fn locks(o: &mut String, ls: &[LockEntry]) {
    let _ = writeln!(o, "## Locks\n");
    if ls.is_empty() {
        return none(o);
    }
    let _ = writeln!(
        o,
        "| Action | Resource | Owner | Fence | Waited | When | seq |\n|---|---|---|---|---|---|---|"
    );
    for l in ls {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} |",
            l.action,
            cell(&l.resource),
            cell(&l.owner),
            l.fence.map(|f| f.to_string()).unwrap_or_else(|| "—".into()),
            l.waited_ms
                .map(|w| format!("{w} ms"))
                .unwrap_or_else(|| "—".into()),
            l.at.ts,
            seq(&l.at)
        );
    }
    o.push('\n');
}

fn rollbacks(o: &mut String, rs: &[RollbackEntry]) {
    let _ = writeln!(o, "## Rollbacks\n");
    if rs.is_empty() {
        return none(o);
    }
    for r in rs {
        let _ = writeln!(
            o,
            "- {} rolled back at {} by {} (seq {}){}: {}",
            r.service,
            r.at.ts,
            r.at.actor,
            r.at.seq,
            mark(&r.at),
            cell(&r.reason)
        );
    }
    o.push('\n');
}

fn notifications(o: &mut String, ns: &[NotificationEntry]) {
    let _ = writeln!(o, "## Notifications\n");
    if ns.is_empty() {
        return none(o);
    }
    let _ = writeln!(
        o,
        "| Channel | Notice | Delivered | Attempts | Detail | When | seq |\n|---|---|---|---|---|---|---|"
    );
    for n in ns {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} |",
            cell(&n.channel),
            cell(&n.notice),
            if n.ok { "yes" } else { "**no**" },
            n.attempts,
            cell(&n.detail),
            n.at.ts,
            seq(&n.at)
        );
    }
    o.push('\n');
}

fn recovery(o: &mut String, rs: &[RecoveryEntry]) {
    let _ = writeln!(o, "## Crash recovery (ccp-recover)\n");
    if rs.is_empty() {
        return none(o);
    }
    for r in rs {
        let _ = writeln!(
            o,
            "- {} seq {} `{}`{}: {}{}",
            r.at.ts,
            r.at.seq,
            r.kind,
            if r.log_level { " (whole log)" } else { "" },
            cell(&r.summary),
            mark(&r.at)
        );
    }
    o.push('\n');
}

fn notes(o: &mut String, ns: &[NoteEntry]) {
    if ns.is_empty() {
        return;
    }
    let _ = writeln!(o, "## Notes\n");
    for n in ns {
        let _ = writeln!(
            o,
            "- {} seq {} `{}` ({}): {}{}",
            n.at.ts,
            n.at.seq,
            n.kind,
            n.at.actor,
            cell(&n.message),
            mark(&n.at)
        );
    }
    o.push('\n');
}

fn outcome(o: &mut String, out: Option<&OutcomeEntry>) {
    let _ = writeln!(o, "## Outcome\n");
    match out {
        Some(f) => {
            let _ = writeln!(
                o,
                "**{}** in state {} at {} (seq {}, by {}){}: {}\n",
                f.outcome,
                f.state,
                f.at.ts,
                f.at.seq,
                f.at.actor,
                mark(&f.at),
                cell(&f.reason)
            );
        }
        None => {
            let _ = writeln!(
                o,
                "_The log has no `finished` record for this incident: it was still in flight when the log ends (run `ccp recover` to bring it to a safe end)._\n"
            );
        }
    }
}

fn unread(o: &mut String, us: &[UnreadRecord]) {
    if us.is_empty() {
        return;
    }
    let _ = writeln!(
        o,
        "## Records this ccp could not read\n\n{} record(s) of this incident are not events this version knows (written by another version?); see the log:\n",
        us.len()
    );
    for u in us {
        let _ = writeln!(
            o,
            "- seq {} `{}` at {}{}",
            u.at.seq,
            u.kind,
            u.at.ts,
            mark(&u.at)
        );
    }
    o.push('\n');
}
