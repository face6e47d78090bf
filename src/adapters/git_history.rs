//! Git history queries for root-cause analysis: recent commits, blame, and file contents at HEAD.
//!
//! Uses libgit2 (via `git2`) rather than the `git` binary so results do not depend on the host's
//! git version, configuration or locale.

use std::path::Path;

use git2::{DiffOptions, Repository, Sort};

pub use crate::core::domain::Commit as CommitInfo;

/// Why a history query failed, in terms of what the operator can check.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// Not a repository, or unreadable.
    #[error(
        "cannot open the git repository at {path}: {source} (is it a clone with a .git directory?)"
    )]
    Open {
        /// Repository path.
        path: String,
        /// libgit2's error.
        source: git2::Error,
    },
    /// Any other libgit2 failure.
    #[error("git {operation} failed in {path}: {source}")]
    Git {
        /// What was being done, e.g. `blame`.
        operation: &'static str,
        /// Repository path.
        path: String,
        /// libgit2's error.
        source: git2::Error,
    },
    /// The file is not in the HEAD tree.
    #[error("{file} is not in the HEAD commit of {path}: is the path repository-relative and spelled as in git?")]
    FileNotFound {
        /// Repository path.
        path: String,
        /// File asked for.
        file: String,
    },
    /// Blame asked for a line past the end of the file.
    #[error("{file} has {lines} lines at HEAD, so line {line} cannot be blamed: the stack trace comes from a different revision")]
    LineOutOfRange {
        /// File asked for.
        file: String,
        /// Line asked for.
        line: u32,
        /// Lines at HEAD.
        lines: usize,
    },
    /// Binary or non-UTF-8 content.
    #[error("{file} at HEAD is not UTF-8 text, so it cannot be patched as source code")]
    NotText {
        /// File asked for.
        file: String,
    },
}

fn open(repo: &Path) -> Result<Repository, GitError> {
    Repository::open(repo).map_err(|source| GitError::Open {
        path: repo.display().to_string(),
        source,
    })
}

/// Wrap a libgit2 error with what was being done and where.
fn git<T>(
    repo: &Path,
    operation: &'static str,
    result: Result<T, git2::Error>,
) -> Result<T, GitError> {
    result.map_err(|source| GitError::Git {
        operation,
        path: repo.display().to_string(),
        source,
    })
}

/// Commits reachable from HEAD with author time at or after `since_unix`, newest first, each with
/// its changed files and size. Why: the RCA step ranks recent changes as suspects.
pub fn commits_since(repo: &Path, since_unix: i64) -> Result<Vec<CommitInfo>, GitError> {
    let repository = open(repo)?;
    let mut walk = git(repo, "revwalk", repository.revwalk())?;
    git(repo, "revwalk", walk.set_sorting(Sort::TIME))?;
    git(repo, "revwalk (HEAD)", walk.push_head())?;
    let mut commits = Vec::new();
    for oid in walk {
        let oid = git(repo, "revwalk", oid)?;
        let commit = git(repo, "find commit", repository.find_commit(oid))?;
        if commit.time().seconds() < since_unix {
            break;
        }
        commits.push(commit_info(repo, &repository, &commit)?);
    }
    Ok(commits)
}

/// The commit that last changed `line` (1-based) of `file` (repository-relative) at HEAD.
/// Why: the newest commit is often unrelated; blame names the one that wrote the failing line.
pub fn blame_line(repo: &Path, file: &str, line: u32) -> Result<CommitInfo, GitError> {
    let lines = read_file_at_head(repo, file)?.lines().count();
    let out_of_range = || GitError::LineOutOfRange {
        file: file.to_string(),
        line,
        lines,
    };
    let index = usize::try_from(line).map_err(|_| out_of_range())?;
    if index == 0 || index > lines {
        return Err(out_of_range());
    }
    let repository = open(repo)?;
    let blame = git(repo, "blame", repository.blame_file(Path::new(file), None))?;
    let hunk = blame.get_line(index).ok_or_else(out_of_range)?;
    let commit = git(
        repo,
        "find commit",
        repository.find_commit(hunk.final_commit_id()),
    )?;
    commit_info(repo, &repository, &commit)
}

/// Content of `file` (repository-relative) in the HEAD commit, which is what is deployed — not
/// whatever is lying in the working tree.
pub fn read_file_at_head(repo: &Path, file: &str) -> Result<String, GitError> {
    let repository = open(repo)?;
    let head = git(repo, "resolve HEAD", repository.head())?;
    let tree = git(repo, "read HEAD tree", head.peel_to_tree())?;
    let not_found = || GitError::FileNotFound {
        path: repo.display().to_string(),
        file: file.to_string(),
    };
    let entry = tree.get_path(Path::new(file)).map_err(|_| not_found())?;
    let object = git(repo, "read object", entry.to_object(&repository))?;
    let blob = object.peel_to_blob().map_err(|_| not_found())?;
    String::from_utf8(blob.content().to_vec()).map_err(|_| GitError::NotText {
        file: file.to_string(),
    })
}

/// Every file path (repository-relative, `/`-separated) in the HEAD commit. Why: stack-trace
/// paths are mapped onto this list to find which frame is the project's own code.
pub fn files_at_head(repo: &Path) -> Result<Vec<String>, GitError> {
    let repository = open(repo)?;
    let head = git(repo, "resolve HEAD", repository.head())?;
    let tree = git(repo, "read HEAD tree", head.peel_to_tree())?;
    let mut files = Vec::new();
    git(
        repo,
        "walk HEAD tree",
        tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            if entry.kind() == Some(git2::ObjectType::Blob) {
                files.push(format!(
                    "{dir}{}",
                    String::from_utf8_lossy(entry.name_bytes())
                ));
            }
            git2::TreeWalkResult::Ok
        }),
    )?;
    files.sort();
    Ok(files)
}

/// Build a [`CommitInfo`], diffing against the first parent (or the empty tree for a root).
fn commit_info(
    repo: &Path,
    repository: &Repository,
    commit: &git2::Commit<'_>,
) -> Result<CommitInfo, GitError> {
    let tree = git(repo, "read tree", commit.tree())?;
    let parent_tree = match commit.parent(0) {
        Ok(parent) => Some(git(repo, "read parent tree", parent.tree())?),
        Err(_) => None,
    };
    let mut options = DiffOptions::new();
    let diff = git(
        repo,
        "diff",
        repository.diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), Some(&mut options)),
    )?;
    let files = diff
        .deltas()
        .filter_map(|d| d.new_file().path().or_else(|| d.old_file().path()))
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .collect();
    let stats = git(repo, "diff stats", diff.stats())?;
    let id = commit.id().to_string();
    let message = String::from_utf8_lossy(commit.message_bytes());
    Ok(CommitInfo {
        short: id.chars().take(7).collect(),
        id,
        message: message.lines().next().unwrap_or("").trim().to_string(),
        author: String::from_utf8_lossy(commit.author().name_bytes()).to_string(),
        time_unix: commit.time().seconds(),
        files,
        lines_changed: u32::try_from(stats.insertions() + stats.deletions()).unwrap_or(u32::MAX),
    })
}
