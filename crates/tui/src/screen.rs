//! The whole screen: panes in their layout, the tab strip, the status bar with the focused
//! pane's key hints, and whatever popup is on top. Pure, like everything it calls: the same view
//! model and UI state always give the same frame.

use crate::components::{hint_text, Hint};
use crate::draw::common::{pane_block, truncate};
use crate::draw::{DrawCache, PaneView};
use crate::keymap::Action;
use crate::layout::{self, Mode};
use crate::pane::Pane;
use crate::theme::{Status, Theme};
use crate::ui_state::{Overlay, Prompt, UiState};
use crate::view_model::{outcome_status, state_status, ViewModel};
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget};
use ratatui::Frame;

/// Spinner frames for "the pipeline is working".
const SPINNER: [&str; 4] = ["◐", "◓", "◑", "◒"];

/// Draw the whole screen.
pub fn draw(f: &mut Frame, vm: &ViewModel, ui: &UiState, cache: &DrawCache) {
    let area = f.area();
    let theme = ui.theme();
    f.render_widget(Block::default().style(theme.base()), area);
    let emphasis = ui.emphasis();
    let mut screen = layout::compute(area, ui.focus, emphasis);
    if screen.mode == Mode::TooSmall {
        too_small(f, area, theme);
        return;
    }
    // The outcome banner takes rows from the panes rather than covering them, while the panes
    // above it still fit; the status bar stays on the last row.
    let banner_h = crate::popups::outcome::height(vm, ui, area.width);
    let mut banner = None;
    if banner_h > 0 && banner_h < area.height {
        let body = Rect {
            height: area.height - banner_h,
            ..area
        };
        let shrunk = layout::compute(body, ui.focus, emphasis);
        if shrunk.mode != Mode::TooSmall {
            banner = Some(Rect::new(area.x, shrunk.status.y, area.width, banner_h));
            screen = layout::Screen {
                status: screen.status,
                ..shrunk
            };
        }
    }
    if let Some(t) = screen.tabs {
        tabs(f, t, ui);
    }
    for (pane, rect) in &screen.panes {
        draw_pane(f, *pane, *rect, vm, ui, cache);
    }
    status_bar(f, screen.status, vm, ui);
    if let Some(b) = banner {
        crate::popups::outcome::draw(f, b, vm, ui);
    }
    match ui.overlay {
        Some(Overlay::Help) => crate::popups::help::draw(f, area, ui),
        Some(Overlay::Details(p)) => crate::popups::details::draw(f, area, p, vm, ui, cache),
        Some(Overlay::ConfirmQuit) => crate::popups::quit::draw(f, area, vm, ui),
        Some(Overlay::ConfirmAbort) => crate::popups::quit::draw_abort(f, area, vm, ui),
        None => {
            if vm.run().approval.is_some() && !ui.approval_hidden {
                crate::popups::approval::draw(f, area, vm, ui);
            }
        }
    }
}

fn too_small(f: &mut Frame, area: Rect, theme: &Theme) {
    let (w, h) = layout::MIN_SIZE;
    let msg = vec![
        Line::from(Span::styled(
            "terminal too small",
            theme.status(Status::Warn).add_modifier(Modifier::BOLD),
        )),
        Line::from(format!(
            "{}×{}, need at least {w}×{h}",
            area.width, area.height
        )),
        Line::from("enlarge the window, or press q to quit"),
    ];
    let y = area.y + area.height.saturating_sub(3) / 2;
    let r = Rect::new(area.x, y, area.width, area.height.min(3));
    f.render_widget(
        Paragraph::new(msg).alignment(ratatui::layout::Alignment::Center),
        r,
    );
}

fn tabs(f: &mut Frame, area: Rect, ui: &UiState) {
    let theme = ui.theme();
    let mut spans = vec![Span::raw(" ")];
    for (i, p) in Pane::ALL.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled("│", theme.status(Status::Muted)));
        }
        let st = if *p == ui.focus {
            theme.selected()
        } else {
            Style::default().fg(theme.title)
        };
        spans.push(Span::styled(format!(" {} ", p.title()), st));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_pane(
    f: &mut Frame,
    pane: Pane,
    rect: Rect,
    vm: &ViewModel,
    ui: &UiState,
    cache: &DrawCache,
) {
    let theme = ui.theme();
    let focused = ui.focus == pane;
    let component = ui.panes.get(pane);
    let extra = component.title_extra(vm, theme);
    let block = pane_block(pane, focused, theme, extra);
    let inner = block.inner(rect);
    f.render_widget(block, rect);
    let view = PaneView {
        theme,
        filter: &ui.filter,
        focused,
        selected: component.selected(),
        follow: ui.panes.timeline.follow,
        cache,
    };
    component.draw(f.buffer_mut(), inner, vm, &view);
}

