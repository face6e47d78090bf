//! Append-only audit log backed by a file.

use super::chain::{
    check_record, parse_object, verify_file, AuditRecord, ChainState, VerifyReport,
};
use super::parse::parse_json;
use super::{compute_hash, AuditError};
use serde_json::Value;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// Writer for one audit log file.
///
/// It verifies the existing chain before accepting any append, writes each
/// record as a single `write_all` of one complete line (so a crash leaves at
/// most one torn last line, never an interleaved one) and fsyncs when asked.
/// One writer per file, enforced: the writer holds an exclusive lock on the
/// file for its whole life (the OS drops it when the process dies), and a second
/// writer, in this process or another, is refused at open with the holder's PID.
#[derive(Debug)]
pub struct FileAuditLog {
    path: PathBuf,
    file: File,
    fsync: bool,
    next_seq: u64,
    last_hash: String,
    /// Set after a failed write: the file may now end in a torn line.
    poisoned: Option<String>,
}

impl FileAuditLog {
    /// Open (creating it and its parent directories if missing) the log at
    /// `path` for appending.
    ///
    /// The whole existing chain is verified first; if it is broken or ends in
    /// a torn line the open fails with [`AuditError::ChainBroken`], because
    /// appending would either hide the damage or extend an untrustworthy
    /// chain. The file is never truncated or rewritten. `fsync` should be on
    /// in production; tests may turn it off for speed.
    pub fn open(path: &Path, fsync: bool) -> Result<Self, AuditError> {
        create_parent(path)?;
        let existed = path.exists();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| AuditError::io(path, "open for appending", e))?;
        if fsync && !existed {
            sync_parent_dir(path)?;
        }
        // Held for as long as this writer lives: two writers would interleave seqs and break the
        // chain, and crash recovery uses it to tell a log a live process is writing from one a
        // dead process left behind (see `log_in_use`).
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(AuditError::InUse {
                    path: path.to_path_buf(),
                    holder: lock_holder(&file),
                })
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(AuditError::io(path, "lock", e)),
        }
        let (next_seq, last_hash) = chain_tip(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
            fsync,
            next_seq,
            last_hash,
            poisoned: None,
        })
    }

    /// Append one event and return the record as written.
    ///
    /// `ts` is supplied by the caller so that the log never depends on this
    /// module's idea of time (and tests are deterministic). The line is
    /// re-parsed and verified before writing, so what lands on disk is
    /// guaranteed to verify. On any write failure the log refuses further
    /// appends (see [`AuditError::Poisoned`]).
    pub fn append(
        &mut self,
        ts: &str,
        actor: &str,
        kind: &str,
        data: Value,
    ) -> Result<AuditRecord, AuditError> {
        if let Some(detail) = &self.poisoned {
            return Err(AuditError::Poisoned {
                path: self.path.clone(),
                detail: detail.clone(),
            });
        }
        let record = self.build_record(ts, actor, kind, data)?;
        let line = self.encode_line(&record)?;
        self.write_line(&line)?;
        self.next_seq += 1;
        self.last_hash = record.hash.clone();
        Ok(record)
    }

    /// The log file's path, for messages and `ccp audit verify` hints.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The seq the next append will get (= number of records).
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The hash of the last record ([`super::GENESIS_PREV`] when empty); it is
    /// the `prev` of the next append and a compact fingerprint of the log.
    pub fn last_hash(&self) -> &str {
        &self.last_hash
    }

    fn build_record(
        &self,
        ts: &str,
        actor: &str,
        kind: &str,
        data: Value,
    ) -> Result<AuditRecord, AuditError> {
        let mut record = AuditRecord {
            seq: self.next_seq,
            ts: ts.to_string(),
            actor: actor.to_string(),
            kind: kind.to_string(),
            data,
            prev: self.last_hash.clone(),
            hash: String::new(),
        };
        record.hash = compute_hash(&record.to_unhashed_value(), &record.prev)
            .map_err(|e| self.encode_error(e.to_string()))?;
        Ok(record)
    }

    /// Serialize to one line (with `\n`) and prove it verifies once re-read.
    fn encode_line(&self, record: &AuditRecord) -> Result<String, AuditError> {
        let mut line =
            serde_json::to_string(record).map_err(|e| self.encode_error(e.to_string()))?;
        let state = ChainState {
            next_seq: self.next_seq,
            last_hash: self.last_hash.clone(),
        };
        let obj = parse_object(line.as_bytes()).map_err(|e| self.encode_error(e))?;
        if let Err((_, reason)) = check_record(&obj, &state) {
            return Err(
                self.encode_error(format!("record would not verify after writing: {reason}"))
            );
        }
        line.push('\n');
        Ok(line)
    }

    fn write_line(&mut self, line: &str) -> Result<(), AuditError> {
        let mut result = self.file.write_all(line.as_bytes());
        if result.is_ok() && self.fsync {
            result = self.file.sync_data();
        }
        result.map_err(|e| {
            self.poisoned = Some(e.to_string());
            AuditError::io(&self.path, "append to", e)
        })
    }

    fn encode_error(&self, detail: String) -> AuditError {
        AuditError::Encode {
            path: self.path.clone(),
            detail,
        }
    }
}

