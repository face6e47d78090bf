//! `ccp.log` with a size cap: past `max_bytes` the file moves to `ccp.log.1` (the older ones to
//! `.2`, `.3`, the oldest dropped) and a new one starts.
//!
//! Why: a desk that takes tens of thousands of alerts a second for hours would otherwise fill
//! the disk it shares with the audit log. Four files of at most 64 MiB each (the default; set
//! `CCP_LOG_MAX_BYTES`) keep the recent past without ever growing past that.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Default cap of one log file.
pub const DEFAULT_MAX_BYTES: u64 = 64 << 20;

/// Rotated files kept besides the current one.
pub const KEEP: usize = 3;

/// The log file with its cap.
pub struct CappedLog {
    path: PathBuf,
    file: File,
    written: u64,
    max_bytes: u64,
}

impl CappedLog {
    /// Opens (appends to) `path`, rotating first if it is already past `max_bytes`.
    pub fn open(path: &Path, max_bytes: u64) -> io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let written = file.metadata()?.len();
        let mut log = Self {
            path: path.to_path_buf(),
            file,
            written,
            max_bytes: max_bytes.max(1),
        };
        if log.written >= log.max_bytes {
            log.rotate()?;
        }
        Ok(log)
    }

    /// `path.N`.
    fn numbered(&self, n: usize) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(format!(".{n}"));
        PathBuf::from(p)
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.file.flush()?;
        let _ = std::fs::remove_file(self.numbered(KEEP));
        for n in (1..KEEP).rev() {
            let _ = std::fs::rename(self.numbered(n), self.numbered(n + 1));
        }
        std::fs::rename(&self.path, self.numbered(1))?;
        self.file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.written = 0;
        Ok(())
    }
}

impl Write for CappedLog {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Whole records go to one file: rotate before a write that would cross the cap.
        if self.written > 0 && self.written + buf.len() as u64 > self.max_bytes {
            self.rotate()?;
        }
        let n = self.file.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// The cap from `CCP_LOG_MAX_BYTES`, else [`DEFAULT_MAX_BYTES`].
pub fn max_bytes_from_env() -> u64 {
    std::env::var("CCP_LOG_MAX_BYTES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(DEFAULT_MAX_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_past_the_cap_and_keeps_three_old_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ccp.log");
        let mut log = CappedLog::open(&path, 100).expect("open");
        // One write per record, as the log's formatter writes each formatted line.
        for i in 0..50 {
            let line = format!("record {i:02} {}\n", "x".repeat(20));
            log.write_all(line.as_bytes()).expect("write");
        }
        let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        assert!(size(&path) <= 100, "current file is capped");
        for n in 1..=KEEP {
            let old = log.numbered(n);
            assert!(old.exists(), "{} kept", old.display());
            assert!(size(&old) <= 100);
        }
        assert!(!log.numbered(KEEP + 1).exists(), "older ones are dropped");
        let newest = std::fs::read_to_string(&path).expect("read");
        assert!(newest.contains("record 49"), "{newest}");
        // Whole lines: nothing split across files.
        for n in 0..=KEEP {
            let p = if n == 0 {
                path.clone()
            } else {
                log.numbered(n)
            };
            let text = std::fs::read_to_string(&p).expect("read");
            assert!(
                text.lines()
                    .all(|l| l.starts_with("record ") && l.len() == 30),
                "{text}"
            );
        }
    }

    #[test]
    fn a_file_already_past_the_cap_is_rotated_at_open() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ccp.log");
        std::fs::write(&path, "y".repeat(500)).expect("seed");
        let log = CappedLog::open(&path, 100).expect("open");
        assert_eq!(std::fs::metadata(&path).expect("meta").len(), 0);
        assert_eq!(std::fs::metadata(log.numbered(1)).expect("meta").len(), 500);
    }
}
