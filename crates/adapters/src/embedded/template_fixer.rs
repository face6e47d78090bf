//! The template fix generator as the `FixGenerator` port. Today it knows the null-check template;
//! the failure-injection mode can swap in a deliberately bad variant to exercise rollback.

use ccp_core::domain::FixPlan;
use ccp_core::fix;
use ccp_core::ports::{FixGenerator, FixRequest, PortError, PortResult};

/// Confidence of the null-check template when the trace names a `NoneType` attribute access:
/// the pattern is unambiguous, but the right fallback behaviour is a judgement call.
const NULL_CHECK_CONFIDENCE: f64 = 0.91;

/// Template-based fixer.
#[derive(Debug, Clone, Default)]
pub struct TemplateFixer {
    /// `--inject-failure canary_regression`: ship a patch that passes tests but hurts production.
    pub inject_regression: bool,
}

/// The attribute in `'NoneType' object has no attribute 'strip'`.
fn none_attribute(message: &str) -> Option<String> {
    let rest = message
        .split("'NoneType' object has no attribute '")
        .nth(1)?;
    Some(rest.split('\'').next()?.to_string())
}

impl FixGenerator for TemplateFixer {
    fn propose(&self, req: &FixRequest) -> PortResult<FixPlan> {
        let attr = match (req.exception.as_str(), none_attribute(&req.message)) {
            ("AttributeError", Some(a)) => a,
            _ => {
                return Err(PortError::new(
                    "fixer",
                    format!(
                        "no template matches {}: {} (known: null_check for AttributeError on None)",
                        req.exception, req.message
                    ),
                ))
            }
        };
        let mut p = fix::null_check(&req.file, &req.source, req.line, &attr)
            .map_err(|e| PortError::new("fixer", e.to_string()))?;
        if self.inject_regression {
            p = fix::inject_regression(&p).map_err(|e| PortError::new("fixer", e.to_string()))?;
        }
        Ok(FixPlan {
            template: p.template,
            file: p.file,
            line: p.line,
            diff: p.diff,
            description: p.description,
            new_source: p.new_source,
            lines_added: p.lines_added,
            lines_removed: p.lines_removed,
            confidence: NULL_CHECK_CONFIDENCE,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_attribute() {
        assert_eq!(
            none_attribute("'NoneType' object has no attribute 'strip'").as_deref(),
            Some("strip")
        );
        assert_eq!(none_attribute("division by zero"), None);
    }
}
