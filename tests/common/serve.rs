//! `ccp serve` as a child process on a free loopback port, stopped however the test ends.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A running `ccp serve`: its process and the `host:port` it printed.
pub struct Served {
    pub child: Child,
    pub addr: String,
    /// Serve's stderr, read on a thread so the pipe never fills.
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Served {
    /// Start `ccp serve --pace PACE` with `config` (YAML text) written under `dir` and its
    /// state in `dir/state`, the repository's demo as its fleet. `stdout` is for tests that read
    /// the event stream. Returns once the address is printed.
    pub fn start(dir: &Path, config: &str, pace: &str, stdout: Stdio) -> Served {
        Self::start_at(dir, config, pace, stdout, "127.0.0.1:0")
    }

    /// Like [`Served::start`] on a given address (a restart on the same port).
    pub fn start_at(dir: &Path, config: &str, pace: &str, stdout: Stdio, listen: &str) -> Served {
        Self::start_env(dir, config, pace, stdout, listen, &[])
    }

    /// Like [`Served::start_at`] with extra environment variables (secrets for `${VAR}`).
    pub fn start_env(
        dir: &Path,
        config: &str,
        pace: &str,
        stdout: Stdio,
        listen: &str,
        env: &[(&str, &str)],
    ) -> Served {
        let cfg = dir.join("ccp.yaml");
        std::fs::write(&cfg, config).expect("write config");
        let mut child = Command::new(env!("CARGO_BIN_EXE_ccp"))
            .args(["serve", "--listen", listen, "--pace", pace, "--config"])
            .arg(&cfg)
            .env("CCP_STATE_DIR", dir.join("state"))
            .env("CCP_DEMO_DIR", super::demo_dir())
            .envs(env.iter().copied())
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .expect("start ccp serve");
        // Crash recovery may report before the server listens: read up to the listening line.
        let mut line = String::new();
        let mut err = BufReader::new(child.stderr.take().expect("stderr piped"));
        let mut said = String::new();
        while !line.contains("listening on") {
            line.clear();
            if err.read_line(&mut line).expect("read stderr") == 0 {
                panic!("ccp serve ended before listening: {said}");
            }
            said.push_str(&line);
        }
        // Everything serve says on stderr from here on, kept for tests that read it.
        let rest = std::sync::Arc::new(std::sync::Mutex::new(said));
        let sink = rest.clone();
        std::thread::spawn(move || {
            let mut line = String::new();
            while err.read_line(&mut line).is_ok_and(|n| n > 0) {
                if let Ok(mut s) = sink.lock() {
                    s.push_str(&line);
                }
                line.clear();
            }
        });
        let addr = line
            .trim()
            .rsplit("http://")
            .next()
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        Served {
            child,
            addr,
            stderr: rest,
        }
    }

    /// What serve printed on stderr so far.
    pub fn stderr_text(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// SIGTERM, then up to `grace` for a clean exit; `None` if it had to be killed.
    pub fn stop(&mut self, grace: Duration) -> Option<ExitStatus> {
        if let Ok(Some(s)) = self.child.try_wait() {
            return Some(s);
        }
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(s)) = self.child.try_wait() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(30));
    }
}
