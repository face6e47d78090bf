//! The fix committed on its own branch `ccp/fix-<incident>` with libgit2: exactly the patched
//! file changes against HEAD, the message links the incident, HEAD and the working tree stay as
//! they were, re-running is safe, pushing goes only to the configured remote, and the demo
//! pipeline reports the commit in a `fix_committed` event.

mod common;

use ccp_adapters::embedded::demo_repo::build_demo_repo;
use ccp_adapters::git_repo::{FixCommitSettings, GitRepo};
use ccp_core::domain::FixCommit;
use ccp_core::ports::{CodeRepo, FixCommitRequest};
use common::{demo_dir, headless_demo, json_events, python_or_skip};
use git2::{BranchType, Oid, Repository, Signature, Time};
use serde_json::Value;
use std::collections::HashMap;
use std::fs;
use std::path::Path;

const FILE: &str = "svc/app/handler.py";
const ORIGINAL: &str = "def handle(user):\n    return user.email.strip()\n";
const PATCHED: &str =
    "def handle(user):\n    if user.email is not None:\n        return user.email.strip()\n    return None\n";

/// A repository on branch `main` with two commits touching two files, plus an untracked file.
fn make_repo() -> (tempfile::TempDir, Repository) {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = Repository::init(dir.path()).expect("init");
    repo.set_head("refs/heads/main").expect("main");
    let sig = Signature::new("Dev", "dev@example.com", &Time::new(1_700_000_000, 0)).expect("sig");
    fs::create_dir_all(dir.path().join("svc/app")).expect("mkdir");
    fs::write(dir.path().join(FILE), ORIGINAL).expect("write");
    fs::write(dir.path().join("svc/README.md"), "# svc\n").expect("write");
    commit_all(&repo, &sig, "initial");
    fs::write(dir.path().join("svc/app/other.py"), "X = 1\n").expect("write");
    commit_all(&repo, &sig, "add other");
    fs::write(dir.path().join("notes.txt"), "untracked\n").expect("write");
    (dir, repo)
}

fn commit_all(repo: &Repository, sig: &Signature<'_>, msg: &str) -> Oid {
    let mut index = repo.index().expect("index");
    index
        .add_all(["*"].iter(), git2::IndexAddOption::DEFAULT, None)
        .expect("add");
    index.write().expect("write index");
    let tree = repo
        .find_tree(index.write_tree().expect("tree"))
        .expect("find tree");
    let parents: Vec<git2::Commit<'_>> = repo
        .head()
        .ok()
        .and_then(|h| h.peel_to_commit().ok())
        .into_iter()
        .collect();
    let parents: Vec<&git2::Commit<'_>> = parents.iter().collect();
    repo.commit(Some("HEAD"), sig, sig, msg, &tree, &parents)
        .expect("commit")
}

fn request(incident: &str, content: &str) -> FixCommitRequest {
    FixCommitRequest {
        incident: incident.into(),
        branch: format!("ccp/fix-{incident}"),
        file: FILE.into(),
        new_source: content.into(),
        message: format!(
            "fix(svc): AttributeError at handler.py:2 (null_check)\n\nGuard the e-mail.\n\nIncident: {incident}\n"
        ),
        time_unix: 1_700_000_100,
    }
}

/// The fix of `incident` (`content` for FILE), committed: `attempt` names the commit that failed.
fn committed(code: &GitRepo, incident: &str, content: &str, attempt: &str) -> FixCommit {
    code.commit_fix(&request(incident, content))
        .expect(attempt)
        .expect("the git repo records fixes")
}

fn git_repo(root: &Path) -> GitRepo {
    GitRepo::new(
        root.to_path_buf(),
        HashMap::from([("svc".to_string(), "svc".to_string())]),
    )
}

/// The commit `reference` (e.g. `refs/heads/main`) points to.
fn tip(repo: &Repository, reference: &str) -> String {
    repo.find_reference(reference)
        .unwrap_or_else(|e| panic!("{reference}: {e}"))
        .target()
        .expect("a direct reference")
        .to_string()
}

