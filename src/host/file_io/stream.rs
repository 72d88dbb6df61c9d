//! Reading and writing files that can make adminsh wait: a FIFO waits for its other end, a
//! terminal or a device for data, a big file takes time. Files are opened non-blocking and
//! waited on with `poll` in short ticks, and every tick and chunk checks for Ctrl-C and SIGTERM,
//! so a script blocked on `read_file("some.fifo")` stops when told.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

/// How long one wait lasts before the interrupt flag is looked at again.
const TICK: Duration = Duration::from_millis(50);
/// [`TICK`] as `poll(2)` takes it.
const TICK_MS: libc::c_int = 50;
const CHUNK: usize = 64 * 1024;

#[derive(Debug)]
pub(crate) enum Error {
    Io(std::io::Error),
    /// A signal (its number) arrived while waiting.
    Interrupted(i32),
    /// More bytes than the limit given (`/dev/zero` has no end).
    TooLarge(usize),
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

type Interrupted<'a> = &'a dyn Fn() -> Option<i32>;

fn check(interrupted: Interrupted<'_>) -> Result<(), Error> {
    interrupted().map_or(Ok(()), |signal| Err(Error::Interrupted(signal)))
}

/// Every byte of the file at `path`, up to its end (for a FIFO: until every writer closed it,
/// waiting for a first writer as `cat` does), if there are at most `limit`.
pub(super) fn read(
    path: &Path,
    limit: usize,
    interrupted: Interrupted<'_>,
) -> Result<Vec<u8>, Error> {
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(Error::Io(ErrorKind::IsADirectory.into()));
    }
    let regular = meta.is_file();
    // The size as a hint only: a file can grow, and a sparse one claim more than it holds.
    let hint = if regular { meta.len().min(1 << 26) } else { 0 };
    let mut bytes = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
    let mut chunk = vec![0; CHUNK];
    loop {
        check(interrupted)?;
        // A regular file is always ready; anything else is read only once poll says so (for a
        // FIFO without a writer yet, read would say end of file at once).
        if !regular && !ready(&file, libc::POLLIN)? {
            continue;
        }
        match file.read(&mut chunk) {
            Ok(0) => return Ok(bytes),
            Ok(n) if bytes.len() + n > limit => return Err(Error::TooLarge(limit)),
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// Writes `bytes` into the existing file at `path` that is not a regular file (a FIFO, a
/// terminal, `/dev/null`): in place, as a shell's `>` would, waiting for a FIFO's reader.
pub(super) fn write_into(
    path: &Path,
    bytes: &[u8],
    interrupted: Interrupted<'_>,
) -> Result<(), Error> {
    write_opened(OpenOptions::new().write(true), path, bytes, interrupted)
}

/// Appends `bytes` to the file at `path`, creating a regular file if there is none; into a
/// FIFO or a terminal as [`write_into`] writes.
pub(crate) fn append(path: &Path, bytes: &[u8], interrupted: Interrupted<'_>) -> Result<(), Error> {
    write_opened(
        OpenOptions::new().append(true).create(true),
        path,
        bytes,
        interrupted,
    )
}

/// Opens `path` with `options` without waiting at the open (a FIFO without a reader is tried
/// again every tick), then writes `bytes` as the file takes them.
fn write_opened(
    options: &mut OpenOptions,
    path: &Path,
    bytes: &[u8],
    interrupted: Interrupted<'_>,
) -> Result<(), Error> {
    let options = options.custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC);
    let file = loop {
        check(interrupted)?;
        match options.open(path) {
            Ok(file) => break file,
            // A FIFO nobody reads yet: wait for a reader (poll cannot wait for one).
            Err(e) if e.raw_os_error() == Some(libc::ENXIO) => std::thread::sleep(TICK),
            Err(e) => return Err(e.into()),
        }
    };
    let mut rest = bytes;
    while !rest.is_empty() {
        check(interrupted)?;
        if !ready(&file, libc::POLLOUT)? {
            continue;
        }
        match (&file).write(rest) {
            Ok(n) => rest = &rest[n..],
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Waits one tick for `events` on `file`: true when something happened (data, space, the other
/// end closing, an error the next read or write reports), false when the tick passed.
fn ready(file: &File, events: libc::c_short) -> std::io::Result<bool> {
    let mut poll = libc::pollfd {
        fd: file.as_raw_fd(),
        events,
        revents: 0,
    };
    // SAFETY: one valid pollfd, for a descriptor `file` keeps open during the call.
    let n = unsafe { libc::poll(&raw mut poll, 1, TICK_MS) };
    if n < 0 {
        let e = std::io::Error::last_os_error();
        return if e.kind() == ErrorKind::Interrupted {
            Ok(false)
        } else {
            Err(e)
        };
    }
    Ok(n > 0)
}
