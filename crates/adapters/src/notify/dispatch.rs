//! The dispatcher: one thread and one bounded queue per channel, so a Slack outage cannot delay
//! the page to PagerDuty and no channel can ever make the pipeline wait. The pipeline only
//! enqueues ([`Dispatcher::notify`]); each channel's thread renders, delivers and retries, and
//! posts what became of each notice where the pipeline collects it at its safe points.

use super::retry::{Failure, RetryPolicy};
use ccp_core::notice::Notification;
use ccp_core::ports::{Delivery, Notifier};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// One notification channel: how a notice becomes a message and how one message is delivered
/// once. Retrying is the dispatcher's job, so channels stay small.
pub trait Channel: Send + 'static {
    /// What is sent (a JSON body, an e-mail).
    type Message: Send;

    /// Channel name for events and logs (`slack`, `pagerduty`…).
    fn name(&self) -> &'static str;

    /// The message for `notice`; `None` when this channel has nothing to say about this kind of
    /// notice (PagerDuty and a rollback in progress), `Some(Err)` when it cannot be built.
    fn render(&self, notice: &Notification) -> Option<Result<Self::Message, String>>;

    /// One delivery attempt. `Ok` carries what the receiver said (`HTTP 202 from …`).
    fn deliver(&self, message: &Self::Message) -> Result<String, Failure>;
}

/// Counters and results shared by the pipeline side and the channel threads.
#[derive(Default)]
struct Books {
    /// Notices queued or being delivered, over all channels.
    pending: usize,
    /// Finished deliveries not yet collected.
    done: Vec<Delivery>,
}

#[derive(Default)]
struct Shared {
    books: Mutex<Books>,
    changed: Condvar,
}

impl Shared {
    fn books(&self) -> MutexGuard<'_, Books> {
        // A channel thread that panicked mid-update leaves consistent numbers behind (each
        // update is one statement), so a poisoned lock is still safe to use.
        self.books.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn finish(&self, delivery: Option<Delivery>) {
        let mut b = self.books();
        b.pending = b.pending.saturating_sub(1);
        b.done.extend(delivery);
        self.changed.notify_all();
    }
}

/// The sending end of one channel's queue.
struct Lane {
    name: &'static str,
    tx: SyncSender<Notification>,
    capacity: usize,
}

/// The [`Notifier`] that real channels sit behind.
pub struct Dispatcher {
    lanes: Vec<Lane>,
    shared: Arc<Shared>,
    final_wait: Duration,
}

impl Dispatcher {
    /// A dispatcher with no channel yet; `final_wait` bounds [`Notifier::settle`].
    pub fn new(final_wait: Duration) -> Self {
        Dispatcher {
            lanes: Vec::new(),
            shared: Arc::new(Shared::default()),
            final_wait,
        }
    }

    /// Start `channel` on its own thread with a queue of `capacity` notices.
    pub fn add<C: Channel>(
        &mut self,
        channel: C,
        policy: RetryPolicy,
        capacity: usize,
    ) -> std::io::Result<()> {
        let name = channel.name();
        let capacity = capacity.max(1);
        let (tx, rx) = sync_channel(capacity);
        let shared = self.shared.clone();
        std::thread::Builder::new()
            .name(format!("ccp-notify-{name}"))
            .spawn(move || run_channel(channel, policy, rx, &shared))?;
        self.lanes.push(Lane { name, tx, capacity });
        Ok(())
    }

    /// Names of the channels started, in order.
    pub fn channels(&self) -> Vec<&'static str> {
        self.lanes.iter().map(|l| l.name).collect()
    }
}

impl Notifier for Dispatcher {
    fn notify(&self, notice: &Notification) {
        for lane in &self.lanes {
            // Counted before sending, so the channel thread can never finish it first.
            self.shared.books().pending += 1;
            let refused = match lane.tx.try_send(notice.clone()) {
                Ok(()) => continue,
                Err(TrySendError::Full(_)) => format!(
                    "dropped: the {} queue is full ({} waiting); the receiver is too slow or down",
                    lane.name, lane.capacity
                ),
                Err(TrySendError::Disconnected(_)) => {
                    format!("dropped: the {} channel has stopped", lane.name)
                }
            };
            tracing::warn!("notification {}: {refused}", notice.kind.as_str());
            self.shared.finish(Some(Delivery {
                channel: lane.name.to_string(),
                notice: notice.kind.as_str().to_string(),
                ok: false,
                attempts: 0,
                detail: refused,
            }));
        }
    }

    fn deliveries(&self) -> Vec<Delivery> {
        std::mem::take(&mut self.shared.books().done)
    }

