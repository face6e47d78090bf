//! The failure categorizer: YAML rules (regular expressions over log lines and metadata) vote for
//! a [`Category`] with a weight; the category with the most weight wins. Rules are data, not
//! code, because every shop's logs differ: the embedded defaults
//! (`config/recovery/categories.yaml`) cover common CI/CD failures and an operator's own file
//! extends them (new ids), replaces them (same id) or disables them (`disable: [id]`).
//!
//! ```yaml
//! rules:
//!   oom-killed:                      # rule id (unique; a user file reusing it replaces it)
//!     category: resource             # one of the ten; omit it for a severity-only modifier
//!     severity: high                 # info | low | medium | high | critical
//!     weight: 1.0                    # how strongly a hit votes (> 0); 1.0 = conclusive alone
//!     logs: ['(?i)\bOOMKilled\b']    # regexes over each log line
//!     metadata: { exit_code: '^137$' } # regexes over named facts
//!     all: false                     # true: every matcher must hit (default: any one)
//! disable: [some-default-id]         # user files only
//! ```
//!
//! Scoring: each rule that hits adds its weight once to its category. The winner has the highest
//! score (ties: the order of [`Category::ALL`]). `confidence = share × strength`, where
//! `share` = winner's score / all scores (ambiguity lowers it) and `strength` = min(1, winner's
//! score) (weak evidence lowers it). Severity is the highest severity among the winner's hits,
//! raised by any modifier that hit. With no hit at all the answer is `application`/`medium` with
//! confidence 0 — a guess, and it says so.

use super::case::FailureInput;
use super::category::{Category, Severity};
use ccp_config::{invalid_at, load_yaml_str, process_env, ConfigError};
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The embedded default rules file.
pub const DEFAULT_RULES: &str = include_str!("../../../config/recovery/categories.yaml");
/// The name errors in the embedded file are reported under.
pub const DEFAULT_RULES_NAME: &str = "config/recovery/categories.yaml";

/// Evidence lines kept per rule: enough to show why, few enough to read.
const EVIDENCE_PER_RULE: usize = 3;
/// Longest evidence text, in characters.
const EVIDENCE_CHARS: usize = 200;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    rules: BTreeMap<String, RuleSpec>,
    #[serde(default)]
    disable: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    #[serde(default)]
    category: Option<Category>,
    #[serde(default)]
    severity: Option<Severity>,
    #[serde(default = "default_weight")]
    weight: f64,
    #[serde(default)]
    logs: Vec<String>,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
    #[serde(default)]
    all: bool,
}

fn default_weight() -> f64 {
    1.0
}

/// One compiled rule.
#[derive(Debug, Clone)]
struct Rule {
    id: String,
    category: Option<Category>,
    severity: Severity,
    weight: f64,
    logs: Vec<Regex>,
    metadata: Vec<(String, Regex)>,
    all: bool,
}

/// One piece of evidence: which rule matched what, where.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// The rule that matched.
    pub rule: String,
    /// The category it votes for (`None` for a severity modifier).
    pub category: Option<Category>,
    /// Where: `log:<line number>` (1-based) or `metadata.<key>`.
    pub source: String,
    /// The matched line or `key=value`, shortened.
    pub text: String,
}

/// The categorizer's answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Categorization {
    /// The winning category.
    pub category: Category,
    /// Its severity.
    pub severity: Severity,
    /// How sure, in [0, 1] (see the module documentation).
    pub confidence: f64,
    /// What matched, the winner's evidence first.
    pub evidence: Vec<Evidence>,
    /// Score of every category that got a vote.
    pub scores: BTreeMap<Category, f64>,
}

/// The rule set; cheap to clone and share.
#[derive(Debug, Clone)]
pub struct Categorizer {
    rules: Vec<Rule>,
}

impl Categorizer {
    /// The embedded default rules.
    pub fn embedded() -> Result<Categorizer, ConfigError> {
        let mut c = Categorizer { rules: Vec::new() };
        c.extend_from_str(DEFAULT_RULES, DEFAULT_RULES_NAME, false)?;
        Ok(c)
    }