/// Paths that differ between two commits' trees.
fn changed_paths(repo: &Repository, from: Oid, to: Oid) -> Vec<String> {
    let a = repo.find_commit(from).expect("from").tree().expect("tree");
    let b = repo.find_commit(to).expect("to").tree().expect("tree");
    let diff = repo
        .diff_tree_to_tree(Some(&a), Some(&b), None)
        .expect("diff");
    diff.deltas()
        .filter_map(|d| d.new_file().path().map(|p| p.display().to_string()))
        .collect()
}

fn file_at(repo: &Repository, commit: Oid, file: &str) -> String {
    let tree = repo
        .find_commit(commit)
        .expect("commit")
        .tree()
        .expect("tree");
    let blob = tree
        .get_path(Path::new(file))
        .expect("entry")
        .to_object(repo)
        .expect("object")
        .peel_to_blob()
        .expect("blob");
    String::from_utf8(blob.content().to_vec()).expect("utf8")
}

fn head_state(repo: &Repository) -> (String, Oid) {
    let head = repo.head().expect("head");
    (
        head.name().expect("name").to_string(),
        head.target().expect("target"),
    )
}

fn assert_worktree_clean(repo: &Repository, root: &Path) {
    let statuses = repo
        .statuses(Some(git2::StatusOptions::new().include_untracked(false)))
        .expect("status");
    assert_eq!(statuses.len(), 0, "working tree and index untouched");
    assert_eq!(fs::read_to_string(root.join(FILE)).expect("read"), ORIGINAL);
}

#[test]
fn commits_exactly_the_patched_file_on_its_branch_and_leaves_head_alone() {
    let (dir, repo) = make_repo();
    let before = head_state(&repo);
    let made = committed(
        &git_repo(dir.path()),
        "INC-20260101-ab12",
        PATCHED,
        "commit works",
    );
    assert_eq!(made.branch, "ccp/fix-INC-20260101-ab12");
    assert!(!made.reused);
    assert_eq!(made.short, &made.commit[..7]);
    assert_eq!(made.parent, before.1.to_string());
    assert_eq!(made.pushed_to, None);

    let oid = Oid::from_str(&made.commit).expect("oid");
    assert_eq!(
        tip(&repo, "refs/heads/ccp/fix-INC-20260101-ab12"),
        made.commit
    );
    assert_eq!(changed_paths(&repo, before.1, oid), vec![FILE.to_string()]);
    assert_eq!(file_at(&repo, oid, FILE), PATCHED);
    let commit = repo.find_commit(oid).expect("commit");
    assert_eq!(commit.parent_ids().collect::<Vec<_>>(), vec![before.1]);
    let message = commit.message().expect("utf8 message");
    assert!(message.contains("Incident: INC-20260101-ab12"), "{message}");
    assert!(message.starts_with("fix(svc): "), "{message}");
    assert_eq!(commit.author().name().ok(), Some("ccp"));
    assert_eq!(commit.author().email().ok(), Some("ccp@localhost"));
    assert_eq!(commit.committer().name().ok(), Some("ccp"));

    assert_eq!(
        head_state(&repo),
        before,
        "HEAD and its branch did not move"
    );
    assert_worktree_clean(&repo, dir.path());
    assert!(dir.path().join("notes.txt").is_file());
}

#[test]
fn rerunning_the_same_incident_reuses_or_moves_the_branch() {
    let (dir, repo) = make_repo();
    let code = git_repo(dir.path());
    let first = committed(&code, "INC-1", PATCHED, "first");
    let again = committed(&code, "INC-1", PATCHED, "a second run does not fail");
    assert!(again.reused, "same change on the same HEAD is kept");
    assert_eq!(again.commit, first.commit);

    // A different patch for the same incident moves the branch to a new commit on HEAD.
    let other = PATCHED.replace("return None", "return \"\"");
    let moved = committed(&code, "INC-1", &other, "a changed patch does not fail");
    assert!(!moved.reused);
    assert_ne!(moved.commit, first.commit);
    assert_eq!(moved.parent, first.parent);
    assert_eq!(tip(&repo, "refs/heads/ccp/fix-INC-1"), moved.commit);

    // HEAD moved on meanwhile: the fix is re-based on the new HEAD.
    let sig = Signature::now("Dev", "dev@example.com").expect("sig");
    fs::write(dir.path().join("svc/README.md"), "# svc v2\n").expect("write");
    let new_head = commit_all(&repo, &sig, "docs");
    let rebased = committed(&code, "INC-1", &other, "after HEAD moved");
    assert_eq!(rebased.parent, new_head.to_string());
    let oid = Oid::from_str(&rebased.commit).expect("oid");
    assert_eq!(changed_paths(&repo, new_head, oid), vec![FILE.to_string()]);
}

