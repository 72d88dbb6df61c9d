//! Reading a child's stdout and stderr pipes on the calling thread with `poll(2)`: no helper
//! threads, a deadline for timeouts and for checking on the child, and whatever the bytes are
//! for decided by a `Sinks` value. The commands scripts run and the ssh or kubectl client of a
//! remote run both read through it.

use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::time::Instant;

/// How much is read at a time.
pub(crate) const CHUNK: usize = 64 * 1024;

/// Where the bytes read from the pipes go.
pub(crate) trait Sinks {
    /// Takes bytes read from stdout, or `&[]` at its end; `false` stops reading it (the pipe
    /// is closed, so the child gets SIGPIPE if it writes more).
    fn stdout(&mut self, bytes: &[u8]) -> bool;
    /// Takes bytes read from stderr, or `&[]` at its end.
    fn stderr(&mut self, bytes: &[u8]);
    /// For a sink that keeps every byte of stdout: its buffer, which stdout is read straight
    /// into, so peak memory stays the size of the output rather than twice it.
    fn stdout_buffer(&mut self) -> Option<&mut Vec<u8>> {
        None
    }
}

pub(crate) struct Pump<S> {
    stdout: Option<io::PipeReader>,
    stderr: Option<io::PipeReader>,
    pub sinks: S,
    buffer: Vec<u8>,
}

/// Why `pump` returned.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pumped {
    /// Every pipe reached end of file (or its sink stopped reading).
    Finished,
    /// The deadline passed first.
    Deadline,
    /// A signal arrived (the caller checks whether it was an interruption).
    Signal,
}

impl<S: Sinks> Pump<S> {
    pub(crate) fn new(
        stdout: Option<io::PipeReader>,
        stderr: Option<io::PipeReader>,
        sinks: S,
    ) -> Self {
        Pump {
            stdout,
            stderr,
            sinks,
            buffer: Vec::new(),
        }
    }

