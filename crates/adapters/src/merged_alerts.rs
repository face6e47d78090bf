//! Several alert sources as one: ccp's own detector beside Alertmanager (webhook or API), so a
//! team can move to Alertmanager paging without losing the built-in checks, or run either alone.

use ccp_core::domain::{Alert, Millis};
use ccp_core::ports::{AlertSource, PortResult};
use std::sync::Arc;

/// Polls each source in order; a failing source is skipped while another still answers.
pub struct MergedAlerts {
    sources: Vec<Arc<dyn AlertSource>>,
}

impl MergedAlerts {
    /// Merge `sources` (the first one's alerts come first when severities tie).
    pub fn new(sources: Vec<Arc<dyn AlertSource>>) -> Self {
        Self { sources }
    }
}

impl AlertSource for MergedAlerts {
    fn poll(&self, now_ms: Millis) -> PortResult<Vec<Alert>> {
        let mut out = Vec::new();
        let mut first_err = None;
        let mut answered = false;
        for s in &self.sources {
            match s.poll(now_ms) {
                Ok(a) => {
                    answered = true;
                    out.extend(a);
                }
                Err(e) => {
                    tracing::warn!("alert source failed: {e}");
                    first_err.get_or_insert(e);
                }
            }
        }
        match (answered, first_err) {
            (false, Some(e)) => Err(e),
            _ => {
                out.sort_by_key(|a| std::cmp::Reverse(a.severity));
                Ok(out)
            }
        }
    }

    fn resolved(&self) -> Vec<Alert> {
        self.sources.iter().flat_map(|s| s.resolved()).collect()
    }
}