/// Verify the existing file and return `(next_seq, last_hash)`.
fn chain_tip(path: &Path) -> Result<(u64, String), AuditError> {
    match verify_file(path)? {
        VerifyReport::Intact { records, last_hash } => Ok((records, last_hash)),
        VerifyReport::Broken {
            seq, line, reason, ..
        } => Err(AuditError::ChainBroken {
            path: path.to_path_buf(),
            seq,
            line,
            reason,
        }),
    }
}

fn create_parent(path: &Path) -> Result<(), AuditError> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => {
            fs::create_dir_all(dir).map_err(|e| AuditError::io(dir, "create the directory for", e))
        }
        _ => Ok(()),
    }
}

/// Make a newly created log's directory entry durable, so a crash right
/// after the first fsync'd append cannot lose the whole file.
#[cfg(unix)]
fn sync_parent_dir(path: &Path) -> Result<(), AuditError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| AuditError::io(dir, "fsync the directory of", e))
}

/// Directory fsync is not available (or needed) on non-Unix platforms.
#[cfg(not(unix))]
fn sync_parent_dir(_path: &Path) -> Result<(), AuditError> {
    Ok(())
}

/// Whether a live process has the log open for appending. Crash recovery must leave such a
/// log's in-flight operations alone: they are running, not abandoned. The answer can be stale
/// the moment it is given (a process may start right after), which only matters for two
/// processes starting on one state directory at the same instant.
pub fn log_in_use(path: &Path) -> Result<bool, AuditError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(AuditError::io(path, "open", e)),
    };
    match file.try_lock() {
        Ok(()) => {
            file.unlock()
                .map_err(|e| AuditError::io(path, "unlock", e))?;
            Ok(false)
        }
        Err(std::fs::TryLockError::WouldBlock) => Ok(true),
        Err(std::fs::TryLockError::Error(e)) => Err(AuditError::io(path, "lock", e)),
    }
}

/// The PID holding an exclusive `flock` on `file`, from Linux's `/proc/locks`; `None` elsewhere
/// or when it cannot be told. Only for the error message: the lock itself is the guarantee.
fn lock_holder(file: &File) -> Option<u32> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt;
        let ino = file.metadata().ok()?.ino();
        let locks = fs::read_to_string("/proc/locks").ok()?;
        // `1: FLOCK  ADVISORY  WRITE 12345 08:01:1234567 0 EOF`
        locks.lines().find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let (kind, pid, dev) = (f.get(1)?, f.get(4)?, f.get(5)?);
            (*kind == "FLOCK" && dev.rsplit(':').next() == Some(ino.to_string().as_str()))
                .then(|| pid.parse().ok())
                .flatten()
        })
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = file;
        None
    }
}

/// Read every record of a log, in file order, for `ccp audit show`.
///
/// This does not verify the chain (use [`verify_file`] for that); it only
/// fails, naming the line, when a line is not a record at all or the last
/// line is torn, so a display never silently omits anything.
pub fn read_records(path: &Path) -> Result<Vec<AuditRecord>, AuditError> {
    let file = File::open(path).map_err(|e| AuditError::io(path, "open", e))?;
    let mut reader = BufReader::new(file);
    let mut records = Vec::new();
    let mut buf = Vec::new();
    let mut line: u64 = 0;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| AuditError::io(path, "read", e))?;
        if n == 0 {
            return Ok(records);
        }
        line += 1;
        records.push(parse_record_line(path, line, &buf)?);
    }
}

fn parse_record_line(path: &Path, line: u64, buf: &[u8]) -> Result<AuditRecord, AuditError> {
    let malformed = |detail: String| AuditError::Malformed {
        path: path.to_path_buf(),
        line,
        detail,
    };
    let body = buf
        .strip_suffix(b"\n")
        .ok_or_else(|| malformed("torn last line (no trailing newline)".to_string()))?;
    let value = parse_json(body).map_err(&malformed)?;
    serde_json::from_value(value).map_err(|e| malformed(e.to_string()))
}
