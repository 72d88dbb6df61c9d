//! adminsh's messages to the operator (`info:`, `warning:`, `error:`), on stderr so stdout stays
//! the script's output; coloured at a terminal unless `NO_COLOR` is set. A leaf: anything may log.

use std::io::{IsTerminal, Write};

#[derive(Debug, Clone, Copy)]
pub(crate) enum Level {
    Info,
    Warn,
    Error,
}

/// Writes `label: message` on stderr; a closed stderr loses the line, never the run.
pub(crate) fn emit(level: Level, message: &str) {
    let (label, colour) = match level {
        Level::Info => ("info", "\x1b[36m"),
        Level::Warn => ("warning", "\x1b[33m"),
        Level::Error => ("error", "\x1b[31m"),
    };
    let stderr = std::io::stderr();
    let label = if stderr.is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        format!("{colour}{label}\x1b[0m")
    } else {
        label.to_owned()
    };
    let _ = writeln!(stderr.lock(), "{label}: {message}");
}

/// `warning: message`.
pub(crate) fn warn(message: &str) {
    emit(Level::Warn, message);
}
