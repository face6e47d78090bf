//! A terminal for end-to-end tests: one tmux server per pane (its own socket), keys in with
//! send-keys, the screen back with capture-pane, killed on drop. tests/run.sh installs tmux;
//! without it the tests that use this fail and say so.

use std::process::Command;
use std::time::{Duration, Instant};

/// One pane running one shell command.
pub struct Pane {
    socket: String,
}

impl Pane {
    /// Run `cmd` (a shell command line) in a `w`×`h` pane; `name` makes the socket unique.
    pub fn spawn(name: &str, w: u16, h: u16, cmd: &str) -> Pane {
        let socket = format!("ccp-e2e-{name}-{}", std::process::id());
        let ok = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                "e2e",
            ])
            .args(["-x", &w.to_string(), "-y", &h.to_string(), cmd])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(
            ok,
            "tmux could not start (is tmux installed? tests/run.sh installs it)"
        );
        Pane { socket }
    }

    /// The screen now.
    pub fn capture(&self) -> String {
        Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-t", "e2e"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }

    /// Type keys (tmux key names: `a`, `Enter`, `C-c`, `BTab`…).
    pub fn keys(&self, keys: &[&str]) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-t", "e2e"])
            .args(keys)
            .status();
    }

    /// Wait until the screen contains `text`; panic with the last screen otherwise.
    pub fn wait_for(&self, text: &str, timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            let screen = self.capture();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                start.elapsed() < timeout,
                "timed out after {timeout:?} waiting for {text:?}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Pane {
    /// Kill the terminal now, as closing a laptop would (the program gets SIGHUP).
    pub fn kill(&self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}
