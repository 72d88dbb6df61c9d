//! How an admin process ends, and the exit code each ending means: one place for every code
//! adminsh documents (0 success, 1 failure, 2 usage, n from `exit(n)`, 128+n for signal n,
//! 255 a target that cannot be reached), so no caller picks a number or downcasts an error.

use std::fmt;

/// The script, the command or adminsh failed.
pub(crate) const EXIT_FAILURE: i32 = 1;
/// The command line makes no sense.
pub(crate) const EXIT_USAGE: i32 = 2;
/// A target cannot be reached, or adminsh does not start there (as ssh's own 255).
pub(crate) const EXIT_UNREACHABLE: i32 = 255;
/// The codes a script may pass to `exit(n)`: the ones above 125 mean a signal, a shell's
/// "cannot run" or "not found", or an unreachable target.
pub(crate) const EXIT_SCRIPT_RANGE: std::ops::RangeInclusive<i64> = 0..=125;

/// A detached run that paused when asked (`--pause`), its cursor saved: 128 + SIGTSTP, what a
/// shell reports for a job stopped with Ctrl-Z. No script reaches it (`exit(n)` stops at 125),
/// and adminsh never ends by SIGTSTP (it stops a process, never ends it), so it means paused.
pub(crate) const EXIT_PAUSED: i32 = 128 + libc::SIGTSTP;

/// The exit code for an interruption by `signal`: 128 + the signal number (130 for Ctrl-C).
pub(crate) fn interrupted_code(signal: i32) -> i32 {
    128 + signal
}

/// Why adminsh stopped before or instead of running a script to its end.
#[derive(Debug)]
pub(crate) enum Error {
    /// The command line (or a script's declared parameters) makes no sense: exit 2.
    Usage(String),
    /// A signal stopped adminsh while it waited (for a lock, a reason): 128 + the signal.
    Interrupted(i32),
    /// Anything else: the error, with its context, exit 1.
    Failed(anyhow::Error),
}

impl Error {
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Error::Usage(message.into())
    }

    /// The exit code this error ends adminsh with.
    pub(crate) fn code(&self) -> i32 {
        match self {
            Error::Usage(_) => EXIT_USAGE,
            Error::Interrupted(signal) => interrupted_code(*signal),
            Error::Failed(_) => EXIT_FAILURE,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(message) => f.write_str(message),
            Error::Interrupted(libc::SIGHUP) => {
                f.write_str("hung up: the terminal or the connection closed (SIGHUP)")
            }
            Error::Interrupted(_) => f.write_str("interrupted"),
            Error::Failed(error) => write!(f, "{error:#}"),
        }
    }
}

// Deliberately not `std::error::Error`: a typed error must not be folded into an anyhow chain,
// where its exit code would be lost; plumbing errors come in through this `From`.
impl From<anyhow::Error> for Error {
    fn from(error: anyhow::Error) -> Self {
        Error::Failed(error)
    }
}

impl From<std::io::Error> for Error {
    fn from(error: std::io::Error) -> Self {
        Error::Failed(error.into())
    }
}

/// How a script, `-e` or one console input ended when it did not return a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ending {
    /// `exit(n)`.
    Exit(i32),
    /// A signal (Ctrl-C, SIGTERM, SIGHUP) interrupted it.
    Interrupted(i32),
    /// Asked to pause (`--pause`), it stopped at the end of a batch, its cursor saved: what it
    /// says about where and at whose request.
    Paused(String),
    /// An error, already rendered for the user (code frame, secrets masked).
    Failed(String),
}

impl Ending {
    pub(crate) fn code(&self) -> i32 {
        match self {
            Ending::Exit(code) => *code,
            Ending::Interrupted(signal) => interrupted_code(*signal),
            Ending::Paused(_) => EXIT_PAUSED,
            Ending::Failed(_) => EXIT_FAILURE,
        }
    }

    /// What the audit log and the `--json` report say went wrong, if anything did.
    pub(crate) fn error(&self) -> Option<String> {
        match self {
            Ending::Exit(_) | Ending::Paused(_) => None,
            Ending::Interrupted(_) => Some("interrupted".to_owned()),
            Ending::Failed(text) => Some(text.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ending_has_its_documented_code() {
        let cases = [
            (Error::usage("x").code(), 2),
            (Error::Interrupted(libc::SIGINT).code(), 130),
            (Error::Interrupted(libc::SIGTERM).code(), 143),
            (Error::from(anyhow::anyhow!("x")).code(), 1),
            (Ending::Exit(0).code(), 0),
            (Ending::Exit(3).code(), 3),
            (Ending::Interrupted(libc::SIGHUP).code(), 129),
            (Ending::Failed("x".into()).code(), 1),
            (Ending::Paused("x".into()).code(), 148),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
    }
}
