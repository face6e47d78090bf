//! Where panes go for a terminal size. A pure function of the size (and, in compact mode, the
//! focused pane), shared by drawing and mouse hit-testing so a click always lands on what is drawn.

use crate::pane::Pane;
use ratatui::layout::{Constraint, Layout, Rect};

/// Smallest terminal the cockpit draws in; below it a message says how big it must be.
pub const MIN_SIZE: (u16, u16) = (60, 16);
/// From this size on every pane is on screen at once.
pub const WIDE_SIZE: (u16, u16) = (120, 34);

/// How the screen is arranged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// All seven panes at once.
    Wide,
    /// A tab strip, the focused pane large, a short Timeline strip below.
    Compact,
    /// The focused pane alone (`z`).
    Zoomed,
    /// Too small to draw anything useful.
    TooSmall,
}

/// The arrangement for one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Screen {
    /// Mode chosen.
    pub mode: Mode,
    /// Panes on screen with their areas (borders included).
    pub panes: Vec<(Pane, Rect)>,
    /// Tab strip (compact mode).
    pub tabs: Option<Rect>,
    /// Status bar (last line).
    pub status: Rect,
}

/// Which row of the wide layout gets the room, so the pane a person needs now is never a few
/// header lines (the patch at the approval, the charts during the rollout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emphasis {
    /// Before a patch exists: the graph and the RCA matter most.
    Diagnosis,
    /// From the plan to the approval: the Diff and Gates row.
    Patch,
    /// From the lock to the end of the rollout: the Canary and Timeline row.
    Rollout,
    /// The focused pane alone, full screen (`z`).
    Zoom,
}

impl Emphasis {
    /// The emphasis that gives `pane`'s row the room.
    pub fn for_pane(pane: Pane) -> Self {
        match pane {
            Pane::Diff | Pane::Gates => Emphasis::Patch,
            Pane::Canary | Pane::Timeline => Emphasis::Rollout,
            Pane::Incidents | Pane::Graph | Pane::Rca => Emphasis::Diagnosis,
        }
    }
}

/// Arrange the screen.
pub fn compute(area: Rect, focus: Pane, emphasis: Emphasis) -> Screen {
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        return Screen {
            mode: Mode::TooSmall,
            panes: vec![],
            tabs: None,
            status: area,
        };
    }
    let [body, status] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
    if emphasis == Emphasis::Zoom {
        return Screen {
            mode: Mode::Zoomed,
            panes: vec![(focus, body)],
            tabs: None,
            status,
        };
    }
    if area.width >= WIDE_SIZE.0 && area.height >= WIDE_SIZE.1 {
        let rows = match emphasis {
            Emphasis::Patch => [30, 45, 25],
            Emphasis::Rollout => [30, 24, 46],
            Emphasis::Diagnosis | Emphasis::Zoom => [40, 31, 29],
        };
        let [top, mid, bottom] = Layout::vertical(rows.map(Constraint::Percentage)).areas(body);
        let [inc, graph, rca] = Layout::horizontal([
            Constraint::Percentage(25),
            Constraint::Percentage(47),
            Constraint::Percentage(28),
        ])
        .areas(top);
        let [diff, gates] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(mid);
        let [canary, timeline] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .areas(bottom);
        return Screen {
            mode: Mode::Wide,
            panes: vec![
                (Pane::Incidents, inc),
                (Pane::Graph, graph),
                (Pane::Rca, rca),
                (Pane::Diff, diff),
                (Pane::Gates, gates),
                (Pane::Canary, canary),
                (Pane::Timeline, timeline),
            ],
            tabs: None,
            status,
        };
    }
    // The graph needs every row it can get; the Timeline is already the main pane.
    let strip = if matches!(focus, Pane::Timeline | Pane::Graph) || body.height < 20 {
        0
    } else {
        7
    };
    let [tabs, main, tl] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(strip),
    ])
    .areas(body);
    let mut panes = vec![(focus, main)];
    if strip > 0 {
        panes.push((Pane::Timeline, tl));
    }
    Screen {
        mode: Mode::Compact,
        panes,
        tabs: Some(tabs),
        status,
    }
}

/// Tab strip entries: (pane, first column, one past the last column), relative to the strip.
pub fn tab_spans() -> Vec<(Pane, u16, u16)> {
    let mut x = 1u16;
    let mut out = Vec::new();
    for p in Pane::ALL {
        let w = p.title().chars().count() as u16 + 2;
        out.push((p, x, x + w));
        x += w + 1;
    }
    out
}

/// The pane drawn at a screen position, for mouse clicks. Tabs count in compact mode, where the
/// focused pane fills the main area; the tab strip and Timeline strip do not depend on focus.
pub fn pane_at(
    area: Rect,
    focus: Option<Pane>,
    emphasis: Emphasis,
    x: u16,
    y: u16,
) -> Option<Pane> {
    let s = compute(area, focus.unwrap_or(Pane::Incidents), emphasis);
    if let Some(t) = s.tabs {
        if y == t.y {
            return tab_spans()
                .into_iter()
                .find(|(_, a, b)| x >= t.x + a && x < t.x + b)
                .map(|(p, _, _)| p);
        }
    }
    let hit = s
        .panes
        .iter()
        .find(|(_, r)| x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height)
        .map(|(p, _)| *p);
    match (s.mode, hit) {
        (Mode::Compact, Some(Pane::Timeline)) => Some(Pane::Timeline),
        (Mode::Compact, Some(_)) => focus,
        (_, h) => h,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_shows_all_panes_without_overlap() {
        let s = compute(
            Rect::new(0, 0, 160, 48),
            Pane::Incidents,
            Emphasis::Diagnosis,
        );
        assert_eq!(s.mode, Mode::Wide);
        assert_eq!(s.panes.len(), 7);
        for (i, (_, a)) in s.panes.iter().enumerate() {
            for (_, b) in &s.panes[i + 1..] {
                assert!(!a.intersects(*b), "{a:?} overlaps {b:?}");
            }
        }
        assert_eq!(s.status, Rect::new(0, 47, 160, 1));
    }

    #[test]
    fn compact_and_too_small() {
        let s = compute(Rect::new(0, 0, 80, 24), Pane::Diff, Emphasis::Patch);
        assert_eq!(s.mode, Mode::Compact);
        assert_eq!(s.panes[0].0, Pane::Diff);
        assert_eq!(s.panes[1].0, Pane::Timeline);
        assert_eq!(
            compute(Rect::new(0, 0, 40, 10), Pane::Diff, Emphasis::Patch).mode,
            Mode::TooSmall
        );
    }

    #[test]
    fn clicks_find_panes() {
        let wide = Rect::new(0, 0, 160, 48);
        assert_eq!(
            pane_at(wide, None, Emphasis::Diagnosis, 1, 1),
            Some(Pane::Incidents)
        );
        assert_eq!(
            pane_at(wide, None, Emphasis::Diagnosis, 159, 46),
            Some(Pane::Timeline)
        );
        let compact = Rect::new(0, 0, 80, 24);
        let (p, a, _) = tab_spans()[3];
        assert_eq!(
            pane_at(compact, None, Emphasis::Diagnosis, a + 1, 0),
            Some(p)
        );
        assert_eq!(
            pane_at(compact, None, Emphasis::Diagnosis, 5, 20),
            Some(Pane::Timeline)
        );
    }
}
