//! The approval dialog: why a human is needed, what would change, what the gates said, and a
//! comment box.

use super::{centered, dialog_block, key};
use crate::draw::common::{mark, truncate, wrap};
use crate::theme::Status;
use crate::ui_state::UiState;
use crate::view_model::ViewModel;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};
use ratatui::Frame;

/// The approval dialog: why a human is needed, what would change, what the gates said, and a
/// comment box. `a`/`r` decide; the decision, actor and comment go to the audit log.
pub fn draw(f: &mut Frame, area: Rect, vm: &ViewModel, ui: &UiState) {
    let theme = ui.theme();
    let Some(req) = &vm.run().approval else {
        return;
    };
    let w = area.width.saturating_sub(4).min(96);
    let iw = w.saturating_sub(2) as usize;
    let reasons: Vec<Vec<String>> = req
        .reasons
        .iter()
        .map(|r| wrap(r, iw.saturating_sub(3)))
        .collect();
    let reasons_h: usize = reasons.iter().map(Vec::len).sum();
    let has_cause = usize::from(!vm.run().rca.is_empty());
    let two_person = usize::from(req.required > 1);
    // title line + reasons + blank + risk/patch/gates(+cause)(+approvals) + comment box + keys
    // + borders
    let h = (1 + reasons_h + 1 + 3 + has_cause + two_person + 3 + 1 + 2) as u16;
    let r = centered(area, w, h.min(area.height));
    f.render_widget(Clear, r);
    let id = vm
        .active_incident()
        .map(|i| i.id.clone())
        .unwrap_or_default();
    let block = dialog_block(&format!("Approval required — {id}"), theme, Status::Warn);
    let inner = block.inner(r);
    f.render_widget(block, r);
    let mut lines = vec![Line::from(Span::styled(
        "The pipeline is paused at PAUSED_FOR_HUMAN_REVIEW because:",
        Style::default().add_modifier(Modifier::BOLD),
    ))];
    for reason in reasons {
        for (i, part) in reason.into_iter().enumerate() {
            lines.push(Line::from(vec![
                Span::styled(
                    if i == 0 { " • " } else { "   " },
                    theme.status(Status::Warn),
                ),
                Span::raw(part),
            ]));
        }
    }
    lines.push(Line::from(""));
    let risk_st = if req.risk_score > 0.7 {
        Status::Bad
    } else if req.risk_score > 0.4 {
        Status::Warn
    } else {
        Status::Ok
    };
    lines.push(Line::from(vec![
        // The seed's two risk formulas keep their own names: this one (severity, criticality,
        // blast radius…) picks the rollout strategy; the `risk_score` gate scores the change.
        Span::styled("strategy ", theme.status(Status::Muted)),
        Span::styled(
            format!("score {:.2}", req.risk_score),
            theme.status(risk_st).add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!("  → {}", req.strategy)),
    ]));
    lines.push(Line::from(vec![
        Span::styled("patch    ", theme.status(Status::Muted)),
        Span::raw(truncate(&req.diff_summary, iw.saturating_sub(9))),
    ]));
    let gates_ok = vm.run().gates.iter().all(|g| g.passed);
    lines.push(Line::from(vec![
        Span::styled("gates    ", theme.status(Status::Muted)),
        Span::styled(
            format!("{} {}", mark(gates_ok), req.gates_summary),
            theme.status(if gates_ok { Status::Ok } else { Status::Bad }),
        ),
    ]));
    if let Some(top) = vm.run().rca.first() {
        lines.push(Line::from(vec![
            Span::styled("cause    ", theme.status(Status::Muted)),
            Span::raw(truncate(
                &format!(
                    "{} ({:.0}%){}",
                    top.service,
                    top.confidence * 100.0,
                    top.commit
                        .as_deref()
                        .map(|c| format!(" @ {c}"))
                        .unwrap_or_default()
                ),
                iw.saturating_sub(9),
            )),
        ]));
    }
    if req.required > 1 {
        let given = req.approved_by.len();
        let who = if req.approved_by.is_empty() {
            "none yet".to_string()
        } else {
            format!("by {}", req.approved_by.join(", "))
        };
        lines.push(Line::from(vec![
            Span::styled("approvals", theme.status(Status::Muted)),
            Span::styled(
                truncate(
                    &format!(
                        " {given} of {} approvals ({who}): two-person rule",
                        req.required
                    ),
                    iw.saturating_sub(9),
                ),
                theme.status(Status::Warn).add_modifier(Modifier::BOLD),
            ),
        ]));
    }
    let text_h = lines.len() as u16;
    let [text, comment, keys] = Layout::vertical([
        Constraint::Min(text_h.min(3)),
        Constraint::Length(3),
        Constraint::Length(1),
    ])
    .areas(inner);
    f.render_widget(Paragraph::new(lines), text);
    let mut ta = ui.comment.clone();
    let cb = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(if ui.editing_comment {
            Style::default()
                .fg(theme.accent)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().fg(theme.border)
        })
        .title(Span::styled(
            if ui.editing_comment {
                " comment — Esc when done "
            } else {
                " comment (c) "
            },
            theme.status(Status::Muted),
        ));
    ta.set_block(cb);
    ta.set_style(theme.base());
    ta.set_cursor_line_style(Style::default());
    if !ui.editing_comment {
        ta.set_cursor_style(theme.base());
    }
    f.render_widget(&ta, comment);
    let actor = ui.actor.clone();
    if ui.read_only {
        // A read-only cockpit watches: the keys that would act are not offered at all.
        f.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(
                    "read-only: watching; approvers answer from their own cockpits   ",
                    theme.status(Status::Muted),
                ),
                key("Esc", theme),
                Span::raw(" hide   "),
                Span::styled(format!("as {actor}"), theme.status(Status::Muted)),
            ])),
            keys,
        );
        return;
    }
    f.render_widget(
        Paragraph::new(Line::from(vec![
            key("a", theme),
            Span::raw(" approve  "),
            key("r", theme),
            Span::raw(" reject  "),
            key("c", theme),
            Span::raw(" comment  "),
            key("Esc", theme),
            Span::raw(" hide to read the panes   "),
            Span::styled(format!("as {actor}"), theme.status(Status::Muted)),
        ])),
        keys,
    );
}
