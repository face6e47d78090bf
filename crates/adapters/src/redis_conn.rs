//! One Redis connection with the habits every Redis adapter here needs: opened lazily (a cockpit
//! may start before Redis does), connect/read/write timeouts (an unreachable server becomes an
//! error in seconds, never a hang), dropped after any error (the next call starts clean instead
//! of reading a half-finished reply), and messages that name the server without its password.

use ccp_core::ports::{PortError, PortResult};
use redis::{Client, Connection};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// Timeouts for talking to Redis. Short by default: a lock service that does not answer within a
/// couple of seconds is treated as gone, which is the safe reading for a deploy in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedisTimeouts {
    /// TCP connect.
    pub connect: Duration,
    /// One command's reply.
    pub io: Duration,
}

impl Default for RedisTimeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_millis(1_000),
            io: Duration::from_millis(2_000),
        }
    }
}

/// Re-exported: Redis URLs in messages go through the one redaction every adapter uses.
pub use super::url_redact::redact_url;

/// A lazily opened, self-healing connection; `port` names the port in errors (`locks`, …).
pub struct RedisConn {
    client: Client,
    shown_url: String,
    timeouts: RedisTimeouts,
    port: &'static str,
    conn: Mutex<Option<Connection>>,
}

impl RedisConn {
    /// Parse `url`; nothing is connected yet.
    pub fn new(url: &str, timeouts: RedisTimeouts, port: &'static str) -> PortResult<Self> {
        let shown_url = redact_url(url);
        let client = Client::open(url)
            .map_err(|e| PortError::new(port, format!("bad Redis URL {shown_url}: {e}")))?;
        Ok(Self {
            client,
            shown_url,
            timeouts,
            port,
            conn: Mutex::new(None),
        })
    }

    /// The server's address as shown to people (no password).
    pub fn url(&self) -> &str {
        &self.shown_url
    }

    fn guard(&self) -> MutexGuard<'_, Option<Connection>> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Run `f` on the connection, opening it first if needed; `what` says what we were doing,
    /// for the error message.
    pub fn run<T>(
        &self,
        what: &str,
        f: impl FnOnce(&mut Connection) -> redis::RedisResult<T>,
    ) -> PortResult<T> {
        let mut guard = self.guard();
        if guard.is_none() {
            let c = self
                .client
                .get_connection_with_timeout(self.timeouts.connect)
                .and_then(|c| {
                    c.set_read_timeout(Some(self.timeouts.io))?;
                    c.set_write_timeout(Some(self.timeouts.io))?;
                    Ok(c)
                })
                .map_err(|e| self.failed(what, &e))?;
            *guard = Some(c);
        }
        let Some(c) = guard.as_mut() else {
            return Err(PortError::new(self.port, "internal: no Redis connection"));
        };
        f(c).map_err(|e| {
            *guard = None;
            self.failed(what, &e)
        })
    }

    /// What went wrong, in words an on-call engineer acts on: a timeout reads "did not answer
    /// within 2000 ms", not the socket's "Resource temporarily unavailable (os error 11)".
    fn failed(&self, what: &str, e: &redis::RedisError) -> PortError {
        let url = &self.shown_url;
        let message = if e.is_timeout() {
            format!(
                "Redis at {url} did not answer within {} ms while {what} (connect timeout {} ms): \
                 the server is overloaded, paused or unreachable",
                self.timeouts.io.as_millis(),
                self.timeouts.connect.as_millis()
            )
        } else if e.is_connection_refusal() {
            format!("Redis at {url} refused the connection while {what}: is redis-server running there?")
        } else {
            format!("Redis at {url} failed while {what}: {e}")
        };
        PortError::new(self.port, message)
    }

    /// Every key matching `pattern`, by incremental SCAN (never KEYS, which blocks the server).
    pub fn scan(&self, what: &str, pattern: &str) -> PortResult<Vec<String>> {
        self.run(what, |c| {
            let mut keys = Vec::new();
            let mut cursor: u64 = 0;
            loop {
                let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(pattern)
                    .arg("COUNT")
                    .arg(500)
                    .query(c)?;
                keys.extend(batch);
                if next == 0 {
                    return Ok(keys);
                }
                cursor = next;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_that_never_answers_is_named_as_a_timeout() {
        // Accepts the connection and then says nothing, as a paused or wedged server does.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let hold = std::thread::spawn(move || {
            let held = listener.accept();
            std::thread::sleep(Duration::from_secs(2));
            drop(held);
        });
        let timeouts = RedisTimeouts {
            connect: Duration::from_millis(300),
            io: Duration::from_millis(300),
        };
        let conn =
            RedisConn::new(&format!("redis://:hunter2@{addr}"), timeouts, "locks").expect("url");
        let err = conn
            .run("pinging", |c| redis::cmd("PING").query::<String>(c))
            .expect_err("no answer")
            .to_string();
        assert!(err.contains("did not answer within 300 ms"), "{err}");
        assert!(
            !err.contains("os error 11") && !err.contains("hunter2"),
            "{err}"
        );
        let _ = hold.join();
    }

    #[test]
    fn a_refused_connection_says_so() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let conn = RedisConn::new(
            &format!("redis://127.0.0.1:{port}"),
            RedisTimeouts::default(),
            "locks",
        )
        .expect("url");
        let err = conn
            .run("pinging", |c| redis::cmd("PING").query::<String>(c))
            .expect_err("refused")
            .to_string();
        assert!(err.contains("refused the connection"), "{err}");
    }

    #[test]
    fn urls_are_shown_without_passwords() {
        assert_eq!(
            redact_url("redis://:s3cret@10.0.0.1:6380/2"),
            "redis://10.0.0.1:6380/2"
        );
        assert_eq!(redact_url("redis://user:pw@host:1"), "redis://host:1");
        assert_eq!(
            redact_url("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
    }
}
