//! The one way ccp runs a command it does not control: gate commands, deploy scripts, recovery
//! actions and `ccp lock run`'s CMD all go through here.
//!
//! What every caller needs and used to write for itself:
//! - **A process group per command.** Test runners, deploy tools and shells fork; stopping only
//!   the process we started would leave its children running, unbounded and unsupervised.
//! - **A deadline, then SIGTERM to the group, a grace period, then SIGKILL to the group**, so a
//!   well-behaved tool can clean up and a hung one still ends.
//! - **Bounded output**, stdout and stderr through one pipe in the order they were written (two
//!   pipes read by two threads cannot promise that), keeping the head (where the first error
//!   usually is) and the tail (where the verdict is). A chatty tool cannot exhaust memory.
//! - **No inherited descriptors.** The pipe is close-on-exec, so a command another pipeline
//!   starts at the same moment never holds this one's output open.

use std::collections::VecDeque;
use std::fs::File;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::thread;
use std::time::{Duration, Instant};

/// How long the output reader may take to finish once the command ended, before whatever else
/// of its group still holds the pipe is killed.
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// How often a running command is looked at.
const POLL: Duration = Duration::from_millis(10);

/// How a bounded run is limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest the command may run before its group is stopped.
    pub timeout: Duration,
    /// Between SIGTERM and SIGKILL when it is stopped.
    pub grace: Duration,
    /// Output kept from the start.
    pub head_bytes: usize,
    /// Output kept from the end.
    pub tail_bytes: usize,
}

impl Limits {
    /// `timeout` and `grace` with the output bounds every caller uses: 16 KiB of head and
    /// 48 KiB of tail.
    pub fn new(timeout: Duration, grace: Duration) -> Self {
        Self {
            timeout,
            grace,
            head_bytes: 16 * 1024,
            tail_bytes: 48 * 1024,
        }
    }
}

/// How a bounded run ended.
#[derive(Debug)]
pub struct Finished {
    /// The leader's exit status (`None` if it could not be collected).
    pub status: Option<ExitStatus>,
    /// The deadline passed and the group was stopped.
    pub timed_out: bool,
    /// What it printed, stdout and stderr interleaved, bounded (see [`Capture`]).
    pub output: String,
    /// Some process outside the group kept the output open, so the end may be missing.
    pub incomplete: bool,
}

impl Finished {
    /// Exit code as a shell reports it: the code, or 128 + the signal that ended it.
    pub fn shell_code(&self) -> Option<i32> {
        self.status.map(shell_code)
    }
}

/// Exit code as a shell reports it: the code, or 128 + the signal that ended the process.
pub fn shell_code(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1)
}

/// A command running as the leader of its own process group.
pub struct ProcessGroup {
    child: Child,
    pgid: Option<i32>,
}

impl ProcessGroup {
    /// Start `cmd` as the leader of a new process group. With `die_with_parent` the leader is
    /// also sent SIGTERM if this process dies (Linux), so a killed supervisor does not leave a
    /// command running that believes it is still supervised.
    pub fn spawn(cmd: &mut Command, die_with_parent: bool) -> std::io::Result<Self> {
        cmd.process_group(0);
        #[cfg(target_os = "linux")]
        if die_with_parent {
            // SAFETY: prctl(PR_SET_PDEATHSIG) is async-signal-safe and touches no memory of ours.
            unsafe {
                cmd.pre_exec(|| {
                    if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) == -1 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = die_with_parent;
        let child = cmd.spawn()?;
        let pgid = i32::try_from(child.id()).ok().filter(|p| *p > 0);
        Ok(Self { child, pgid })
    }

    /// The group's id (the leader's pid), for a watchdog that must stop the group.
    pub fn pgid(&self) -> Option<i32> {
        self.pgid
    }

    /// The leader's status if it has ended.
    pub fn try_wait(&mut self) -> std::io::Result<Option<ExitStatus>> {
        self.child.try_wait()
    }

    /// Send `sig` to every process of the group.
    pub fn signal(&self, sig: libc::c_int) {
        if let Some(pgid) = self.pgid {
            // SAFETY: killpg only sends a signal, to the group our child leads (spawned with
            // process_group(0)), so nothing outside the command is touched.
            unsafe {
                libc::killpg(pgid, sig);
            }
        }
    }

    /// SIGTERM to the group, up to `grace` for the leader to end, then SIGKILL to the group
    /// (always: children the leader left behind must not outlive it). Returns how the leader
    /// ended.
    pub fn stop(&mut self, grace: Duration) -> Option<ExitStatus> {
        self.signal(libc::SIGTERM);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.signal(libc::SIGKILL);
                return Some(status);
            }
            thread::sleep(POLL);
        }
        self.signal(libc::SIGKILL);
        let _ = self.child.kill();
        self.child.wait().ok()
    }

    /// Wait until the leader ends or `deadline` passes; `None` at the deadline.
    pub fn wait_until(&mut self, deadline: Instant) -> std::io::Result<Option<ExitStatus>> {
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(Some(status));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            thread::sleep(POLL.min(left));
        }
    }
}

