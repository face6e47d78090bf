//! Command-line interface (the Contract's command table). Exit codes are part of the Contract.

mod graph;
mod inject;
mod localize;
mod lock;
mod recovery;

use anyhow::{Context, Result};
use ccp_adapters::embedded::paced_clock::Pace;
use ccp_app::{self as app, DemoOptions};
use ccp_config::{self as config, Config};
use ccp_headless::{self as headless, ApprovalMode, Format};
use ccp_http::{alertmanager_hook, HttpServer};
use ccp_tui::run::{self, CockpitOptions};
use ccp_tui::theme::{self, Theme};
use clap::{Args, FromArgMatches, Parser, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "ccp",
    version,
    about = "Terminal incident cockpit: detect → RCA → fix → gates → canary → verify, with a human in the loop"
)]
struct Cli {
    /// Configuration file (YAML); every section is optional.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Directory for audit.jsonl and ccp.log.
    #[arg(long, global = true, env = "CCP_STATE_DIR", value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// Also log to stderr.
    #[arg(short, long, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// One incident end to end on the embedded fleet.
    Demo(DemoArgs),
    /// The cockpit on the backends named in the configuration (`--config FILE`, required).
    Run(SessionArgs),
    /// The pipeline without the cockpit, behind HTTP: /healthz, /api/state, /metrics, webhooks.
    Serve {
        /// Address to listen on (default: alerts.listen, else 127.0.0.1:9099).
        #[arg(long)]
        listen: Option<String>,
        /// Approve paused operations as `auto` (default: wait for POST /api/incidents/ID/approve).
        #[arg(long, conflicts_with = "auto_reject")]
        auto_approve: bool,
        /// Reject paused operations as `auto`.
        #[arg(long)]
        auto_reject: bool,
        /// Stop after one incident.
        #[arg(long)]
        once: bool,
        /// Pace of the embedded fleet's timeline (real backends always use the wall clock).
        #[arg(long, default_value = "realtime")]
        pace: String,
    },
    /// The simulated fleet as a process: Prometheus exporter and deploy target for the real chain.
    Fleet {
        #[command(subcommand)]
        cmd: FleetCmd,
    },
    /// Audit log tools.
    Audit {
        #[command(subcommand)]
        cmd: AuditCmd,
    },
    /// Configuration tools.
    Config {
        #[command(subcommand)]
        cmd: ConfigCmd,
    },
    /// Rank root-cause candidates for an incident bundle.
    Rca {
        /// Bundle file (JSON), `-` for stdin.
        #[arg(long)]
        input: PathBuf,
        /// How many candidates to print.
        #[arg(long, default_value_t = 5)]
        top: usize,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Measure the headless instant demo against a same-run baseline (see BENCHMARKS.md).
    Bench {
        /// Demo runs to measure.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Run the A/A and A/B study of the canary judge instead (trials per cell).
        #[arg(long, value_name = "TRIALS", num_args = 0..=1, default_missing_value = "500")]
        judge: Option<usize>,
        /// Measure cockpit frame rendering instead (frames per size).
        #[arg(long, value_name = "FRAMES", num_args = 0..=1, default_missing_value = "500")]
        render: Option<usize>,
        /// Measure Redis lock cycles and contention instead (against --redis or locks.redis_url).
        #[arg(long)]
        locks: bool,
        /// Time Mann-Whitney on the two samples in FILE (`{"baseline": [..], "canary": [..]}`);
        /// scripts/bench_mw_vs_scipy.py runs it beside SciPy on the same data.
        #[arg(long, value_name = "FILE")]
        mw: Option<PathBuf>,
        /// Redis URL for --locks.
        #[arg(long, env = "CCP_REDIS_URL")]
        redis: Option<String>,
        /// Measure RCA accuracy on synthetic incidents and its time on 10 k services instead
        /// (incidents per topology × red herring).
        #[arg(long, value_name = "PER_CELL", num_args = 0..=1, default_missing_value = "50")]
        rca: Option<usize>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Hold the pipeline's locks by hand, list them, or clear a dead holder's (Redis).
    Lock {
        #[command(subcommand)]
        cmd: LockCmd,
    },
    /// Push the fleet topology into the graph database (`graph.backend: neo4j`) and read it back.
    Graph {
        #[command(subcommand)]
        cmd: GraphCmd,
    },
    /// Parse a stack trace (Python, Java, Node.js, Rust, Go), name the culprit frame, and
    /// git-blame it with --repo.
    ///
    /// Exit 0 culprit named, 1 no frame found, 2 bad input.
    #[command(after_help = self::localize::HELP_AFTER)]
    Localize {
        /// Trace file, `-` for stdin.
        #[arg(long, value_name = "FILE|-")]
        trace: PathBuf,
        /// Git repository of the code that crashed: paths are resolved against its files at
        /// HEAD and the culprit line is blamed.
        #[arg(long, value_name = "DIR")]
        repo: Option<PathBuf>,
        /// JSON output (one document).
        #[arg(long)]
        json: bool,
    },
    /// The failure-injection matrix: scenario names with their expected outcomes.
    Scenarios {
        /// JSON output (one document).
        #[arg(long)]
        json: bool,
    },
    /// Run failure scenarios on the embedded fleet at instant pace; exit 0 iff every observed
    /// outcome and check matches.
    Inject {
        /// Every scenario.
        #[arg(
            long,
            conflicts_with_all = ["scenario", "chaos"],
            required_unless_present_any = ["scenario", "chaos"]
        )]
        all: bool,
        /// One scenario (repeatable).
        #[arg(long, value_name = "NAME", conflicts_with = "chaos")]
        scenario: Vec<String>,
        /// Random failures one after another, then the KPIs (MTTR, auto-heal rate, false
        /// rollbacks, human interventions, lock wait).
        #[arg(long, requires = "duration")]
        chaos: bool,
        /// How long chaos mode runs, seconds.
        #[arg(long, value_name = "S", requires = "chaos")]
        duration: Option<u64>,
        /// Seed of the fleet noise.
        #[arg(long, default_value_t = self::inject::DEFAULT_SEED)]
        seed: u64,
        /// JSON output (one document).
        #[arg(long)]
        json: bool,
    },
    /// Bring operations a killed process left in flight (per the audit log in --state-dir) to a
    /// safe end: roll back live code under a new fence, close verified ones, escalate the rest.
    /// Exit 0 when all ended safely, 1 otherwise.
    Recover {
        /// JSON output (one document).
        #[arg(long)]
        json: bool,
    },
    /// Deployment failure recovery: categorize a failure, run its decision tree, check rule and
    /// tree files.
    Recovery {
        #[command(subcommand)]
        cmd: self::recovery::RecoveryCmd,
    },
    /// Statistical canary verdict from two sample files, with the thresholds of the config's
    /// `verification:` section (the pipeline's own). Exit 0 pass, 1 fail, 3 inconclusive, 2 bad
    /// input.
    Judge {
        /// Baseline samples (JSON).
        #[arg(long)]
        baseline: PathBuf,
        /// Canary samples (JSON).
        #[arg(long)]
        canary: PathBuf,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Decision-justification report of one incident from its audit log: verifies the chain
    /// first, then the timeline, every decision with its justification, gates, approvals,
    /// verdicts, locks, rollbacks, notifications, crash recovery and the outcome.
    /// Exit 0, 2 for an unreadable log or an incident not in it.
    Report {
        /// The audit log (e.g. <state-dir>/audit.jsonl).
        #[arg(long, value_name = "FILE")]
        audit: PathBuf,
        /// Incident id; may be left out when the log holds exactly one.
        #[arg(long, value_name = "ID")]
        incident: Option<String>,
        /// md (default) or json.
        #[arg(long, value_enum, default_value_t = ccp_app::report::Format::Md)]
        format: ccp_app::report::Format,
    },
}

#[derive(Args, Debug)]
struct DemoArgs {
    /// A scenario of the failure matrix (`ccp scenarios`) to watch in the cockpit; you play the
    /// on-call engineer. Default: the demo fleet as it is (the payment-service bug).
    #[arg(long)]
    scenario: Option<String>,
    /// realtime, fast or instant.
    #[arg(long, default_value = "fast")]
    pace: String,
    /// Seed for reproducible runs.
    #[arg(long)]
    seed: Option<u64>,
    /// Inject a failure (e.g. canary_regression).
    #[arg(long, value_name = "NAME")]
    inject_failure: Option<String>,
    #[command(flatten)]
    session: SessionArgs,
}

/// How a run is watched and answered: shared by `ccp demo` and `ccp run`.
#[derive(Args, Debug)]
struct SessionArgs {
    /// No cockpit: print events.
    #[arg(long)]
    headless: bool,
    /// Events as JSON lines (the Contract).
    #[arg(long)]
    json: bool,
    /// Approve as `auto` when asked.
    #[arg(long, conflicts_with = "auto_reject")]
    auto_approve: bool,
    /// Reject as `auto` when asked.
    #[arg(long)]
    auto_reject: bool,
    /// Record an asciicast (cockpit only; not available in headless mode).
    #[arg(long, value_name = "FILE.cast")]
    record: Option<PathBuf>,
}

/// What clap makes of an empty command line for `T`. `Default` goes through this so that plain
/// `ccp` (no subcommand) gets the same defaults as `ccp demo`: a derived `Default` left `pace`
/// empty, because clap's `default_value` applies only while parsing.
fn parsed_from_nothing<T: Args + FromArgMatches>() -> T {
    let command = T::augment_args(clap::Command::new("ccp"));
    let matches = command
        .try_get_matches_from(["ccp"])
        .unwrap_or_else(|e| panic!("argument defaults do not parse: {e}"));
    T::from_arg_matches(&matches).unwrap_or_else(|e| panic!("argument defaults do not parse: {e}"))
}

impl Default for DemoArgs {
    fn default() -> Self {
        parsed_from_nothing()
    }
}

impl Default for SessionArgs {
    fn default() -> Self {
        parsed_from_nothing()
    }
}

#[derive(Subcommand, Debug)]
enum FleetCmd {
    /// Serve the fleet's metrics (`/metrics`), error reports (`/errors`) and deploy endpoint
    /// (`/deploy`) until interrupted.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:9464")]
        listen: String,
        /// Fleet file (default: the demo's).
        #[arg(long, value_name = "FILE")]
        fleet: Option<PathBuf>,
        /// Where to build the fleet's code repository; point `repo.path` of `ccp run` at it.
        #[arg(long, value_name = "DIR")]
        repo_dir: PathBuf,
        /// Noise seed (default: the fleet file's).
        #[arg(long)]
        seed: Option<u64>,
        /// Run healthy this many seconds before the fleet's faults begin (history to compare with).
        #[arg(long, value_name = "SECONDS", default_value_t = 0.0)]
        fault_delay: f64,
    },
    /// Send one deploy step to a fleet, from a `deploy: script` command (reads CCP_ACTION,
    /// CCP_SERVICE, CCP_PERCENT, CCP_FENCE, CCP_PLAN_FILE).
    Shift {
        /// The fleet's base URL.
        #[arg(long, env = "CCP_FLEET_URL")]
        url: String,
    },
}

