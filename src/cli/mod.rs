//! Command-line interface (the Contract's command table). Exit codes are part of the Contract.

mod analysis;
mod args;
mod attach;
mod audit;
mod bench;
mod bench_all;
mod bench_desk;
mod fleet;
mod graph;
mod inject;
mod localize;
mod lock;
mod log_file;
mod recover;
mod recovery;
mod serve;
mod session;

use anyhow::{Context, Result};
use args::{Cli, Cmd, ConfigCmd, DemoArgs};
use ccp_config::{self as config, Config};
use clap::Parser;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Default state directory: `$XDG_STATE_HOME/ccp` or `~/.local/state/ccp`.
fn default_state_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_STATE_HOME") {
        return PathBuf::from(x).join("ccp");
    }
    match std::env::var_os("HOME") {
        Some(h) => PathBuf::from(h).join(".local/state/ccp"),
        None => PathBuf::from(".ccp-state"),
    }
}

/// Logs go to a file (`CCP_LOG` or `<state-dir>/ccp.log`, capped and rotated: see
/// [`log_file`]), and to stderr only with `-v`.
fn init_logging(state_dir: &Path, verbose: bool) {
    use tracing_subscriber::{fmt, prelude::*, EnvFilter};
    let path = std::env::var_os("CCP_LOG")
        .map(PathBuf::from)
        .unwrap_or_else(|| state_dir.join("ccp.log"));
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let filter =
        || EnvFilter::try_from_env("CCP_LOG_LEVEL").unwrap_or_else(|_| EnvFilter::new("info"));
    let file_layer = log_file::CappedLog::open(&path, log_file::max_bytes_from_env())
        .ok()
        .map(|f| {
            fmt::layer()
                .with_writer(std::sync::Mutex::new(f))
                .with_ansi(false)
                .with_filter(filter())
        });
    let stderr_layer = verbose.then(|| {
        fmt::layer()
            .with_writer(std::io::stderr)
            .with_filter(filter())
    });
    let _ = tracing_subscriber::registry()
        .with(file_layer)
        .with(stderr_layer)
        .try_init();
}

