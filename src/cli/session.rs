//! `ccp` / `ccp demo` and `ccp run`: one run watched in the cockpit or headless.

use anyhow::Context;
use anyhow::Result;
use ccp_adapters::embedded::paced_clock::Pace;
use ccp_app::RunOptions;
use ccp_config::Config;
use ccp_core::events::{AutoAnswer, Command};
use ccp_headless as headless;
use ccp_headless::ApprovalMode;
use ccp_headless::Format;
use ccp_http::alertmanager_hook;
use ccp_http::HttpServer;
use ccp_tui::run;
use ccp_tui::run::CockpitOptions;
use ccp_tui::theme;
use ccp_tui::theme::Theme;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use super::args::{DemoArgs, SessionArgs};
use super::{actor_of, load_config};

/// `ccp run --config FILE`: the cockpit over the configured backends. Locks may be Redis; the
/// other real backends are open issues, and naming one is a configuration error (exit 2) that
/// says which.
pub(super) fn run_configured(
    args: SessionArgs,
    config: Option<&Path>,
    state_dir: &Path,
) -> Result<ExitCode> {
    let Some(path) = config else {
        eprintln!("ccp run needs --config FILE (see config/ccp.yaml); for the embedded demo use `ccp demo`");
        return Ok(ExitCode::from(2));
    };
    let headless = args.headless;
    let demo_args = DemoArgs {
        pace: "realtime".into(),
        session: args,
        ..DemoArgs::default()
    };
    if !headless {
        use std::io::IsTerminal;
        if std::io::stdout().is_terminal() && std::io::stdin().is_terminal() {
            return desk_cockpit(&demo_args, path, state_dir);
        }
    }
    run(demo_args, Some(path), state_dir, !headless)
}

/// `ccp run` in a terminal: the cockpit over an incident desk in this process, so alerts keep
/// being handled, concurrently, for as long as it runs (the headless form handles one incident
/// and exits with its outcome; `ccp serve` is the long-running headless service).
fn desk_cockpit(args: &DemoArgs, config: &Path, state_dir: &Path) -> Result<ExitCode> {
    use ccp_app::desk::{Desk, DeskOptions};
    use ccp_tui::run::{CommandSink, Remote, RemoteMsg};
    let cfg = match load_config(Some(config)) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let state_dir = cfg
        .state_dir
        .clone()
        .unwrap_or_else(|| state_dir.to_path_buf());
    super::recover::recover_on_start(&cfg, &state_dir)?;
    let actor = actor_of(&cfg);
    let opts = RunOptions {
        seed: args.seed,
        pace: Pace::Realtime,
        inject_failure: None,
        state_dir,
        config: cfg.clone(),
    };
    let (inbox, _receiver) = match opts.config.alerts.listen.as_deref() {
        Some(listen) => {
            let inbox =
                ccp_app::alert_inbox(&opts.config, &ccp_app::load_fleet_spec(&opts.config)?);
            let receiver = HttpServer::start(
                listen,
                alertmanager_hook::router(inbox.clone(), opts.config.webhooks.max_body_bytes),
            )?;
            (Some(inbox), Some(receiver))
        }
        None => (None, None),
    };
    let desk = Arc::new(Desk::start(DeskOptions {
        run: opts,
        approval: ccp_app::ServeApproval::Http,
        inbox,
        stop_after: None,
    })?);
    let audit_path = desk.audit_path.clone();
    let (tx, rx) = std::sync::mpsc::channel::<RemoteMsg>();
    let desk_tx = tx.clone();

    /// Commands from this terminal, recorded as its local user.
    struct LocalSink {
        desk: Arc<Desk>,
        answers: std::sync::Mutex<std::sync::mpsc::Sender<RemoteMsg>>,
    }
    impl CommandSink for LocalSink {
        fn send(&self, incident: &str, cmd: &Command) -> Result<(), String> {
            let answer = self
                .desk
                .command(incident, cmd.clone())
                .map(|()| format!("sent to {incident}"))
                .map_err(|e| e.to_string());
            if let Ok(tx) = self.answers.lock() {
                let _ = tx.send(RemoteMsg::Answer(answer));
            }
            Ok(())
        }
    }
    let sink = Arc::new(LocalSink {
        desk: desk.clone(),
        answers: std::sync::Mutex::new(tx.clone()),
    });
    let Ok((backlog, live)) = desk.stream().follow(0) else {
        anyhow::bail!("internal: the incident desk's stream refused its start");
    };
    std::thread::Builder::new()
        .name("ccp-desk-events".into())
        .spawn(move || {
            for s in backlog.into_iter().chain(live) {
                if tx.send(RemoteMsg::Event(Box::new(s.event))).is_err() {
                    return;
                }
            }
        })?;
    {
        let desk = desk.clone();
        std::thread::Builder::new()
            .name("ccp-desk-line".into())
            .spawn(move || loop {
                if desk_tx
                    .send(RemoteMsg::Desk(desk.snapshot().line()))
                    .is_err()
                {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_secs(1));
            })?;
    }
    let result = ccp_tui::run::attach(
        Remote {
            events: rx,
            sink,
            url: None,
            read_only: false,
        },
        CockpitOptions {
            themes: cockpit_themes(&cfg)?,
            pace: "realtime".into(),
            actor,
            fps: cfg.tui.fps,
            mouse: cfg.tui.mouse,
            record: args.session.record.clone(),
            alarm: None,
        },
    );
    // The operations end with this process: each stops at its next safe point (a live canary
    // rolls back) and says so in the audit log.
    let n = desk.running();
    if n > 0 {
        eprintln!(
            "ccp: stopping {n} operation(s) at their next safe point (a live canary is rolled back)…"
        );
    }
    desk.shutdown(&actor_of(&cfg), "the operator closed the cockpit");
    result?;
    println!("audit log: {}", audit_path.display());
    println!("{}", anchor_line(&audit_path));
    Ok(ExitCode::SUCCESS)
}

