//! Ending a script: `exit(n)` with an exit code and `fail(msg)` with an error, plus the
//! interruption that Ctrl-C causes. `exit` and interruptions cannot be caught by `try`;
//! `ensure(body, cleanup)` runs its cleanup after them too.

use std::rc::Rc;

use rhai::{Dynamic, EvalAltResult, FnPtr, NativeCallContext, Position};

use super::def::{Host, RhaiResult, rows, runtime_error};
use crate::error::{EXIT_SCRIPT_RANGE, Ending};
use crate::interrupt;
use crate::session::Session;

pub(super) fn register(host: &mut Host, session: &Rc<Session>) {
    rows!(host, session;
        "exit", "code: int", "Ends the script with exit code `code` (0 to 125)", exit;
        "exit", "", "Ends the script with exit code 0",
            || -> RhaiResult<()> { Err(end(Ending::Exit(0))) };
        "fail", "message: ?", "Raises an error with `message`",
            move |message: Dynamic| fail(&session, &message);
        "ensure", "body: FnPtr, cleanup: FnPtr -> ?",
            "Calls body, then cleanup whatever body did (returned, failed, exit(n), Ctrl-C, SIGTERM); body's value or error",
            move |ctx: NativeCallContext, body: FnPtr, cleanup: FnPtr| {
                ensure(&session, &ctx, &body, &cleanup)
            };
    );
}

/// `ensure(body, cleanup)`: the cleanup runs however the body ended, even by `exit(n)` or an
/// interruption, which no `try` sees. An interruption is set aside while it runs, so its
/// commands and waits are not cut short; a second one stops the cleanup too. The body's error
/// (or ending) wins over the cleanup's, which is then only warned about.
fn ensure(
    session: &Session,
    ctx: &NativeCallContext,
    body: &FnPtr,
    cleanup: &FnPtr,
) -> RhaiResult<Dynamic> {
    let result = body.call_within_context::<Dynamic>(ctx, ());
    let aside = interrupt::set_aside();
    let cleaned = cleanup.call_within_context::<Dynamic>(ctx, ());
    interrupt::restore(aside);
    match (result, cleaned) {
        (Ok(value), Ok(_)) => Ok(value),
        (Ok(_), Err(e)) | (Err(e), Ok(_)) => Err(e),
        (Err(e), Err(also)) => {
            if ended(&also).is_none() {
                let said = format!("ensure: the cleanup failed too: {}", message(&also));
                session.message(crate::log::Level::Warn, &said);
            }
            Err(e)
        }
    }
}

/// An error's message without Rhai's position suffix, for a warning.
fn message(error: &EvalAltResult) -> String {
    match error.unwrap_inner() {
        EvalAltResult::ErrorRuntime(value, _) => value.to_string(),
        other => other.to_string(),
    }
}

fn exit(code: rhai::INT) -> RhaiResult<()> {
    match i32::try_from(code) {
        Ok(code) if EXIT_SCRIPT_RANGE.contains(&i64::from(code)) => Err(end(Ending::Exit(code))),
        _ => Err(runtime_error(format!(
            "exit({code}): an exit code is 0 to 125 (126 and up mean a signal, a command that cannot run, or an unreachable target)"
        ))),
    }
}

fn fail(session: &Session, message: &Dynamic) -> RhaiResult<()> {
    // A string is masked where the error is shown; anything else is masked here, before Rhai's
    // notation escapes the strings in it.
    let message = match message.as_immutable_string_ref() {
        Ok(text) => text.to_string(),
        Err(_) => super::messages::text(&session.redactor(), message),
    };
    Err(runtime_error(message))
}

/// The value an interruption by `signal` stops the engine with (`on_progress`).
pub(crate) fn interrupt_token(signal: i32) -> Dynamic {
    Dynamic::from(Ending::Interrupted(signal))
}

/// The error that stops a script interrupted by `signal`; no `try` can catch it.
pub(crate) fn interrupted(signal: i32) -> Box<EvalAltResult> {
    end(Ending::Interrupted(signal))
}

/// The error that stops a script because a promise adminsh made (a dry run's or a read-only
/// run's transaction) cannot be kept; no `try` can catch it.
pub(crate) fn stopped(message: String) -> Box<EvalAltResult> {
    end(Ending::Failed(message))
}

/// The error that ends a detached run asked to pause (`--pause`), at the end of a batch; no
/// `try` can catch it.
pub(crate) fn paused(message: String) -> Box<EvalAltResult> {
    end(Ending::Paused(message))
}

/// The error that ends a script this way; no `try` can catch it.
fn end(ending: Ending) -> Box<EvalAltResult> {
    EvalAltResult::ErrorTerminated(Dynamic::from(ending), Position::NONE).into()
}

/// The ending an `exit(n)` or an interruption raised, looking through call layers; `None` for
/// every other error.
pub(crate) fn ended(error: &EvalAltResult) -> Option<Ending> {
    let EvalAltResult::ErrorTerminated(value, _) = error.unwrap_inner() else {
        return None;
    };
    value.clone().try_cast::<Ending>()
}
