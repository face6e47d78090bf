//! `ccp recovery …`: the recovery engine from the command line, on a file — to try rules and
//! trees before `ccp serve` relies on them, and to replay a failure by hand.
//!
//! | command | exit codes |
//! |---|---|
//! | `ccp recovery categorize --input FILE [--provider P] [--rules FILE] [--json]` | 0, 2 bad input |
//! | `ccp recovery run --input FILE [--tree FILE] [--env ENV] [--auto-approve\|--auto-reject] [--fail-action A]… [--json]` | 0 recovered, 1 escalated / rejected / failed, 2 bad input |
//! | `ccp recovery check FILE…` | 0, 2 with `file:line:col: message` |
//!
//! `FILE` is ccp's own JSON (`{"logs": [...], "metadata": {...}}`) or a CI webhook payload of any
//! supported provider (recognised by its shape; `--provider` names it when the shape is
//! ambiguous); `-` reads stdin.

use super::args::{InputArgs, RecoveryCmd};
use ccp_adapters::recovery_scripts::ScriptActions;
use ccp_cicd_recovery::actions::{RecoveryActions, SimulatedActions};
use ccp_cicd_recovery::case::FailureInput;
use ccp_cicd_recovery::categorizer::{Categorization, Categorizer};
use ccp_cicd_recovery::exec::{AutoApprover, Outcome};
use ccp_cicd_recovery::orchestrator::{render, Orchestrator, RecoveryCase};
use ccp_cicd_recovery::tree::{Tree, TreeSet};
use ccp_config::cicd_recovery::ActionsBackend;
use ccp_config::{self as config, Config, ConfigError};
use ccp_core::events::AutoAnswer;
use ccp_webhooks::Provider;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Run a `ccp recovery` subcommand with the global `--config`; never panics, always an exit code.
pub fn run(cmd: RecoveryCmd, config_path: Option<&Path>) -> ExitCode {
    let cfg = match config_path {
        None => Config::default(),
        Some(p) => match config::load_file(p) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        },
    };
    match cmd {
        RecoveryCmd::Check { files } => check(&files),
        RecoveryCmd::Categorize { input, json } => match read_case(&input, &cfg) {
            Ok((case_input, cat)) => {
                print_categorization(&case_input, &cat, json);
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(2)
            }
        },
        RecoveryCmd::Run {
            input,
            tree,
            env,
            auto_approve,
            auto_reject,
            fail_action,
            json,
        } => {
            let answer = AutoApprover::from(AutoAnswer::from_flags(auto_approve, auto_reject));
            match run_case(&input, tree.as_deref(), env, answer, fail_action, &cfg) {
                Ok((report_json, text, outcome)) => {
                    let mut out = std::io::stdout().lock();
                    let _ = if json {
                        writeln!(out, "{report_json}")
                    } else {
                        write!(out, "{text}")
                    };
                    if outcome == Outcome::Recovered {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::from(1)
                    }
                }
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}

fn check(files: &[PathBuf]) -> ExitCode {
    let mut code = ExitCode::SUCCESS;
    for f in files {
        let result = std::fs::read_to_string(f)
            .map_err(|error| ConfigError::Read {
                path: f.clone(),
                error,
            })
            .and_then(|text| {
                let name = f.display().to_string();
                let is_tree = text.lines().any(|l| l.starts_with("nodes:"));
                if is_tree {
                    Tree::from_str(&text, &name).map(|t| format!("tree `{}`", t.name))
                } else {
                    let mut c = Categorizer::embedded()?;
                    c.extend_from_str(&text, &name, true)
                        .map(|_| "rules".to_string())
                }
            });
        match result {
            Ok(what) => println!("{}: ok ({what})", f.display()),
            Err(e) => {
                println!("{e}");
                code = ExitCode::from(2);
            }
        }
    }
    code
}

fn read_json(path: &Path) -> Result<serde_json::Value, String> {
    let mut text = String::new();
    if path == Path::new("-") {
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("reading stdin: {e}"))?;
    } else {
        text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))
}

fn categorizer(cfg: &Config, extra: Option<&Path>) -> Result<Categorizer, String> {
    let mut c = match &cfg.recovery.rules {
        Some(p) => Categorizer::with_user_file(p),
        None => Categorizer::embedded(),
    }
    .map_err(|e| e.to_string())?;
    if let Some(p) = extra {
        let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
        c.extend_from_str(&text, &p.display().to_string(), true)
            .map_err(|e| e.to_string())?;
    }
    Ok(c)
}

