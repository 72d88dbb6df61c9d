//! Running a command (or a pipeline) for a script: argv only, in its own process group, with the
//! release's environment, fed and drained on the calling thread, stopped cleanly on Ctrl-C or a
//! timeout, and failing with an error that names the (redacted) command line, the status and the
//! first and last lines of stderr.
//!
//! `execute` goes through four steps, each in its own place: build (`build`: the duct
//! expression for a `Spec`), spawn (below: start it, watch its process groups, hand over the
//! terminal), wait (`wait`, reading the pipes through `pump` into the `capture` sinks) and
//! collect (`collect`: the status, the captured output or the error).

mod build;
mod capture;
mod collect;
mod error;
mod lines;
pub(crate) mod pump;
mod quote;
mod resolve;
pub(crate) mod scan;
pub(crate) mod status;
mod tail;
mod terminal;
mod text;
pub(crate) mod wait;

use std::ffi::{OsStr, OsString};
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use crate::interrupt;
use crate::release::Redactor;
use capture::Capture;
pub(crate) use error::Error;
use pump::Pump;
use quote::quote_masked;
pub(crate) use quote::{quote, quote_home};
pub(crate) use resolve::ProgramCache;
use rhai::ImmutableString;

/// One program of a pipeline.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Stage {
    pub program: String,
    pub args: Vec<String>,
    /// Changes on top of the release environment: `None` removes the variable.
    pub env: Vec<(String, Option<String>)>,
    /// Working directory, relative to the release root; the root when `None`.
    pub dir: Option<PathBuf>,
}

impl Stage {
    pub(crate) fn new(program: impl Into<String>, args: Vec<String>) -> Self {
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
pub(crate) struct Spec {
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
    /// The command line as a user would type it (shell-quoted, stages joined by `|`), each
    /// word masked before it is quoted, so a secret with a `'` in it is masked too.
    pub(crate) fn shown(&self, redactor: &Redactor) -> String {
        let stages: Vec<String> = self
            .masked_stages(redactor)
            .iter()
            .map(|words| {
                words
                    .iter()
                    .map(|word| quote_masked(word))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        stages.join(" | ")
    }

    /// The argv of each stage, masked word by word (for the `--json` report and the audit).
    pub(crate) fn masked_stages(&self, redactor: &Redactor) -> Vec<Vec<String>> {
        self.stages
            .iter()
            .map(|stage| {
                let words: Vec<&str> = std::iter::once(&stage.program)
                    .chain(&stage.args)
                    .map(String::as_str)
                    .collect();
                redactor.words(&words)
            })
            .collect()
    }
}

/// Finds a program on `PATH` for a command running in a directory.
pub(crate) type Resolve<'a> = dyn Fn(&str, Option<&OsStr>, &Path) -> Option<PathBuf> + 'a;

/// Where the release's commands run and with what.
pub(crate) struct Launch<'a> {
    /// The release root: every command's working directory, or the base of its `dir`.
    pub root: &'a Path,
    /// The full environment of every command.
    pub env: &'a [(OsString, OsString)],
    pub resolve: &'a Resolve<'a>,
    pub redactor: &'a Redactor,
    /// stdout is adminsh's report (`--json`): what a command would print there (`run`) goes
    /// to stderr instead.
    pub stdout_to_stderr: bool,
}

impl Launch<'_> {
    /// `spec`'s command line with secrets masked, for a message.
    fn shown(&self, spec: &Spec) -> String {
        spec.shown(self.redactor)
    }
}

/// What to do with the command's output.
pub(crate) enum Output<'a> {
    /// stdout and stderr go to adminsh's own (`run`).
    Inherit,
    /// stdout is kept as bytes; stderr is shown and its first and last lines kept (`read_bytes`).
    Bytes,
    /// stdout is kept as text; stderr is shown and its first and last lines kept (`read`,
    /// `lines`).
    Text,
    /// Both are kept as text (`output`).
    Both,
    /// stdout is handed over line by line; `false` stops the command (`each_line`).
    Lines(&'a mut dyn FnMut(&[u8]) -> bool),
    /// stdout is handed over as it is read, `&[]` at its end; `false` stops the command (the
    /// native line operations: `count_lines`, `grep`, `head`, ...).
    Chunks(&'a mut dyn FnMut(&[u8]) -> bool),
}

#[derive(Debug)]
pub(crate) struct Finished {
    /// The exit code, or 128 + the signal number for a command killed by a signal.
    pub status: i32,
    pub stdout: Captured,
    /// Only kept for `Output::Both`.
    pub stderr: Captured,
}

/// Output a command produced, as it was asked for.
#[derive(Debug, Default)]
pub(crate) enum Captured {
    #[default]
    Nothing,
    Bytes(Vec<u8>),
    /// Text, with the offset of the first byte that was not UTF-8 (replaced by U+FFFD).
    Text(ImmutableString, Option<usize>),
}

impl Captured {
    pub(crate) fn into_text(self) -> (ImmutableString, Option<usize>) {
        match self {
            Captured::Text(text, invalid) => (text, invalid),
            Captured::Bytes(bytes) => (String::from_utf8_lossy(&bytes).as_ref().into(), None),
            Captured::Nothing => (ImmutableString::new(), None),
        }
    }
}

/// Runs `spec` to completion.
pub(crate) fn execute(
    spec: &Spec,
    launch: Launch<'_>,
    output: Output<'_>,
) -> Result<Finished, Error> {
    let spawn_error = |e: io::Error| Error::Spawn {
        command: launch.shown(spec),
        reason: e.to_string(),
    };
    let foreground = spec.stages.len() == 1 && spec.stdin.is_none() && terminal::owns_terminal();
    let capture = Capture::new(output, launch.redactor);
    let stderr_shown = capture.inherits();

    let expression = build::expression(spec, &launch, foreground)?;
    let (expression, pipes) = capture
        .attach(expression, launch.stdout_to_stderr)
        .map_err(spawn_error)?;
    let mut running = spawn(expression, foreground).map_err(spawn_error)?;
    let mut pump = Pump::new(pipes.stdout, pipes.stderr, capture);
    let how = wait::Wait {
        until: wait::Until::OutputEnds,
        timeout: spec.timeout,
        // The signal handler passes Ctrl-C on to the command's process groups itself.
        forward_interrupt: false,
    };
    let waited = wait::wait(&mut running, &mut pump, &how).map_err(spawn_error)?;
    if interrupt::interrupted() {
        // What the command started and left behind (a background job that ignores Ctrl-C)
        // goes with it.
        running.guard.kill(libc::SIGKILL);
    }
    drop(running);
    collect::collect(
        spec,
        &launch,
        collect::Ended {
            status: status::code(waited.status),
            timed_out: waited.timed_out,
            foreground,
            stderr_shown,
        },
        pump.into_sinks().finish(),
    )
}

/// A started command: its duct handle, the watch that passes signals on to its process
/// groups, and the terminal, while it has it.
struct Running {
    handle: duct::Handle,
    guard: interrupt::Guard,
    _terminal: Option<terminal::Reclaim>,
}

/// Starts `expression`. It is dropped once started, which closes adminsh's copies of the pipes'
/// write ends: end of file then arrives when the command closes its own.
fn spawn(expression: duct::Expression, foreground: bool) -> io::Result<Running> {
    let handle = expression.start()?;
    drop(expression);
    let pids = handle.pids();
    let guard = interrupt::Guard::watch(&pids);
    let terminal = foreground.then(|| terminal::hand_over(pids[0]));
    Ok(Running {
        handle,
        guard,
        _terminal: terminal,
    })
}

impl wait::Child for Running {
    fn wait_until(&mut self, deadline: Option<Instant>) -> io::Result<Option<ExitStatus>> {
        let output = match deadline {
            None => Some(self.handle.wait()?),
            Some(at) => self.handle.wait_deadline(at)?,
        };
        Ok(output.map(|o| o.status))
    }

    fn signal(&mut self, signal: i32) {
        self.guard.kill(signal);
    }
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
                Stage::new("grep", vec![String::new(), "a=b".into()]),
            ],
            stdin: None,
            timeout: None,
            checked: true,
            read_only: false,
        };
        assert_eq!(
            spec.shown(&Redactor::default()),
            r"psql -c 'select 1; drop' 'it'\''s' | grep '' a=b"
        );
        let mut redactor = Redactor::default();
        redactor.add("it's");
        assert_eq!(
            spec.shown(&redactor),
            "psql -c 'select 1; drop' **** | grep '' a=b"
        );
    }

