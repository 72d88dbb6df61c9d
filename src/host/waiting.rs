//! Waiting in scripts: `sleep`, `retry` and `wait_until`. Every wait stops on Ctrl-C and
//! SIGTERM (the flag is polled, so a signal ends it within a few milliseconds) and the script
//! ends as interrupted; `retry` and `wait_until` say on stderr how their attempts went.

use std::rc::Rc;
use std::time::{Duration, Instant};

use rhai::{Dynamic, EvalAltResult, FnPtr, NativeCallContext};

use super::control;
use super::def::{Host, RhaiResult, rows, runtime_error};
use crate::interrupt;
use crate::limits::MAX_WAIT_SECONDS;
use crate::log::{Level, emit};
use crate::session::Session;

/// The longest one wait may be: a week.
const MAX_WAIT: f64 = MAX_WAIT_SECONDS as f64;
/// `retry`'s most attempts.
const MAX_ATTEMPTS: rhai::INT = 1000;
/// How far `retry`'s doubling waits grow (unless the first wait is longer).
const MAX_BACKOFF: Duration = Duration::from_mins(1);
/// How often `wait_until` checks unless told.
const DEFAULT_INTERVAL: Duration = Duration::from_millis(500);
/// How often a wait looks at the interrupt flag.
const POLL: Duration = Duration::from_millis(10);