    /// Reads until every pipe is closed or `deadline` passes. Can be called again after a
    /// deadline or a signal to go on reading.
    pub(crate) fn pump(&mut self, deadline: Option<Instant>) -> io::Result<Pumped> {
        loop {
            let timeout = match deadline {
                None => -1,
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Ok(if self.finished() {
                            Pumped::Finished
                        } else {
                            Pumped::Deadline
                        });
                    }
                    i32::try_from(left.as_millis().max(1)).unwrap_or(i32::MAX)
                }
            };
            match self.poll_once(timeout) {
                Ok(_) if self.finished() => return Ok(Pumped::Finished),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(Pumped::Signal),
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads what the pipes hold now, without waiting for more: what a child that has exited
    /// left behind, when something it started may keep the pipes open.
    pub(crate) fn drain(&mut self) -> io::Result<()> {
        loop {
            match self.poll_once(0) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Whether every pipe is closed.
    pub(crate) fn finished(&self) -> bool {
        self.stdout.is_none() && self.stderr.is_none()
    }

    /// The sinks, once pumping is over (or abandoned).
    pub(crate) fn into_sinks(self) -> S {
        self.sinks
    }

    /// One `poll(2)` of the open pipes for up to `timeout_ms`, then one read from each ready
    /// pipe. Returns how many pipes were read (0 when none was ready or all are closed).
    fn poll_once(&mut self, timeout_ms: i32) -> io::Result<usize> {
        let pipes = [self.stdout.as_ref(), self.stderr.as_ref()];
        let mut fds = pipes.map(|pipe| libc::pollfd {
            // poll(2) skips a negative descriptor.
            fd: pipe.map_or(-1, AsRawFd::as_raw_fd),
            events: libc::POLLIN,
            revents: 0,
        });
        if self.finished() {
            return Ok(0);
        }
        // SAFETY: `fds` is a valid array of pollfd for its length during the call.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
        if ready < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut read = 0;
        if fds[0].revents != 0 {
            self.read_stdout()?;
            read += 1;
        }
        if fds[1].revents != 0 {
            self.read_stderr()?;
            read += 1;
        }
        Ok(read)
    }

    fn read_stdout(&mut self) -> io::Result<()> {
        let Some(pipe) = &mut self.stdout else {
            return Ok(());
        };
        let go_on = if let Some(out) = self.sinks.stdout_buffer() {
            if out.capacity() - out.len() < CHUNK {
                out.reserve(CHUNK.max(out.len()));
            }
            read_into_spare(pipe, out)? > 0
        } else {
            self.buffer.resize(CHUNK, 0);
            let n = read_retrying(pipe, &mut self.buffer)?;
            self.sinks.stdout(&self.buffer[..n]) && n > 0
        };
        if !go_on {
            self.stdout = None;
        }
        Ok(())
    }

    fn read_stderr(&mut self) -> io::Result<()> {
        let Some(pipe) = &mut self.stderr else {
            return Ok(());
        };
        self.buffer.resize(CHUNK, 0);
        let n = read_retrying(pipe, &mut self.buffer)?;
        self.sinks.stderr(&self.buffer[..n]);
        if n == 0 {
            self.stderr = None;
        }
        Ok(())
    }
}

fn read_retrying(pipe: &mut io::PipeReader, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match pipe.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

/// Reads into the spare capacity of `out`, never touching pages not yet filled.
fn read_into_spare(pipe: &io::PipeReader, out: &mut Vec<u8>) -> io::Result<usize> {
    let len = out.len();
    let room = out.capacity() - len;
    loop {
        // SAFETY: reads at most `room` bytes into the allocation of `out`, past its length.
        let n = unsafe { libc::read(pipe.as_raw_fd(), out.as_mut_ptr().add(len).cast(), room) };
        if let Ok(n) = usize::try_from(n) {
            // SAFETY: the kernel initialised `n` bytes after the old length.
            unsafe { out.set_len(len + n) };
            return Ok(n);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::time::Duration;

    #[derive(Default)]
    struct Kept {
        out: Vec<u8>,
        err: Vec<u8>,
        ends: usize,
        stop_after: Option<usize>,
    }

    impl Sinks for Kept {
        fn stdout(&mut self, bytes: &[u8]) -> bool {
            self.ends += usize::from(bytes.is_empty());
            self.out.extend_from_slice(bytes);
            self.stop_after.is_none_or(|n| self.out.len() < n)
        }
        fn stderr(&mut self, bytes: &[u8]) {
            self.ends += usize::from(bytes.is_empty());
            self.err.extend_from_slice(bytes);
        }
    }

    #[test]
    fn both_pipes_are_read_to_their_end() {
        let (out, mut out_w) = io::pipe().unwrap();
        let (err, mut err_w) = io::pipe().unwrap();
        out_w.write_all(b"one").unwrap();
        err_w.write_all(b"two").unwrap();
        drop((out_w, err_w));
        let mut pump = Pump::new(Some(out), Some(err), Kept::default());
        assert_eq!(pump.pump(None).unwrap(), Pumped::Finished);
        let kept = pump.into_sinks();
        assert_eq!(
            (&kept.out[..], &kept.err[..], kept.ends),
            (&b"one"[..], &b"two"[..], 2)
        );
    }

    #[test]
    fn a_deadline_returns_while_a_pipe_is_open_and_pumping_goes_on_after() {
        let (out, mut out_w) = io::pipe().unwrap();
        let mut pump = Pump::new(Some(out), None, Kept::default());
        out_w.write_all(b"early").unwrap();
        let deadline = Instant::now() + Duration::from_millis(50);
        assert_eq!(pump.pump(Some(deadline)).unwrap(), Pumped::Deadline);
        assert_eq!(pump.sinks.out, b"early");
        out_w.write_all(b" late").unwrap();
        pump.drain().unwrap();
        assert_eq!(pump.sinks.out, b"early late");
        drop(out_w);
        assert_eq!(pump.pump(None).unwrap(), Pumped::Finished);
    }

    #[test]
    fn a_sink_that_stops_closes_its_pipe() {
        let (out, mut out_w) = io::pipe().unwrap();
        out_w.write_all(b"enough").unwrap();
        let sinks = Kept {
            stop_after: Some(1),
            ..Kept::default()
        };
        let mut pump = Pump::new(Some(out), None, sinks);
        assert_eq!(pump.pump(None).unwrap(), Pumped::Finished);
        // The read end is gone: the writer now gets EPIPE.
        assert_eq!(
            out_w.write_all(b"more").unwrap_err().kind(),
            io::ErrorKind::BrokenPipe
        );
    }
}
