//! The demo repository: a real git history for payment-service, built at demo start.
//!
//! Why build it instead of shipping a .git directory: commit times are set relative to the
//! incident ("40 minutes ago"), so RCA's time window, blame and the cockpit's timeline tell the
//! same story on every run. The history lives as plain files (demo/history.yaml plus one snapshot
//! directory per commit holding only the files that commit changed) so it can be reviewed and
//! edited like code. The same files are embedded in the binary ([`EMBEDDED_DEMO`]) so the demo
//! also works where the source tree is not around.

use std::fs;
use std::path::{Component, Path, PathBuf};

use git2::{IndexAddOption, Repository, RepositoryInitOptions, Signature, Time};
use serde::Deserialize;

use crate::git_history::{commits_since, CommitInfo, GitError};

/// The demo's history files, embedded at compile time: `(path relative to demo/, content)`.
pub const EMBEDDED_DEMO: &[(&str, &str)] = &[
    (
        "history.yaml",
        include_str!("../../../../demo/history.yaml"),
    ),
    (
        "history/01-initial-service/README.md",
        include_str!("../../../../demo/history/01-initial-service/README.md"),
    ),
    (
        "history/01-initial-service/payments/__init__.py",
        include_str!("../../../../demo/history/01-initial-service/payments/__init__.py"),
    ),
    (
        "history/01-initial-service/payments/gateway.py",
        include_str!("../../../../demo/history/01-initial-service/payments/gateway.py"),
    ),
    (
        "history/01-initial-service/payments/payment_processor.py",
        include_str!("../../../../demo/history/01-initial-service/payments/payment_processor.py"),
    ),
    (
        "history/01-initial-service/tests/__init__.py",
        include_str!("../../../../demo/history/01-initial-service/tests/__init__.py"),
    ),
    (
        "history/01-initial-service/tests/test_payment_processor.py",
        include_str!("../../../../demo/history/01-initial-service/tests/test_payment_processor.py"),
    ),
    (
        "history/02-typed-models/payments/gateway.py",
        include_str!("../../../../demo/history/02-typed-models/payments/gateway.py"),
    ),
    (
        "history/02-typed-models/payments/models.py",
        include_str!("../../../../demo/history/02-typed-models/payments/models.py"),
    ),
    (
        "history/02-typed-models/payments/payment_processor.py",
        include_str!("../../../../demo/history/02-typed-models/payments/payment_processor.py"),
    ),
    (
        "history/02-typed-models/tests/test_models.py",
        include_str!("../../../../demo/history/02-typed-models/tests/test_models.py"),
    ),
    (
        "history/02-typed-models/tests/test_payment_processor.py",
        include_str!("../../../../demo/history/02-typed-models/tests/test_payment_processor.py"),
    ),
    (
        "history/03-gateway-retries/payments/gateway.py",
        include_str!("../../../../demo/history/03-gateway-retries/payments/gateway.py"),
    ),
    (
        "history/03-gateway-retries/tests/test_gateway.py",
        include_str!("../../../../demo/history/03-gateway-retries/tests/test_gateway.py"),
    ),
    (
        "history/04-replay-probe/probe.py",
        include_str!("../../../../demo/history/04-replay-probe/probe.py"),
    ),
    (
        "history/05-email-receipts/payments/payment_processor.py",
        include_str!("../../../../demo/history/05-email-receipts/payments/payment_processor.py"),
    ),
    (
        "history/05-email-receipts/payments/receipts.py",
        include_str!("../../../../demo/history/05-email-receipts/payments/receipts.py"),
    ),
    (
        "history/05-email-receipts/tests/test_payment_processor.py",
        include_str!("../../../../demo/history/05-email-receipts/tests/test_payment_processor.py"),
    ),
    (
        "history/05-email-receipts/tests/test_receipts.py",
        include_str!("../../../../demo/history/05-email-receipts/tests/test_receipts.py"),
    ),
    (
        "history/06-gateway-timeout/README.md",
        include_str!("../../../../demo/history/06-gateway-timeout/README.md"),
    ),
    (
        "history/06-gateway-timeout/payments/gateway.py",
        include_str!("../../../../demo/history/06-gateway-timeout/payments/gateway.py"),
    ),
];

/// A freshly built demo repository.
#[derive(Clone, Debug, PartialEq)]
pub struct DemoRepo {
    /// Repository root (the `dest` given to [`build_demo_repo`]).
    pub path: PathBuf,
    /// Where the service lives inside the repository, e.g. `"payment-service"`.
    pub service_dir: String,
    /// Every commit, newest first (as [`commits_since`] returns them).
    pub commits: Vec<CommitInfo>,
}

