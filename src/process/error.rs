//! How running a command fails, in words that name the (redacted) command line, the status and
//! the first and last lines of its stderr.

use std::fmt;
use std::time::Duration;

use super::status;
use super::tail::Quoted;

#[derive(Debug)]
pub(crate) enum Error {
    NotFound {
        command: String,
        program: String,
    },
    Spawn {
        command: String,
        reason: String,
    },
    Failed {
        command: String,
        status: i32,
        /// The first and last lines of its stderr; `Err(n)` stands for the `n` lines between.
        stderr_excerpt: Quoted,
        /// stderr went straight to the terminal or log, so the user has seen it already.
        stderr_shown: bool,
    },
    TimedOut {
        command: String,
        after: Duration,
    },
    /// Ctrl-C (or SIGTERM/SIGHUP) stopped the command; not for scripts to catch.
    Interrupted {
        signal: i32,
    },
    /// Read-only mode: the command is not marked `.read_only()`.
    Refused {
        command: String,
    },
    /// `each_line`: the command printed a line longer than `limit` bytes.
    LineTooLong {
        command: String,
        limit: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotFound { command, program } => write!(
                f,
                "command not found: `{program}` (in `{command}`); it is not on the release's PATH"
            ),
            Error::Spawn { command, reason } => write!(f, "cannot run `{command}`: {reason}"),
            Error::Failed {
                command,
                status,
                stderr_excerpt,
                stderr_shown,
            } => {
                write!(
                    f,
                    "command `{command}` failed: {}",
                    status::describe(*status)
                )?;
                if *stderr_shown {
                    return write!(f, " (its stderr is above)");
                }
                let cut = stderr_excerpt.iter().any(Result::is_err);
                if cut {
                    write!(f, "\nthe first and last lines of its stderr:")?;
                } else if !stderr_excerpt.is_empty() {
                    write!(f, "\nits stderr:")?;
                }
                for line in stderr_excerpt {
                    match line {
                        Ok(line) => write!(f, "\n  | {line}")?,
                        Err(1) => write!(f, "\n  | … 1 more line …")?,
                        Err(n) => write!(f, "\n  | … {n} more lines …")?,
                    }
                }
                Ok(())
            }
            Error::TimedOut { command, after } => write!(
                f,
                "command `{command}` timed out after {}s and was stopped",
                after.as_secs_f64()
            ),
            Error::Interrupted { signal } => {
                write!(f, "interrupted ({})", status::signal_name(*signal))
            }
            Error::Refused { command } => write!(
                f,
                "refused in read-only mode: `{command}` is not marked .read_only()"
            ),
            Error::LineTooLong { command, limit } => write!(
                f,
                "command `{command}` printed a line longer than {} MiB, the most each_line \
                 takes; it was stopped (.read() and .read_bytes() take output of any shape)",
                limit / (1024 * 1024)
            ),
        }
    }
}
