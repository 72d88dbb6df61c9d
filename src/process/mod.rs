//! Running a command (or a pipeline) for a script: argv only, in its own process group, with the
//! release's environment, fed and drained on the calling thread, stopped cleanly on Ctrl-C or a
//! timeout, and failing with an error that names the (redacted) command line, the status and the
//! tail of stderr.

mod pump;
pub mod resolve;
mod terminal;
mod text;

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::interrupt;
use crate::release::secrets::Redactor;
pub use pump::tail;
use pump::{Pump, Pumped, StderrSink, StdoutSink};
pub use resolve::ProgramCache;
use rhai::ImmutableString;
use text::TextBuilder;

/// How long a command gets to exit after SIGTERM (timeout) before it is killed.
const GRACE: Duration = Duration::from_secs(2);
/// How long a command's process group gets to finish after Ctrl-C before it is killed: long
/// enough to roll back a transaction, short enough that nothing (a background grandchild that
/// ignores SIGINT, say) can keep adminsh waiting.
const INTERRUPT_GRACE: Duration = Duration::from_secs(1);

/// One program of a pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub program: String,
    pub args: Vec<String>,
    /// Changes on top of the release environment: `None` removes the variable.
    pub env: Vec<(String, Option<String>)>,
    /// Working directory, relative to the release root; the root when `None`.
    pub dir: Option<PathBuf>,
}

impl Stage {
    pub fn new(program: impl Into<String>, args: Vec<String>) -> Self {
        Stage {
            program: program.into(),
            args,
            env: Vec::new(),
            dir: None,
        }
    }
}

/// A whole command: stages piped left to right, plus what applies to all of them.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub stages: Vec<Stage>,
    pub stdin: Option<Vec<u8>>,
    pub timeout: Option<Duration>,
    /// A non-zero exit is an error unless this is false (`.unchecked()`).
    pub checked: bool,
    /// The script says it changes nothing (`.read_only()`): it runs in a dry run and in
    /// read-only mode.
    pub read_only: bool,
}

impl Spec {
    /// The command line as a user would type it (shell-quoted, stages joined by `|`).
    pub fn command_line(&self) -> String {
        let stages: Vec<String> = self
            .stages
            .iter()
            .map(|stage| {
                std::iter::once(&stage.program)
                    .chain(&stage.args)
                    .map(|word| quote(word))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        stages.join(" | ")
    }
}

/// Quotes a word for display so that it would read back as one shell word.
pub fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-./:=@%+,".contains(&b));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Finds a program on `PATH` for a command running in a directory.
pub type Resolve<'a> = dyn Fn(&str, Option<&OsStr>, &Path) -> Option<PathBuf> + 'a;

/// Where the release's commands run and with what.
pub struct Launch<'a> {
    pub root: &'a Path,
    /// The full environment of every command.
    pub env: &'a [(OsString, OsString)],
    pub resolve: &'a Resolve<'a>,
    pub redactor: &'a Redactor,
    /// adminsh already runs in `root`, so a command without a `dir` needs no change of
    /// directory.
    pub in_root: bool,
    /// stdout is adminsh's report (`--json`): what a command would print there (`run`) goes
    /// to stderr instead.
    pub stdout_to_stderr: bool,
}

/// What to do with the command's output.
pub enum Output<'a> {
    /// stdout and stderr go to adminsh's own (`run`).
    Inherit,
    /// stdout is kept as bytes; stderr is shown and its tail kept (`read_bytes`).
    Bytes,
    /// stdout is kept as text; stderr is shown and its tail kept (`read`, `lines`).
    Text,
    /// Both are kept as text (`output`).
    Both,
    /// stdout is handed over line by line; `false` stops the command (`each_line`).
    Lines(&'a mut dyn FnMut(&[u8]) -> bool),
}

#[derive(Debug)]
pub struct Finished {
    /// The exit code, or 128 + the signal number for a command killed by a signal.
    pub status: i32,
    pub stdout: Captured,
    /// Only kept for `Output::Both`.
    pub stderr: Captured,
}

/// Output a command produced, as it was asked for.
#[derive(Debug, Default)]
pub enum Captured {
    #[default]
    Nothing,
    Bytes(Vec<u8>),
    /// Text, with the offset of the first byte that was not UTF-8 (replaced by U+FFFD).
    Text(ImmutableString, Option<usize>),
}

impl Captured {
    pub fn into_text(self) -> (ImmutableString, Option<usize>) {
        match self {
            Captured::Text(text, invalid) => (text, invalid),
            Captured::Bytes(bytes) => (String::from_utf8_lossy(&bytes).as_ref().into(), None),
            Captured::Nothing => (ImmutableString::new(), None),
        }
    }
}

#[derive(Debug)]
pub enum Error {
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
        stderr_tail: String,
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
                stderr_tail,
                stderr_shown,
            } => {
                write!(
                    f,
                    "command `{command}` failed: {}",
                    describe_status(*status)
                )?;
                if *stderr_shown {
                    return write!(f, " (its stderr is above)");
                }
                if !stderr_tail.is_empty() {
                    write!(f, "\nlast lines of its stderr:")?;
                    for line in stderr_tail.lines() {
                        write!(f, "\n  | {line}")?;
                    }
                }
                Ok(())
            }
            Error::TimedOut { command, after } => write!(
                f,
                "command `{command}` timed out after {}s and was stopped",
                after.as_secs_f64()
            ),
            Error::Interrupted { signal } => write!(f, "interrupted ({})", signal_name(*signal)),
            Error::Refused { command } => write!(
                f,
                "refused in read-only mode: `{command}` is not marked .read_only()"
            ),
        }
    }
}

