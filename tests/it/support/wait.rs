//! Waiting for what the processes under test do, by polling: a file they write, text on a
//! screen, a port that listens, a process that starts or stops. Nothing waits a fixed time,
//! and nothing is timed: the deadline is only there so a broken run fails instead of hanging,
//! and it is generous, for a loaded machine is slow.

use std::fmt::Display;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long a wait gives its condition before the test fails.
pub(crate) const PATIENCE: Duration = Duration::from_secs(60);

/// How often a condition is checked.
const INTERVAL: Duration = Duration::from_millis(20);

/// Polls `probe` until it gives `Ok`, and returns that value. Past [`PATIENCE`], panics naming
/// `what` was waited for and showing the last `Err` the probe gave (what it saw instead).
#[track_caller]
pub(crate) fn poll<T>(what: impl Display, mut probe: impl FnMut() -> Result<T, String>) -> T {
    let start = Instant::now();
    loop {
        let seen = match probe() {
            Ok(value) => return value,
            Err(seen) => seen,
        };
        if start.elapsed() > PATIENCE {
            let seen = if seen.is_empty() {
                String::new()
            } else {
                format!("; last seen:\n{seen}")
            };
            panic!(
                "gave up after {}s waiting for {what}{seen}",
                PATIENCE.as_secs()
            );
        }
        std::thread::sleep(INTERVAL);
    }
}

/// Polls until `condition` holds; past [`PATIENCE`], panics naming `what` was waited for.
#[track_caller]
pub(crate) fn wait_until(what: impl Display, mut condition: impl FnMut() -> bool) {
    poll(what, || {
        if condition() {
            Ok(())
        } else {
            Err(String::new())
        }
    });
}

/// Waits for a file to exist.
#[track_caller]
pub(crate) fn wait_for_path(path: &Path) {
    wait_until(format_args!("{} to exist", path.display()), || {
        path.exists()
    });
}

/// Waits for a file ending in a newline (written whole), and returns its text trimmed.
#[track_caller]
pub(crate) fn wait_for_file(path: &Path) -> String {
    poll(format_args!("a line in {}", path.display()), || {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.ends_with('\n') {
            Ok(text.trim().to_owned())
        } else {
            Err(text)
        }
    })
}

/// Waits until a file holds `needle`, and returns its text.
#[track_caller]
pub(crate) fn wait_for_text(path: &Path, needle: &str) -> String {
    poll(format_args!("{needle:?} in {}", path.display()), || {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) {
            Ok(text)
        } else {
            Err(text)
        }
    })
}

/// Waits until something accepts connections on 127.0.0.1:`port`; `log` says what the
/// server said, should it never listen.
#[track_caller]
pub(crate) fn wait_for_port(port: u16, log: impl Fn() -> String) {
    poll(
        format_args!("a server listening on 127.0.0.1:{port}"),
        || match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Ok(_) => Ok(()),
            Err(e) => Err(format!("{e}\n{}", log())),
        },
    );
}
