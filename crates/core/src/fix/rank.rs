//! Choosing a fix: run every template on the evidence and order what they return.
//!
//! Why keep refusals: the decision record and the cockpit show the alternatives and why each
//! template declined, so a reviewer can see the patch was not the only idea, or why none applied.

use serde::Serialize;

use super::template::{templates, FixInput, Patch, Refusal, SignalKind};

/// A patch with its ranking score and the reasons behind it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Candidate {
    /// The patch.
    pub patch: Patch,
    /// Ranking score in `[0, 1]`: the patch's own confidence times how well its kind of fix
    /// answers the signal.
    pub confidence: f64,
    /// Why it is ranked where it is: the template's rationale and the signal fit.
    pub reasons: Vec<String>,
}

/// A template that declined, with its reason.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Refused {
    /// Template name.
    pub template: &'static str,
    /// Why it declined, in words.
    pub reason: String,
    /// The typed reason, for code that reacts to specific refusals.
    #[serde(skip)]
    pub refusal: Refusal,
}

/// The outcome of ranking: candidates best first, and the refusals in template order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ranking {
    /// Patches, highest confidence first (ties keep template order).
    pub candidates: Vec<Candidate>,
    /// Templates that declined.
    pub refusals: Vec<Refused>,
}

/// Run every template on `input` and rank the patches for `signal`. Why all of them: the first
/// candidate may fail the gates, and the next one should be ready without another analysis.
pub fn rank(input: &FixInput<'_>, signal: SignalKind) -> Ranking {
    let mut candidates = Vec::new();
    let mut refusals = Vec::new();
    for template in templates() {
        match template.propose(input) {
            Ok(patch) => {
                let (fit, why) = template.signal_fit(signal);
                let confidence = (patch.confidence * fit).clamp(0.0, 1.0);
                let reasons = vec![
                    patch.rationale.clone(),
                    format!(
                        "template confidence {:.2} × fit {:.2} for a {} signal: {why}",
                        patch.confidence,
                        fit,
                        signal_name(signal)
                    ),
                ];
                candidates.push(Candidate {
                    patch,
                    confidence,
                    reasons,
                });
            }
            Err(refusal) => refusals.push(Refused {
                template: template.name(),
                reason: refusal.to_string(),
                refusal,
            }),
        }
    }
    candidates.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    Ranking {
        candidates,
        refusals,
    }
}

fn signal_name(signal: SignalKind) -> &'static str {
    match signal {
        SignalKind::Errors => "errors",
        SignalKind::Latency => "latency",
        SignalKind::Saturation => "saturation",
    }
}
