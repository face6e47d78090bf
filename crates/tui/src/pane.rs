//! The seven panes by name: titles, focus order, and which one shows what the pipeline is doing
//! now. A plain value every module can name without depending on the screen's state.

use ccp_core::state::State;

/// The seven panes (titles are Contract: tests and users look for these words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    /// Incident list and the pipeline's progress.
    Incidents,
    /// Service dependency graph.
    Graph,
    /// Root-cause candidates.
    Rca,
    /// The proposed patch.
    Diff,
    /// Safety gates.
    Gates,
    /// Canary charts and verdicts.
    Canary,
    /// Every event.
    Timeline,
}

impl Pane {
    /// Focus order for Tab.
    pub const ALL: [Pane; 7] = [
        Pane::Incidents,
        Pane::Graph,
        Pane::Rca,
        Pane::Diff,
        Pane::Gates,
        Pane::Canary,
        Pane::Timeline,
    ];

    /// Title as drawn on the border.
    pub fn title(self) -> &'static str {
        match self {
            Pane::Incidents => "Incidents",
            Pane::Graph => "Dependency Graph",
            Pane::Rca => "RCA",
            Pane::Diff => "Diff",
            Pane::Gates => "Gates",
            Pane::Canary => "Canary",
            Pane::Timeline => "Timeline",
        }
    }

    /// Position in [`Pane::ALL`].
    pub fn index(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }

    /// Next pane in Tab order.
    pub fn next(self) -> Pane {
        Pane::ALL[(self.index() + 1) % Pane::ALL.len()]
    }

    /// Previous pane in Tab order.
    pub fn prev(self) -> Pane {
        Pane::ALL[(self.index() + Pane::ALL.len() - 1) % Pane::ALL.len()]
    }

    /// The pane that shows what the pipeline is doing in `state`: where a presenter wants the
    /// audience to look.
    pub fn for_state(state: State) -> Pane {
        match state {
            State::Detected | State::Analyzing => Pane::Graph,
            State::RcaComplete | State::CodeLocated => Pane::Rca,
            State::FixPlanned | State::PatchReady | State::PausedForHumanReview => Pane::Diff,
            State::GatesPassed | State::GatesFailed => Pane::Gates,
            State::Escalated | State::Rejected | State::Closed => Pane::Timeline,
            _ => Pane::Canary,
        }
    }
}
