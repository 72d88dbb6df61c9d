//! adminsh's own writes to the terminal: its messages to the operator (`info:`, `warning:`,
//! `error:`), on stderr so stdout stays the script's output, coloured at a terminal unless
//! `NO_COLOR` is set; and the plain writers every other text goes through. None of them fails
//! or panics: a reader that went away (`adminsh x | head -1`) loses the text, never the run.
//! (`print!` and friends panic on a closed pipe, so adminsh does not use them; a tidy test
//! holds it to that.) A leaf: anything may log. What is written is masked by the caller.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Clone, Copy)]
pub(crate) enum Level {
    Info,
    Warn,
    Error,
}

/// Writes `label: message` on stderr.
pub(crate) fn emit(level: Level, message: &str) {
    let (label, colour) = match level {
        Level::Info => ("info", "\x1b[36m"),
        Level::Warn => ("warning", "\x1b[33m"),
        Level::Error => ("error", "\x1b[31m"),
    };
    let label = if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        format!("{colour}{label}\x1b[0m")
    } else {
        label.to_owned()
    };
    err(&format!("{label}: {message}\n"));
}

/// `warning: message`.
pub(crate) fn warn(message: &str) {
    emit(Level::Warn, message);
}

/// Whether a write to stdout or stderr failed: its reader went away (or the disk it goes to
/// is full). Kept for the audit log's finish line.
static STDOUT_LOST: AtomicBool = AtomicBool::new(false);
static STDERR_LOST: AtomicBool = AtomicBool::new(false);

/// Writes `text` on stdout as it is, in one write.
pub(crate) fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    if stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        STDOUT_LOST.store(true, Ordering::Relaxed);
    }
}

/// Writes `text` on stderr as it is, in one write.
pub(crate) fn err(text: &str) {
    err_bytes(text.as_bytes());
}

/// Writes `bytes` on stderr as they are (a command's own stderr, passed through).
pub(crate) fn err_bytes(bytes: &[u8]) {
    if std::io::stderr().lock().write_all(bytes).is_err() {
        STDERR_LOST.store(true, Ordering::Relaxed);
    }
}

/// The outputs (`stdout`, `stderr`) adminsh could not write to at some point of this run.
pub(crate) fn lost() -> Vec<&'static str> {
    [("stdout", &STDOUT_LOST), ("stderr", &STDERR_LOST)]
        .into_iter()
        .filter(|(_, lost)| lost.load(Ordering::Relaxed))
        .map(|(name, _)| name)
        .collect()
}

/// Writes `line` and a newline on stderr.
pub(crate) fn err_line(line: &str) {
    err(&format!("{line}\n"));
}
