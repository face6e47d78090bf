//! Decision justification records. Every automated decision (RCA ranking, risk score, gate,
//! canary verdict, override) carries one so a human can audit *why*, not only *what*.

use serde::{Deserialize, Serialize};

/// One weighted factor of a decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    /// Factor name (`criticality`, `change_size`…).
    pub name: String,
    /// Its value in the formula.
    pub value: f64,
    /// Its weight (1.0 for multiplicative factors).
    pub weight: f64,
    /// Why it has this value.
    pub note: String,
}

/// The justification record of the design: inputs, weighted factors, constraints, alternatives,
/// reasoning, confidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Justification {
    /// Decision kind (`risk_score`, `rca_ranking`, `gate:tests`, `canary_verdict`, `approval_policy`…).
    pub decision: String,
    /// What was decided, in a few words (`CANARY_DEPLOY`, `pause for review`…).
    pub outcome: String,
    /// Raw inputs as name → value.
    pub inputs: serde_json::Map<String, serde_json::Value>,
    /// Weighted factors.
    pub factors: Vec<Factor>,
    /// Constraints that applied (thresholds, policies).
    pub constraints: Vec<String>,
    /// Alternatives considered and why not chosen.
    pub alternatives: Vec<String>,
    /// The reasoning in a sentence or two.
    pub reasoning: String,
    /// Confidence in [0,1].
    pub confidence: f64,
}

impl Justification {
    /// Start a record; builders below fill the rest, so call sites stay readable.
    pub fn new(decision: &str, outcome: impl Into<String>) -> Self {
        Self {
            decision: decision.to_string(),
            outcome: outcome.into(),
            inputs: serde_json::Map::new(),
            factors: Vec::new(),
            constraints: Vec::new(),
            alternatives: Vec::new(),
            reasoning: String::new(),
            confidence: 1.0,
        }
    }

    /// Record an input.
    pub fn input(mut self, name: &str, value: impl Serialize) -> Self {
        let v = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
        self.inputs.insert(name.to_string(), v);
        self
    }

    /// Record a weighted factor.
    pub fn factor(mut self, name: &str, value: f64, weight: f64, note: impl Into<String>) -> Self {
        self.factors.push(Factor {
            name: name.to_string(),
            value,
            weight,
            note: note.into(),
        });
        self
    }

    /// Record a constraint.
    pub fn constraint(mut self, c: impl Into<String>) -> Self {
        self.constraints.push(c.into());
        self
    }

    /// Record an alternative.
    pub fn alternative(mut self, a: impl Into<String>) -> Self {
        self.alternatives.push(a.into());
        self
    }

    /// Set the reasoning.
    pub fn reasoning(mut self, r: impl Into<String>) -> Self {
        self.reasoning = r.into();
        self
    }

    /// Set the confidence.
    pub fn confidence(mut self, c: f64) -> Self {
        self.confidence = c.clamp(0.0, 1.0);
        self
    }
}
