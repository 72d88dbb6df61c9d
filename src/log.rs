//! adminsh's own writes to the terminal: its messages to the operator (`info:`, `warning:`,
//! `error:`), on stderr so stdout stays the script's output, coloured at a terminal unless
//! `NO_COLOR` is set; and the plain writers every other text goes through. None of them fails
//! or panics: a reader that went away (`adminsh x | head -1`) loses the text, never the run.
//! (`print!` and friends panic on a closed pipe, so adminsh does not use them; a tidy test
//! holds it to that.) A leaf: anything may log. What is written is masked by the caller.

use std::io::{IsTerminal, Write};

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

/// Writes `text` on stdout as it is, in one write.
pub(crate) fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// Writes `text` on stderr as it is, in one write.
pub(crate) fn err(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Writes `line` and a newline on stderr.
pub(crate) fn err_line(line: &str) {
    err(&format!("{line}\n"));
}
