//! `ccp audit verify` without the rest of ccp, for timing the audit crate alone.
//!
//! Usage: `cargo run --release -p ccp-audit --example verify -- FILE`; prints
//! the same report line and exits 1 on a broken chain, as `ccp audit verify`.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(file) = std::env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: verify FILE");
        return ExitCode::from(2);
    };
    match ccp_audit::verify_file(&file) {
        Ok(report) => {
            println!("{}: {}", file.display(), report.message());
            if report.is_intact() {
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
