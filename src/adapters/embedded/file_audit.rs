//! The file audit log as the pipeline's `AuditLog` port.

use crate::audit::FileAuditLog;
use crate::core::ports::{AuditLog, PortError, PortResult};

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