#[test]
fn refuses_to_move_the_checked_out_branch_and_reports_missing_files() {
    let (dir, repo) = make_repo();
    let code = git_repo(dir.path());
    let made = committed(&code, "INC-2", PATCHED, "commit");
    repo.set_head("refs/heads/ccp/fix-INC-2")
        .expect("check out the fix branch");
    let err = code
        .commit_fix(&request("INC-2", PATCHED))
        .expect_err("the checked-out branch is never moved");
    assert!(err.to_string().contains("checked out"), "{err}");
    let head_tip = repo.head().expect("head").target().expect("tip");
    assert_eq!(head_tip.to_string(), made.commit);

    repo.set_head("refs/heads/main").expect("back to main");
    let mut missing = request("INC-3", PATCHED);
    missing.file = "svc/app/nope.py".into();
    let err = code.commit_fix(&missing).expect_err("no such file");
    assert!(err.to_string().contains("svc/app/nope.py"), "{err}");
    let err = code
        .commit_fix(&request("INC-3", ORIGINAL))
        .expect_err("nothing to commit");
    assert!(err.to_string().contains("nothing to commit"), "{err}");
}

#[test]
fn author_comes_from_settings_and_committing_can_be_turned_off() {
    let (dir, repo) = make_repo();
    let settings = FixCommitSettings {
        author_name: "Fix Bot".into(),
        author_email: "fixbot@example.com".into(),
        ..FixCommitSettings::default()
    };
    let made = committed(
        &git_repo(dir.path()).with_fix_commits(settings),
        "INC-4",
        PATCHED,
        "commit",
    );
    let commit = repo
        .find_commit(Oid::from_str(&made.commit).expect("oid"))
        .expect("commit");
    assert_eq!(commit.author().name().ok(), Some("Fix Bot"));
    assert_eq!(commit.committer().email().ok(), Some("fixbot@example.com"));

    let off = FixCommitSettings {
        enabled: false,
        ..FixCommitSettings::default()
    };
    let none = git_repo(dir.path())
        .with_fix_commits(off)
        .commit_fix(&request("INC-5", PATCHED))
        .expect("no error");
    assert!(none.is_none());
    assert!(repo
        .find_branch("ccp/fix-INC-5", BranchType::Local)
        .is_err());
}

#[test]
fn pushes_only_to_the_configured_remote() {
    let (dir, repo) = make_repo();
    let bare_dir = tempfile::tempdir().expect("tempdir");
    let bare = Repository::init_bare(bare_dir.path()).expect("bare");
    repo.remote("origin", &bare_dir.path().display().to_string())
        .expect("remote");
    let push = FixCommitSettings {
        push: true,
        ..FixCommitSettings::default()
    };
    let made = committed(
        &git_repo(dir.path()).with_fix_commits(push.clone()),
        "INC-6",
        PATCHED,
        "commit",
    );
    assert_eq!(made.pushed_to.as_deref(), Some("origin"), "{made:?}");
    assert_eq!(made.push_error, None);
    assert_eq!(
        tip(&bare, "refs/heads/ccp/fix-INC-6"),
        made.commit,
        "pushed"
    );
    assert!(
        bare.find_reference("refs/heads/main").is_err(),
        "only the fix branch is pushed"
    );
    // a re-run moves the branch; the push is forced, so it follows
    let other = PATCHED.replace("return None", "return \"\"");
    let moved = committed(
        &git_repo(dir.path()).with_fix_commits(push),
        "INC-6",
        &other,
        "commit",
    );
    assert_eq!(
        tip(&bare, "refs/heads/ccp/fix-INC-6"),
        moved.commit,
        "pushed"
    );

    // an unknown remote: the commit stands, the push error is reported
    let wrong = FixCommitSettings {
        push: true,
        remote: "upstream".into(),
        ..FixCommitSettings::default()
    };
    let made = committed(
        &git_repo(dir.path()).with_fix_commits(wrong),
        "INC-7",
        PATCHED,
        "the commit itself works",
    );
    assert_eq!(made.pushed_to, None);
    assert!(
        made.push_error
            .as_deref()
            .is_some_and(|e| e.contains("upstream")),
        "{made:?}"
    );
    assert!(bare.find_reference("refs/heads/ccp/fix-INC-7").is_err());
}

