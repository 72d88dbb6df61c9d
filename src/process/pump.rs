//! Reading a command's stdout and stderr pipes on the calling thread with `poll(2)`: no helper
//! threads per command, a deadline for `.timeout()`, and constant memory for line streaming.

use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::time::Instant;

use super::text::TextBuilder;

const CHUNK: usize = 64 * 1024;
/// How much of stderr a failure message keeps.
const TAIL_LINES: usize = 10;
const TAIL_BYTES: usize = 8 * 1024;

/// What to do with the bytes of stdout.
pub enum StdoutSink<'a> {
    /// Keep every byte (`read_bytes`).
    Collect(Vec<u8>),
    /// Keep it as text (`read`, `lines`, `output`).
    Text(TextBuilder),
    /// Hand over each line without its newline (`each_line`); `false` stops reading.
    Lines {
        pending: Vec<u8>,
        each: &'a mut dyn FnMut(&[u8]) -> bool,
        stopped: bool,
    },
}

/// What to do with the bytes of stderr.
pub enum StderrSink {
    /// Copy to adminsh's stderr as they come, keeping the tail for error messages.
    Tee(Vec<u8>),
    /// Keep it as text (`output`).
    Text(TextBuilder),
}

pub struct Pump<'a> {
    pub stdout: Option<(io::PipeReader, StdoutSink<'a>)>,
    pub stderr: Option<(io::PipeReader, StderrSink)>,
    /// Sinks whose pipe has closed.
    done_stdout: Option<StdoutSink<'a>>,
    done_stderr: Option<StderrSink>,
}

/// Why `pump` returned.
pub enum Pumped {
    /// Every pipe reached end of file (or the line callback stopped).
    Finished,
    /// The deadline passed first.
    Deadline,
    /// A signal arrived (the caller checks whether it was an interruption).
    Signal,
}

impl<'a> Pump<'a> {
    pub fn new(
        stdout: Option<(io::PipeReader, StdoutSink<'a>)>,
        stderr: Option<(io::PipeReader, StderrSink)>,
    ) -> Self {
        Pump {
            stdout,
            stderr,
            done_stdout: None,
            done_stderr: None,
        }
    }

    /// Reads until every pipe is closed or `deadline` passes. Can be called again after a
    /// deadline to go on reading.
    pub fn pump(&mut self, deadline: Option<Instant>) -> io::Result<Pumped> {
        let mut buf = vec![0u8; CHUNK];
        loop {
            let mut fds = Vec::with_capacity(2);
            if let Some((pipe, _)) = &self.stdout {
                fds.push(poll_fd(pipe.as_raw_fd()));
            }
            if let Some((pipe, _)) = &self.stderr {
                fds.push(poll_fd(pipe.as_raw_fd()));
            }
            if fds.is_empty() {
                return Ok(Pumped::Finished);
            }
            let timeout = match deadline {
                None => -1,
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Ok(Pumped::Deadline);
                    }
                    i32::try_from(left.as_millis().max(1)).unwrap_or(i32::MAX)
                }
            };
            // SAFETY: `fds` is a valid array of pollfd for the duration of the call.
            let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout) };
            if ready < 0 {
                let err = io::Error::last_os_error();
                if err.kind() == io::ErrorKind::Interrupted {
                    return Ok(Pumped::Signal);
                }
                return Err(err);
            }
            let mut index = 0;
            if self.stdout.is_some() {
                if fds[index].revents != 0 {
                    self.read_stdout(&mut buf)?;
                }
                index += 1;
            }
            if self.stderr.is_some() && fds[index].revents != 0 {
                self.read_stderr(&mut buf)?;
            }
        }
    }

    fn read_stdout(&mut self, buf: &mut [u8]) -> io::Result<()> {
        let Some((pipe, sink)) = &mut self.stdout else {
            return Ok(());
        };
        let n = match sink {
            // Read straight into the output's spare capacity, never touching pages not yet
            // filled: peak memory stays the size of the output, not twice it.
            StdoutSink::Collect(out) => {
                if out.capacity() - out.len() < CHUNK {
                    out.reserve(CHUNK.max(out.len()));
                }
                read_into_spare(pipe, out)?
            }
            StdoutSink::Text(text) => {
                let n = read_retrying(pipe, buf)?;
                text.push(&buf[..n]);
                n
            }
            StdoutSink::Lines {
                pending,
                each,
                stopped,
            } => {
                let n = read_retrying(pipe, buf)?;
                pending.extend_from_slice(&buf[..n]);
                let mut start = 0;
                while let Some(newline) = pending[start..].iter().position(|&b| b == b'\n') {
                    let line = trim_cr(&pending[start..start + newline]);
                    start += newline + 1;
                    if !each(line) {
                        *stopped = true;
                        break;
                    }
                }
                pending.drain(..start);
                if n == 0 && !*stopped && !pending.is_empty() {
                    let last = std::mem::take(pending);
                    *stopped = !each(trim_cr(&last));
                }
                if *stopped { 0 } else { n }
            }
        };
        if n == 0 {
            let (_, sink) = self.stdout.take().expect("stdout is open");
            self.done_stdout = Some(sink);
        }
        Ok(())
    }

    fn read_stderr(&mut self, buf: &mut [u8]) -> io::Result<()> {
        let Some((pipe, sink)) = &mut self.stderr else {
            return Ok(());
        };
        let n = read_retrying(pipe, buf)?;
        match sink {
            StderrSink::Text(text) => text.push(&buf[..n]),
            StderrSink::Tee(tail) => {
                use std::io::Write;
                // A closed or full stderr of adminsh must not stop the command.
                let _ = io::stderr().write_all(&buf[..n]);
                tail.extend_from_slice(&buf[..n]);
                if tail.len() > 2 * TAIL_BYTES {
                    tail.drain(..tail.len() - TAIL_BYTES);
                }
            }
        }
        if n == 0 {
            let (_, sink) = self.stderr.take().expect("stderr is open");
            self.done_stderr = Some(sink);
        }
        Ok(())
    }

    /// The sinks, once pumping is over (or abandoned).
    pub fn finish(mut self) -> (Option<StdoutSink<'a>>, Option<StderrSink>) {
        let stdout = self
            .done_stdout
            .take()
            .or(self.stdout.take().map(|(_, s)| s));
        let stderr = self
            .done_stderr
            .take()
            .or(self.stderr.take().map(|(_, s)| s));
        (stdout, stderr)
    }
}

fn poll_fd(fd: i32) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}

fn read_retrying(pipe: &mut io::PipeReader, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match pipe.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

fn read_into_spare(pipe: &io::PipeReader, out: &mut Vec<u8>) -> io::Result<usize> {
    let len = out.len();
    let room = out.capacity() - len;
    loop {
        // SAFETY: reads at most `room` bytes into the allocation of `out`, past its length;
        // exactly the bytes the kernel wrote are then marked initialised.
        let n = unsafe { libc::read(pipe.as_raw_fd(), out.as_mut_ptr().add(len).cast(), room) };
        if n >= 0 {
            // SAFETY: the kernel initialised `n` bytes after the old length.
            unsafe { out.set_len(len + n as usize) };
            return Ok(n as usize);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The last lines of stderr, for an error message.
pub fn tail(stderr: &[u8]) -> String {
    let start = stderr.len().saturating_sub(TAIL_BYTES);
    let text = String::from_utf8_lossy(&stderr[start..]);
    let lines: Vec<&str> = text.trim_end().lines().collect();
    lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
}
