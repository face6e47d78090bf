//! A local git checkout as the `CodeRepo` port (the demo repository, or `repo.path` from config).

use crate::adapters::git_history;
use crate::core::domain::Commit;
use crate::core::ports::{CodeRepo, PortError, PortResult};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A working tree plus which directory holds which service.
#[derive(Debug, Clone)]
pub struct GitRepo {
    root: PathBuf,
    service_dirs: HashMap<String, String>,
}

impl GitRepo {
    /// Wrap a checkout; `service_dirs` maps service name → directory inside the repo.
    pub fn new(root: PathBuf, service_dirs: HashMap<String, String>) -> Self {
        Self { root, service_dirs }
    }

    /// Where the working tree is.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == ".git" || name == "__pycache__" {
            continue;
        }
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            walk(root, &path, out)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

impl CodeRepo for GitRepo {
    fn service_dir(&self, service: &str) -> Option<String> {
        self.service_dirs.get(service).cloned()
    }

    fn files(&self) -> PortResult<Vec<String>> {
        let mut out = Vec::new();
        walk(&self.root, &self.root, &mut out)
            .map_err(|e| PortError::new("repo", format!("listing {}: {e}", self.root.display())))?;
        out.sort();
        Ok(out)
    }

    fn commits_since(&self, since_unix: i64) -> PortResult<Vec<Commit>> {
        git_history::commits_since(&self.root, since_unix)
            .map_err(|e| PortError::new("repo", e.to_string()))
    }

    fn blame(&self, file: &str, line: u32) -> PortResult<Commit> {
        git_history::blame_line(&self.root, file, line)
            .map_err(|e| PortError::new("repo", e.to_string()))
    }

    fn read_file(&self, file: &str) -> PortResult<String> {
        std::fs::read_to_string(self.root.join(file))
            .map_err(|e| PortError::new("repo", format!("reading {file}: {e}")))
    }
}