/// Why the demo repository could not be built. Messages name the file to look at.
#[derive(Debug, thiserror::Error)]
pub enum DemoRepoError {
    /// history.yaml missing or unreadable.
    #[error("cannot read the demo history spec {path}: {source}")]
    ReadSpec {
        /// Spec path.
        path: String,
        /// I/O error.
        source: std::io::Error,
    },
    /// history.yaml is not valid.
    #[error("the demo history spec {path} is invalid: {source}")]
    ParseSpec {
        /// Spec path.
        path: String,
        /// YAML error.
        source: serde_yaml::Error,
    },
    /// The spec is well-formed but tells an impossible story.
    #[error("the demo history spec {path} is inconsistent: {why}")]
    BadSpec {
        /// Spec path.
        path: String,
        /// What is wrong.
        why: String,
    },
    /// Refuse to build into a directory that already has files, so nothing is overwritten.
    #[error("refusing to build the demo repository in {path}: the directory is not empty")]
    DestNotEmpty {
        /// Destination.
        path: String,
    },
    /// File system failure while copying snapshots.
    #[error("demo repository: {action} {path} failed: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// Path involved.
        path: String,
        /// I/O error.
        source: std::io::Error,
    },
    /// libgit2 failure while committing.
    #[error("demo repository: git {operation} failed: {source}")]
    Git {
        /// What was being done.
        operation: &'static str,
        /// libgit2's error.
        source: git2::Error,
    },
    /// Reading the built history back failed.
    #[error("demo repository was built but its history cannot be read back: {0}")]
    History(#[from] GitError),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HistorySpec {
    service_dir: String,
    commits: Vec<CommitSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommitSpec {
    snapshot: String,
    author: String,
    email: String,
    seconds_before_incident: i64,
    message: String,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    deleted: Vec<String>,
}

/// Build the demo git repository in `dest` (created if missing, must be empty) from
/// `demo_dir/history.yaml` and `demo_dir/history/<snapshot>/`, with commit times relative to
/// `incident_unix`. The working tree is left checked out at HEAD.
pub fn build_demo_repo(
    demo_dir: &Path,
    dest: &Path,
    incident_unix: i64,
) -> Result<DemoRepo, DemoRepoError> {
    let spec_path = demo_dir.join("history.yaml");
    let spec = load_spec(&spec_path)?;
    prepare_dest(dest)?;
    let repository = init_repo(dest)?;
    for commit in &spec.commits {
        let snapshot = demo_dir.join("history").join(&commit.snapshot);
        apply_snapshot(&snapshot, &dest.join(&spec.service_dir))?;
        remove_deleted(dest, &spec.service_dir, &commit.deleted)?;
        commit_all(&repository, commit, incident_unix)?;
    }
    let mut checkout = git2::build::CheckoutBuilder::new();
    checkout.force();
    git_op(
        "checkout HEAD",
        repository.checkout_head(Some(&mut checkout)),
    )?;
    Ok(DemoRepo {
        path: dest.to_path_buf(),
        service_dir: spec.service_dir,
        commits: commits_since(dest, i64::MIN)?,
    })
}

/// Same as [`build_demo_repo`] from the copy of the demo history embedded in the binary, so the
/// demo runs from any directory.
pub fn build_embedded_demo_repo(
    dest: &Path,
    incident_unix: i64,
) -> Result<DemoRepo, DemoRepoError> {
    let staging = tempfile::tempdir().map_err(|source| DemoRepoError::Io {
        action: "creating a temporary directory for",
        path: "the embedded demo history".to_string(),
        source,
    })?;
    write_embedded_demo(staging.path())?;
    build_demo_repo(staging.path(), dest, incident_unix)
}

/// Write the embedded demo history (history.yaml and history/) under `dir`.
pub fn write_embedded_demo(dir: &Path) -> Result<(), DemoRepoError> {
    for (relative, content) in EMBEDDED_DEMO {
        write_file(&dir.join(relative), content.as_bytes())?;
    }
    Ok(())
}

fn load_spec(path: &Path) -> Result<HistorySpec, DemoRepoError> {
    let display = path.display().to_string();
    let text = fs::read_to_string(path).map_err(|source| DemoRepoError::ReadSpec {
        path: display.clone(),
        source,
    })?;
    let spec: HistorySpec =
        serde_yaml::from_str(&text).map_err(|source| DemoRepoError::ParseSpec {
            path: display.clone(),
            source,
        })?;
    validate_spec(&spec).map_err(|why| DemoRepoError::BadSpec { path: display, why })?;
    Ok(spec)
}

fn validate_spec(spec: &HistorySpec) -> Result<(), String> {
    if spec.commits.is_empty() {
        return Err("it lists no commits".into());
    }
    if !is_safe_relative(&spec.service_dir) {
        return Err(format!(
            "service_dir {:?} must be a plain relative path",
            spec.service_dir
        ));
    }
    let chronological = spec
        .commits
        .windows(2)
        .all(|w| w[0].seconds_before_incident > w[1].seconds_before_incident);
    if !chronological {
        return Err(
            "commits must be listed oldest first with strictly decreasing seconds_before_incident"
                .into(),
        );
    }
    match spec.commits.iter().find(|c| !is_safe_relative(&c.snapshot)) {
        Some(bad) => Err(format!(
            "snapshot {:?} must be a plain relative path",
            bad.snapshot
        )),
        None => Ok(()),
    }
}

/// No absolute paths and no `..`: the spec must not write outside the repository.
fn is_safe_relative(path: &str) -> bool {
    !path.is_empty()
        && Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

fn prepare_dest(dest: &Path) -> Result<(), DemoRepoError> {
    fs::create_dir_all(dest).map_err(|source| DemoRepoError::Io {
        action: "creating",
        path: dest.display().to_string(),
        source,
    })?;
    let mut entries = fs::read_dir(dest).map_err(|source| DemoRepoError::Io {
        action: "listing",
        path: dest.display().to_string(),
        source,
    })?;
    match entries.next() {
        None => Ok(()),
        Some(_) => Err(DemoRepoError::DestNotEmpty {
            path: dest.display().to_string(),
        }),
    }
}

fn init_repo(dest: &Path) -> Result<Repository, DemoRepoError> {
    let mut options = RepositoryInitOptions::new();
    options.initial_head("main");
    git_op("init", Repository::init_opts(dest, &options))
}

fn git_op<T>(operation: &'static str, result: Result<T, git2::Error>) -> Result<T, DemoRepoError> {
    result.map_err(|source| DemoRepoError::Git { operation, source })
}

/// Copy every file of a snapshot over the service directory (snapshots hold only changed files).
fn apply_snapshot(snapshot: &Path, service: &Path) -> Result<(), DemoRepoError> {
    for relative in list_files(snapshot)? {
        let content = fs::read(snapshot.join(&relative)).map_err(|source| DemoRepoError::Io {
            action: "reading snapshot file",
            path: snapshot.join(&relative).display().to_string(),
            source,
        })?;
        write_file(&service.join(&relative), &content)?;
    }
    Ok(())
}

fn remove_deleted(dest: &Path, service_dir: &str, deleted: &[String]) -> Result<(), DemoRepoError> {
    for file in deleted.iter().filter(|f| is_safe_relative(f)) {
        let path = dest.join(service_dir).join(file);
        fs::remove_file(&path).map_err(|source| DemoRepoError::Io {
            action: "deleting",
            path: path.display().to_string(),
            source,
        })?;
    }
    Ok(())
}

/// Relative paths of all regular files under `root`, sorted, skipping `__pycache__` and `.git`.
pub(crate) fn list_files(root: &Path) -> Result<Vec<PathBuf>, DemoRepoError> {
    let mut files = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        let dir = root.join(&relative);
        let entries = fs::read_dir(&dir).map_err(|source| DemoRepoError::Io {
            action: "listing",
            path: dir.display().to_string(),
            source,
        })?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            if name == "__pycache__" || name == ".git" {
                continue;
            }
            let child = relative.join(&name);
            match entry.file_type() {
                Ok(t) if t.is_dir() => pending.push(child),
                Ok(t) if t.is_file() => files.push(child),
                _ => {}
            }
        }
    }
    files.sort();
    Ok(files)
}

