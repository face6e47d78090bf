//! The command line as clap types: every command, flag and default of the Contract's command
//! table, apart from the code that runs them (the sibling modules), so the whole surface reads in
//! one file.

use clap::{Args, FromArgMatches, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "ccp",
    version,
    about = "Terminal incident cockpit: detect → RCA → fix → gates → canary → verify, with a human in the loop"
)]
pub(crate) struct Cli {
    /// Configuration file (YAML); every section is optional.
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Directory for audit.jsonl and ccp.log.
    #[arg(long, global = true, env = "CCP_STATE_DIR", value_name = "DIR")]
    pub(crate) state_dir: Option<PathBuf>,
    /// Also log to stderr.
    #[arg(short, long, global = true)]
    pub(crate) verbose: bool,
    #[command(subcommand)]
    pub(crate) command: Option<Cmd>,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Cmd {
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
    /// The cockpit over a running `ccp serve`: every incident, live, with your identity.
    Attach {
        /// The server, e.g. http://127.0.0.1:9099.
        url: String,
        /// Environment variable holding your bearer token.
        #[arg(long, default_value = "CCP_TOKEN", value_name = "VAR")]
        token_env: String,
        /// Watch only: every command key is refused.
        #[arg(long)]
        read_only: bool,
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
        /// Measure the team service instead: stream latency with 1 and N attached clients, and
        /// alert ingest while three pipelines run (N clients, default 100).
        #[arg(long, value_name = "CLIENTS", num_args = 0..=1, default_missing_value = "100")]
        desk: Option<usize>,
        /// Fit the RCA calibration map on the tuning seed's incidents (incidents per cell) and
        /// print its coefficients, to be pasted into `crates/core/src/rca/calibrate.rs`.
        #[arg(long, value_name = "PER_CELL", num_args = 0..=1, default_missing_value = "20")]
        rca_fit: Option<usize>,
        /// Every end-to-end figure in one table beside the tool a user would otherwise run
        /// (SciPy, sha256sum, a plain ratatui Paragraph), measured in the same run.
        #[arg(long)]
        all: bool,
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
    #[command(after_help = super::localize::HELP_AFTER)]
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
        #[arg(long, default_value_t = super::inject::DEFAULT_SEED)]
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
        cmd: RecoveryCmd,
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
pub(crate) struct DemoArgs {
    /// A scenario of the failure matrix (`ccp scenarios`) to watch in the cockpit; you play the
    /// on-call engineer. Default: the demo fleet as it is (the payment-service bug).
    #[arg(long)]
    pub(crate) scenario: Option<String>,
    /// realtime (production timing), present (about 40 s plus the approval, for demos), fast
    /// (about 14 s) or instant.
    #[arg(long, default_value = "fast")]
    pub(crate) pace: String,
    /// Seed for reproducible runs.
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Inject a failure (e.g. canary_regression).
    #[arg(long, value_name = "NAME")]
    pub(crate) inject_failure: Option<String>,
    #[command(flatten)]
    pub(crate) session: SessionArgs,
}

/// How a run is watched and answered: shared by `ccp demo` and `ccp run`.
#[derive(Args, Debug)]
pub(crate) struct SessionArgs {
    /// No cockpit: print events.
    #[arg(long)]
    pub(crate) headless: bool,
    /// Events as JSON lines (the Contract).
    #[arg(long)]
    pub(crate) json: bool,
    /// Approve as `auto` when asked.
    #[arg(long, conflicts_with = "auto_reject")]
    pub(crate) auto_approve: bool,
    /// Reject as `auto` when asked.
    #[arg(long)]
    pub(crate) auto_reject: bool,
    /// Record an asciicast (cockpit only; not available in headless mode).
    #[arg(long, value_name = "FILE.cast")]
    pub(crate) record: Option<PathBuf>,
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
pub(crate) enum FleetCmd {
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
pub(crate) enum AuditCmd {
    /// Check the hash chain: exit 0 intact, 1 broken (prints the first bad seq).
    Verify {
        file: PathBuf,
        /// A hash the log must still contain: the last hash a run printed (or `/metrics`
        /// exported). A chain cut off after it, or re-hashed, no longer has it.
        #[arg(long, value_name = "HASH")]
        anchor: Option<String>,
        /// Fewer records than this means the log was cut.
        #[arg(long, value_name = "N")]
        expect_count: Option<u64>,
    },
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
pub(crate) enum LockCmd {
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
    /// Internal: the watchdog `lock run` starts beside CMD. It waits on its stdin and stops
    /// CMD's process group if `lock run` dies without saying it is done (even by `kill -9`).
    #[command(hide = true)]
    Guard {
        /// CMD's process group.
        pgid: i32,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum GraphCmd {
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
pub(crate) enum ConfigCmd {
    /// Validate a config file: exit 0, or 2 with `file:line:col: message`.
    Check { file: PathBuf },
}

/// `ccp recovery` subcommands.
#[derive(Subcommand, Debug)]
pub(crate) enum RecoveryCmd {
    /// Categorize a failure: category, severity, confidence and the evidence that decided.
    Categorize {
        #[command(flatten)]
        input: InputArgs,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Run the recovery of a failure and print it phase by phase (actions are simulated unless
    /// the configuration's `recovery.actions.backend` is `script`).
    ///
    /// Exit 0 recovered, 1 escalated, rejected or failed, 2 bad input.
    Run {
        #[command(flatten)]
        input: InputArgs,
        /// Decision tree to run instead of the one the case would get.
        #[arg(long, value_name = "FILE")]
        tree: Option<PathBuf>,
        /// Environment (production, staging, development, …); default: the failure's own, else
        /// the configuration's `environment`.
        #[arg(long, value_name = "ENV")]
        env: Option<String>,
        /// Approve every gate as `auto`.
        #[arg(long, conflicts_with = "auto_reject")]
        auto_approve: bool,
        /// Reject every gate as `auto` (without either, gates time out at once).
        #[arg(long)]
        auto_reject: bool,
        /// Make this simulated action fail, to walk a tree's failure paths (repeatable).
        #[arg(long, value_name = "ACTION")]
        fail_action: Vec<String>,
        /// JSON output (one document: the report with its categorization).
        #[arg(long)]
        json: bool,
    },
    /// Validate rule and tree files: exit 0, or 2 with `file:line:col: message`.
    Check {
        /// Rule files (top-level `rules:`) or tree files (top-level `nodes:`).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// Where the failure comes from.
#[derive(Args, Debug)]
pub(crate) struct InputArgs {
    /// Failure JSON or CI webhook payload; `-` for stdin.
    #[arg(long, value_name = "FILE|-")]
    pub(crate) input: PathBuf,
    /// Provider of a webhook payload (github, gitlab, jenkins, azure, circleci, generic), when
    /// its shape does not tell.
    #[arg(long)]
    pub(crate) provider: Option<String>,
    /// Your categorization rules, on top of `recovery.rules` and the embedded ones.
    #[arg(long, value_name = "FILE")]
    pub(crate) rules: Option<PathBuf>,
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
