//! Multi-step maintenance for scripts: `step(name, || ...)` runs one named step, prints its
//! outcome and duration and checkpoints it, so a re-run after a failure skips what completed;
//! `lock(name, || ...)` runs a closure holding a named lock between admin processes,
//! re-entrant within one.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Instant;

use rhai::{Dynamic, EvalAltResult, FnPtr, NativeCallContext};

use super::def::{Host, RhaiResult, rows, runtime_error};
use crate::error::Ending;
use crate::record::StepRecord;
use crate::session::Session;
use crate::state::StepStart;
use crate::state::lock::{self, LockError};
use crate::step_code::call_text;

pub(super) fn register(host: &mut Host, session: &Rc<Session>) {
    // The names of the locks this process holds now, innermost last.
    let held: Rc<RefCell<Vec<String>>> = Rc::default();
    rows!(host, session;
        "step", "name: String, body: FnPtr -> ?",
            "Runs a named step: skipped if it completed in an earlier run of this script and arguments",
            move |ctx: NativeCallContext, name: &str, body: FnPtr| {
                step(&session, &ctx, name, &body)
            };
        "lock", "name: String, body: FnPtr -> ?",
            "Runs `body` holding the named lock (waiting for it if another admin process has it; re-entrant within one)",
            move |ctx: NativeCallContext, name: &str, body: FnPtr| {
                locked(&session, &held, &ctx, name, &body)
            };
    );
}

/// `step(name, body)`: skipped when its checkpoint says it completed with this code; else run,
/// said, timed and checkpointed.
fn step(
    session: &Session,
    ctx: &NativeCallContext,
    name: &str,
    body: &FnPtr,
) -> RhaiResult<Dynamic> {
    let code = step_code(session, ctx, name);
    // Bound first: no borrow of the steps may be held while the body runs.
    let start = session.steps.borrow_mut().start(name, &code);
    let number = match start {
        StepStart::Skip {
            number,
            finished_at,
        } => {
            session.say(&format!(
                "step {number}: {name}: completed in an earlier run ({finished_at}), skipped"
            ));
            stepped(session, number, name, "skipped", None);
            return Ok(Dynamic::UNIT);
        }
        StepStart::Run { number, changed } => {
            if changed {
                session.say(&format!(
                    "step {number}: {name}: the script changed here since the last run: this step and the ones after it run again"
                ));
            }
            number
        }
    };
    session.say(&format!("step {number}: {name}"));
    stepped(session, number, name, "running", None);
    let started = Instant::now();
    let result = body
        .call_within_context::<Dynamic>(ctx, ())
        .map_err(|e| named_step(*e, name));
    let took = started.elapsed();
    let seconds = took.as_secs_f64();
    let outcome = match &result {
        Ok(_) => "done",
        Err(e) if matches!(super::control::ended(e), Some(Ending::Paused(_))) => "paused",
        Err(_) => "failed",
    };
    let when = if outcome == "done" { "in" } else { "after" };
    session.say(&format!(
        "step {number}: {name}: {outcome} {when} {seconds:.2}s"
    ));
    stepped(session, number, name, outcome, Some(seconds));
    session
        .steps
        .borrow_mut()
        .end(name, &code, took, outcome)
        .map_err(|e| runtime_error(format!("{e:#}")))?;
    result
}

/// Tells a detached run's directory where its steps are.
fn stepped(session: &Session, number: usize, name: &str, outcome: &str, seconds: Option<f64>) {
    if let Some(control) = session.control() {
        control.stepped(&StepRecord {
            number,
            name: session.redact(name),
            outcome: outcome.to_owned(),
            seconds,
        });
    }
}

/// `lock(name, body)`: `body` run holding the lock file of `name`; `held` the names this
/// process holds already.
fn locked(
    session: &Session,
    held: &RefCell<Vec<String>>,
    ctx: &NativeCallContext,
    name: &str,
    body: &FnPtr,
) -> RhaiResult<Dynamic> {
    // Re-entrant: a closure (or a function it calls) holding `name` already may take it again
    // and runs at once; only the outermost `lock` takes and releases the file lock. A second
    // open of the lock file would wait for this very process forever.
    if held.borrow().iter().any(|h| h == name) {
        return body.call_within_context::<Dynamic>(ctx, ());
    }
    let path = session
        .release
        .state_dir()
        .join("locks")
        .join(format!("{}.lock", lock::file_name(&format!("lock:{name}"))));
    let lock = lock::acquire(&path, true, &mut |holder| {
        session.say(&format!("lock `{name}` is held by {holder}; waiting"));
    })
    .map_err(|e| match e {
        LockError::Interrupted(signal) => super::control::interrupted(signal),
        LockError::Held { holder } => runtime_error(format!("lock `{name}` is held by {holder}")),
        LockError::Io(e) => runtime_error(format!(
            "cannot take lock `{name}` ({}): {e}",
            path.display()
        )),
    })?;
    held.borrow_mut().push(name.to_owned());
    let result = body.call_within_context::<Dynamic>(ctx, ());
    held.borrow_mut().retain(|h| h != name);
    drop(lock);
    result
}

/// An error from a step's body, its frame named after the step (`in step "backfill"`) rather
/// than Rhai's name for the closure.
fn named_step(error: EvalAltResult, name: &str) -> Box<EvalAltResult> {
    match error {
        EvalAltResult::ErrorInFunctionCall(_, source, inner, pos) => {
            EvalAltResult::ErrorInFunctionCall(
                crate::diagnostic::step_frame(name),
                source,
                inner,
                pos,
            )
            .into()
        }
        other => other.into(),
    }
}

/// A hash of the text of this `step(...)` call in its script; the name alone when the text
/// cannot be found (the step then counts as changed only when renamed).
fn step_code(session: &Session, ctx: &NativeCallContext, name: &str) -> String {
    let pos = ctx.call_position();
    let text = ctx
        .call_source()
        .and_then(|source| session.sources.text(source))
        .and_then(|source| {
            let (line, column) = (pos.line()?, pos.position().unwrap_or(1));
            call_text(&source, line, column).map(str::to_owned)
        });
    let text = text.unwrap_or_else(|| name.to_owned());
    format!("{:016x}", crate::hash::fnv(text.as_bytes()))
}