fn read_case(args: &InputArgs, cfg: &Config) -> Result<(FailureInput, Categorization), String> {
    let provider = match args.provider.as_deref() {
        None => None,
        Some(name) => Some(
            Provider::ALL
                .into_iter()
                .find(|p| p.name() == name)
                .ok_or_else(|| {
                    format!(
                        "unknown provider `{name}`: use {}",
                        Provider::ALL.map(Provider::name).join(", ")
                    )
                })?,
        ),
    };
    let v = read_json(&args.input)?;
    let (input, _) = FailureInput::from_json(&v, provider)
        .map_err(|e| format!("{}: {e}", args.input.display()))?;
    let cat = categorizer(cfg, args.rules.as_deref())?.categorize(&input);
    Ok((input, cat))
}

fn print_categorization(input: &FailureInput, c: &Categorization, json: bool) {
    let mut out = std::io::stdout().lock();
    if json {
        let doc = serde_json::json!({
            "category": c.category,
            "severity": c.severity,
            "confidence": c.confidence,
            "evidence": c.evidence,
            "scores": c.scores,
            "metadata": input.metadata,
        });
        let _ = writeln!(out, "{doc}");
        return;
    }
    let _ = writeln!(out, "category:   {}", c.category);
    let _ = writeln!(out, "severity:   {}", c.severity);
    let _ = writeln!(out, "confidence: {}", c.confidence);
    if c.evidence.is_empty() {
        let _ = writeln!(out, "evidence:   none (no rule matched; this is a guess)");
    } else {
        let _ = writeln!(out, "evidence:");
        for e in &c.evidence {
            let cat = e.category.map_or("severity".to_string(), |c| c.to_string());
            let _ = writeln!(
                out,
                "  {:<16} {:<14} {:<22} {}",
                cat, e.rule, e.source, e.text
            );
        }
    }
    let scores: Vec<String> = c.scores.iter().map(|(k, v)| format!("{k} {v}")).collect();
    if !scores.is_empty() {
        let _ = writeln!(out, "scores:     {}", scores.join(", "));
    }
}

/// A stable id for a case read from a file: the same input gets the same id.
fn file_case_id(input: &FailureInput) -> String {
    let bytes = serde_json::to_vec(input).unwrap_or_default();
    let digest = Sha256::digest(&bytes);
    let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("REC-{hex}")
}

fn run_case(
    args: &InputArgs,
    tree: Option<&Path>,
    env: Option<String>,
    answer: AutoApprover,
    fail: Vec<String>,
    cfg: &Config,
) -> Result<(serde_json::Value, String, Outcome), String> {
    let (mut input, cat) = read_case(args, cfg)?;
    if let Some(e) = env {
        input.metadata.insert("environment".into(), e);
    }
    let forced = tree
        .map(Tree::from_file)
        .transpose()
        .map_err(|e| e.to_string())?;
    let trees = TreeSet::with_files(&cfg.recovery.trees).map_err(|e| e.to_string())?;
    let actions: Box<dyn RecoveryActions> = match cfg.recovery.actions.backend {
        ActionsBackend::Simulated => Box::new(SimulatedActions::new().failing(fail)),
        ActionsBackend::Script => {
            Box::new(ScriptActions::from_config(&cfg.recovery.actions).map_err(|e| e.to_string())?)
        }
    };
    let case = RecoveryCase::new(
        file_case_id(&input),
        input,
        cat.clone(),
        cfg.environment.as_str(),
    );
    let orchestrator = Orchestrator {
        trees: &trees,
        actions: actions.as_ref(),
        approver: &answer,
        policies: &cfg.recovery.policies,
    };
    let report = orchestrator.run(&case, forced.as_ref(), &|_| {});
    let mut text = format!(
        "case {}: {}/{} (confidence {})\n",
        case.id, cat.category, cat.severity, cat.confidence
    );
    text.push_str(&render(&report));
    let mut doc = serde_json::to_value(&report).map_err(|e| e.to_string())?;
    if let Some(obj) = doc.as_object_mut() {
        obj.insert(
            "categorization".into(),
            serde_json::to_value(&cat).map_err(|e| e.to_string())?,
        );
    }
    Ok((doc, text, report.outcome))
}