fn run_demo(state: &Path, config: &Path) -> Vec<Value> {
    json_events(
        headless_demo(state)
            .arg("--auto-approve")
            .arg("--config")
            .arg(config),
    )
}

/// The demo pipeline on a repository the test keeps: the `fix_committed` event names a commit
/// that exists there, on `ccp/fix-<incident>`, changing only the patched file, after the gates
/// passed; HEAD did not move; a second run on the same repository works too.
#[test]
fn demo_pipeline_emits_fix_committed_with_a_commit_in_the_repo() {
    if !python_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let built = build_demo_repo(&demo_dir(), &dir.path().join("repo"), now).expect("demo repo");
    let config = dir.path().join("ccp.yaml");
    fs::write(
        &config,
        format!("repo:\n  path: \"{}\"\n", built.path.display()),
    )
    .expect("config");
    let repo = Repository::open(&built.path).expect("open");
    let head_before = head_state(&repo);

    let state = dir.path().join("state");
    let events = run_demo(&state, &config);
    let finished = events.last().expect("events");
    assert_eq!(finished["outcome"], "resolved", "{finished}");
    let committed: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "fix_committed")
        .collect();
    assert_eq!(committed.len(), 1, "one fix commit per run");
    let ev = committed[0];
    let incident = ev["incident"].as_str().expect("incident");
    assert_eq!(ev["branch"], format!("ccp/fix-{incident}"));
    let oid = Oid::from_str(ev["commit"].as_str().expect("commit")).expect("oid");
    let commit = repo
        .find_commit(oid)
        .expect("the commit exists in the run's repo");
    assert_eq!(
        commit.parent_ids().collect::<Vec<_>>(),
        vec![head_before.1],
        "branched from HEAD"
    );
    let fix = events
        .iter()
        .find(|e| e["type"] == "fix_proposed")
        .expect("fix_proposed");
    let file = fix["file"].as_str().expect("file");
    assert_eq!(ev["file"], file);
    assert_eq!(
        changed_paths(&repo, head_before.1, oid),
        vec![file.to_string()]
    );
    let message = commit.message().expect("message");
    assert!(
        message.contains(&format!("Incident: {incident}")),
        "{message}"
    );
    assert!(message.contains("null_check"), "{message}");
    assert!(message.contains("Root cause: payment-service"), "{message}");
    let branch_tip = repo
        .find_branch(ev["branch"].as_str().expect("branch"), BranchType::Local)
        .expect("branch")
        .get()
        .target();
    assert_eq!(branch_tip, Some(oid));
    assert_eq!(head_state(&repo), head_before, "HEAD untouched");
    let statuses = repo
        .statuses(Some(git2::StatusOptions::new().include_untracked(false)))
        .expect("status");
    assert_eq!(statuses.len(), 0, "working tree untouched");

    // order: after the gates passed, before the human is asked
    let pos = |pred: &dyn Fn(&Value) -> bool| events.iter().position(pred).expect("event");
    let gates_passed = pos(&|e| e["type"] == "state_changed" && e["to"] == "GATES_PASSED");
    let commit_at = pos(&|e| e["type"] == "fix_committed");
    let paused = pos(&|e| e["type"] == "awaiting_approval");
    assert!(gates_passed < commit_at && commit_at < paused);

    // the audit log links incident and commit
    let audit = fs::read_to_string(state.join("audit.jsonl")).expect("audit");
    assert!(audit
        .lines()
        .any(|l| l.contains("\"fix_committed\"") && l.contains(&oid.to_string())));

    // a second run on the same repository works (same or new incident id)
    let again = run_demo(&dir.path().join("state2"), &config);
    assert_eq!(again.last().expect("events")["outcome"], "resolved");
    let second = again
        .iter()
        .find(|e| e["type"] == "fix_committed")
        .expect("second run commits too");
    let oid2 = Oid::from_str(second["commit"].as_str().expect("commit")).expect("oid");
    assert!(repo.find_commit(oid2).is_ok());
    assert_eq!(head_state(&repo), head_before);
}