fn status_bar(f: &mut Frame, area: Rect, vm: &ViewModel, ui: &UiState) {
    let theme = ui.theme();
    if let Some(p) = &ui.prompt {
        let (lead, text) = match p {
            Prompt::Filter(t) => ("/", t),
            Prompt::Command(t) => (":", t),
        };
        f.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(
                    lead,
                    Style::default()
                        .fg(theme.accent)
                        .add_modifier(Modifier::BOLD),
                ),
                Span::raw(text.clone()),
                Span::styled("█", Style::default().fg(theme.accent)),
            ])),
            area,
        );
        return;
    }
    let sep = || Span::styled(" │ ", theme.status(Status::Muted));
    let mut spans: Vec<Span> = Vec::new();
    if let Some(down) = &ui.link_down {
        spans.push(Span::styled(
            format!(" ⚠ {down} "),
            theme
                .status(Status::Bad)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED),
        ));
        spans.push(sep());
    }
    if ui.read_only {
        spans.push(Span::styled(
            " READ-ONLY ",
            theme.status(Status::Info).add_modifier(Modifier::REVERSED),
        ));
        spans.push(sep());
    }
    if let Some(alarm) = &ui.alarm {
        spans.push(Span::styled(
            format!(" ⚠ {alarm} "),
            theme
                .status(Status::Bad)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED),
        ));
        spans.push(sep());
    }
    match (&vm.run().finished, vm.run().state) {
        (Some(fin), _) => spans.push(Span::styled(
            format!(" ■ {} · {}", fin.state, fin.outcome.as_str()),
            theme
                .status(outcome_status(fin.outcome))
                .add_modifier(Modifier::BOLD),
        )),
        (None, Some(s)) => {
            let spin = if vm.run().paused || vm.run().approval.is_some() {
                "‖"
            } else {
                SPINNER[ui.spinner % SPINNER.len()]
            };
            spans.push(Span::styled(
                format!(" {spin} {s}"),
                theme.status(state_status(s)).add_modifier(Modifier::BOLD),
            ));
        }
        (None, None) => spans.push(Span::styled(" ○ watching", theme.status(Status::Muted))),
    }
    if vm.run().paused {
        spans.push(sep());
        spans.push(Span::styled(
            "PAUSED (p resumes)",
            theme.status(Status::Warn).add_modifier(Modifier::BOLD),
        ));
    }
    if vm.run().approval.is_some() && ui.approval_hidden {
        spans.push(sep());
        spans.push(Span::styled(
            "APPROVAL PENDING — a approve · r reject · c dialog",
            theme
                .status(Status::Warn)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED),
        ));
    }
    if let Some(inc) = vm.active_incident() {
        spans.push(sep());
        spans.push(Span::raw(inc.id.clone()));
    }
    let others_waiting = vm
        .incidents()
        .iter()
        .filter(|i| {
            i.approval.is_some()
                && Some(i.id.as_str()) != vm.active_incident().map(|a| a.id.as_str())
        })
        .count();
    if others_waiting > 0 {
        spans.push(sep());
        spans.push(Span::styled(
            format!("+{others_waiting} awaiting approval"),
            theme.status(Status::Warn).add_modifier(Modifier::BOLD),
        ));
    }
    // What just happened comes before the details that change least (where, clock, lock): a
    // narrow terminal cuts those, never the answer to the key just pressed.
    if let Some((msg, st)) = &ui.flash {
        spans.push(sep());
        spans.push(Span::styled(msg.clone(), theme.status(*st)));
    }
    spans.push(sep());
    spans.push(Span::styled(
        match &ui.attached {
            Some(url) => format!(
                "{}@{} ({})",
                ui.actor,
                url.trim_start_matches("http://")
                    .trim_start_matches("https://"),
                ui.pace
            ),
            None => format!("pace {}", ui.pace),
        },
        theme.status(Status::Muted),
    ));
    if vm.now_ms() > 0 {
        spans.push(sep());
        spans.push(Span::raw(
            ccp_core::clock::rfc3339(vm.now_ms())
                .get(11..19)
                .unwrap_or("")
                .to_string(),
        ));
    }
    if let Some(l) = vm.run().locks.first() {
        spans.push(sep());
        spans.push(Span::styled(
            format!("🔒 {} #{}", l.resource, l.fence),
            theme.status(Status::Info),
        ));
    }
    let used: usize = spans.iter().map(|s| s.width()).sum();
    let hints = format!(" {} ", hint_text(&status_hints(vm, ui)));
    let room = (area.width as usize).saturating_sub(used);
    let line = Line::from(spans);
    Paragraph::new(line).render(area, f.buffer_mut());
    if room > 8 {
        let h = truncate(&hints, room);
        let w = h.chars().count() as u16;
        let r = Rect::new(area.x + area.width - w, area.y, w, 1);
        Paragraph::new(Span::styled(h, theme.status(Status::Muted))).render(r, f.buffer_mut());
    }
}

/// The keys worth knowing now: the approval's while one waits, else the focused pane's own and
/// the few global ones, printed from the keymap.
fn status_hints(vm: &ViewModel, ui: &UiState) -> Vec<Hint> {
    let mut h = all_status_hints(vm, ui);
    if ui.read_only {
        // A read-only cockpit offers no key that would act.
        h.retain(|(a, _)| {
            !matches!(
                a,
                Action::Approve
                    | Action::Reject
                    | Action::Comment
                    | Action::PauseResume
                    | Action::Abort
            )
        });
    }
    h
}

fn all_status_hints(vm: &ViewModel, ui: &UiState) -> Vec<Hint> {
    if vm.run().approval.is_some() {
        return vec![
            (Action::Approve, "approve"),
            (Action::Reject, "reject"),
            (Action::Comment, "comment"),
            (Action::Help, "help"),
        ];
    }
    let mut h = ui.panes.get(ui.focus).hints(vm);
    h.extend([
        (Action::FocusNext, "focus"),
        (Action::Help, "help"),
        (Action::Quit, "quit"),
    ]);
    h
}
