//! Waiting on what the processes under test do: a file they write, a condition, whether a
//! process is still alive or a command line still running.

use std::path::Path;
use std::time::{Duration, Instant};

/// Waits (up to 20 s) for a file ending in a newline, and returns its text trimmed.
pub fn wait_for_file(path: &Path) -> String {
    let mut text = String::new();
    wait_until(|| {
        text = std::fs::read_to_string(path).unwrap_or_default();
        text.ends_with('\n')
    });
    text.trim().to_owned()
}

/// Waits (up to 20 s) until `condition` holds; panics if it never does.
pub fn wait_until(mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < Duration::from_secs(20), "gave up waiting");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether a process exists and is not a zombie.
pub fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.split(' ').nth(2).is_none_or(|state| state != "Z"))
        .unwrap_or(false)
}

/// Whether a process with exactly this command line is running.
pub fn running(command_line: &str) -> bool {
    let ps = std::process::Command::new("ps")
        .args(["-eo", "args"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&ps.stdout)
        .lines()
        .any(|l| l == command_line)
}

/// Waits (up to 30 s, far longer than a working adminsh needs) for `child` to exit; kills it
/// and fails, naming `what`, if it does not: a hang fails the test instead of hanging the suite.
pub fn wait_for_exit(mut child: std::process::Child, what: &str) -> std::process::Output {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("{what}: adminsh did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}
