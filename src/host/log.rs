//! `info`, `warn` and `error`: a script's messages to the operator, through adminsh's own log.

use rhai::Dynamic;

use super::Host;
use crate::log::{Level, emit};

pub(super) fn register(host: &mut Host) {
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
