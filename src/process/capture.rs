//! What a command's output is for (`Output`), as the pipes adminsh reads and the sinks their
//! bytes go to. `run` leaves stdout and stderr to the command: the user sees both live, and a
//! failure says its stderr is above. The captured forms read stdout, and pass stderr through
//! adminsh so a failure can quote its first and last lines.

use std::io;

use super::lines::{Lines, Stopped};
use super::pump::Sinks;
use super::tail::{self, Excerpt, Quoted};
use super::text::TextBuilder;
use super::{Captured, Output};
use crate::release::Redactor;

/// The sinks of one command's pipes; `None` for an output left to the command.
pub(super) struct Capture<'a, 'r> {
    stdout: Option<StdoutSink<'a>>,
    stderr: Option<StderrSink<'r>>,
    redactor: &'r Redactor,
}

enum StdoutSink<'a> {
    /// Every byte (`read_bytes`).
    Collect(Vec<u8>),
    /// As text (`read`, `lines`, `output`).
    Text(TextBuilder),
    /// Line by line (`each_line`).
    Lines(Lines<'a>),
    /// As read, and whether the reader stopped early (the native line operations).
    Chunks(&'a mut dyn FnMut(&[u8]) -> bool, bool),
}

enum StderrSink<'r> {
    /// Copied to adminsh's stderr as it comes, keeping its first and last lines for error
    /// messages.
    Tee(Excerpt<'r>),
    /// As text (`output`).
    Text(TextBuilder),
}

/// The pipes a command writes to, for `Pump`.
pub(super) struct Pipes {
    pub stdout: Option<io::PipeReader>,
    pub stderr: Option<io::PipeReader>,
}

/// What the sinks kept, once the command is done.
pub(super) struct Collected {
    pub stdout: Captured,
    /// Only kept for `Output::Both`.
    pub stderr: Captured,
    /// The first and last lines of stderr, masked, for an error message (empty when stderr
    /// was not read).
    pub stderr_excerpt: Quoted,
    /// Why `each_line` stopped reading before the end.
    pub lines_stopped: Option<Stopped>,
}

impl<'a, 'r> Capture<'a, 'r> {
    pub(super) fn new(output: Output<'a>, redactor: &'r Redactor) -> Self {
        let (stdout, stderr) = match output {
            Output::Inherit => (None, None),
            Output::Bytes => (
                Some(StdoutSink::Collect(Vec::new())),
                Some(StderrSink::Tee(Excerpt::new(redactor))),
            ),
            Output::Text => (
                Some(StdoutSink::Text(TextBuilder::default())),
                Some(StderrSink::Tee(Excerpt::new(redactor))),
            ),
            Output::Both => (
                Some(StdoutSink::Text(TextBuilder::default())),
                Some(StderrSink::Text(TextBuilder::default())),
            ),
            Output::Lines(each) => (
                Some(StdoutSink::Lines(Lines::new(each))),
                Some(StderrSink::Tee(Excerpt::new(redactor))),
            ),
            Output::Chunks(each) => (
                Some(StdoutSink::Chunks(each, false)),
                Some(StderrSink::Tee(Excerpt::new(redactor))),
            ),
        };
        Capture {
            stdout,
            stderr,
            redactor,
        }
    }

    /// Whether the command writes to adminsh's own stdout and stderr (so the user has seen
    /// its stderr already when it fails).
    pub(super) fn inherits(&self) -> bool {
        self.stdout.is_none() && self.stderr.is_none()
    }

    /// Points the expression's stdout and stderr at new pipes for the sinks, or, with
    /// `stdout_to_stderr`, an inherited stdout at adminsh's stderr.
    pub(super) fn attach(
        &self,
        mut expression: duct::Expression,
        stdout_to_stderr: bool,
    ) -> io::Result<(duct::Expression, Pipes)> {
        let mut pipes = Pipes {
            stdout: None,
            stderr: None,
        };
        if self.stdout.is_some() {
            let (reader, writer) = io::pipe()?;
            expression = expression.stdout_file(writer);
            pipes.stdout = Some(reader);
        } else if stdout_to_stderr {
            expression = expression.stdout_to_stderr();
        }
        if self.stderr.is_some() {
            let (reader, writer) = io::pipe()?;
            expression = expression.stderr_file(writer);
            pipes.stderr = Some(reader);
        }
        Ok((expression, pipes))
    }

    pub(super) fn finish(self) -> Collected {
        let (stdout, lines_stopped) = match self.stdout {
            Some(StdoutSink::Collect(bytes)) => (Captured::Bytes(bytes), None),
            Some(StdoutSink::Text(text)) => {
                let (text, invalid) = text.finish();
                (Captured::Text(text, invalid), None)
            }
            Some(StdoutSink::Lines(lines)) => (Captured::Nothing, lines.stopped()),
            Some(StdoutSink::Chunks(_, stopped)) => {
                (Captured::Nothing, stopped.then_some(Stopped::ByCallback))
            }
            None => (Captured::Nothing, None),
        };
        let (stderr, stderr_excerpt) = match self.stderr {
            Some(StderrSink::Tee(kept)) => (Captured::Nothing, kept.finish()),
            Some(StderrSink::Text(text)) => {
                let (text, invalid) = text.finish();
                let shown = tail::of(text.as_bytes(), self.redactor);
                (Captured::Text(text, invalid), shown)
            }
            None => (Captured::Nothing, Vec::new()),
        };
        Collected {
            stdout,
            stderr,
            stderr_excerpt,
            lines_stopped,
        }
    }
}

impl Sinks for Capture<'_, '_> {
    fn stdout(&mut self, bytes: &[u8]) -> bool {
        match &mut self.stdout {
            Some(StdoutSink::Collect(out)) => out.extend_from_slice(bytes),
            Some(StdoutSink::Text(text)) => text.push(bytes),
            Some(StdoutSink::Lines(lines)) if bytes.is_empty() => lines.end(),
            Some(StdoutSink::Lines(lines)) => return lines.push(bytes),
            Some(StdoutSink::Chunks(each, stopped)) => {
                let go_on = each(bytes);
                *stopped |= !go_on && !bytes.is_empty();
                return go_on;
            }
            None => {}
        }
        true
    }

    fn stderr(&mut self, bytes: &[u8]) {
        match &mut self.stderr {
            Some(StderrSink::Tee(kept)) => {
                // The command's own words, passed through as they come; a closed or full
                // stderr of adminsh must not stop the command.
                crate::log::err_bytes(bytes);
                kept.push(bytes);
            }
            Some(StderrSink::Text(text)) => text.push(bytes),
            None => {}
        }
    }

    fn stdout_buffer(&mut self) -> Option<&mut Vec<u8>> {
        match &mut self.stdout {
            Some(StdoutSink::Collect(out)) => Some(out),
            _ => None,
        }
    }
}
