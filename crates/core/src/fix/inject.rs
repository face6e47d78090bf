//! Failure injection for drills (`--inject-failure canary_regression`) — never used otherwise.
//!
//! The drill needs a patch that passes every pre-deploy gate yet hurts production, to prove the
//! canary analysis and the rollback catch what unit tests cannot. The variant keeps the null check
//! but also validates the guarded value with a "strict" helper that rejects `+tag` addresses,
//! about 30 % of the demo's traffic; the service's unit tests use no such address, so they pass.

use super::{diff, FixError, FixProposal};

/// Comment ccp writes next to everything it injects, so nobody mistakes it for a real fix.
pub const INJECTION_MARKER: &str = "# injected by ccp --inject-failure canary_regression";

/// Name of the helper function appended to the patched module.
pub const INJECTED_HELPER: &str = "_ccp_injected_strict_email";

/// A deliberately harmful variant of a `null_check` proposal for the canary-regression drill.
/// Why it exists: the canary gate must be shown to stop a patch that the unit tests accept.
pub fn inject_regression(proposal: &FixProposal) -> Result<FixProposal, FixError> {
    let refuse = |why: String| FixError::InjectionNotPossible {
        file: proposal.file.clone(),
        why,
    };
    if proposal.template != super::NULL_CHECK_TEMPLATE {
        return Err(refuse(format!(
            "it only works on null_check patches, this one is `{}`",
            proposal.template
        )));
    }
    let lines: Vec<&str> = proposal.new_source.split_inclusive('\n').collect();
    let guard = format!("if {} is not None:", proposal.guarded_expr);
    let guard_index = nearest_line(&lines, &guard, proposal.line).ok_or_else(|| {
        refuse(format!(
            "the patched file has no `{guard}` line to build on"
        ))
    })?;
    let body = lines
        .get(guard_index + 1)
        .ok_or_else(|| refuse("the guard has no body".to_string()))?;
    let outer = leading_ws(lines[guard_index]);
    let inner = leading_ws(body);
    let unit = inner.strip_prefix(outer).unwrap_or("    ");
    let eol = if proposal.new_source.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let call = format!(
        "{inner}{INJECTED_HELPER}({})  {INJECTION_MARKER}{eol}",
        proposal.guarded_expr
    );
    let mut new_source: String = lines[..=guard_index].concat();
    new_source.push_str(&call);
    new_source.push_str(&lines[guard_index + 1..].concat());
    new_source.push_str(&helper_source(&new_source, unit, eol));
    Ok(rebuild(proposal, new_source))
}

/// Index of the line whose trimmed text is `wanted`, closest to the 1-based `line`.
fn nearest_line(lines: &[&str], wanted: &str, line: u32) -> Option<usize> {
    let target = usize::try_from(line)
        .unwrap_or(usize::MAX)
        .saturating_sub(1);
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.trim() == wanted)
        .min_by_key(|(i, _)| i.abs_diff(target))
        .map(|(i, _)| i)
}

fn leading_ws(line: &str) -> &str {
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

/// The helper appended at the end of the module (PEP 8 spacing, the file's own indentation).
fn helper_source(current: &str, unit: &str, eol: &str) -> String {
    let separator = if current.ends_with('\n') { "" } else { eol };
    let body = [
        INJECTION_MARKER.to_string(),
        format!("def {INJECTED_HELPER}(address):"),
        format!("{unit}\"\"\"Reject +tag sub-addresses (deliberate regression for the canary drill).\"\"\""),
        format!("{unit}if \"+\" in str(address):"),
        format!("{unit}{unit}raise ValueError(\"address rejected by strict validation: %r\" % (address,))"),
        format!("{unit}return address"),
    ]
    .join(eol);
    format!("{separator}{eol}{eol}{body}{eol}")
}

fn rebuild(proposal: &FixProposal, new_source: String) -> FixProposal {
    let (lines_added, lines_removed) = diff::line_counts(&proposal.old_source, &new_source);
    FixProposal {
        diff: diff::unified(&proposal.file, &proposal.old_source, &new_source),
        description: format!(
            "{} [INJECTED REGRESSION for the canary_regression drill: also rejects `{}` values containing '+' via {INJECTED_HELPER}]",
            proposal.description, proposal.guarded_expr
        ),
        new_source,
        lines_added,
        lines_removed,
        ..proposal.clone()
    }
}
