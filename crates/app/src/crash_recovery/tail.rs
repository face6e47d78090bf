//! A torn last line: the write a crash interrupted. It is never dropped silently and never
//! completed into something that verifies. Recovery moves the fragment, byte for byte, to a
//! quarantine file beside the log, cuts the log back to its last whole record, and records in
//! the chain itself what was quarantined (its size, SHA-256 and where it went).

use sha2::{Digest, Sha256};
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What was done with a torn last line.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TornTail {
    /// Bytes of the fragment.
    pub bytes: usize,
    /// SHA-256 of the fragment, hex.
    pub sha256: String,
    /// Where the fragment now is.
    pub quarantined_to: PathBuf,
    /// The seq the fragment would have had.
    pub seq: u64,
}

/// Why the tail could not be handled.
#[derive(Debug, thiserror::Error)]
#[error("{what} {path}: {source}")]
pub struct TailError {
    what: &'static str,
    path: PathBuf,
    source: std::io::Error,
}

fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> TailError + 'a {
    move |source| TailError {
        what,
        path: path.to_path_buf(),
        source,
    }
}

/// If `log` ends without a newline, quarantine the fragment and cut it off. `seq` is the seq the
/// fragment's record would have had (the number of whole records). Returns `None` when the log
/// ends cleanly.
pub fn quarantine_torn_tail(log: &Path, seq: u64) -> Result<Option<TornTail>, TailError> {
    let bytes = match std::fs::read(log) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io("reading", log)(e)),
    };
    if bytes.is_empty() || bytes.ends_with(b"\n") {
        return Ok(None);
    }
    let keep = bytes
        .iter()
        .rposition(|b| *b == b'\n')
        .map(|i| i + 1)
        .unwrap_or(0);
    let fragment = &bytes[keep..];
    let digest = hex(&Sha256::digest(fragment));
    let name = format!(
        "{}.torn-seq{seq}-{}",
        log.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("audit.jsonl"),
        &digest[..12]
    );
    let quarantine = log.with_file_name(name);
    {
        let mut q = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&quarantine)
            .map_err(io("creating", &quarantine))?;
        q.write_all(fragment).map_err(io("writing", &quarantine))?;
        q.sync_all().map_err(io("syncing", &quarantine))?;
    }
    // Only once the fragment is safely elsewhere is the log cut back.
    let f = OpenOptions::new()
        .write(true)
        .open(log)
        .map_err(io("opening", log))?;
    f.set_len(keep as u64).map_err(io("truncating", log))?;
    f.sync_all().map_err(io("syncing", log))?;
    Ok(Some(TornTail {
        bytes: fragment.len(),
        sha256: digest,
        quarantined_to: quarantine,
        seq,
    }))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clean_log_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("audit.jsonl");
        std::fs::write(&log, "{\"a\":1}\n").unwrap();
        assert_eq!(quarantine_torn_tail(&log, 1).unwrap(), None);
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "{\"a\":1}\n");
    }

    #[test]
    fn a_torn_fragment_is_moved_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("audit.jsonl");
        std::fs::write(&log, "{\"a\":1}\n{\"seq\":1,\"ts\":\"20").unwrap();
        let t = quarantine_torn_tail(&log, 1).unwrap().unwrap();
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "{\"a\":1}\n");
        assert_eq!(
            std::fs::read_to_string(&t.quarantined_to).unwrap(),
            "{\"seq\":1,\"ts\":\"20"
        );
        assert_eq!(t.bytes, 17);
        assert_eq!(t.seq, 1);
        assert_eq!(t.sha256, hex(&Sha256::digest(b"{\"seq\":1,\"ts\":\"20")));
    }
}
