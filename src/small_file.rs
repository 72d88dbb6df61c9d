//! Reading a file adminsh takes as configuration (an env file, `adminsh.toml`, a module, a CA
//! certificate) and opening a file a script hands to an operation that reads it whole (a copy's
//! source, a digest's input). Such a file is a regular file: a FIFO would make adminsh wait
//! for a writer that never comes, deaf to Ctrl-C, and `/dev/zero` would grow memory until the
//! kernel kills it. So the file is opened without waiting (`O_NONBLOCK`, which a FIFO honours
//! at open) and looked at through the open descriptor, and configuration is read only up to a
//! limit, one byte past which tells a file too big (even one that grows as it is read).

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Why a file was not read.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// The system's error (`NotFound` among them: callers branch on it).
    Io(std::io::Error),
    /// Not a regular file: what it is ("a FIFO", "a directory", ...).
    NotRegular(&'static str),
    /// Larger than the limit, in bytes.
    TooLarge(u64),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Io(e) => write!(f, "{e}"),
            Refusal::NotRegular(kind) => write!(f, "it is {kind}, not a regular file"),
            Refusal::TooLarge(limit) => write!(f, "it is larger than {}", sized(*limit)),
        }
    }
}

impl std::error::Error for Refusal {}

impl Refusal {
    /// Whether the file is not there (for optional files).
    pub(crate) fn is_not_found(&self) -> bool {
        matches!(self, Refusal::Io(e) if e.kind() == std::io::ErrorKind::NotFound)
    }
}

/// A size in the largest unit that divides it (`16 MiB`, `1500 bytes`).
pub(crate) fn sized(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// What a file that is not regular is, for a message; `None` for a regular file.
pub(crate) fn kind_of(meta: &std::fs::Metadata) -> Option<&'static str> {
    let kind = meta.file_type();
    if kind.is_file() {
        None
    } else if kind.is_dir() {
        Some("a directory")
    } else if kind.is_fifo() {
        Some("a FIFO")
    } else if kind.is_char_device() || kind.is_block_device() {
        Some("a device")
    } else if kind.is_socket() {
        Some("a socket")
    } else {
        Some("not a file")
    }
}

/// The regular file at `path`, open for reading (links followed), without ever waiting at the
/// open; anything else is refused.
pub(crate) fn open_regular(path: &Path) -> Result<File, Refusal> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(Refusal::Io)?;
    let meta = file.metadata().map_err(Refusal::Io)?;
    if let Some(kind) = kind_of(&meta) {
        return Err(Refusal::NotRegular(kind));
    }
    Ok(file)
}

/// Every byte of the regular file at `path`, if it holds at most `limit` bytes.
pub(crate) fn read(path: &Path, limit: u64) -> Result<Vec<u8>, Refusal> {
    let file = open_regular(path)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(Refusal::Io)?;
    if bytes.len() as u64 > limit {
        return Err(Refusal::TooLarge(limit));
    }
    Ok(bytes)
}

/// The most a configuration file adminsh reads may hold (a manifest, a module, a CA bundle):
/// real ones hold a few kilobytes, the largest CA bundles a few hundred.
pub(crate) const MAX_CONFIG_FILE: u64 = 16 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_small_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'x'; 11]).unwrap();
        let exact = dir.path().join("exact");
        std::fs::write(&exact, vec![b'x'; 10]).unwrap();
        let cases: &[(&Path, &str)] = &[
            (&fifo, "it is a FIFO, not a regular file"),
            (dir.path(), "it is a directory, not a regular file"),
            (Path::new("/dev/zero"), "it is a device, not a regular file"),
            (Path::new("/dev/null"), "it is a device, not a regular file"),
            (&big, "it is larger than 10 bytes"),
        ];
        for (path, message) in cases {
            let error = read(path, 10).unwrap_err();
            assert_eq!(error.to_string(), *message, "{}", path.display());
        }
        assert_eq!(read(&exact, 10).unwrap().len(), 10);
        assert!(
            read(&dir.path().join("missing"), 10)
                .unwrap_err()
                .is_not_found()
        );
    }

    #[test]
    fn sizes_read_in_their_unit() {
        for (bytes, shown) in [
            (16 << 20, "16 MiB"),
            (1 << 20, "1 MiB"),
            (1024, "1 KiB"),
            (1500, "1500 bytes"),
            (2 << 30, "2 GiB"),
        ] {
            assert_eq!(sized(bytes), shown);
        }
    }
}