/// Entry point; maps errors to exit code 2 with a one-line message (details in the log).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let state_dir = cli.state_dir.clone().unwrap_or_else(default_state_dir);
    init_logging(&state_dir, cli.verbose);
    match dispatch(cli, &state_dir) {
        Ok(code) => code,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("ccp: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// `ccp config check`: the file, and every file it names that `ccp serve` would load at start
/// (the fleet file, recovery rules, trees and action settings), so "ok" means serve would start.
fn check_config(file: &Path) -> Result<(), String> {
    let cfg = config::check_file(file).map_err(|e| e.to_string())?;
    ccp_app::load_fleet_spec(&cfg).map_err(|e| format!("{}: fleet: {e:#}", file.display()))?;
    if cfg.recovery.enabled {
        ccp_app::cicd_desk::load_recovery_files(&cfg.recovery).map_err(|e| e.to_string())?;
    }
    Ok(())
}

pub(super) fn load_config(path: Option<&Path>) -> Result<Config, ExitCode> {
    match path {
        None => Ok(Config::default()),
        Some(p) => config::load_file(p).map_err(|e| {
            eprintln!("{e}");
            ExitCode::from(2)
        }),
    }
}

fn dispatch(cli: Cli, state_dir: &Path) -> Result<ExitCode> {
    match cli.command {
        None => session::run(DemoArgs::default(), cli.config.as_deref(), state_dir, true),
        Some(Cmd::Demo(args)) => session::run(args, cli.config.as_deref(), state_dir, false),
        Some(Cmd::Run(args)) => session::run_configured(args, cli.config.as_deref(), state_dir),
        Some(Cmd::Fleet { cmd }) => fleet::command(cmd),
        Some(Cmd::Attach {
            url,
            token_env,
            read_only,
        }) => attach::command(&url, &token_env, read_only, cli.config.as_deref()),
        Some(Cmd::Serve {
            listen,
            auto_approve,
            auto_reject,
            once,
            pace,
        }) => serve::command(
            cli.config.as_deref(),
            state_dir,
            listen,
            auto_approve,
            auto_reject,
            once,
            &pace,
        ),
        Some(Cmd::Audit { cmd }) => audit::command(cmd),
        Some(Cmd::Config {
            cmd: ConfigCmd::Check { file },
        }) => Ok(match check_config(&file) {
            Ok(()) => {
                println!("{}: ok", file.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                println!("{e}");
                ExitCode::from(2)
            }
        }),
        Some(Cmd::Rca { input, top, json }) => analysis::rca(&input, top, json),
        Some(Cmd::Bench {
            runs,
            judge,
            render,
            locks,
            mw,
            redis,
            rca,
            desk,
            rca_fit,
            all,
            json,
        }) => match (judge, render) {
            _ if all => bench_all::bench_all(json),
            _ if desk.is_some() => bench_desk::bench_desk(desk.unwrap_or(100), json),
            _ if locks => bench::bench_locks(redis, cli.config.as_deref(), json),
            _ if mw.is_some() => bench::bench_mw(mw.as_deref(), runs),
            _ if rca.is_some() => bench::bench_rca(rca.unwrap_or(50), json),
            _ if rca_fit.is_some() => bench::bench_rca_fit(rca_fit.unwrap_or(20)),
            (Some(trials), _) => bench::bench_judge(trials, json),
            (None, Some(frames)) => bench::bench_render(frames, json),
            (None, None) => bench::command(runs, json),
        },
        Some(Cmd::Judge {
            baseline,
            canary,
            json,
        }) => analysis::judge(&baseline, &canary, json, cli.config.as_deref()),
        Some(Cmd::Lock { cmd }) => lock::command(cmd, cli.config.as_deref(), state_dir),
        Some(Cmd::Localize { trace, repo, json }) => Ok(ExitCode::from(self::localize::run(
            &trace,
            repo.as_deref(),
            json,
            &mut std::io::stdout().lock(),
            &mut std::io::stderr().lock(),
        )?)),
        Some(Cmd::Graph { cmd }) => graph::command(cmd, cli.config.as_deref()),
        Some(Cmd::Scenarios { json }) => {
            self::inject::list(json, &mut std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Cmd::Inject {
            all: _,
            scenario,
            chaos,
            duration,
            seed,
            json,
        }) => {
            let cfg = match load_config(cli.config.as_deref()) {
                Ok(c) => c,
                Err(code) => return Ok(code),
            };
            let mut out = std::io::stdout().lock();
            let ok = match (chaos, duration) {
                (true, Some(d)) => self::inject::chaos(&cfg, seed, d, json, &mut out)?,
                _ => self::inject::inject(&scenario, &cfg, seed, json, &mut out)?,
            };
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Some(Cmd::Recover { json }) => {
            let cfg = match load_config(cli.config.as_deref()) {
                Ok(c) => c,
                Err(code) => return Ok(code),
            };
            let dir = cfg
                .state_dir
                .clone()
                .unwrap_or_else(|| state_dir.to_path_buf());
            Ok(ExitCode::from(self::recover::recover_cmd(
                &cfg,
                &dir,
                json,
                &mut std::io::stdout().lock(),
            )?))
        }
        Some(Cmd::Recovery { cmd }) => Ok(self::recovery::run(cmd, cli.config.as_deref())),
        Some(Cmd::Report {
            audit,
            incident,
            format,
        }) => Ok(ExitCode::from(ccp_app::report::run(
            &audit,
            incident.as_deref(),
            format,
            &mut std::io::stdout().lock(),
            &mut std::io::stderr().lock(),
        )?)),
    }
}

/// Who is acting, for lock owners and the audit log: config `actor`, else `$USER`.
pub(super) fn actor_of(cfg: &Config) -> String {
    cfg.actor
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "operator".into())
}

/// Block until SIGINT or SIGTERM.
pub(super) fn wait_for_termination() -> Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r,
            _ = term.recv() => Ok(()),
        }
    })?;
    Ok(())
}

/// Largest bundle or sample file `ccp rca` and `ccp judge` read: far above any real incident,
/// small enough that a wrong file (a log, an image) is refused at once instead of parsed.
pub(super) const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;

/// A JSON input file (or `-` for stdin): at most [`MAX_INPUT_BYTES`], with a UTF-8 byte-order
/// mark (which some editors add and JSON parsers reject at "line 1 column 1") removed.
pub(super) fn read_input(path: &Path) -> Result<String> {
    use std::io::Read;
    let name = if path == Path::new("-") {
        "stdin".to_string()
    } else {
        path.display().to_string()
    };
    let reader: Box<dyn Read> = if path == Path::new("-") {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(path).with_context(|| format!("reading {name}"))?)
    };
    let mut bytes = Vec::new();
    reader
        .take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {name}"))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        anyhow::bail!(
            "{name} is larger than {} MiB: not an incident bundle or sample file",
            MAX_INPUT_BYTES / (1024 * 1024)
        );
    }
    let text = String::from_utf8(bytes).with_context(|| format!("{name} is not UTF-8 text"))?;
    Ok(text
        .strip_prefix('\u{feff}')
        .map(str::to_string)
        .unwrap_or(text))
}
