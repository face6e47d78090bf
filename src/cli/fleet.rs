//! `ccp fleet serve`: the simulated fleet as a process for the real chain.

use anyhow::Result;
use ccp_app as app;
use std::io::Write;
use std::process::ExitCode;

use super::args::FleetCmd;
use super::wait_for_termination;

/// `ccp fleet …`.
pub(super) fn command(cmd: FleetCmd) -> Result<ExitCode> {
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