/// A number of seconds from a script (an int or a float): 0 to a week. A number out of range
/// (negative, NaN, infinite, `1e20`, `9223372036854775807`) is an error that shows it as the
/// script wrote it, an int in full.
pub(crate) fn seconds(value: &Dynamic, what: &str) -> RhaiResult<Duration> {
    let (seconds, int) = if let Ok(n) = value.as_int() {
        (n as f64, Some(n))
    } else if let Ok(x) = value.as_float() {
        (x, None)
    } else {
        return Err(runtime_error(format!(
            "{what} is a number of seconds, not {}",
            crate::kind::of(value)
        )));
    };
    if !seconds.is_finite() || seconds < 0.0 {
        let shown = int.map_or_else(|| seconds.to_string(), |n| n.to_string());
        return Err(runtime_error(format!(
            "{what} must be 0 seconds or more, not {shown}"
        )));
    }
    if seconds > MAX_WAIT {
        let shown = match int {
            Some(n) => n.to_string(),
            None if seconds < 1e9 => seconds.to_string(),
            None => format!("{seconds:e}"),
        };
        return Err(runtime_error(format!(
            "{what} of {shown} seconds is more than a week ({MAX_WAIT} seconds)"
        )));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Waits `duration`, ending the script if a signal arrives meanwhile.
pub(crate) fn pause(duration: Duration) -> RhaiResult<()> {
    let end = Instant::now() + duration;
    loop {
        if let Some(signal) = interrupt::signal() {
            return Err(control::interrupted(signal));
        }
        let now = Instant::now();
        if now >= end {
            return Ok(());
        }
        std::thread::sleep((end - now).min(POLL));
    }
}

/// `2s`, `1.5s`, `250ms`: a wait as the messages show it.
fn shown(duration: Duration) -> String {
    let ms = duration.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{:.1}s", duration.as_secs_f64())
    }
}

/// An error that must end the script rather than count as a failed attempt: `exit`, an
/// interruption, a limit the engine enforces.
fn must_pass(error: &EvalAltResult) -> bool {
    control::ended(error).is_some() || !error.is_catchable()
}

/// A failed attempt's message, without the position (the error itself keeps it).
fn reason(error: &EvalAltResult) -> String {
    match error.unwrap_inner() {
        EvalAltResult::ErrorRuntime(value, _) => value.to_string(),
        other => {
            let text = other.to_string();
            match text.rsplit_once(" (line ") {
                Some((message, _)) => message.to_owned(),
                None => text,
            }
        }
    }
}

/// Its lines go through the session's sinks: an attempt's error may hold a secret.
fn retry(
    session: &Session,
    ctx: &NativeCallContext,
    times: rhai::INT,
    backoff: &Dynamic,
    attempt: &FnPtr,
) -> RhaiResult<Dynamic> {
    if !(1..=MAX_ATTEMPTS).contains(&times) {
        return Err(runtime_error(format!(
            "retry: times must be 1 to {MAX_ATTEMPTS}, not {times}"
        )));
    }
    let mut wait = seconds(backoff, "retry's backoff")?;
    let cap = MAX_BACKOFF.max(wait);
    for n in 1..=times {
        match attempt.call_within_context::<Dynamic>(ctx, ()) {
            Ok(value) => {
                if n > 1 {
                    session.message(
                        Level::Info,
                        &format!("retry: attempt {n} of {times} succeeded"),
                    );
                }
                return Ok(value);
            }
            Err(e) if must_pass(&e) => return Err(e),
            Err(e) if n == times => {
                if times > 1 {
                    session.message(
                        Level::Warn,
                        &format!(
                            "retry: attempt {n} of {times} failed: {}; giving up",
                            reason(&e)
                        ),
                    );
                }
                return Err(e);
            }
            Err(e) => {
                session.message(
                    Level::Warn,
                    &format!(
                        "retry: attempt {n} of {times} failed: {}; trying again in {}",
                        reason(&e),
                        shown(wait)
                    ),
                );
                pause(wait)?;
                wait = (wait * 2).min(cap);
            }
        }
    }
    unreachable!("the last attempt returns")
}

fn wait_until(
    ctx: &NativeCallContext,
    timeout: &Dynamic,
    interval: Duration,
    condition: &FnPtr,
) -> RhaiResult<Dynamic> {
    let timeout = seconds(timeout, "wait_until's timeout")?;
    let start = Instant::now();
    let mut last_error;
    for n in 1.. {
        match condition.call_within_context::<Dynamic>(ctx, ()) {
            Err(e) if must_pass(&e) => return Err(e),
            Err(e) => last_error = Some(reason(&e)),
            Ok(value) if value.is_unit() || value.as_bool().is_ok_and(|b| !b) => {
                last_error = None;
            }
            Ok(value) => {
                if n > 1 {
                    emit(
                        Level::Info,
                        &format!(
                            "wait_until: met after {} (check {n})",
                            shown(start.elapsed())
                        ),
                    );
                }
                return Ok(value);
            }
        }
        let elapsed = start.elapsed();
        if elapsed >= timeout {
            let last =
                last_error.map_or(String::new(), |e| format!("; the last check failed: {e}"));
            return Err(runtime_error(format!(
                "wait_until: not met within {} ({n} checks){last}",
                shown(timeout)
            )));
        }
        if n == 1 {
            emit(
                Level::Info,
                &format!(
                    "wait_until: not yet; checking every {} for up to {}",
                    shown(interval),
                    shown(timeout)
                ),
            );
        }
        pause(interval.min(timeout.saturating_sub(elapsed)))?;
    }
    unreachable!("the loop returns")
}

pub(super) fn register(host: &mut Host, session: &Rc<Session>) {
    // Typed, so these replace Rhai's own `sleep`, which Ctrl-C cannot stop and which panics
    // on a huge number. (The only `sleep`: `hardened.rs` leaves it to these.)
    rows!(host, session;
        "sleep", "seconds: int", "Waits `seconds`; Ctrl-C ends the script",
            |seconds: rhai::INT| -> RhaiResult<()> {
                pause(self::seconds(&seconds.into(), "sleep")?)
            };
        "sleep", "seconds: float", "Waits `seconds`; Ctrl-C ends the script",
            |seconds: rhai::FLOAT| -> RhaiResult<()> {
                pause(self::seconds(&seconds.into(), "sleep")?)
            };
        "retry", "times: int, backoff: ?, attempt: FnPtr -> ?",
            "Calls `attempt` until it succeeds, at most `times`, waiting `backoff` seconds (doubling) between; its value or its last error",
            move |ctx: NativeCallContext, times: rhai::INT, backoff: Dynamic, attempt: FnPtr| {
                retry(&session, &ctx, times, &backoff, &attempt)
            };
        "wait_until", "timeout: ?, condition: FnPtr -> ?",
            "Calls `condition` every 0.5s until it returns something other than false or () (or an error); that value, or an error after `timeout` seconds",
            |ctx: NativeCallContext, timeout: Dynamic, condition: FnPtr| {
                wait_until(&ctx, &timeout, DEFAULT_INTERVAL, &condition)
            };
        "wait_until", "timeout: ?, interval: ?, condition: FnPtr -> ?",
            "Like wait_until(timeout, condition), checking every `interval` seconds",
            |ctx: NativeCallContext, timeout: Dynamic, interval: Dynamic, condition: FnPtr| {
                wait_until_every(&ctx, &timeout, &interval, &condition)
            };
    );
}

/// `wait_until(timeout, interval, condition)`: an interval of more than nothing.
fn wait_until_every(
    ctx: &NativeCallContext,
    timeout: &Dynamic,
    interval: &Dynamic,
    condition: &FnPtr,
) -> RhaiResult<Dynamic> {
    let interval = seconds(interval, "wait_until's interval")?;
    if interval.is_zero() {
        return Err(runtime_error(
            "wait_until's interval must be more than 0 seconds",
        ));
    }
    wait_until(ctx, timeout, interval, condition)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_shown_short() {
        assert_eq!(shown(Duration::from_millis(250)), "250ms");
        assert_eq!(shown(Duration::from_secs(2)), "2s");
        assert_eq!(shown(Duration::from_millis(1500)), "1.5s");
    }
}