/// The most recent external commands' wall-time intervals, newest last (at most
/// [`INTERVALS_KEPT`]). Why: the pipeline's own compute is measured by taking the time its
/// commands (tests, linters, the probe) spent away from it; a long-running service keeps only
/// the last few so nothing grows.
static EXTERNAL: std::sync::Mutex<std::collections::VecDeque<(Instant, Instant)>> =
    std::sync::Mutex::new(std::collections::VecDeque::new());

/// How many intervals [`EXTERNAL`] keeps.
const INTERVALS_KEPT: usize = 1024;

/// Notes that an external command ran from `start` until now.
pub fn note_external(start: Instant) {
    let mut kept = EXTERNAL.lock().unwrap_or_else(|p| p.into_inner());
    if kept.len() == INTERVALS_KEPT {
        kept.pop_front();
    }
    kept.push_back((start, Instant::now()));
}

/// External command time inside `[from, to]`: the part of every noted interval that overlaps
/// the window.
pub fn external_time_between(from: Instant, to: Instant) -> Duration {
    let kept = EXTERNAL.lock().unwrap_or_else(|p| p.into_inner());
    kept.iter()
        .map(|&(a, b)| b.min(to).saturating_duration_since(a.max(from)))
        .sum()
}

/// Run `cmd` in its own process group with stdin closed, capture its output, and stop the group
/// at the deadline. Errors only when the command cannot be started.
pub fn run_bounded(cmd: &mut Command, limits: &Limits) -> std::io::Result<Finished> {
    let started = Instant::now();
    let finished = run_bounded_untimed(cmd, limits);
    note_external(started);
    finished
}

fn run_bounded_untimed(cmd: &mut Command, limits: &Limits) -> std::io::Result<Finished> {
    let (reader, writer) = output_pipe()?;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(writer.try_clone()?))
        .stderr(Stdio::from(writer));
    let spawned = ProcessGroup::spawn(cmd, false);
    // The command holds our copies of the write end until told otherwise; without this the
    // reader would never see the end of the output.
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    let mut group = spawned?;
    let done = spawn_reader(reader, Capture::new(limits.head_bytes, limits.tail_bytes));
    let deadline = Instant::now() + limits.timeout;
    let (status, timed_out) = match group.wait_until(deadline) {
        Ok(Some(status)) => (Some(status), false),
        Ok(None) => (group.stop(limits.grace), true),
        Err(_) => (group.stop(limits.grace), false),
    };
    // Background processes the command left behind may still hold the pipe open: give them a
    // moment, then kill what is left of the group so the step ends and the reader finishes.
    let mut captured = done.recv_timeout(DRAIN_GRACE).ok();
    if captured.is_none() {
        group.signal(libc::SIGKILL);
        captured = done.recv_timeout(DRAIN_GRACE).ok();
    }
    let incomplete = captured.is_none();
    Ok(Finished {
        status,
        timed_out,
        output: captured.map(Capture::text).unwrap_or_default(),
        incomplete,
    })
}

