//! How a command that ran to its end is reported: what it printed, as it was asked for, or the
//! one error that says why it did not do its job. An interruption comes first (it is not for
//! scripts to catch), then a timeout, a line too long for `each_line`, and a failed status.

use super::capture::Collected;
use super::lines::{MAX_LINE, Stopped};
use super::{Error, Finished, Launch, Spec};
use crate::interrupt;

/// How the command ended.
pub(super) struct Ended {
    /// The exit code, or 128 + the signal that killed it.
    pub status: i32,
    pub timed_out: bool,
    /// It had the terminal, so the terminal sent it Ctrl-C directly.
    pub foreground: bool,
    /// Its stderr went to adminsh's own, so the user has seen it.
    pub stderr_shown: bool,
}

pub(super) fn collect(
    spec: &Spec,
    launch: &Launch<'_>,
    ended: Ended,
    collected: Collected,
) -> Result<Finished, Error> {
    if let Some(signal) = interrupt::signal() {
        return Err(Error::Interrupted { signal });
    }
    if ended.foreground && ended.status == 128 + libc::SIGINT {
        // The terminal sent Ctrl-C to the command, not to adminsh: it was still the user's.
        return Err(Error::Interrupted {
            signal: libc::SIGINT,
        });
    }
    if ended.timed_out {
        return Err(Error::TimedOut {
            command: launch.shown(spec),
            after: spec.timeout.unwrap_or_default(),
        });
    }
    if collected.lines_stopped == Some(Stopped::LineTooLong) {
        return Err(Error::LineTooLong {
            command: launch.shown(spec),
            limit: MAX_LINE,
        });
    }
    // A line callback that stopped early closed the pipe: a SIGPIPE then is expected.
    let stopped_early = collected.lines_stopped.is_some();
    if spec.checked && ended.status != 0 && !stopped_early {
        return Err(Error::Failed {
            command: launch.shown(spec),
            status: ended.status,
            stderr_excerpt: collected.stderr_excerpt,
            stderr_shown: ended.stderr_shown,
        });
    }
    Ok(Finished {
        status: ended.status,
        stdout: collected.stdout,
        stderr: collected.stderr,
    })
}
