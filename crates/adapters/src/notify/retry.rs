//! When to try a delivery again and how long to wait first. Receivers fail in two ways that need
//! opposite answers: a timeout, a refused connection, HTTP 429/5xx or an SMTP 4xx may pass, so
//! retrying with growing waits gets the message through without hammering a struggling service;
//! a 4xx (bad URL, revoked key) will fail the same way every time, so it is reported at once.

use std::time::Duration;

/// Why one attempt failed, and whether another might succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What happened, in operator words, without secrets.
    pub message: String,
    /// Whether the same request may succeed later.
    pub retryable: bool,
    /// How long the receiver asked us to wait (`Retry-After`), when it said.
    pub retry_after: Option<Duration>,
}

impl Failure {
    /// A failure that may pass: try again after the backoff.
    pub fn transient(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            retryable: true,
            retry_after: None,
        }
    }

    /// A failure that will repeat: report it now.
    pub fn permanent(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            retryable: false,
            retry_after: None,
        }
    }
}

/// Attempts and exponential backoff, from `notifications.{attempts,backoff_ms,max_backoff_ms}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub attempts: u32,
    /// Wait after the first failure; doubled after each further one.
    pub base: Duration,
    /// Longest wait, `Retry-After` included, so a receiver cannot park a channel for hours.
    pub max: Duration,
}

impl RetryPolicy {
    /// The wait after failed attempt number `failed` (1-based): `base · 2^(failed-1)`, or what
    /// the receiver asked for, never more than `max`.
    pub fn delay(&self, failed: u32, retry_after: Option<Duration>) -> Duration {
        let wait = retry_after.unwrap_or_else(|| {
            let factor = 1u32
                .checked_shl(failed.saturating_sub(1))
                .unwrap_or(u32::MAX);
            self.base.saturating_mul(factor)
        });
        wait.min(self.max)
    }

    /// Whether attempt number `done` (1-based) may be followed by another after `failure`.
    pub fn again(&self, done: u32, failure: &Failure) -> bool {
        failure.retryable && done < self.attempts
    }
}

/// Parse an HTTP `Retry-After` value given in seconds. The HTTP-date form is not read (chat and
/// paging services send seconds); the exponential backoff applies then.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            attempts: 4,
            base: Duration::from_millis(100),
            max: Duration::from_millis(1_000),
        }
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = policy();
        let waits: Vec<u128> = (1..=5).map(|n| p.delay(n, None).as_millis()).collect();
        assert_eq!(waits, vec![100, 200, 400, 800, 1_000]);
        assert_eq!(p.delay(64, None), Duration::from_millis(1_000));
    }

    #[test]
    fn retry_after_replaces_the_backoff_within_the_cap() {
        let p = policy();
        assert_eq!(
            p.delay(1, Some(Duration::from_millis(700))),
            Duration::from_millis(700)
        );
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(3600))),
            Duration::from_millis(1_000)
        );
        assert_eq!(parse_retry_after(" 2 "), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    #[test]
    fn only_transient_failures_are_retried_and_only_while_attempts_remain() {
        let p = policy();
        assert!(p.again(1, &Failure::transient("HTTP 503")));
        assert!(!p.again(4, &Failure::transient("HTTP 503")));
        assert!(!p.again(1, &Failure::permanent("HTTP 404")));
    }
}