pub fn describe_status(status: i32) -> String {
    if status > 128 {
        format!(
            "killed by signal {} ({})",
            status - 128,
            signal_name(status - 128)
        )
    } else {
        format!("exit status {status}")
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        libc::SIGHUP => "SIGHUP",
        libc::SIGKILL => "SIGKILL",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGABRT => "SIGABRT",
        _ => "signal",
    }
}

/// Runs `spec` to completion.
pub fn execute(spec: &Spec, launch: Launch<'_>, output: Output<'_>) -> Result<Finished, Error> {
    // Only needed for an error message, and then with secrets masked.
    let command = || launch.redactor.redact(&spec.command_line());
    let path = launch
        .env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.as_os_str());
    let foreground = spec.stages.len() == 1 && spec.stdin.is_none() && terminal::owns_terminal();
    let stderr_shown = matches!(output, Output::Inherit);

    let mut expression: Option<duct::Expression> = None;
    for stage in &spec.stages {
        let dir = stage
            .dir
            .as_ref()
            .map_or(launch.root.to_path_buf(), |d| launch.root.join(d));
        let program =
            (launch.resolve)(&stage.program, path, &dir).ok_or_else(|| Error::NotFound {
                command: command(),
                program: stage.program.clone(),
            })?;
        // The program runs by its full path, but sees the name the script gave as argv[0].
        let name = stage.program.clone();
        let step = duct::cmd(program, &stage.args);
        let step = if launch.in_root && stage.dir.is_none() {
            step
        } else {
            step.dir(dir)
        };
        let step = if stage.env.is_empty() {
            step.full_env(launch.env.iter().cloned())
        } else {
            step.full_env(stage_env(launch.env, &stage.env))
        };
        let step = step.before_spawn(move |command| {
            command.arg0(&name);
            Ok(())
        });
        expression = Some(match expression {
            Some(left) => left.pipe(step),
            None => step,
        });
    }
    let mut expression = expression
        .expect("a command has at least one stage")
        .unchecked()
        .before_spawn(move |command| {
            command.process_group(0);
            if foreground {
                terminal::foreground_in_child(command);
            }
            Ok(())
        });
    if let Some(stdin) = &spec.stdin {
        expression = expression.stdin_bytes(stdin.clone());
    }
    if launch.stdout_to_stderr && matches!(output, Output::Inherit) {
        expression = expression.stdout_to_stderr();
    }

    let spawn_error = |e: std::io::Error| Error::Spawn {
        command: command(),
        reason: e.to_string(),
    };
    // `run` leaves stdout and stderr to the command: the user sees both live, and a failure
    // says its stderr is above. Captured forms read stdout, and pass stderr through adminsh so
    // a failure can quote its tail.
    let mut pipe = |set: &dyn Fn(duct::Expression, std::io::PipeWriter) -> duct::Expression| {
        let (reader, writer) = std::io::pipe().map_err(spawn_error)?;
        expression = set(expression.clone(), writer);
        Ok::<_, Error>(reader)
    };
    let (stdout_sink, stderr_sink) = match output {
        Output::Inherit => (None, None),
        Output::Bytes => (
            Some(StdoutSink::Collect(Vec::new())),
            Some(StderrSink::Tee(Vec::new())),
        ),
        Output::Text => (
            Some(StdoutSink::Text(TextBuilder::default())),
            Some(StderrSink::Tee(Vec::new())),
        ),
        Output::Both => (
            Some(StdoutSink::Text(TextBuilder::default())),
            Some(StderrSink::Text(TextBuilder::default())),
        ),
        Output::Lines(each) => (
            Some(StdoutSink::Lines {
                pending: Vec::new(),
                each,
                stopped: false,
            }),
            Some(StderrSink::Tee(Vec::new())),
        ),
    };
    let stdout_pipe = match stdout_sink {
        Some(sink) => Some((pipe(&|e, w| e.stdout_file(w))?, sink)),
        None => None,
    };
    let stderr_pipe = match stderr_sink {
        Some(sink) => Some((pipe(&|e, w| e.stderr_file(w))?, sink)),
        None => None,
    };

    let handle = expression.start().map_err(spawn_error)?;
    // Dropping the expression closes adminsh's copies of the pipes' write ends, so end of
    // file arrives when the command closes its own.
    drop(expression);
    let pids = handle.pids();
    let guard = interrupt::Guard::watch(&pids);
    let _terminal = foreground.then(|| terminal::hand_over(pids[0]));
    let mut pump = Pump::new(stdout_pipe, stderr_pipe);

    let mut deadline = spec.timeout.map(|t| Instant::now() + t);
    let mut timed_out = false;
    let mut interrupt_deadline: Option<Instant> = None;
    loop {
        let next = match (deadline, interrupt_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match pump.pump(next).map_err(spawn_error)? {
            Pumped::Finished => {
                let finished = match next {
                    None => {
                        // Errors surface from the second wait below.
                        let _ = handle.wait();
                        true
                    }
                    Some(at) => handle
                        .wait_deadline(at)
                        .map(|o| o.is_some())
                        .unwrap_or(true),
                };
                if finished {
                    break;
                }
            }
            Pumped::Signal => {
                if interrupt::interrupted() && interrupt_deadline.is_none() {
                    interrupt_deadline = Some(Instant::now() + INTERRUPT_GRACE);
                }
                continue;
            }
            Pumped::Deadline => {}
        }
        let now = Instant::now();
        if interrupt_deadline.is_some_and(|at| at <= now) {
            // Interrupted and still not done: stop the whole group for good.
            guard.kill(libc::SIGKILL);
            interrupt_deadline = None;
            deadline = None;
        } else if deadline.is_some_and(|at| at <= now) {
            // The timeout passed: ask politely, then insist.
            if timed_out {
                guard.kill(libc::SIGKILL);
                deadline = None;
            } else {
                timed_out = true;
                guard.kill(libc::SIGTERM);
                deadline = Some(now + GRACE);
            }
        }
    }
    let status = match handle.wait() {
        Ok(out) => status_number(out.status),
        Err(e) => return Err(spawn_error(e)),
    };
    if interrupt::interrupted() {
        // What the command started and left behind (a background job that ignores Ctrl-C)
        // goes with it.
        guard.kill(libc::SIGKILL);
    }
    drop(guard);
    let (stdout_sink, stderr_sink) = pump.finish();

    if let Some(signal) = interrupt::signal() {
        return Err(Error::Interrupted { signal });
    }
    if foreground && status == 128 + libc::SIGINT {
        // The terminal sent Ctrl-C to the command, not to adminsh: it was still the user's Ctrl-C.
        return Err(Error::Interrupted {
            signal: libc::SIGINT,
        });
    }
    if timed_out {
        return Err(Error::TimedOut {
            command: command(),
            after: spec.timeout.unwrap_or_default(),
        });
    }
    // A line callback that stopped early closed the pipe: a SIGPIPE then is expected.
    let (stdout, stopped_early) = match stdout_sink {
        Some(StdoutSink::Collect(bytes)) => (Captured::Bytes(bytes), false),
        Some(StdoutSink::Text(text)) => {
            let (text, invalid) = text.finish();
            (Captured::Text(text, invalid), false)
        }
        Some(StdoutSink::Lines { stopped, .. }) => (Captured::Nothing, stopped),
        None => (Captured::Nothing, false),
    };
    let (stderr, stderr_tail) = match stderr_sink {
        Some(StderrSink::Tee(tail_bytes)) => (Captured::Nothing, tail(&tail_bytes)),
        Some(StderrSink::Text(text)) => {
            let (text, invalid) = text.finish();
            let shown = tail(text.as_bytes());
            (Captured::Text(text, invalid), shown)
        }
        None => (Captured::Nothing, String::new()),
    };
    if spec.checked && status != 0 && !stopped_early {
        return Err(Error::Failed {
            command: command(),
            status,
            stderr_tail,
            stderr_shown,
        });
    }
    Ok(Finished {
        status,
        stdout,
        stderr,
    })
}

/// The release environment with a stage's own changes applied.
fn stage_env(
    base: &[(OsString, OsString)],
    changes: &[(String, Option<String>)],
) -> Vec<(OsString, OsString)> {
    let mut env = base.to_vec();
    for (key, value) in changes {
        env.retain(|(k, _)| k != key.as_str());
        if let Some(value) = value {
            env.push((key.into(), value.into()));
        }
    }
    env
}

fn status_number(status: std::process::ExitStatus) -> i32 {
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_quote_what_a_shell_would_split() {
        let spec = Spec {
            stages: vec![
                Stage::new(
                    "psql",
                    vec!["-c".into(), "select 1; drop".into(), "it's".into()],
                ),
                Stage::new("grep", vec!["".into(), "a=b".into()]),
            ],
            stdin: None,
            timeout: None,
            checked: true,
            read_only: false,
        };
        assert_eq!(
            spec.command_line(),
            r"psql -c 'select 1; drop' 'it'\''s' | grep '' a=b"
        );
    }
}
