//! `info`, `warn` and `error`: a script's messages to the operator, on stderr, so stdout stays
//! the script's output.

use std::io::{IsTerminal, Write};

use super::Host;
use rhai::Dynamic;

#[derive(Debug, Clone, Copy)]
pub enum Level {
    Info,
    Warn,
    Error,
}

pub fn register(host: &mut Host) {
    host.def(
        "info",
        "message: ?",
        "Logs `info: message` to stderr",
        |message: Dynamic| emit(Level::Info, &message.to_string()),
    );
    host.def(
        "warn",
        "message: ?",
        "Logs `warning: message` to stderr",
        |message: Dynamic| emit(Level::Warn, &message.to_string()),
    );
    host.def(
        "error",
        "message: ?",
        "Logs `error: message` to stderr",
        |message: Dynamic| emit(Level::Error, &message.to_string()),
    );
}

pub fn emit(level: Level, message: &str) {
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