#[derive(Subcommand, Debug)]
enum AuditCmd {
    /// Check the hash chain: exit 0 intact, 1 broken (prints the first bad seq).
    Verify { file: PathBuf },
    /// Replay an incident in the cockpit, stepping with ← / → (default: the last incident).
    Replay {
        file: PathBuf,
        #[arg(long)]
        incident: Option<String>,
    },
    /// Print records, optionally of one incident.
    Show {
        file: PathBuf,
        #[arg(long)]
        incident: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
enum LockCmd {
    /// Run CMD while holding the lock the pipeline uses; exit with CMD's code, 75 if the lock
    /// could not be taken (or was lost, in which case CMD is stopped).
    Run {
        /// Resource, `<scope>:<name>` (e.g. service:payment-service).
        #[arg(long)]
        resource: String,
        /// Lease length in ms (renewed every third of it while CMD runs); default locks.ttl_ms.
        #[arg(long)]
        ttl_ms: Option<u64>,
        /// Longest wait for a busy lock in ms; default locks.wait_ms.
        #[arg(long)]
        wait_ms: Option<u64>,
        /// Redis URL; default locks.redis_url from --config.
        #[arg(long, env = "CCP_REDIS_URL")]
        redis: Option<String>,
        /// The command and its arguments.
        #[arg(last = true, required = true, value_name = "CMD")]
        command: Vec<String>,
    },
    /// Every lock held now, with its remaining TTL and owner token.
    List {
        /// Redis URL; default locks.redis_url from --config.
        #[arg(long, env = "CCP_REDIS_URL")]
        redis: Option<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Delete a lock whoever holds it (recorded in the audit log with the actor).
    Release {
        /// Required: this overrides another holder's lock.
        #[arg(long)]
        force: bool,
        /// Resource, `<scope>:<name>`.
        resource: String,
        /// Redis URL; default locks.redis_url from --config.
        #[arg(long, env = "CCP_REDIS_URL")]
        redis: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
enum GraphCmd {
    /// MERGE the fleet file's services and calls into the configured database (idempotent).
    Load {
        /// Fleet file (default: metrics.fleet, else the demo's).
        #[arg(long, value_name = "FILE")]
        fleet: Option<PathBuf>,
        /// Also delete calls of the file's services that the file no longer has.
        #[arg(long)]
        prune: bool,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Print the services and calls ccp reads from the configured database.
    Show {
        /// JSON output (`services` and `edges` as in an RCA bundle).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum ConfigCmd {
    /// Validate a config file: exit 0, or 2 with `file:line:col: message`.
    Check { file: PathBuf },
}

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

/// Logs go to a file (`CCP_LOG` or `<state-dir>/ccp.log`), and to stderr only with `-v`.
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
    let file_layer = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
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

fn load_config(path: Option<&Path>) -> Result<Config, ExitCode> {
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
        None => run_demo(DemoArgs::default(), cli.config.as_deref(), state_dir, true),
        Some(Cmd::Demo(args)) => run_demo(args, cli.config.as_deref(), state_dir, false),
        Some(Cmd::Run(args)) => run_configured(args, cli.config.as_deref(), state_dir),
        Some(Cmd::Fleet { cmd }) => fleet(cmd),
        Some(Cmd::Serve {
            listen,
            auto_approve,
            auto_reject,
            once,
            pace,
        }) => serve(
            cli.config.as_deref(),
            state_dir,
            listen,
            auto_approve,
            auto_reject,
            once,
            &pace,
        ),
        Some(Cmd::Audit { cmd }) => audit(cmd),
        Some(Cmd::Config {
            cmd: ConfigCmd::Check { file },
        }) => Ok(match config::check_file(&file) {
            Ok(_) => {
                println!("{}: ok", file.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                println!("{e}");
                ExitCode::from(2)
            }
        }),
        Some(Cmd::Rca { input, top, json }) => rca(&input, top, json),
        Some(Cmd::Bench {
            runs,
            judge,
            render,
            locks,
            mw,
            redis,
            rca,
            json,
        }) => match (judge, render) {
            _ if locks => bench_locks(redis, cli.config.as_deref(), json),
            _ if mw.is_some() => bench_mw(mw.as_deref(), runs),
            _ if rca.is_some() => bench_rca(rca.unwrap_or(50), json),
            (Some(trials), _) => bench_judge(trials, json),
            (None, Some(frames)) => bench_render(frames, json),
            (None, None) => bench(runs, json),
        },
        Some(Cmd::Judge {
            baseline,
            canary,
            json,
        }) => judge(&baseline, &canary, json, cli.config.as_deref()),
        Some(Cmd::Lock { cmd }) => lock(cmd, cli.config.as_deref(), state_dir),
        Some(Cmd::Localize { trace, repo, json }) => Ok(ExitCode::from(self::localize::run(
            &trace,
            repo.as_deref(),
            json,
            &mut std::io::stdout().lock(),
            &mut std::io::stderr().lock(),
        )?)),
        Some(Cmd::Graph { cmd }) => graph(cmd, cli.config.as_deref()),
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
            Ok(ExitCode::from(self::inject::recover_cmd(
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

/// `ccp graph …`: exit 0, 1 when the database fails, 2 for bad config or fleet file.
fn graph(cmd: GraphCmd, config: Option<&Path>) -> Result<ExitCode> {
    use self::graph;
    let Some(path) = config else {
        eprintln!("ccp graph needs --config FILE with a `graph:` section (backend: neo4j)");
        return Ok(ExitCode::from(2));
    };
    let cfg = match load_config(Some(path)) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let result = match cmd {
        GraphCmd::Load { fleet, prune, json } => {
            let fleet = match fleet {
                Some(f) => Ok(f),
                None => graph::default_fleet(&cfg),
            };
            fleet.and_then(|f| graph::load(&cfg, &f, prune)).map(|o| {
                if json {
                    serde_json::to_string(&o).map(|j| format!("{j}\n"))
                } else {
                    Ok(graph::render_load(&o))
                }
            })
        }
        GraphCmd::Show { json } => graph::show(&cfg).map(|snap| {
            if json {
                serde_json::to_string(&snap).map(|j| format!("{j}\n"))
            } else {
                Ok(graph::render_show(&snap))
            }
        }),
    };
    match result {
        Ok(text) => {
            print!("{}", text?);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("ccp: {e}");
            Ok(ExitCode::from(e.exit_code()))
        }
    }
}

/// `ccp lock …`. Bad input (resource, config) is exit 2 like everywhere else.
fn lock(cmd: LockCmd, config: Option<&Path>, state_dir: &Path) -> Result<ExitCode> {
    use self::lock::{self as lock_tool, RunLocked, RunOutcome};
    use ccp_core::locks::Resource;
    let cfg = match load_config(config) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let url = |r: Option<String>| r.unwrap_or_else(|| cfg.locks.redis_url.clone());
    let parse = |r: &str| -> Result<Resource> { Ok(r.parse::<Resource>()?) };
    match cmd {
        LockCmd::Run {
            resource,
            ttl_ms,
            wait_ms,
            redis,
            command,
        } => {
            let resource = parse(&resource)?;
            let url = url(redis);
            let user = actor_of(&cfg);
            let owner = format!("ccp-lock-run:{user}");
            let outcome = lock_tool::run_locked(&RunLocked {
                redis_url: &url,
                resource: &resource,
                ttl_ms: ttl_ms.unwrap_or(cfg.locks.ttl_ms).max(1),
                wait_ms: wait_ms.unwrap_or(cfg.locks.wait_ms),
                owner: &owner,
                command: &command,
            })?;
            match &outcome {
                RunOutcome::Finished(_) => {}
                RunOutcome::NotAcquired(why) => eprintln!("ccp: lock not acquired: {why}"),
                RunOutcome::Lost(why) => eprintln!("ccp: lock lost: {why}"),
            }
            Ok(ExitCode::from(outcome.exit_code()))
        }
        LockCmd::List { redis, json } => {
            let locks = lock_tool::list(&url(redis))?;
            if json {
                println!("{}", serde_json::json!({ "locks": locks }));
            } else {
                print!("{}", lock_tool::render_list(&locks));
            }
            Ok(ExitCode::SUCCESS)
        }
        LockCmd::Release {
            force,
            resource,
            redis,
        } => {
            if !force {
                eprintln!("ccp lock release takes another holder's lock away: say --force if that is what you mean");
                return Ok(ExitCode::from(2));
            }
            let resource = parse(&resource)?;
            let audit_path = cfg
                .audit
                .path
                .clone()
                .unwrap_or_else(|| state_dir.join("audit.jsonl"));
            match lock_tool::force_release(&url(redis), &resource, &actor_of(&cfg), &audit_path)? {
                Some(token) => println!(
                    "released {resource} (was held by {token}); recorded in {}",
                    audit_path.display()
                ),
                None => println!(
                    "{resource} was not held; the attempt is recorded in {}",
                    audit_path.display()
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `ccp bench --locks`: lock cycle cost against the same server's SET, and contention.
fn bench_locks(redis: Option<String>, config: Option<&Path>, json: bool) -> Result<ExitCode> {
    let cfg = match load_config(config) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let url = redis.unwrap_or(cfg.locks.redis_url);
    let b = ccp_bench::locks::run(&url, 5_000, 8, 200)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&b)?);
    } else {
        print!("{}", ccp_bench::locks::render(&b));
    }
    Ok(ExitCode::SUCCESS)
}

/// Who is acting, for lock owners and the audit log: config `actor`, else `$USER`.
fn actor_of(cfg: &Config) -> String {
    cfg.actor
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "operator".into())
}

/// `ccp run --config FILE`: the cockpit over the configured backends. Locks may be Redis; the
/// other real backends are open issues, and naming one is a configuration error (exit 2) that
/// says which.
fn run_configured(args: SessionArgs, config: Option<&Path>, state_dir: &Path) -> Result<ExitCode> {
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
    run_demo(demo_args, Some(path), state_dir, !headless)
}

/// `ccp serve`: exit 2 for a bad config, else 0 once stopped.
fn serve(
    config: Option<&Path>,
    state_dir: &Path,
    listen: Option<String>,
    auto_approve: bool,
    auto_reject: bool,
    once: bool,
    pace: &str,
) -> Result<ExitCode> {
    use ccp_http::serve::{ServeApproval, ServeOptions};
    let pace = Pace::parse(pace)
        .with_context(|| format!("unknown pace `{pace}`: use realtime, fast or instant"))?;
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
    self::inject::recover_on_start(&cfg, &state_dir)?;
    let approval = match (auto_approve, auto_reject) {
        (true, _) => ServeApproval::AutoApprove,
        (_, true) => ServeApproval::AutoReject,
        _ => ServeApproval::Http,
    };
    ccp_http::serve::serve(
        ServeOptions {
            listen,
            run: DemoOptions {
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

/// `ccp fleet …`.
fn fleet(cmd: FleetCmd) -> Result<ExitCode> {
    match cmd {
        FleetCmd::Serve {
            listen,
            fleet,
            repo_dir,
            seed,
            fault_delay,
        } => {
            let fleet = match fleet {
                Some(f) => f,
                None => app::demo_dir()?.join("fleet.yaml"),
            };
            let (server, repo) = ccp_fleet::start(&ccp_fleet::ServeOptions {
                fleet,
                repo_dir,
                listen,
                seed,
                fault_delay_s: fault_delay,
            })?;
            println!(
                "fleet: serving http://{}/metrics  code: {}",
                server.addr(),
                repo.display()
            );
            std::io::stdout().flush().ok();
            wait_for_termination()?;
            drop(server);
            Ok(ExitCode::SUCCESS)
        }
        FleetCmd::Shift { url } => {
            println!("{}", ccp_fleet::shift_from_env(&url)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Block until SIGINT or SIGTERM.
fn wait_for_termination() -> Result<()> {
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

fn run_demo(
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
            "unknown pace `{}`: use realtime, fast or instant",
            args.pace
        )
    })?;
    let state_dir = cfg
        .state_dir
        .clone()
        .unwrap_or_else(|| state_dir.to_path_buf());
    self::inject::recover_on_start(&cfg, &state_dir)?;
    let opts = DemoOptions {
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
    let approval = if args.session.auto_approve {
        ApprovalMode::AutoApprove
    } else if args.session.auto_reject {
        ApprovalMode::AutoReject
    } else {
        ApprovalMode::Stdin { actor }
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
    }
    Ok(ExitCode::SUCCESS)
}

/// Start the run a cockpit or a headless front-end watches: a scenario of the failure matrix, or
/// the configured pipeline. With `alerts.listen` set this process receives Alertmanager's webhook
/// itself; the receiver must outlive the run, so it is handed back to the caller to keep.
fn start_run(
    opts: &DemoOptions,
    scenario: Option<&str>,
) -> Result<(ccp_app::AppHandle, Option<HttpServer>)> {
    if scenario.is_some() {
        return Ok((ccp_drills::start_demo(opts, scenario)?, None));
    }
    let Some(listen) = opts.config.alerts.listen.as_deref() else {
        return Ok((ccp_app::start_demo(opts)?, None));
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
fn anchor_line(audit: &Path) -> String {
    match ccp_audit::verify_file(audit) {
        Ok(ccp_audit::VerifyReport::Intact { records, last_hash }) => format!(
            "audit anchor: {records} records, last hash {last_hash} (keep it elsewhere: it exposes a cut-off log)"
        ),
        Ok(broken) => format!("audit log does not verify: {broken}"),
        Err(e) => format!("audit log unreadable: {e}"),
    }
}

/// Themes for the cockpit: the configured one first (a builtin name or a file), then the other
/// builtins for `t`; `NO_COLOR` replaces them all with the monochrome theme.
fn cockpit_themes(cfg: &Config) -> Result<Vec<Theme>> {
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

fn cockpit(opts: &DemoOptions, cfg: &Config, args: &DemoArgs, actor: String) -> Result<ExitCode> {
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

fn audit(cmd: AuditCmd) -> Result<ExitCode> {
    match cmd {
        AuditCmd::Verify { file } => {
            let report = ccp_audit::verify_file(&file)?;
            println!("{}: {}", file.display(), report.message());
            Ok(if report.is_intact() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        AuditCmd::Replay { file, incident } => {
            // A replay of a tampered log must not look like a trustworthy record.
            let alarm = match ccp_audit::verify_file(&file)? {
                ccp_audit::VerifyReport::Intact { .. } => None,
                broken @ ccp_audit::VerifyReport::Broken { seq, .. } => {
                    eprintln!("{}: {broken}", file.display());
                    Some(format!(
                        "AUDIT CHAIN BROKEN at seq {seq}: replay unverified"
                    ))
                }
            };
            let records = ccp_audit::read_records(&file)?;
            let Some(r) = ccp_audit::replay::replay(&records, incident.as_deref()) else {
                eprintln!(
                    "{}: no incident {}in this log; incidents: {}",
                    file.display(),
                    incident.map(|i| format!("{i} ")).unwrap_or_default(),
                    ccp_audit::replay::incidents(&records).join(", ")
                );
                return Ok(ExitCode::from(2));
            };
            if r.skipped > 0 {
                eprintln!(
                    "{}: skipped {} records of {} that this version of ccp cannot read as events (written by another version?)",
                    file.display(),
                    r.skipped,
                    r.incident
                );
            }
            use std::io::IsTerminal;
            if !(std::io::stdout().is_terminal() && std::io::stdin().is_terminal()) {
                eprintln!(
                    "ccp audit replay needs a terminal; use `ccp audit show` to print the log"
                );
                return Ok(ExitCode::from(2));
            }
            let cfg = Config::default();
            run::replay(
                r.events,
                CockpitOptions {
                    themes: cockpit_themes(&cfg)?,
                    pace: "replay".into(),
                    actor: "replay".into(),
                    fps: cfg.tui.fps,
                    mouse: cfg.tui.mouse,
                    record: None,
                    alarm,
                },
            )?;
            Ok(ExitCode::SUCCESS)
        }
        AuditCmd::Show { file, incident } => {
            let records = ccp_audit::read_records(&file)?;
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            for r in records {
                let inc = r
                    .data
                    .get("incident")
                    .and_then(|v| v.as_str())
                    .unwrap_or("");
                if incident.as_deref().is_some_and(|want| want != inc) {
                    continue;
                }
                writeln!(
                    out,
                    "{:>6}  {}  {:<8} {:<18} {}",
                    r.seq, r.ts, r.actor, r.kind, inc
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn read_input(path: &Path) -> Result<String> {
    if path == Path::new("-") {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).context("reading stdin")?;
        Ok(s)
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
    }
}

fn rca(input: &Path, top: usize, json: bool) -> Result<ExitCode> {
    let text = read_input(input)?;
    let bundle: ccp_core::rca::RcaBundle = match serde_json::from_str(&text) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{}:{}:{}: {e}", input.display(), e.line(), e.column());
            return Ok(ExitCode::from(2));
        }
    };
    let mut result = ccp_core::rca::rank(&bundle);
    result.candidates.truncate(top);
    if json {
        println!("{}", serde_json::json!({ "candidates": result.candidates }));
    } else {
        for c in &result.candidates {
            println!(
                "{:>4.0}%  {}{}",
                c.confidence * 100.0,
                c.service,
                c.commit
                    .as_deref()
                    .map(|x| format!(" @ {x}"))
                    .unwrap_or_default()
            );
            for e in &c.evidence {
                println!("        - {e}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn judge(baseline: &Path, canary: &Path, json: bool, config: Option<&Path>) -> Result<ExitCode> {
    use ccp_core::stats::{files::SampleFile, judge::Verdict};
    // The pipeline's thresholds (`verification:`), so a verdict reproduced by hand is the
    // verdict the pipeline would give.
    let cfg = match load_config(config) {
        Ok(c) => ccp_app::settings_from(&c, 0).judge,
        Err(code) => return Ok(code),
    };
    let load = |p: &Path| -> Result<Result<SampleFile, String>> {
        let text = read_input(p)?;
        Ok(serde_json::from_str(&text)
            .map_err(|e| format!("{}:{}:{}: {e}", p.display(), e.line(), e.column())))
    };
    let (b, c) = match (load(baseline)?, load(canary)?) {
        (Ok(b), Ok(c)) => (b, c),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(2));
        }
    };
    let j = match ccp_core::stats::files::judge_files(&b, &c, &cfg) {
        Ok(j) => j,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(2));
        }
    };
    if json {
        println!("{}", serde_json::to_string(&j)?);
    } else {
        println!(
            "verdict: {:?} (score {:.0}) — {}",
            j.verdict, j.score, j.reason
        );
        for m in &j.metrics {
            let class = serde_json::to_value(m.classification)?;
            println!(
                "  {:<20} {:?} ({}): {}",
                m.name,
                m.verdict,
                class.as_str().unwrap_or_default(),
                m.reason
            );
        }
    }
    Ok(ExitCode::from(match j.verdict {
        Verdict::Pass => 0,
        Verdict::Fail => 1,
        Verdict::Inconclusive => 3,
    }))
}

fn bench_judge(trials: usize, json: bool) -> Result<ExitCode> {
    let rows = ccp_bench::rollout_study::run(trials, 20261123);
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "canary judge over whole rollouts (shipped steps, evidence-sized windows, final verification): {trials} rollouts per row, 120 rps"
    );
    println!("  base err  step windows   effect        rolled back  (per-look judge)  asked human  promoted  stopped at (looks)");
    for r in rows {
        let windows: Vec<String> = r.step_windows_s.iter().map(|w| format!("{w}s")).collect();
        let at: Vec<String> = r
            .stopped_at
            .iter()
            .map(|x| format!("{:.0}%", x * 100.0))
            .collect();
        println!(
            "  {:>7.1}%  {:<13}  {:<12}  {:>10.1}%  {:>16.1}%  {:>10.1}%  {:>7.1}%  {}",
            r.base_error_rate * 100.0,
            windows.join("/"),
            r.effect,
            r.rolled_back * 100.0,
            r.rolled_back_uncorrected * 100.0,
            r.asked_human * 100.0,
            r.promoted * 100.0,
            at.join(" / ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `ccp bench --mw FILE`: one JSON document with the statistic, the p-value and the median time
/// of `runs` repetitions, so a script can put it beside another implementation's.
fn bench_mw(file: Option<&Path>, runs: usize) -> Result<ExitCode> {
    let Some(file) = file else {
        return Ok(ExitCode::from(2));
    };
    let r = ccp_bench::mann_whitney_timing(file, runs.max(1))?;
    println!("{}", serde_json::to_string_pretty(&r)?);
    Ok(ExitCode::SUCCESS)
}

/// `ccp bench --rca`: accuracy per topology and red herring, calibration, 10 k-service timing.
fn bench_rca(per_cell: usize, json: bool) -> Result<ExitCode> {
    let r = ccp_bench::rca::run(per_cell, 20261125, 7);
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        print!("{}", ccp_bench::rca::render(&r));
    }
    Ok(ExitCode::SUCCESS)
}

fn bench_render(frames: usize, json: bool) -> Result<ExitCode> {
    let r = ccp_bench::render(frames)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("cockpit frame render, {frames} frames per size (median):");
    for s in r {
        println!(
            "  {:>7}  cockpit frame {:>8.1} µs (of which draw {:>7.1} µs)   baseline {:>8.1} µs (plain full-screen paragraph)   ratio {:.2}",
            s.size, s.cockpit_us_median, s.draw_only_us_median, s.baseline_us_median, s.ratio
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn bench(runs: usize, json: bool) -> Result<ExitCode> {
    let r = ccp_bench::run(runs)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("headless instant demo, {} runs (median):", r.runs);
    println!(
        "  total             {:>8.1} ms   (min {:.1}, max {:.1})",
        r.total_ms_median, r.total_ms_range.0, r.total_ms_range.1
    );
    println!(
        "  baseline          {:>8.1} ms   (one `python3 -m unittest` of the demo service)",
        r.baseline_ms_median
    );
    println!("  total / baseline  {:>8.2}", r.ratio_total_to_baseline);
    println!("  compute per state:");
    for (k, v) in &r.stage_ms_median {
        println!("    {k:<24} {v:>8.2} ms");
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plain `ccp` runs `DemoArgs::default()`; it must be exactly `ccp demo` with no flags.
    #[test]
    fn argument_defaults_equal_an_empty_command_line() {
        let Cli {
            command: Some(Cmd::Demo(parsed)),
            ..
        } = Cli::parse_from(["ccp", "demo"])
        else {
            panic!("`ccp demo` did not parse as the demo command");
        };
        assert_eq!(format!("{:?}", DemoArgs::default()), format!("{parsed:?}"));
        assert_eq!(DemoArgs::default().pace, "fast");
        let Cli {
            command: Some(Cmd::Run(parsed)),
            ..
        } = Cli::parse_from(["ccp", "run"])
        else {
            panic!("`ccp run` did not parse as the run command");
        };
        assert_eq!(
            format!("{:?}", SessionArgs::default()),
            format!("{parsed:?}")
        );
    }
}
