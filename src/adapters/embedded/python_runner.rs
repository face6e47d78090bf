//! Real checks on the patched copy of a Python service, as the `CheckRunner` port: the syntax
//! check and the service's own unit tests run in a temporary directory, never in the checkout.

use crate::adapters::python_checks::{self, CheckOutcome};
use crate::core::domain::{CheckKind, CheckReport, FixPlan};
use crate::core::ports::CheckRunner;
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

fn report(o: CheckOutcome) -> CheckReport {
    CheckReport {
        passed: o.passed,
        summary: o.summary,
        detail: o.detail,
        tests_run: o.tests_run,
        failures: o.failures,
    }
}

fn failed(summary: String) -> CheckReport {
    CheckReport {
        passed: false,
        summary,
        detail: String::new(),
        tests_run: None,
        failures: None,
    }
}

impl CheckRunner for PythonCheckRunner {
    fn run(&self, service: &str, plan: &FixPlan, kind: CheckKind) -> CheckReport {
        let Some(dir) = self.service_dirs.get(service) else {
            return failed(format!(
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
            Err(e) => return failed(format!("could not prepare the patched copy: {e}")),
        };
        match kind {
            CheckKind::Syntax => report(python_checks::syntax_check(copy.path(), &[inner])),
            CheckKind::Tests => report(python_checks::run_unit_tests(
                copy.path(),
                self.test_timeout,
            )),
        }
    }
}