    /// The embedded rules extended by the operator's file `path`.
    pub fn with_user_file(path: &std::path::Path) -> Result<Categorizer, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        let mut c = Categorizer::embedded()?;
        c.extend_from_str(&text, &path.display().to_string(), true)?;
        Ok(c)
    }

    /// Add the rules of `text` (named `file` in errors): new ids are added, known ids replaced,
    /// `disable` removes rules already loaded (only a user file may disable).
    pub fn extend_from_str(
        &mut self,
        text: &str,
        file: &str,
        user: bool,
    ) -> Result<(), ConfigError> {
        let spec: RulesFile = load_yaml_str(text, file, &process_env)?;
        if !user && !spec.disable.is_empty() {
            return Err(invalid_at(
                text,
                file,
                &["disable"],
                "`disable` belongs in a user rules file",
            ));
        }
        for id in &spec.disable {
            let before = self.rules.len();
            self.rules.retain(|r| &r.id != id);
            if self.rules.len() == before {
                return Err(invalid_at(
                    text,
                    file,
                    &["disable"],
                    format!("`disable` names `{id}`, which is not a loaded rule"),
                ));
            }
        }
        for (id, r) in spec.rules {
            let rule = compile(&id, r)
                .map_err(|(key, why)| invalid_at(text, file, &["rules", id.as_str(), key], why))?;
            self.rules.retain(|old| old.id != rule.id);
            self.rules.push(rule);
        }
        self.rules.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(())
    }

    /// Ids of the loaded rules, sorted.
    pub fn rule_ids(&self) -> Vec<&str> {
        self.rules.iter().map(|r| r.id.as_str()).collect()
    }

    /// Categorize one failure.
    pub fn categorize(&self, input: &FailureInput) -> Categorization {
        let mut scores: BTreeMap<Category, f64> = BTreeMap::new();
        let mut hits: Vec<(&Rule, Vec<Evidence>)> = Vec::new();
        for rule in &self.rules {
            if let Some(evidence) = rule.evaluate(input) {
                if let Some(c) = rule.category {
                    *scores.entry(c).or_default() += rule.weight;
                }
                hits.push((rule, evidence));
            }
        }
        let winner = Category::ALL
            .into_iter()
            .filter_map(|c| scores.get(&c).map(|s| (c, *s)))
            .fold(None::<(Category, f64)>, |best, (c, s)| match best {
                Some((_, b)) if b >= s => best,
                _ => Some((c, s)),
            });
        let total: f64 = scores.values().sum();
        let (category, confidence) = match winner {
            Some((c, s)) if total > 0.0 => (c, round3((s / total) * s.min(1.0))),
            _ => (Category::Application, 0.0),
        };
        let modifiers = hits
            .iter()
            .filter(|(r, _)| r.category.is_none())
            .map(|(r, _)| r.severity);
        let severity = hits
            .iter()
            .filter(|(r, _)| r.category == Some(category))
            .map(|(r, _)| r.severity)
            .chain(modifiers)
            .max()
            .unwrap_or(Severity::Medium);
        let mut evidence: Vec<Evidence> = Vec::new();
        let rank = |e: &Evidence| match e.category {
            Some(c) if c == category => 0,
            None => 1,
            Some(_) => 2,
        };
        for (_, ev) in hits {
            evidence.extend(ev);
        }
        evidence.sort_by_key(rank);
        let scores = scores.into_iter().map(|(c, s)| (c, round3(s))).collect();
        Categorization {
            category,
            severity,
            confidence,
            evidence,
            scores,
        }
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Compile a rule, or name the key that is wrong and why.
fn compile(id: &str, r: RuleSpec) -> Result<Rule, (&'static str, String)> {
    if !(r.weight.is_finite() && r.weight > 0.0) {
        return Err(("weight", format!("rule `{id}`: `weight` must be > 0")));
    }
    if r.logs.is_empty() && r.metadata.is_empty() {
        return Err((
            "logs",
            format!("rule `{id}` matches nothing: give it `logs` or `metadata` patterns"),
        ));
    }
    let severity = match (r.category, r.severity) {
        (_, Some(s)) => s,
        (Some(_), None) => Severity::Medium,
        (None, None) => {
            return Err((
                "severity",
                format!("rule `{id}` has no `category`, so it must set a `severity`"),
            ))
        }
    };
    let regex = |key: &'static str, p: &str| {
        Regex::new(p).map_err(|e| {
            let first = e
                .to_string()
                .lines()
                .last()
                .unwrap_or("")
                .trim()
                .to_string();
            (key, format!("rule `{id}`: bad regex `{p}`: {first}"))
        })
    };
    let logs = r
        .logs
        .iter()
        .map(|p| regex("logs", p))
        .collect::<Result<Vec<_>, _>>()?;
    let metadata = r
        .metadata
        .iter()
        .map(|(k, p)| regex("metadata", p).map(|re| (k.clone(), re)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Rule {
        id: id.to_string(),
        category: r.category,
        severity,
        weight: r.weight,
        logs,
        metadata,
        all: r.all,
    })
}

impl Rule {
    /// The evidence if the rule hits, else `None`.
    fn evaluate(&self, input: &FailureInput) -> Option<Vec<Evidence>> {
        let mut evidence = Vec::new();
        let mut matched = BTreeSet::new();
        for (i, re) in self.logs.iter().enumerate() {
            for (n, line) in input.logs.iter().enumerate() {
                if re.is_match(line) {
                    matched.insert(i);
                    if evidence.len() < EVIDENCE_PER_RULE
                        && !evidence
                            .iter()
                            .any(|e: &Evidence| e.source == format!("log:{}", n + 1))
                    {
                        evidence.push(self.evidence(format!("log:{}", n + 1), line));
                    }
                }
            }
        }
        for (i, (key, re)) in self.metadata.iter().enumerate() {
            if let Some(value) = input.metadata.get(key).filter(|v| re.is_match(v)) {
                matched.insert(self.logs.len() + i);
                evidence.push(self.evidence(format!("metadata.{key}"), &format!("{key}={value}")));
            }
        }
        let needed = self.logs.len() + self.metadata.len();
        let hit = if self.all {
            matched.len() == needed
        } else {
            !matched.is_empty()
        };
        hit.then_some(evidence)
    }

    fn evidence(&self, source: String, text: &str) -> Evidence {
        let mut short: String = text.chars().take(EVIDENCE_CHARS).collect();
        if text.chars().count() > EVIDENCE_CHARS {
            short.push('…');
        }
        let text = short;
        Evidence {
            rule: self.id.clone(),
            category: self.category,
            source,
            text,
        }
    }
}

#[cfg(test)]
mod tests;
