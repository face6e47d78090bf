//! The template fix generator as the `FixGenerator` port: every template of `ccp_core::fix` is
//! asked, the best-ranked patch is proposed and the other answers travel with it as
//! alternatives. The failure-injection mode can swap in a deliberately bad variant of the null
//! check to exercise rollback.

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
        let ranking = ranking_for(req);
        // A `None` attribute access keeps the original null check (its fallback reads the
        // service's own defaults); every other fault gets the best-ranked template.
        let chosen = match (req.exception.as_str(), none_attribute(&req.message)) {
            ("AttributeError", Some(attr)) => {
                let fixer_error = |e: fix::FixError| PortError::new("fixer", e.to_string());
                let mut p = fix::null_check(&req.file, &req.source, req.line, &attr)
                    .map_err(fixer_error)?;
                if self.inject_regression {
                    p = fix::inject_regression(&p).map_err(fixer_error)?;
                }
                Chosen {
                    template: p.template,
                    diff: p.diff,
                    description: p.description,
                    new_source: p.new_source,
                    lines_added: p.lines_added,
                    lines_removed: p.lines_removed,
                    confidence: NULL_CHECK_CONFIDENCE,
                    // The generic null guard proposes the same change: not an alternative.
                    skip: Some(fix::NULL_GUARD_TEMPLATE),
                }
            }
            _ if self.inject_regression => {
                return Err(PortError::new(
                    "fixer",
                    "the canary-regression drill builds on a null check of a None attribute; this fault is not one",
                ))
            }
            _ => {
                let Some(best) = ranking.candidates.first() else {
                    return Err(PortError::new(
                        "fixer",
                        format!(
                            "no template applies to {}: {} ({})",
                            req.exception,
                            req.message,
                            declined(&ranking)
                        ),
                    ));
                };
                let p = &best.patch;
                Chosen {
                    template: p.template.clone(),
                    diff: p.diff.clone(),
                    description: p.rationale.clone(),
                    new_source: p.new_source.clone(),
                    lines_added: p.lines_added,
                    lines_removed: p.lines_removed,
                    confidence: best.confidence,
                    skip: None,
                }
            }
        };
        let alternatives = alternatives(&ranking, &chosen.template, chosen.skip);
        Ok(FixPlan {
            template: chosen.template,
            file: req.file.clone(),
            line: req.line,
            diff: chosen.diff,
            description: chosen.description,
            new_source: chosen.new_source,
            lines_added: chosen.lines_added,
            lines_removed: chosen.lines_removed,
            confidence: chosen.confidence,
            alternatives,
        })
    }
}

/// The patch picked, before it becomes a plan.
struct Chosen {
    template: String,
    diff: String,
    description: String,
    new_source: String,
    lines_added: u32,
    lines_removed: u32,
    confidence: f64,
    /// A template whose answer is the chosen patch under another name.
    skip: Option<&'static str>,
}

/// Every template's answer to the request. The fault is read as an error signal: the
/// localized exception is what the pipeline has.
fn ranking_for(req: &FixRequest) -> fix::Ranking {
    let Some(language) = fix::Language::from_path(&req.file) else {
        return fix::Ranking {
            candidates: Vec::new(),
            refusals: Vec::new(),
        };
    };
    let input = fix::FixInput {
        file: &req.file,
        source: &req.source,
        error_type: &req.exception,
        message: &req.message,
        line: req.line,
        language,
    };
    fix::rank(&input, fix::SignalKind::Errors)
}

/// The other answers, best first, as the decision record and the cockpit list them.
fn alternatives(ranking: &fix::Ranking, chosen: &str, skip: Option<&str>) -> Vec<String> {
    let other = |t: &str| t != chosen && Some(t) != skip;
    let candidates = ranking
        .candidates
        .iter()
        .filter(|c| other(&c.patch.template))
        .map(|c| {
            format!(
                "{} (confidence {:.2}, +{} −{}): {}",
                c.patch.template,
                c.confidence,
                c.patch.lines_added,
                c.patch.lines_removed,
                c.patch.rationale
            )
        });
    let refusals = ranking
        .refusals
        .iter()
        .filter(|r| other(r.template))
        .map(|r| format!("{} declined: {}", r.template, r.reason));
    candidates.chain(refusals).collect()
}

/// Why every template declined, in one line.
fn declined(ranking: &fix::Ranking) -> String {
    if ranking.refusals.is_empty() {
        return "no template knows this file's language".to_string();
    }
    ranking
        .refusals
        .iter()
        .map(|r| format!("{}: {}", r.template, r.reason))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAVA: &str = "package com.acme;\n\npublic class Mailer {\n    static class User {\n        String email;\n    }\n\n    public void notify(User user) {\n        send(user.email.trim());\n    }\n\n    void send(String to) {}\n}\n";

    fn request(file: &str, source: &str, line: u32, exception: &str, message: &str) -> FixRequest {
        FixRequest {
            service: "svc".into(),
            file: file.into(),
            line,
            source: source.into(),
            exception: exception.into(),
            message: message.into(),
        }
    }

    #[test]
    fn a_java_npe_gets_the_best_ranked_template_and_the_others_as_alternatives() {
        let req = request(
            "src/Mailer.java",
            JAVA,
            9,
            "java.lang.NullPointerException",
            "Cannot invoke \"String.trim()\" because \"user.email\" is null",
        );
        let plan = TemplateFixer::default()
            .propose(&req)
            .expect("a template applies");
        assert_eq!(plan.template, "null_guard");
        assert!(
            plan.new_source.contains("if (user.email != null)"),
            "{}",
            plan.new_source
        );
        assert!(plan.diff.contains("+++ b/src/Mailer.java"), "{}", plan.diff);
        assert!(plan.confidence > 0.0 && plan.confidence <= 1.0);
        assert!(!plan.alternatives.is_empty());
        assert!(
            plan.alternatives
                .iter()
                .all(|a| !a.starts_with("null_guard")),
            "the chosen template is not its own alternative: {:?}",
            plan.alternatives
        );
        assert!(
            plan.alternatives.iter().any(|a| a.contains("declined")),
            "refusals are listed with their reason: {:?}",
            plan.alternatives
        );
    }

    #[test]
    fn a_file_no_template_reads_is_refused_with_the_reasons() {
        let req = request("notes.txt", "hello\n", 1, "Oops", "no");
        let err = TemplateFixer::default()
            .propose(&req)
            .expect_err("nothing applies");
        assert!(err.to_string().contains("no template applies"), "{err}");
    }

    #[test]
    fn extracts_attribute() {
        assert_eq!(
            none_attribute("'NoneType' object has no attribute 'strip'").as_deref(),
            Some("strip")
        );
        assert_eq!(none_attribute("division by zero"), None);
    }
}
