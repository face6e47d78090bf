//! A local git checkout as the `CodeRepo` port (the demo repository, or `repo.path` from config).
//! Besides history queries it commits fix plans on `ccp/fix-<incident>` branches with libgit2,
//! never touching the working tree or the checked-out branch.

use crate::git_history::{self, CommitAuthor};
use ccp_config::RepoConfig;
use ccp_core::domain::{Commit, FixCommit};
use ccp_core::ports::{CodeRepo, FixCommitRequest, PortError, PortResult};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// How fix commits are made: the `repo` config section's `commit_fixes`, `author_*`, `push` and
/// `remote`. Kept apart from the config type so tests and tools can build one directly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixCommitSettings {
    /// Commit fixes at all.
    pub enabled: bool,
    /// Author and committer name.
    pub author_name: String,
    /// Author and committer e-mail.
    pub author_email: String,
    /// Push the branch after committing.
    pub push: bool,
    /// The only remote ever pushed to.
    pub remote: String,
}

impl Default for FixCommitSettings {
    fn default() -> Self {
        Self::from_config(&RepoConfig::default())
    }
}

impl FixCommitSettings {
    /// The settings the `repo` section asks for.
    pub fn from_config(cfg: &RepoConfig) -> Self {
        Self {
            enabled: cfg.commit_fixes,
            author_name: cfg.author_name.clone(),
            author_email: cfg.author_email.clone(),
            push: cfg.push,
            remote: cfg.remote.clone(),
        }
    }
}

/// A working tree plus which directory holds which service.
#[derive(Debug, Clone)]
pub struct GitRepo {
    root: PathBuf,
    service_dirs: HashMap<String, String>,
    fix_commits: FixCommitSettings,
}

impl GitRepo {
    /// Wrap a checkout; `service_dirs` maps service name → directory inside the repo. Fixes are
    /// committed with the default settings (`ccp <ccp@localhost>`, no push).
    pub fn new(root: PathBuf, service_dirs: HashMap<String, String>) -> Self {
        Self {
            root,
            service_dirs,
            fix_commits: FixCommitSettings::default(),
        }
    }

    /// Use these fix-commit settings (from `repo` config: author, push, remote).
    pub fn with_fix_commits(mut self, settings: FixCommitSettings) -> Self {
        self.fix_commits = settings;
        self
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

    fn commit_fix(&self, req: &FixCommitRequest) -> PortResult<Option<FixCommit>> {
        let s = &self.fix_commits;
        if !s.enabled {
            return Ok(None);
        }
        let author = CommitAuthor {
            name: s.author_name.clone(),
            email: s.author_email.clone(),
            time_unix: req.time_unix,
        };
        let made = git_history::commit_file_on_branch(
            &self.root,
            &req.branch,
            &req.file,
            &req.new_source,
            &req.message,
            &author,
        )
        .map_err(|e| PortError::new("repo", e.to_string()))?;
        let (pushed_to, push_error) = if !s.push {
            (None, None)
        } else if s.remote.trim().is_empty() {
            (
                None,
                Some("repo.push is on but repo.remote is empty".to_string()),
            )
        } else {
            match git_history::push_branch(&self.root, &s.remote, &req.branch) {
                Ok(()) => (Some(s.remote.clone()), None),
                Err(e) => (None, Some(e.to_string())),
            }
        };
        Ok(Some(FixCommit {
            branch: req.branch.clone(),
            short: made.commit.chars().take(7).collect(),
            commit: made.commit,
            parent: made.parent,
            reused: made.reused,
            pushed_to,
            push_error,
        }))
    }
}
