//! `ccp serve`: the pipeline behind HTTP until SIGTERM.

use anyhow::Context;
use anyhow::Result;
use ccp_adapters::embedded::paced_clock::Pace;
use ccp_app::RunOptions;
use std::path::Path;
use std::process::ExitCode;

use super::load_config;

/// `ccp serve`: exit 2 for a bad config, else 0 once stopped.
pub(super) fn command(
    config: Option<&Path>,
    state_dir: &Path,
    listen: Option<String>,
    auto_approve: bool,
    auto_reject: bool,
    once: bool,
    pace: &str,
) -> Result<ExitCode> {
    use ccp_http::serve::{ServeApproval, ServeOptions};
    let pace = Pace::parse(pace).with_context(|| {
        format!("unknown pace `{pace}`: use realtime, present, fast or instant")
    })?;
    let Some(path) = config else {
        eprintln!("ccp serve needs --config FILE (see config/ccp.yaml)");
        return Ok(ExitCode::from(2));
    };
    let cfg = match load_config(Some(path)) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let listen = listen
        .or_else(|| cfg.alerts.listen.clone())
        .unwrap_or_else(|| "127.0.0.1:9099".into());
    let state_dir = cfg
        .state_dir
        .clone()
        .unwrap_or_else(|| state_dir.to_path_buf());
    super::recover::recover_on_start(&cfg, &state_dir)?;
    let approval = ServeApproval::from_flags(auto_approve, auto_reject);
    ccp_http::serve::serve(
        ServeOptions {
            listen,
            run: RunOptions {
                seed: None,
                pace,
                inject_failure: None,
                state_dir,
                config: cfg,
            },
            approval,
            once,
        },
        |addr| {
            eprintln!("ccp serve: listening on http://{addr}");
        },
    )?;
    Ok(ExitCode::SUCCESS)
}