fn write_file(path: &Path, content: &[u8]) -> Result<(), DemoRepoError> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|source| DemoRepoError::Io {
            action: "creating directory",
            path: parent.display().to_string(),
            source,
        })?;
    }
    fs::write(path, content).map_err(|source| DemoRepoError::Io {
        action: "writing",
        path: path.display().to_string(),
        source,
    })
}

/// Stage the whole working tree (additions, changes, deletions) and commit it.
fn commit_all(
    repository: &Repository,
    spec: &CommitSpec,
    incident_unix: i64,
) -> Result<(), DemoRepoError> {
    let mut index = git_op("open index", repository.index())?;
    git_op("add", index.add_all(["*"], IndexAddOption::DEFAULT, None))?;
    git_op("update index", index.update_all(["*"], None))?;
    git_op("write index", index.write())?;
    let tree_id = git_op("write tree", index.write_tree())?;
    let tree = git_op("find tree", repository.find_tree(tree_id))?;
    let time = Time::new(incident_unix - spec.seconds_before_incident, 0);
    let author = git_op(
        "signature",
        Signature::new(&spec.author, &spec.email, &time),
    )?;
    let message = match &spec.body {
        Some(body) => format!("{}\n\n{}\n", spec.message.trim(), body.trim()),
        None => format!("{}\n", spec.message.trim()),
    };
    let parent = match repository.head() {
        Ok(head) => Some(git_op("read HEAD", head.peel_to_commit())?),
        Err(_) => None,
    };
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    git_op(
        "commit",
        repository.commit(Some("HEAD"), &author, &author, &message, &tree, &parents),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git_history::{blame_line, read_file_at_head};

    const INCIDENT: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

    fn demo_dir() -> PathBuf {
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("demo")
    }

    fn assert_same_tree(a: &Path, b: &Path) {
        let files_a = list_files(a).expect("list a");
        let files_b = list_files(b).expect("list b");
        assert_eq!(
            files_a, files_b,
            "file lists differ between {a:?} and {b:?}"
        );
        for f in files_a {
            let ca = fs::read(a.join(&f)).expect("read a");
            let cb = fs::read(b.join(&f)).expect("read b");
            assert!(ca == cb, "{f:?} differs between {a:?} and {b:?}");
        }
    }

    #[test]
    fn demo_history_tells_the_incident_story() {
        let dest = tempfile::tempdir().expect("tempdir");
        let repo = build_demo_repo(&demo_dir(), dest.path(), INCIDENT).expect("build");
        assert_eq!(repo.service_dir, "payment-service");
        assert!(repo.commits.len() >= 5, "{:?}", repo.commits);
        let authors: std::collections::BTreeSet<_> =
            repo.commits.iter().map(|c| &c.author).collect();
        assert_eq!(
            authors.len(),
            repo.commits.len(),
            "each commit has its own author"
        );

        let file = "payment-service/payments/payment_processor.py";
        let culprit = blame_line(&repo.path, file, 45).expect("blame");
        assert_eq!(
            culprit.message,
            "Send e-mail receipts after successful charge"
        );
        assert_eq!(culprit.time_unix, INCIDENT - 2400);
        assert_eq!(culprit.id.len(), 40);
        assert_eq!(culprit.short, culprit.id[..7]);
        assert!(culprit.files.contains(&file.to_string()));
        assert!(culprit.lines_changed > 0);

        let recent = commits_since(&repo.path, INCIDENT - 3600).expect("since");
        assert_eq!(recent.len(), 2);
        assert_eq!(
            recent[0].message,
            "Raise gateway timeout to 10 s for the EU acquirer"
        );
        assert!(!recent[0].files.contains(&file.to_string()));
        assert_eq!(recent[1].id, culprit.id);
        assert_eq!(repo.commits[0], recent[0]);

        let head_source = read_file_at_head(&repo.path, file).expect("read");
        assert_eq!(
            head_source.lines().nth(44),
            Some("    send_receipt(user.email.strip().lower(), charge.id)")
        );
        assert!(matches!(
            blame_line(&repo.path, file, 4500),
            Err(GitError::LineOutOfRange { .. })
        ));
        assert!(matches!(
            read_file_at_head(&repo.path, "nope.py"),
            Err(GitError::FileNotFound { .. })
        ));
    }

    #[test]
    fn final_history_tree_equals_the_demo_service() {
        let dest = tempfile::tempdir().expect("tempdir");
        let repo = build_demo_repo(&demo_dir(), dest.path(), INCIDENT).expect("build");
        assert_same_tree(
            &repo.path.join(&repo.service_dir),
            &demo_dir().join("payment-service"),
        );
    }

    #[test]
    fn embedded_copy_matches_the_files_on_disk() {
        let staged = tempfile::tempdir().expect("tempdir");
        write_embedded_demo(staged.path()).expect("write");
        assert_same_tree(&staged.path().join("history"), &demo_dir().join("history"));
        let yaml = fs::read(demo_dir().join("history.yaml")).expect("yaml");
        assert_eq!(
            fs::read(staged.path().join("history.yaml")).expect("staged"),
            yaml
        );

        let dest = tempfile::tempdir().expect("tempdir");
        let repo = build_embedded_demo_repo(dest.path(), INCIDENT).expect("build");
        assert_same_tree(
            &repo.path.join("payment-service"),
            &demo_dir().join("payment-service"),
        );
    }

    #[test]
    fn refuses_a_non_empty_destination() {
        let dest = tempfile::tempdir().expect("tempdir");
        fs::write(dest.path().join("keep.txt"), "x").expect("write");
        let err = build_demo_repo(&demo_dir(), dest.path(), INCIDENT).expect_err("refuse");
        assert!(matches!(err, DemoRepoError::DestNotEmpty { .. }), "{err}");
    }
}