pub(super) fn run(
    args: DemoArgs,
    config: Option<&Path>,
    state_dir: &Path,
    bare: bool,
) -> Result<ExitCode> {
    let cfg = match load_config(config) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    if let Some(s) = &args.scenario {
        ccp_drills::check_playable(s)?;
    }
    if args.session.record.is_some() && args.session.headless {
        anyhow::bail!(
            "--record records the cockpit; in headless mode keep a record with --json > run.jsonl"
        );
    }
    let pace = Pace::parse(&args.pace).with_context(|| {
        format!(
            "unknown pace `{}`: use realtime, present, fast or instant",
            args.pace
        )
    })?;
    let state_dir = cfg
        .state_dir
        .clone()
        .unwrap_or_else(|| state_dir.to_path_buf());
    super::recover::recover_on_start(&cfg, &state_dir)?;
    let opts = RunOptions {
        seed: args.seed,
        pace,
        inject_failure: args.inject_failure.clone(),
        state_dir,
        config: cfg.clone(),
    };
    let actor = actor_of(&cfg);
    let wants_cockpit = bare || !args.session.headless;
    if wants_cockpit {
        use std::io::IsTerminal;
        if std::io::stdout().is_terminal() && std::io::stdin().is_terminal() {
            return cockpit(&opts, &cfg, &args, actor);
        }
        eprintln!("ccp: stdout is not a terminal, so no cockpit; running the demo headless with readable text (use --headless to say so).");
    }
    let approval = match AutoAnswer::from_flags(args.session.auto_approve, args.session.auto_reject)
    {
        Some(a) => ApprovalMode::Auto(a),
        None => ApprovalMode::Stdin { actor },
    };
    let format = if args.session.json {
        Format::Json
    } else {
        Format::Text
    };
    let (handle, _receiver) = start_run(&opts, args.scenario.as_deref())?;
    let audit_path = handle.audit_path.clone();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let (outcome, _) = headless::run(handle, format, approval, &mut out)?;
    if format == Format::Text {
        writeln!(
            out,
            "\noutcome: {}   audit log: {}\n{}",
            outcome.as_str(),
            audit_path.display(),
            anchor_line(&audit_path)
        )
        .ok();
        if let Some(lines) = last_incident_summary(&audit_path) {
            writeln!(out, "\n{}", lines.join("\n")).ok();
        }
    }
    Ok(ExitCode::from(outcome.exit_code()))
}

/// The paste-able summary of the log's last incident, read back from the audit log (what the
/// record says, not what this process remembers).
fn last_incident_summary(audit: &Path) -> Option<Vec<String>> {
    let records = ccp_audit::read_records(audit).ok()?;
    let replay = ccp_audit::replay::replay(&records, None)?;
    let p = ccp_core::projection::Projection::of(&replay.events);
    ccp_core::outcome_text::summary(p.latest()?)
}

