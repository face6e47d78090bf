//! Generate a large, valid audit log for benchmarking `ccp audit verify`.
//!
//! Usage: `cargo run --release -p ccp-audit --example gen_log -- OUT COUNT TEMPLATE.jsonl...`
//!
//! Records are appended through [`FileAuditLog`] itself (so every hash is
//! genuine), cycling through the `ts`/`actor`/`type`/`data` of the template
//! logs' records: real cockpit output, so the benchmark sees realistic payload
//! shapes (nested objects, floats, arrays of pairs) rather than a toy record.

use ccp_audit::{read_records, FileAuditLog};
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(out), Some(count), templates) = (
        args.first(),
        args.get(1).and_then(|c| c.parse::<u64>().ok()),
        args.get(2..).unwrap_or_default(),
    ) else {
        eprintln!("usage: gen_log OUT COUNT TEMPLATE.jsonl...");
        return ExitCode::from(2);
    };
    let mut records = Vec::new();
    for t in templates {
        match read_records(&PathBuf::from(t)) {
            Ok(r) => records.extend(r),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(1);
            }
        }
    }
    if records.is_empty() {
        eprintln!("no template records");
        return ExitCode::from(2);
    }
    let mut log = match FileAuditLog::open(&PathBuf::from(out), false) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    for i in 0..count {
        let r = &records[(i % records.len() as u64) as usize];
        if let Err(e) = log.append(&r.ts, &r.actor, &r.kind, r.data.clone()) {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    }
    ExitCode::SUCCESS
}
