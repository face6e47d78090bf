//! The `ccp` binary: parse the command line, set up logging to a file, pick a front-end.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
