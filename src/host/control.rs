//! Ending a script: `exit(n)` with an exit code and `fail(msg)` with an error, plus the
//! interruption that Ctrl-C causes. `exit` and interruptions cannot be caught by `try`.

use std::rc::Rc;

use rhai::{Dynamic, EvalAltResult, Position};

use super::{Host, RhaiResult, runtime_error};
use crate::session::Session;

/// The token of an `ErrorTerminated` that `exit(n)` raised.
const EXIT: &str = "exit";
/// The prefix of the token of an `ErrorTerminated` that a signal raised.
const INTERRUPTED: &str = "interrupted:";

pub fn register(host: &mut Host, session: &Rc<Session>) {
    let s = session.clone();
    host.def(
        "exit",
        "code: int",
        "Ends the script with exit code `code`",
        move |code: rhai::INT| -> RhaiResult<()> {
            s.request_exit(i32::try_from(code).unwrap_or(1));
            Err(EvalAltResult::ErrorTerminated(EXIT.into(), Position::NONE).into())
        },
    );
    let s = session.clone();
    host.def(
        "exit",
        "",
        "Ends the script with exit code 0",
        move || -> RhaiResult<()> {
            s.request_exit(0);
            Err(EvalAltResult::ErrorTerminated(EXIT.into(), Position::NONE).into())
        },
    );
    host.def(
        "fail",
        "message: ?",
        "Raises an error with `message`",
        |message: Dynamic| -> RhaiResult<()> { Err(runtime_error(message.to_string())) },
    );
}

pub fn interrupt_token(signal: i32) -> Dynamic {
    format!("{INTERRUPTED}{signal}").into()
}

pub fn interrupted(signal: i32) -> Box<EvalAltResult> {
    EvalAltResult::ErrorTerminated(interrupt_token(signal), Position::NONE).into()
}

/// How a script run that was terminated ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    Exit,
    Interrupted(i32),
}

/// Tells an `exit(n)` or an interruption from other errors, looking through call layers.
pub fn ended(error: &EvalAltResult) -> Option<Ended> {
    let EvalAltResult::ErrorTerminated(token, _) = error.unwrap_inner() else {
        return None;
    };
    let token = token.clone().into_string().ok()?;
    if token == EXIT {
        return Some(Ended::Exit);
    }
    token
        .strip_prefix(INTERRUPTED)?
        .parse()
        .ok()
        .map(Ended::Interrupted)
}