/// One pipe for both stdout and stderr, like `2>&1`. Both ends are close-on-exec; the child gets
/// its own copies through `dup2`.
fn output_pipe() -> std::io::Result<(File, OwnedFd)> {
    let mut fds: [libc::c_int; 2] = [-1; 2];
    #[cfg(target_os = "linux")]
    // SAFETY: pipe2 writes two new descriptors into the array we pass and touches nothing else.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    #[cfg(not(target_os = "linux"))]
    // SAFETY: as above; without pipe2 the flag is set right after, leaving a small window.
    let rc = unsafe { libc::pipe(fds.as_mut_ptr()) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created by pipe and are owned by nothing else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    #[cfg(not(target_os = "linux"))]
    for fd in [&read, &write] {
        use std::os::fd::AsRawFd;
        // SAFETY: fcntl on a descriptor we own.
        if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok((File::from(read), write))
}

/// Read the pipe into `capture` on a thread (a chatty command must never block on a full pipe);
/// the receiver gets the capture when every writer has closed the pipe.
fn spawn_reader(mut pipe: File, mut capture: Capture) -> Receiver<Capture> {
    let (tx, rx) = channel();
    thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => capture.push(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = tx.send(capture);
    });
    rx
}

/// The first and last bytes of a stream and how many there were in all.
#[derive(Debug)]
pub struct Capture {
    head: Vec<u8>,
    tail: VecDeque<u8>,
    head_cap: usize,
    tail_cap: usize,
    total: usize,
}

impl Capture {
    /// Keep up to `head_cap` bytes from the start and `tail_cap` from the end.
    pub fn new(head_cap: usize, tail_cap: usize) -> Self {
        Self {
            head: Vec::new(),
            tail: VecDeque::new(),
            head_cap,
            tail_cap,
            total: 0,
        }
    }

    /// Take in the next bytes of the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.total += bytes.len();
        let room = self
            .head_cap
            .saturating_sub(self.head.len())
            .min(bytes.len());
        let (head, rest) = bytes.split_at(room);
        self.head.extend_from_slice(head);
        self.tail.extend(rest);
        let excess = self.tail.len().saturating_sub(self.tail_cap);
        self.tail.drain(..excess);
    }

    /// The text kept, with a marker saying how many bytes in the middle were not, cut on
    /// character boundaries.
    pub fn text(self) -> String {
        let kept = self.head.len() + self.tail.len();
        let mut tail: Vec<u8> = self.tail.into_iter().collect();
        let omitted = self.total - kept;
        if omitted > 0 {
            // Do not start in the middle of a UTF-8 sequence.
            let skip = tail.iter().take_while(|b| (**b & 0xC0) == 0x80).count();
            tail.drain(..skip);
            let head = String::from_utf8_lossy(&self.head);
            let tail = String::from_utf8_lossy(&tail);
            let head = if head.is_empty() {
                String::new()
            } else {
                format!("{head}\n")
            };
            format!("{head}… [{} bytes omitted] …\n{tail}", omitted + skip)
        } else {
            let mut all = self.head;
            all.extend(tail);
            String::from_utf8_lossy(&all).into_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut c = Command::new("sh");
        c.arg("-c").arg(script);
        c
    }

    #[test]
    fn capture_keeps_head_and_tail_and_counts_the_middle() {
        let mut c = Capture::new(4, 4);
        c.push(b"0123456789");
        assert_eq!(c.text(), "0123\n… [2 bytes omitted] …\n6789");
        let mut c = Capture::new(0, 8);
        c.push(b"0123456789");
        c.push("é!".as_bytes());
        let s = c.text();
        assert!(s.starts_with("… ["), "{s}");
        assert!(s.ends_with("789é!") || s.ends_with("89é!"), "{s}");
        let mut c = Capture::new(4, 4);
        c.push(b"short");
        assert_eq!(c.text(), "short");
    }

    #[test]
    fn output_is_interleaved_in_order_and_the_status_kept() {
        let run = run_bounded(
            &mut sh("echo out; echo err >&2; echo out2; exit 3"),
            &Limits::new(Duration::from_secs(10), Duration::from_secs(1)),
        )
        .expect("sh runs");
        assert_eq!(run.output, "out\nerr\nout2\n");
        assert_eq!(run.shell_code(), Some(3));
        assert!(!run.timed_out && !run.incomplete);
    }

    #[test]
    fn a_timeout_stops_the_whole_group_children_included() {
        let dir = tempfile::tempdir().expect("tempdir");
        let marker = dir.path().join("child-survived");
        // The child sleeps past the deadline, then would leave a marker behind.
        let script = format!(
            "(sleep 1; touch '{}') & echo started; sleep 30",
            marker.display()
        );
        let started = Instant::now();
        let run = run_bounded(
            &mut sh(&script),
            &Limits::new(Duration::from_millis(200), Duration::from_millis(200)),
        )
        .expect("sh runs");
        assert!(run.timed_out);
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(run.output, "started\n");
        thread::sleep(Duration::from_millis(1500));
        assert!(
            !marker.exists(),
            "a child of the timed-out command kept running"
        );
    }

    #[test]
    fn stop_asks_politely_first() {
        let mut cmd = sh("trap 'exit 7' TERM; while :; do sleep 0.05; done");
        let mut g = ProcessGroup::spawn(&mut cmd, true).expect("spawn");
        thread::sleep(Duration::from_millis(200));
        let status = g.stop(Duration::from_secs(5)).expect("status");
        assert_eq!(shell_code(status), 7, "the TERM trap ran");
    }
}
