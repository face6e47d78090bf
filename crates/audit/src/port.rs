//! The file audit log as the pipeline's `AuditLog` port (here, beside the log, because Rust lets
//! only the crate of the type or of the trait implement one for the other).

use crate::FileAuditLog;
use ccp_core::ports::{AuditLog, PortError, PortResult};

impl AuditLog for FileAuditLog {
    fn append(
        &mut self,
        ts: &str,
        actor: &str,
        kind: &str,
        data: serde_json::Value,
    ) -> PortResult<()> {
        FileAuditLog::append(self, ts, actor, kind, data)
            .map(|_| ())
            .map_err(|e| PortError::new("audit", e.to_string()))
    }
}
