//! Git history queries for root-cause analysis: recent commits, blame, and file contents at HEAD.
//!
//! Uses libgit2 (via `git2`) rather than the `git` binary so results do not depend on the host's
//! git version, configuration or locale.

use std::path::Path;

use git2::{
    BranchType, DiffOptions, Index, IndexEntry, IndexTime, PushOptions, RemoteCallbacks,
    Repository, Signature, Sort, Time,
};

pub use ccp_core::domain::Commit as CommitInfo;

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
    /// The branch name is not a valid git ref name.
    #[error("`{branch}` is not a valid git branch name")]
    InvalidBranch {
        /// Branch asked for.
        branch: String,
    },
    /// The branch to write is the one checked out; moving it would desynchronise the working
    /// tree, which fix commits must never touch.
    #[error("{branch} is checked out in {path}: refusing to move it under the working tree (check out another branch)")]
    BranchCheckedOut {
        /// Repository path.
        path: String,
        /// Branch asked for.
        branch: String,
    },
    /// The patched content equals HEAD's: there is nothing to commit.
    #[error("the patch leaves {file} as it is at HEAD: nothing to commit")]
    NoChange {
        /// File asked for.
        file: String,
    },
    /// The configured remote does not exist.
    #[error("no git remote named `{remote}` in {path} (see `git remote -v`; set repo.remote)")]
    RemoteNotFound {
        /// Repository path.
        path: String,
        /// Remote asked for.
        remote: String,
    },
    /// The remote refused the pushed branch.
    #[error("{remote} rejected {branch}: {message}")]
    PushRejected {
        /// Remote pushed to.
        remote: String,
        /// Branch pushed.
        branch: String,
        /// The remote's reason.
        message: String,
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

/// Identity and time of a commit ccp makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitAuthor {
    /// Author and committer name.
    pub name: String,
    /// Author and committer e-mail.
    pub email: String,
    /// Commit time, seconds since the epoch.
    pub time_unix: i64,
}

/// What [`commit_file_on_branch`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchCommit {
    /// The commit the branch now points at (40 hex).
    pub commit: String,
    /// Its parent: HEAD when it was made (40 hex).
    pub parent: String,
    /// True when the branch already held this very change on this parent with this message,
    /// so nothing new was written.
    pub reused: bool,
}

/// Commit `content` as `file` (repository-relative) on `branch`, branching from HEAD, without
/// touching the working tree, the index or the checked-out branch: the tree is HEAD's tree with
/// one blob replaced, built in an in-memory index. Why: a fix must be reviewable and deployable
/// by commit id while the operator's checkout stays exactly as it was.
///
/// Re-running is safe. When the branch already points at a commit with the same tree, the same
/// parent (HEAD) and the same message, that commit is kept (`reused`). Otherwise the branch is
/// moved to a new commit on the current HEAD (the branch belongs to ccp; the old tip stays in
/// the reflog). Refuses to move the branch that is checked out.
pub fn commit_file_on_branch(
    repo: &Path,
    branch: &str,
    file: &str,
    content: &str,
    message: &str,
    author: &CommitAuthor,
) -> Result<BranchCommit, GitError> {
    let refname = format!("refs/heads/{branch}");
    if !git2::Reference::is_valid_name(&refname) {
        return Err(GitError::InvalidBranch {
            branch: branch.to_string(),
        });
    }
    let repository = open(repo)?;
    let head = git(repo, "resolve HEAD", repository.head())?;
    if head.name().ok() == Some(refname.as_str()) {
        return Err(GitError::BranchCheckedOut {
            path: repo.display().to_string(),
            branch: branch.to_string(),
        });
    }
    let parent = git(repo, "read HEAD commit", head.peel_to_commit())?;
    let head_tree = git(repo, "read HEAD tree", parent.tree())?;
    let not_found = || GitError::FileNotFound {
        path: repo.display().to_string(),
        file: file.to_string(),
    };
    let entry = head_tree
        .get_path(Path::new(file))
        .map_err(|_| not_found())?;
    if entry.kind() != Some(git2::ObjectType::Blob) {
        return Err(not_found());
    }
    let blob = git(repo, "write blob", repository.blob(content.as_bytes()))?;
    if blob == entry.id() {
        return Err(GitError::NoChange {
            file: file.to_string(),
        });
    }
    let mut index = git(repo, "create in-memory index", Index::new())?;
    git(repo, "read HEAD tree", index.read_tree(&head_tree))?;
    let path = file.as_bytes().to_vec();
    git(
        repo,
        "stage patched file",
        index.add(&IndexEntry {
            ctime: IndexTime::new(0, 0),
            mtime: IndexTime::new(0, 0),
            dev: 0,
            ino: 0,
            mode: u32::try_from(entry.filemode()).unwrap_or(0o100_644),
            uid: 0,
            gid: 0,
            file_size: u32::try_from(content.len()).unwrap_or(u32::MAX),
            id: blob,
            flags: u16::try_from(path.len().min(0xfff)).unwrap_or(0xfff),
            flags_extended: 0,
            path,
        }),
    )?;
    let tree_id = git(repo, "write tree", index.write_tree_to(&repository))?;
    if let Ok(existing) = repository.find_branch(branch, BranchType::Local) {
        if let Ok(tip) = existing.get().peel_to_commit() {
            let same_parent = tip.parent_ids().eq(std::iter::once(parent.id()));
            if tip.tree_id() == tree_id && same_parent && tip.message_bytes() == message.as_bytes()
            {
                return Ok(BranchCommit {
                    commit: tip.id().to_string(),
                    parent: parent.id().to_string(),
                    reused: true,
                });
            }
        }
    }
    let tree = git(repo, "read new tree", repository.find_tree(tree_id))?;
    let signature = git(
        repo,
        "make signature (check repo.author_name / repo.author_email)",
        Signature::new(&author.name, &author.email, &Time::new(author.time_unix, 0)),
    )?;
    let commit = git(
        repo,
        "commit",
        repository.commit(None, &signature, &signature, message, &tree, &[&parent]),
    )?;
    git(
        repo,
        "update branch",
        repository.reference(&refname, commit, true, "ccp: fix commit"),
    )?;
    Ok(BranchCommit {
        commit: commit.to_string(),
        parent: parent.id().to_string(),
        reused: false,
    })
}

/// Push `branch` to the remote named `remote`, forced (ccp moves its own fix branches on
/// re-runs), and nothing else. Why only a named remote: pushing is an outward action the
/// operator must have asked for in config.
pub fn push_branch(repo: &Path, remote: &str, branch: &str) -> Result<(), GitError> {
    let repository = open(repo)?;
    let mut handle = repository
        .find_remote(remote)
        .map_err(|_| GitError::RemoteNotFound {
            path: repo.display().to_string(),
            remote: remote.to_string(),
        })?;
    let refspec = format!("+refs/heads/{branch}:refs/heads/{branch}");
    let mut rejected: Option<String> = None;
    {
        let mut callbacks = RemoteCallbacks::new();
        callbacks.push_update_reference(|_, status| {
            if let Some(message) = status {
                rejected = Some(message.to_string());
            }
            Ok(())
        });
        let mut options = PushOptions::new();
        options.remote_callbacks(callbacks);
        git(
            repo,
            "push",
            handle.push(&[refspec.as_str()], Some(&mut options)),
        )?;
    }
    match rejected {
        Some(message) => Err(GitError::PushRejected {
            remote: remote.to_string(),
            branch: branch.to_string(),
            message,
        }),
        None => Ok(()),
    }
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