    fn settle(&self) -> usize {
        let deadline = Instant::now() + self.final_wait;
        let mut books = self.shared.books();
        while books.pending > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            books = match self.shared.changed.wait_timeout(books, left) {
                Ok((b, _)) => b,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        books.pending
    }
}

/// A channel's thread: deliver each queued notice with retries until the dispatcher is dropped.
fn run_channel<C: Channel>(
    channel: C,
    policy: RetryPolicy,
    rx: Receiver<Notification>,
    shared: &Shared,
) {
    while let Ok(notice) = rx.recv() {
        let delivery = channel.render(&notice).map(|message| {
            let (ok, attempts, detail) = match message {
                Ok(m) => deliver_with_retries(&channel, &m, policy),
                Err(why) => (false, 0, format!("could not build the message: {why}")),
            };
            if !ok {
                tracing::warn!(
                    "notification {} via {} failed after {attempts} attempt(s): {detail}",
                    notice.kind.as_str(),
                    channel.name()
                );
            }
            Delivery {
                channel: channel.name().to_string(),
                notice: notice.kind.as_str().to_string(),
                ok,
                attempts,
                detail,
            }
        });
        shared.finish(delivery);
    }
}

fn deliver_with_retries<C: Channel>(
    channel: &C,
    message: &C::Message,
    policy: RetryPolicy,
) -> (bool, u32, String) {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match channel.deliver(message) {
            Ok(said) => return (true, attempt, said),
            Err(f) if policy.again(attempt, &f) => {
                let wait = policy.delay(attempt, f.retry_after);
                tracing::info!(
                    "{} attempt {attempt} failed ({}); retrying in {} ms",
                    channel.name(),
                    f.message,
                    wait.as_millis()
                );
                std::thread::sleep(wait);
            }
            Err(f) => return (false, attempt, f.message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ccp_core::domain::Severity;
    use ccp_core::events::EventKind;
    use ccp_core::notice::NoticeKind;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn notice(kind: NoticeKind) -> Notification {
        Notification {
            kind,
            incident: "INC-1".into(),
            service: "svc".into(),
            severity: Severity::High,
            title: "t".into(),
            headline: "h".into(),
            facts: vec![],
            ts: "2026-01-01T00:00:00.000Z".into(),
            event: EventKind::Note {
                message: "x".into(),
            },
        }
    }

    /// Fails transiently `fails` times, then succeeds; skips rollbacks.
    struct Flaky {
        fails: u32,
        tried: Arc<AtomicU32>,
        gate: Option<Arc<Mutex<()>>>,
    }

    impl Channel for Flaky {
        type Message = ();
        fn name(&self) -> &'static str {
            "flaky"
        }
        fn render(&self, n: &Notification) -> Option<Result<(), String>> {
            (n.kind != NoticeKind::RolledBack).then_some(Ok(()))
        }
        fn deliver(&self, _: &()) -> Result<String, Failure> {
            if let Some(g) = &self.gate {
                let _held = g.lock().unwrap();
            }
            let n = self.tried.fetch_add(1, Ordering::SeqCst) + 1;
            if n <= self.fails {
                Err(Failure::transient(format!("boom {n}")))
            } else {
                Ok(format!("ok on {n}"))
            }
        }
    }

    fn policy(attempts: u32) -> RetryPolicy {
        RetryPolicy {
            attempts,
            base: Duration::from_millis(1),
            max: Duration::from_millis(5),
        }
    }

    #[test]
    fn retries_until_delivered_and_reports_attempts() {
        let mut d = Dispatcher::new(Duration::from_secs(10));
        let tried = Arc::new(AtomicU32::new(0));
        d.add(
            Flaky {
                fails: 2,
                tried: tried.clone(),
                gate: None,
            },
            policy(3),
            4,
        )
        .unwrap();
        d.notify(&notice(NoticeKind::Opened));
        d.notify(&notice(NoticeKind::RolledBack));
        assert_eq!(d.settle(), 0);
        let got = d.deliveries();
        assert_eq!(got.len(), 1, "the skipped notice is not reported: {got:?}");
        assert_eq!(
            (got[0].ok, got[0].attempts, got[0].detail.as_str()),
            (true, 3, "ok on 3")
        );
        assert!(d.deliveries().is_empty(), "collected once");
    }

    #[test]
    fn gives_up_after_the_last_attempt() {
        let mut d = Dispatcher::new(Duration::from_secs(10));
        let tried = Arc::new(AtomicU32::new(0));
        d.add(
            Flaky {
                fails: 10,
                tried,
                gate: None,
            },
            policy(2),
            4,
        )
        .unwrap();
        d.notify(&notice(NoticeKind::Opened));
        assert_eq!(d.settle(), 0);
        let got = d.deliveries();
        assert_eq!(
            (got[0].ok, got[0].attempts, got[0].detail.as_str()),
            (false, 2, "boom 2")
        );
    }

    #[test]
    fn a_full_queue_drops_instead_of_blocking_and_settle_is_bounded() {
        let mut d = Dispatcher::new(Duration::from_millis(50));
        let gate = Arc::new(Mutex::new(()));
        let held = gate.lock().unwrap();
        d.add(
            Flaky {
                fails: 0,
                tried: Arc::new(AtomicU32::new(0)),
                gate: Some(gate.clone()),
            },
            policy(1),
            1,
        )
        .unwrap();
        // The channel thread holds at most one (blocked in deliver) and the queue one more, so
        // of six notices at least four are dropped, whenever the thread picks up the first.
        for _ in 0..6 {
            d.notify(&notice(NoticeKind::AwaitingApproval));
        }
        let dropped: Vec<Delivery> = d.deliveries();
        assert!(dropped.len() >= 4, "{dropped:?}");
        assert!(dropped
            .iter()
            .all(|x| !x.ok && x.attempts == 0 && x.detail.contains("queue is full")));
        assert!(d.settle() > 0, "still blocked: settle gives up");
        drop(held);
        let mut left = d.settle();
        for _ in 0..100 {
            if left == 0 {
                break;
            }
            left = d.settle();
        }
        assert_eq!(left, 0);
    }
}
