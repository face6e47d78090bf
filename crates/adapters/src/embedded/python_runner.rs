//! Real checks on the patched copy of a Python service, as the `CheckRunner` port: the syntax
//! check and the service's own unit tests run in a temporary directory, never in the checkout.
//! `adapters::command_checks::CommandCheckRunner` does the same for configured commands in any
//! language and falls back to these built-in Python checks.

use crate::python_checks;
use ccp_core::domain::{CheckKind, CheckReport, FixPlan};
use ccp_core::ports::CheckRunner;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

/// Runs checks for services whose code lives under `repo_root`.
#[derive(Debug, Clone)]
pub struct PythonCheckRunner {
    repo_root: PathBuf,
    service_dirs: HashMap<String, String>,
    test_timeout: Duration,
}

impl PythonCheckRunner {
    /// `service_dirs` maps service → directory inside the repo.
    pub fn new(
        repo_root: PathBuf,
        service_dirs: HashMap<String, String>,
        test_timeout: Duration,
    ) -> Self {
        Self {
            repo_root,
            service_dirs,
            test_timeout,
        }
    }
}

impl CheckRunner for PythonCheckRunner {
    fn run(&self, service: &str, plan: &FixPlan, kind: CheckKind) -> CheckReport {
        let Some(dir) = self.service_dirs.get(service) else {
            return CheckReport::failed(format!(
                "no source directory known for {service}: cannot run checks"
            ));
        };
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        let inner = plan
            .file
            .strip_prefix(&prefix)
            .unwrap_or(&plan.file)
            .to_string();
        let copy = match python_checks::prepare_patched_copy(
            &self.repo_root.join(dir),
            &inner,
            &plan.new_source,
        ) {
            Ok(c) => c,
            Err(e) => {
                return CheckReport::failed(format!("could not prepare the patched copy: {e}"))
            }
        };
        match kind {
            CheckKind::Syntax => {
                CheckReport::from(python_checks::syntax_check(copy.path(), &[inner]))
            }
            CheckKind::Tests => CheckReport::from(python_checks::run_unit_tests(
                copy.path(),
                self.test_timeout,
            )),
            // Never asked: `handles` says no, so the pipeline uses its heuristics. Answer safely
            // anyway.
            CheckKind::Lint | CheckKind::Security => CheckReport::failed(format!(
                "the embedded Python runner has no {} tool; configure gates.commands.python.{}",
                kind.as_str(),
                kind.as_str()
            )),
        }
    }
}
