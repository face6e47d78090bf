//! The pipeline's side of notifications: hand the notices [`notice_for`] picks to the notifier
//! as events are emitted (never waiting on delivery), and audit what became of each delivery at
//! safe points, so a channel that is down shows in the timeline and the audit log instead of
//! holding up a rollout.

use super::{Pipeline, Step};
use crate::clock::rfc3339;
use crate::events::{Event, EventKind};
use crate::notice::notice_for;

impl Pipeline {
    /// Queue the notification `ev` calls for, if any. `finished` is left to
    /// [`Pipeline::notify_and_settle`], which must run before the event is emitted.
    pub(super) fn notify(&self, ev: &Event) {
        if matches!(ev.kind, EventKind::Finished { .. }) {
            return;
        }
        self.notify_kind(&ev.kind, &ev.ts);
    }

    fn notify_kind(&self, kind: &EventKind, ts: &str) {
        if let Some(n) = notice_for(kind, &self.incident_id, self.found.incident.as_ref(), ts) {
            self.notifier.notify(&n);
        }
    }

    /// Audit every delivery that finished since the last safe point.
    pub(super) fn report_deliveries(&mut self) -> Step<()> {
        for d in self.notifier.deliveries() {
            self.emit(EventKind::NotificationSent {
                channel: d.channel,
                notice: d.notice,
                ok: d.ok,
                attempts: d.attempts,
                detail: d.detail,
            })?;
        }
        Ok(())
    }

    /// At the end of a run: send the closing notice, wait the notifier's bounded time for what is
    /// still queued, and audit the results, so the `finished` event stays last and the audit log
    /// says who heard how it ended. Best effort: the end is reported whatever happens here.
    pub(super) fn notify_and_settle(&mut self, finished: &EventKind) {
        let ts = rfc3339(self.ports.clock.now_ms());
        self.notify_kind(finished, &ts);
        let left = self.notifier.settle();
        if self.report_deliveries().is_err() {
            tracing::error!("could not audit the last notification deliveries");
        }
        if left > 0 {
            self.emit_lossy(EventKind::Note {
                message: format!(
                    "{left} notification(s) still in flight when the run ended; they go on in the background and are not in this audit log"
                ),
            });
        }
    }
}