/// Start the run a cockpit or a headless front-end watches: a scenario of the failure matrix, or
/// the configured pipeline. With `alerts.listen` set this process receives Alertmanager's webhook
/// itself; the receiver must outlive the run, so it is handed back to the caller to keep.
pub(super) fn start_run(
    opts: &RunOptions,
    scenario: Option<&str>,
) -> Result<(ccp_app::AppHandle, Option<HttpServer>)> {
    if let Some(name) = scenario {
        if let Some(listen) = &opts.config.alerts.listen {
            anyhow::bail!(
                "--scenario {name} runs on the embedded fleet and takes no Alertmanager alerts, but the configuration listens for them on {listen}: remove alerts.listen from the configuration, or drop --scenario"
            );
        }
        return Ok((ccp_drills::start_scenario_or_run(opts, scenario)?, None));
    }
    let Some(listen) = opts.config.alerts.listen.as_deref() else {
        return Ok((ccp_app::start(opts)?, None));
    };
    let inbox = ccp_app::alert_inbox(&opts.config, &ccp_app::load_fleet_spec(&opts.config)?);
    let receiver = HttpServer::start(
        listen,
        alertmanager_hook::router(inbox.clone(), opts.config.webhooks.max_body_bytes),
    )?;
    Ok((
        ccp_app::start_with_inbox(opts, Some(inbox))?,
        Some(receiver),
    ))
}

/// The audit log's anchor: its last hash. A hash chain cannot show that records were cut off
/// its end; a copy of the last hash kept somewhere else can, so it is printed for the operator to
/// keep (`ccp audit verify` prints the same hash).
pub(super) fn anchor_line(audit: &Path) -> String {
    match ccp_audit::verify_file(audit) {
        Ok(ccp_audit::VerifyReport::Intact { records, last_hash }) => format!(
            "audit anchor: {records} records, last hash {last_hash} (keep it elsewhere: `ccp audit verify --anchor {last_hash} --expect-count {records}` exposes a cut-off or rewritten log)"
        ),
        Ok(broken) => format!("audit log does not verify: {broken}"),
        Err(e) => format!("audit log unreadable: {e}"),
    }
}

/// Themes for the cockpit: the configured one first (a builtin name or a file), then the other
/// builtins for `t`; `NO_COLOR` replaces them all with the monochrome theme.
pub(super) fn cockpit_themes(cfg: &Config) -> Result<Vec<Theme>> {
    if theme::no_color_requested() {
        return Ok(vec![Theme::monochrome()]);
    }
    let wanted = cfg.tui.theme.as_str();
    let first = if theme::builtin_names().contains(&wanted) {
        Theme::builtin(wanted)?
    } else {
        Theme::from_file(Path::new(wanted)).with_context(|| {
            format!(
                "tui.theme `{wanted}` is neither a builtin theme ({}) nor a readable theme file",
                theme::builtin_names().join(", ")
            )
        })?
    };
    let mut themes = vec![first];
    for n in theme::builtin_names() {
        if themes[0].name != n {
            themes.push(Theme::builtin(n)?);
        }
    }
    Ok(themes)
}

pub(super) fn cockpit(
    opts: &RunOptions,
    cfg: &Config,
    args: &DemoArgs,
    actor: String,
) -> Result<ExitCode> {
    let themes = cockpit_themes(cfg)?;
    let (handle, _receiver) = start_run(opts, args.scenario.as_deref())?;
    let audit_path = handle.audit_path.clone();
    let pace = handle.pace.to_string();
    let outcome = run::run(
        handle,
        CockpitOptions {
            themes,
            pace,
            actor,
            fps: cfg.tui.fps,
            mouse: cfg.tui.mouse,
            record: args.session.record.clone(),
            alarm: None,
        },
    )?;
    match outcome {
        Some(o) => println!(
            "outcome: {}   audit log: {}",
            o.as_str(),
            audit_path.display()
        ),
        None => println!(
            "left before the run finished   audit log: {}",
            audit_path.display()
        ),
    }
    println!("{}", anchor_line(&audit_path));
    if let Some(r) = &args.session.record {
        println!("recording: {} (play it with `asciinema play`)", r.display());
    }
    Ok(ExitCode::SUCCESS)
}