    /// Runs `stages` of an app in `root`, returning stdout.
    fn run_in(root: &Path, stages: Vec<Stage>) -> Result<String, Error> {
        let spec = Spec {
            stages,
            stdin: None,
            timeout: None,
            checked: true,
            read_only: false,
        };
        let env = [("PATH".into(), std::env::var_os("PATH").unwrap_or_default())];
        let cache = std::cell::RefCell::new(ProgramCache::default());
        let resolve = |program: &str, path: Option<&OsStr>, dir: &Path| {
            cache.borrow_mut().resolve(program, path, dir)
        };
        let launch = Launch {
            root,
            env: &env,
            resolve: &resolve,
            redactor: &Redactor::default(),
            stdout_to_stderr: false,
        };
        let finished = execute(&spec, launch, Output::Text)?;
        Ok(finished.stdout.into_text().0.to_string())
    }

    #[test]
    fn commands_run_in_the_release_root_whatever_adminshs_own_directory() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("bin")).unwrap();
        std::fs::create_dir_all(root.join("sub/dir")).unwrap();
        let tool = root.join("bin/where");
        std::fs::write(&tool, "#!/bin/sh\npwd -P\n").unwrap();
        std::fs::set_permissions(&tool, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        // The test process runs elsewhere (the crate's directory); nothing here changes that.
        assert_ne!(std::env::current_dir().unwrap(), root);
        let show = |dir: &Path| format!("{}\n", dir.display());
        assert_eq!(
            run_in(&root, vec![Stage::new("./bin/where", vec![])]).unwrap(),
            show(&root)
        );
        let mut in_sub = Stage::new("../../bin/where", vec![]);
        in_sub.dir = Some("sub/dir".into());
        assert_eq!(
            run_in(&root, vec![in_sub]).unwrap(),
            show(&root.join("sub/dir"))
        );
        let mut pwd = Stage::new("pwd", vec!["-P".into()]);
        pwd.dir = Some("sub".into());
        let piped = vec![pwd, Stage::new("cat", vec![])];
        assert_eq!(run_in(&root, piped).unwrap(), show(&root.join("sub")));
        match run_in(&root, vec![Stage::new("./bin/missing", vec![])]) {
            Err(Error::Spawn { command, .. }) => assert_eq!(command, "./bin/missing"),
            other => panic!("{other:?}"),
        }
    }
}
