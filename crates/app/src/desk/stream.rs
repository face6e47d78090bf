//! Every incident's events as one numbered stream: the order a long-running service emitted
//! them in, each with a stream id that a client resumes from (`Last-Event-ID`). The history is
//! kept in memory, bounded; a client asking for events older than it holds is told so rather
//! than handed a stream with a silent gap.

use ccp_core::events::Event;
use ccp_core::projection::Projection;
use std::collections::VecDeque;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Mutex;

/// Events kept for clients that resume; older ones are in the audit log.
pub const HISTORY_LIMIT: usize = 100_000;

/// One event of the service's stream.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Streamed {
    /// Position in the service's stream, from 1 (0 means "from the start" when resuming).
    pub id: u64,
    /// The event as its pipeline emitted it (its own `seq` counts within its incident).
    pub event: Event,
}

/// Why a resume point cannot be served without a gap.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("events after {asked} are no longer kept (the oldest kept is {oldest}); reload the incidents and follow from {latest}")]
pub struct TooOld {
    /// The id asked for.
    pub asked: u64,
    /// Oldest id still kept.
    pub oldest: u64,
    /// Newest id.
    pub latest: u64,
}

#[derive(Default)]
struct Inner {
    history: VecDeque<Streamed>,
    next_id: u64,
    projection: Projection,
    subscribers: Vec<Sender<Streamed>>,
}

/// The stream: numbered history, the projection of it, and live subscribers.
#[derive(Default)]
pub struct EventStream {
    inner: Mutex<Inner>,
}

impl EventStream {
    /// An empty stream whose first id is 1.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty stream whose first id is `first`. A service numbers from its start time, so
    /// ids grow across restarts and a client resuming from before a restart is told to reload
    /// instead of silently skipping the new server's first events.
    pub fn starting_at(first: u64) -> Self {
        let s = Self::default();
        s.guard().next_id = first.saturating_sub(1);
        s
    }

    fn guard(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Number, record, fold and fan out one event. Subscribers that went away are dropped; a
    /// slow one never blocks this (channels are unbounded here; the HTTP layer bounds each client).
    pub fn push(&self, event: Event) -> u64 {
        let mut g = self.guard();
        g.next_id += 1;
        let s = Streamed {
            id: g.next_id,
            event,
        };
        g.projection.apply(&s.event);
        g.history.push_back(s.clone());
        while g.history.len() > HISTORY_LIMIT {
            g.history.pop_front();
        }
        g.subscribers.retain(|tx| tx.send(s.clone()).is_ok());
        s.id
    }

    /// Events after `after` (0 = all kept), or why that would leave a gap.
    pub fn since(&self, after: u64) -> Result<Vec<Streamed>, TooOld> {
        let g = self.guard();
        let oldest = g.history.front().map(|s| s.id).unwrap_or(g.next_id + 1);
        if after > 0 && after + 1 < oldest && after < g.next_id {
            return Err(TooOld {
                asked: after,
                oldest,
                latest: g.next_id,
            });
        }
        Ok(g.history.iter().filter(|s| s.id > after).cloned().collect())
    }

    /// Live events from now on, with the history after `after` first, and no gap or duplicate
    /// between the two (both are taken under one lock).
    pub fn follow(&self, after: u64) -> Result<(Vec<Streamed>, Receiver<Streamed>), TooOld> {
        let backlog = self.since(after)?;
        let mut g = self.guard();
        // Anything pushed between `since` and here is in the history but not the backlog.
        let last = backlog.last().map(|s| s.id).unwrap_or(after);
        let missed: Vec<Streamed> = g.history.iter().filter(|s| s.id > last).cloned().collect();
        let (tx, rx) = channel();
        g.subscribers.push(tx);
        let mut all = backlog;
        all.extend(missed);
        Ok((all, rx))
    }

    /// The newest id (0 before any event).
    pub fn latest(&self) -> u64 {
        self.guard().next_id
    }

    /// Every incident as the stream tells it so far.
    pub fn projection(&self) -> Projection {
        self.guard().projection.clone()
    }

    /// The events of one incident, in order.
    pub fn incident_events(&self, incident: &str) -> Vec<Streamed> {
        self.guard()
            .history
            .iter()
            .filter(|s| s.event.incident == incident)
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ccp_core::events::EventKind;

    fn ev(incident: &str, seq: u64) -> Event {
        Event {
            seq,
            ts: "2026-12-07T10:00:00Z".into(),
            kind: EventKind::Note {
                message: format!("{incident} {seq}"),
            },
            incident: incident.into(),
        }
    }

    #[test]
    fn ids_are_one_sequence_across_incidents_and_resume_exactly() {
        let s = EventStream::new();
        assert_eq!(s.push(ev("A", 0)), 1);
        assert_eq!(s.push(ev("B", 0)), 2);
        assert_eq!(s.push(ev("A", 1)), 3);
        let after1: Vec<u64> = s
            .since(1)
            .unwrap_or_default()
            .iter()
            .map(|x| x.id)
            .collect();
        assert_eq!(after1, vec![2, 3]);
        assert_eq!(s.incident_events("A").len(), 2);
        let (backlog, rx) = s.follow(2).expect("kept");
        assert_eq!(backlog.iter().map(|x| x.id).collect::<Vec<_>>(), vec![3]);
        s.push(ev("B", 1));
        assert_eq!(rx.try_recv().map(|x| x.id).ok(), Some(4));
        assert!(rx.try_recv().is_err(), "no duplicate");
    }

    #[test]
    fn a_resume_point_older_than_the_history_is_refused_not_gapped() {
        let s = EventStream::new();
        for i in 0..(HISTORY_LIMIT as u64 + 5) {
            s.push(ev("A", i));
        }
        let err = s.since(1).expect_err("gap");
        assert_eq!(err.oldest, 6);
        assert!(s.since(5).is_ok(), "the oldest kept follows 5 directly");
        assert!(s.since(s.latest()).is_ok_and(|v| v.is_empty()));
        assert_eq!(
            s.since(0).map(|v| v.len()).ok(),
            Some(HISTORY_LIMIT),
            "0 = all kept"
        );
    }

    #[test]
    fn a_restarted_stream_numbers_above_the_old_one_and_refuses_old_resume_points() {
        let s = EventStream::starting_at(5_000);
        assert_eq!(s.push(ev("A", 0)), 5_000);
        assert_eq!(s.push(ev("A", 1)), 5_001);
        assert!(
            s.since(17).is_err(),
            "a resume point from before the restart"
        );
        assert_eq!(s.since(0).map(|v| v.len()).ok(), Some(2));
    }
}
