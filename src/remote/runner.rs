//! Running `ssh` or `kubectl exec` for a target as if the remote adminsh ran here: stdout
//! straight through (or prefixed line by line for `--each`), stderr relayed from the line the
//! remote adminsh starts with (`serve::STARTED`); what came before that line is ssh's or the
//! remote login shell's (a `.bashrc` complaining), not the admin process's: it becomes the
//! error when adminsh never starts (ssh's "Connection refused"), and is left out when it does.
//! Exit codes as they are; Ctrl-C passed on to the client, which ends the connection and so the
//! remote process. The pipes are read and the client waited for by the same pump and wait loop
//! as a script's commands (`process::pump`, `process::wait`).

use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::interrupt;
use crate::process::pump::{Pump, Sinks};
use crate::process::{status, wait};

use super::argv::Stdin;
use super::serve::STARTED;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    Ssh,
    Kubectl,
}

/// How a run on a target ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Ended {
    /// The remote adminsh ran and exited with this code.
    Ran(i32),
    /// The connection could not be made: the client's own words on stderr.
    Unreachable(String),
    /// Connected, but adminsh did not start there (not installed, not at that path, too old):
    /// the exit status and stderr.
    NotStarted(i32, String),
    /// Ctrl-C (or SIGTERM, SIGHUP) here: the signal.
    Interrupted(i32),
    /// The remote adminsh ran, and refused a flag this one sent (clap's `unexpected argument
    /// '--detach'`): it is an older one. The exit code (2) and the flag.
    Outdated(i32, String),
}

/// How much of the remote adminsh's first stderr is kept to look for a refused flag.
const EARLY: usize = 4096;

/// Runs the client `argv` to the end. `label` prefixes every line of output (`[label] `);
/// without it stdout is the client's own.
pub(crate) fn run(
    argv: &[String],
    transport: Transport,
    stdin: Stdin,
    label: Option<&str>,
) -> io::Result<Ended> {
    let mut command = Command::new(&argv[0]);
    command
        .args(&argv[1..])
        .stdin(match stdin {
            Stdin::Closed => Stdio::null(),
            Stdin::Terminal | Stdin::Forward => Stdio::inherit(),
        })
        .stdout(if label.is_some() {
            Stdio::piped()
        } else {
            Stdio::inherit()
        })
        .stderr(Stdio::piped());
    // The client stays in adminsh's process group: it reads the terminal as adminsh may, and
    // Ctrl-C typed there reaches it as it reaches adminsh.
    let mut child = command.spawn()?;
    let relay = Relay {
        label,
        // Through a remote terminal, the remote stderr arrives on stdout: the client's own
        // stderr holds only its own messages.
        expect_start: stdin != Stdin::Terminal,
        started: false,
        held: Vec::new(),
        early: Vec::new(),
        out_line: Vec::new(),
        err_line: Vec::new(),
    };
    let stdout = child
        .stdout
        .take()
        .map(|p| io::PipeReader::from(OwnedFd::from(p)));
    let stderr = child
        .stderr
        .take()
        .map(|p| io::PipeReader::from(OwnedFd::from(p)));
    let mut pump = Pump::new(stdout, stderr, relay);
    let how = wait::Wait {
        // ssh's connection master, say, may keep the pipes open after the client exits.
        until: wait::Until::Exit,
        timeout: None,
        // The client stays in adminsh's process group, which the signal handler does not signal:
        // the client ends the connection, and the remote adminsh gets SIGHUP.
        forward_interrupt: true,
    };
    let status = status::code(wait::wait(&mut Client(child), &mut pump, &how)?.status);
    let mut relay = pump.into_sinks();
    relay.finish();
    if let Some(signal) = interrupt::signal() {
        return Ok(Ended::Interrupted(signal));
    }
    let held = String::from_utf8_lossy(&relay.held).trim_end().to_owned();
    if relay.expect_start {
        if relay.started {
            return Ok(match unknown_flag(&relay.early) {
                Some(flag) if status == crate::error::EXIT_USAGE => Ended::Outdated(status, flag),
                _ => Ended::Ran(status),
            });
        }
        return Ok(match transport {
            Transport::Ssh if status == 255 => Ended::Unreachable(held),
            // kubectl exits 1 on its own failures (no cluster, no such pod).
            Transport::Kubectl if status == 1 => Ended::Unreachable(held),
            _ => Ended::NotStarted(status, held),
        });
    }
    let failed = !held.is_empty()
        && match transport {
            Transport::Ssh => status == 255,
            Transport::Kubectl => {
                status != 0 && !held.starts_with("command terminated with exit code")
            }
        };
    if failed {
        return Ok(Ended::Unreachable(held));
    }
    if !relay.held.is_empty() {
        let _ = io::stderr().write_all(&relay.held);
    }
    Ok(Ended::Ran(status))
}

/// The ssh or kubectl client, for the wait.
struct Client(Child);

