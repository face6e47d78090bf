//! Words shared by every channel, so Slack, Teams, e-mail and webhooks name each moment the same
//! way and a reader who gets two of them sees one incident, not two stories.

use ccp_core::domain::Outcome;
use ccp_core::notice::{NoticeKind, Notification};

/// How a notice should look: bad news, needs attention, good news, or just information.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Something is broken or a fix failed.
    Bad,
    /// A human is needed.
    Attention,
    /// Fixed.
    Good,
    /// Progress worth knowing.
    Info,
}

/// Short label of a notice (`Incident opened`, `Resolved`).
pub fn label(kind: NoticeKind) -> &'static str {
    match kind {
        NoticeKind::Opened => "Incident opened",
        NoticeKind::AwaitingApproval => "Approval needed",
        NoticeKind::Approved => "Fix approved",
        NoticeKind::Rejected => "Fix rejected",
        NoticeKind::RolledBack => "Fix rolled back",
        NoticeKind::Finished(Outcome::Resolved) => "Resolved",
        NoticeKind::Finished(Outcome::RolledBack) => "Rolled back",
        NoticeKind::Finished(Outcome::Escalated) => "Escalated",
        NoticeKind::Finished(Outcome::Rejected) => "Closed (rejected)",
        NoticeKind::Finished(Outcome::Failed) => "Failed",
    }
}

/// The tone of a notice.
pub fn tone(kind: NoticeKind) -> Tone {
    match kind {
        NoticeKind::Opened | NoticeKind::RolledBack => Tone::Bad,
        NoticeKind::Finished(Outcome::RolledBack | Outcome::Failed) => Tone::Bad,
        NoticeKind::AwaitingApproval | NoticeKind::Finished(Outcome::Escalated) => Tone::Attention,
        NoticeKind::Finished(Outcome::Resolved) | NoticeKind::Approved => Tone::Good,
        NoticeKind::Rejected | NoticeKind::Finished(Outcome::Rejected) => Tone::Info,
    }
}

/// One line naming the moment and the incident: `[ccp] Incident opened: INC-… payment-service`,
/// the chat fallback text and the e-mail subject.
pub fn one_line(n: &Notification) -> String {
    format!(
        "[ccp] {}: {} on {} ({})",
        label(n.kind),
        n.incident,
        n.service,
        n.severity.as_str()
    )
}

/// Cut `s` to at most `max` characters, marking the cut, so receivers with size limits (Slack
/// block texts, PagerDuty's 1024-character summary) accept long reasons instead of rejecting the
/// whole message.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}
