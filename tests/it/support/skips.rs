//! Skipped tests listed together at the end, so a green summary cannot hide a gap. libtest has
//! no "skipped" outcome a test can choose while it runs: a test whose tool is missing returns
//! and is counted as passed. So each skip is recorded here, and when the test process exits
//! (`atexit`, which runs after libtest has printed its summary, whether the run passed or
//! failed) the skips are printed together on stderr, under that summary. That holds for
//! `cargo test` and a filtered run alike, whatever order the tests ran in.
//!
//! `cargo nextest run` runs each test in a process of its own and shows a passing test's stderr
//! only on request, so there each skip is also appended to
//! `$CARGO_TARGET_TMPDIR/skipped-tests/<NEXTEST_RUN_ID>.txt`, one file per run.

use std::io::Write;
use std::sync::{Mutex, Once, PoisonError};

static SKIPPED: Mutex<Vec<String>> = Mutex::new(Vec::new());
static LIST_AT_EXIT: Once = Once::new();

/// Records that `test` was skipped, and why (`needs tmux (apt-get install tmux)`).
pub(crate) fn record(test: &str, why: &str) {
    let line = format!("{test}: {why}");
    SKIPPED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(line.clone());
    LIST_AT_EXIT.call_once(|| {
        // SAFETY: `list` is a plain `extern "C" fn()` that touches only statics and stderr,
        // and cannot unwind (it does not panic); atexit only stores the pointer.
        unsafe { libc::atexit(list) };
    });
    if let Some(run) = std::env::var_os("NEXTEST_RUN_ID") {
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("skipped-tests");
        let _ = std::fs::create_dir_all(&dir);
        let file = dir.join(run).with_extension("txt");
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)
        {
            let _ = writeln!(file, "{line}");
        }
    }
}

/// The block printed at exit: how many tests passed without running, and each with why.
fn block(skipped: &[String]) -> String {
    let count = match skipped.len() {
        1 => "1 test".to_owned(),
        n => format!("{n} tests"),
    };
    let mut text = format!(
        "\nskipped: {count} counted as passed above did not run, for a tool missing here \
         (with CI=true they fail instead):\n"
    );
    for line in skipped {
        text.push_str(&format!("    {line}\n"));
    }
    text
}

extern "C" fn list() {
    let skipped = SKIPPED.lock().unwrap_or_else(PoisonError::into_inner);
    if !skipped.is_empty() {
        let _ = std::io::stderr().write_all(block(&skipped).as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use std::process::{Command, Stdio};

    use crate::support::tools::require;

    /// Set for the run of `a_test_whose_tool_is_missing` that the test below starts.
    const PROBE: &str = "ADMINSH_SKIP_PROBE";

    /// Skips itself (tmux is not on an empty PATH) when the test below runs it; a no-op in
    /// the suite's own run.
    #[test]
    fn a_test_whose_tool_is_missing() {
        if std::env::var_os(PROBE).is_none() {
            return;
        }
        require!(Tmux);
        panic!("tmux was found on PATH=/nonexistent");
    }

    #[test]
    fn a_skipped_test_is_listed_after_the_summary() {
        let name = "support::skips::tests::a_test_whose_tool_is_missing";
        // stdout and stderr into one file, to see the order they were written in.
        let out = tempfile::NamedTempFile::new().unwrap();
        let status = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", name])
            .env(PROBE, "1")
            .env("PATH", "/nonexistent")
            .env_remove("CI")
            .stdin(Stdio::null())
            .stdout(out.reopen().unwrap())
            .stderr(out.reopen().unwrap())
            .status()
            .unwrap();
        let output = std::fs::read_to_string(out.path()).unwrap();
        assert!(status.success(), "{output}");
        let summary = output.find("test result: ok. 1 passed;");
        let listed = format!(
            "\nskipped: 1 test counted as passed above did not run, for a tool missing here \
             (with CI=true they fail instead):\n    \
             {name}: needs tmux, not found here (apt-get install tmux)\n"
        );
        assert!(
            summary.is_some() && output.ends_with(&listed),
            "the skip is not listed under the summary:\n{output}"
        );
    }
}