impl wait::Child for Client {
    fn wait_until(&mut self, deadline: Option<Instant>) -> io::Result<Option<ExitStatus>> {
        let Some(deadline) = deadline else {
            return self.0.wait().map(Some);
        };
        loop {
            if let Some(status) = self.0.try_wait()? {
                return Ok(Some(status));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            std::thread::sleep(left.min(Duration::from_millis(10)));
        }
    }

    fn signal(&mut self, signal: i32) {
        // The wait only signals a client it has not reaped yet.
        // SAFETY: kill(2) on our own child, whose pid cannot have been reused before reaping.
        unsafe { libc::kill(libc::pid_t::try_from(self.0.id()).unwrap_or(-1), signal) };
    }
}

/// Where the client's output goes.
struct Relay<'a> {
    label: Option<&'a str>,
    /// Whether the remote adminsh announces its start on stderr (not through a terminal).
    expect_start: bool,
    started: bool,
    /// stderr not shown yet: before the start line, the client's own.
    held: Vec<u8>,
    /// The first [`EARLY`] bytes of the remote adminsh's own stderr.
    early: Vec<u8>,
    /// Unfinished lines, for prefixing.
    out_line: Vec<u8>,
    err_line: Vec<u8>,
}

impl Sinks for Relay<'_> {
    fn stdout(&mut self, bytes: &[u8]) -> bool {
        match self.label {
            Some(label) => crate::marked::prefix_lines(
                label,
                bytes,
                &mut self.out_line,
                &mut io::stdout().lock(),
            ),
            None => {
                let _ = io::stdout().lock().write_all(bytes);
            }
        }
        true
    }

    fn stderr(&mut self, bytes: &[u8]) {
        if self.started {
            self.show_stderr(bytes);
            return;
        }
        self.held.extend_from_slice(bytes);
        if !self.expect_start {
            return;
        }
        if let Some(at) = start_line(&self.held) {
            let held = std::mem::take(&mut self.held);
            self.started = true;
            self.show_stderr(&held[at + STARTED.len()..]);
        }
    }
}

impl Relay<'_> {
    fn show_stderr(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let room = EARLY.saturating_sub(self.early.len());
        self.early
            .extend_from_slice(&bytes[..room.min(bytes.len())]);
        match self.label {
            Some(label) => crate::marked::prefix_lines(
                label,
                bytes,
                &mut self.err_line,
                &mut io::stderr().lock(),
            ),
            None => {
                let _ = io::stderr().lock().write_all(bytes);
            }
        }
    }

    /// Ends unfinished prefixed lines.
    fn finish(&mut self) {
        let Some(label) = self.label else {
            return;
        };
        if !self.out_line.is_empty() {
            self.out_line.push(b'\n');
            let _ = io::stdout()
                .lock()
                .write_all(&crate::marked::prefixed(label, &self.out_line));
            self.out_line.clear();
        }
        if !self.err_line.is_empty() {
            self.err_line.push(b'\n');
            let _ = io::stderr()
                .lock()
                .write_all(&crate::marked::prefixed(label, &self.err_line));
            self.err_line.clear();
        }
    }
}

/// The flag an older adminsh refused, from clap's `error: unexpected argument '--detach' found`.
fn unknown_flag(stderr: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stderr);
    let rest = text.split_once("unexpected argument '")?.1;
    let flag = rest.split('\'').next()?;
    let flag = flag.split('=').next()?;
    flag.starts_with("--").then(|| flag.to_owned())
}

/// Where the start line begins in `held`, if it is there as a whole line.
fn start_line(held: &[u8]) -> Option<usize> {
    let wanted = STARTED.as_bytes();
    (0..held.len().saturating_sub(wanted.len() - 1))
        .find(|&i| held[i..].starts_with(wanted) && (i == 0 || held[i - 1] == b'\n'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_an_older_adminsh_refuses_is_named() {
        let said = b"error: unexpected argument '--detach' found\n\nUsage: adminsh [OPTIONS]\n";
        assert_eq!(unknown_flag(said).as_deref(), Some("--detach"));
        let said = b"error: unexpected argument '--attach=x' found\n";
        assert_eq!(unknown_flag(said).as_deref(), Some("--attach"));
        assert_eq!(unknown_flag(b"error: unexpected argument 'x' found"), None);
        assert_eq!(unknown_flag(b"adminsh: no run `x`"), None);
    }

    #[test]
    fn the_start_line_is_found_only_as_a_whole_line() {
        assert_eq!(start_line(STARTED.as_bytes()), Some(0));
        let held = format!("Warning: something\n{STARTED}hello");
        assert_eq!(start_line(held.as_bytes()), Some(19));
        assert_eq!(start_line(format!("x{STARTED}").as_bytes()), None);
        assert_eq!(start_line(&STARTED.as_bytes()[..5]), None);
        assert_eq!(start_line(b""), None);
    }

    #[test]
    fn stderr_before_the_start_line_is_held_and_after_it_shown() {
        let mut relay = Relay {
            label: Some("h"),
            expect_start: true,
            started: false,
            held: Vec::new(),
            early: Vec::new(),
            out_line: Vec::new(),
            err_line: Vec::new(),
        };
        relay.stderr(b"adminsh-rem");
        assert!(!relay.started);
        relay.stderr(b"ote: started\nfirst");
        assert!(relay.started);
        assert!(relay.held.is_empty());
        assert_eq!(relay.err_line, b"first");
    }
}
