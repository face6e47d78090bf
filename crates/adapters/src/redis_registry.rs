//! The operations registry in Redis, so cockpits and `ccp serve` instances on one fleet see each
//! other's operations before they deploy (conflict detection across processes). One key per
//! operation, `ccp:op:<incident>`, holding the operation as JSON with a TTL: an operation whose
//! process died disappears by itself after the TTL instead of blocking its services forever.
//! Every phase update refreshes the TTL, so a live operation never expires; the TTL only needs to
//! outlast the longest quiet stretch of a live one (a human thinking over an approval), which is
//! why it defaults to an hour rather than to the lock lease.

use super::redis_conn::{RedisConn, RedisTimeouts};
use ccp_core::conflict::Operation;
use ccp_core::ports::{OperationRegistry, PortError, PortResult};

/// Prefix of every operation key; the incident id follows.
pub const OP_PREFIX: &str = "ccp:op:";

/// Default lifetime of an operation entry without updates.
pub const DEFAULT_OP_TTL_MS: u64 = 3_600_000;

/// Operations registered in Redis.
pub struct RedisRegistry {
    conn: RedisConn,
    ttl_ms: u64,
}

fn key(incident: &str) -> String {
    format!("{OP_PREFIX}{incident}")
}

fn encode(op: &Operation) -> PortResult<String> {
    serde_json::to_string(op)
        .map_err(|e| PortError::new("registry", format!("encoding operation: {e}")))
}

impl RedisRegistry {
    /// A registry on the server at `url`; entries live `ttl_ms` past their last update.
    pub fn new(url: &str, timeouts: RedisTimeouts, ttl_ms: u64) -> PortResult<Self> {
        Ok(Self {
            conn: RedisConn::new(url, timeouts, "registry")?,
            ttl_ms: ttl_ms.max(1),
        })
    }
}

impl OperationRegistry for RedisRegistry {
    fn register(&self, op: &Operation) -> PortResult<()> {
        let (k, v) = (key(&op.incident), encode(op)?);
        self.conn.run("registering an operation", |c| {
            redis::cmd("SET")
                .arg(&k)
                .arg(&v)
                .arg("PX")
                .arg(self.ttl_ms)
                .query::<()>(c)
        })
    }

    fn update_phase(&self, incident: &str, phase: &str) -> PortResult<()> {
        let k = key(incident);
        let current: Option<String> = self.conn.run("reading an operation", |c| {
            redis::cmd("GET").arg(&k).query(c)
        })?;
        // Gone (expired or withdrawn): nothing to update, as the trait promises.
        let Some(text) = current else { return Ok(()) };
        let mut op: Operation = serde_json::from_str(&text).map_err(|e| {
            PortError::new("registry", format!("{k} does not hold an operation: {e}"))
        })?;
        op.phase = phase.to_string();
        let v = encode(&op)?;
        // XX: only if still there, so a concurrent unregister is not undone.
        self.conn.run("updating an operation", |c| {
            redis::cmd("SET")
                .arg(&k)
                .arg(&v)
                .arg("PX")
                .arg(self.ttl_ms)
                .arg("XX")
                .query::<()>(c)
        })
    }

    fn unregister(&self, incident: &str) -> PortResult<()> {
        let k = key(incident);
        self.conn.run("withdrawing an operation", |c| {
            redis::cmd("DEL").arg(&k).query::<()>(c)
        })
    }

    fn active(&self) -> PortResult<Vec<Operation>> {
        let keys = self
            .conn
            .scan("listing operations", &format!("{OP_PREFIX}*"))?;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let values: Vec<Option<String>> = self.conn.run("listing operations", |c| {
            redis::cmd("MGET").arg(&keys).query(c)
        })?;
        let mut ops = Vec::new();
        for (k, v) in keys.iter().zip(values) {
            // Expired between SCAN and MGET.
            let Some(v) = v else { continue };
            match serde_json::from_str::<Operation>(&v) {
                Ok(op) => ops.push(op),
                // Someone else's key under our prefix, or a newer format: skip, but say so.
                Err(e) => tracing::warn!(key = %k, error = %e, "ignoring an unreadable operation"),
            }
        }
        ops.sort_by(|a, b| {
            a.started_ms
                .cmp(&b.started_ms)
                .then_with(|| a.incident.cmp(&b.incident))
        });
        Ok(ops)
    }
}
