//! A path resolved once and acted on through what was resolved: the directory holding its last
//! part is opened (following the links on the way there, the route the script chose), and the
//! last part is then removed, renamed, looked at or walked through that open directory
//! (`unlinkat`, `renameat`, `openat` with `O_NOFOLLOW`), never by its path again. So a link
//! named last is the link itself, and nothing swapped in between a look and an act (a
//! directory replaced by a link to `/`) can turn a removal on what lies elsewhere.

use std::ffi::{CStr, OsStr, OsString};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags};
use rustix::io::Errno;

/// Why a change to the tree stopped.
#[derive(Debug)]
pub(super) enum TreeError {
    /// The system's error, with the path it was about.
    Io(PathBuf, std::io::Error),
    /// Something that must not be copied or written over (a FIFO, a device), and what it is.
    Special(PathBuf, &'static str),
    /// A signal (its number) arrived on the way.
    Interrupted(i32),
}

pub(super) type Tree<T> = Result<T, TreeError>;

fn io(path: &Path, e: impl Into<std::io::Error>) -> TreeError {
    TreeError::Io(path.to_path_buf(), e.into())
}

fn check() -> Tree<()> {
    crate::interrupt::signal().map_or(Ok(()), |signal| Err(TreeError::Interrupted(signal)))
}

/// The last part of a path and the open directory that holds it.
pub(super) struct Place {
    dir: OwnedFd,
    name: OsString,
    /// The path as given, for messages.
    path: PathBuf,
}

impl Place {
    /// The place of `path` (cleaned first: see `file_io::clean`); `None` when the path has no
    /// last name to act on (`/`, or nothing but `..`).
    pub(super) fn of(path: &Path) -> Tree<Option<Place>> {
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return Ok(None);
        };
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        let dir = rustix::fs::open(
            parent,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| io(parent, e))?;
        Ok(Some(Place {
            dir,
            name: name.to_owned(),
            path: path.to_path_buf(),
        }))
    }

    /// Where the place really is: the opened directory's path as the kernel knows it, and the
    /// name. For comparing with the release root, never for acting on.
    pub(super) fn real(&self) -> PathBuf {
        let fd = std::os::fd::AsRawFd::as_raw_fd(&self.dir);
        std::fs::read_link(format!("/proc/self/fd/{fd}"))
            .or_else(|_| self.path.parent().unwrap_or(Path::new("/")).canonicalize())
            .unwrap_or_else(|_| self.path.parent().unwrap_or(Path::new("/")).to_path_buf())
            .join(&self.name)
    }

    /// What the last part is, the link itself when it is one; `None` when there is nothing.
    pub(super) fn kind(&self) -> Tree<Option<FileType>> {
        match rustix::fs::statat(&self.dir, &self.name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => Ok(Some(FileType::from_raw_mode(stat.st_mode))),
            Err(Errno::NOENT) => Ok(None),
            Err(e) => Err(io(&self.path, e)),
        }
    }

    /// Removes the last part: a file or a link by unlinking it, a directory with everything in
    /// it, walked through descriptors opened without following links.
    pub(super) fn remove(&self) -> Tree<()> {
        remove_at(self.dir.as_fd(), &self.name, &self.path)
    }

    /// Renames the last part to `to`'s, within or across directories (one filesystem).
    pub(super) fn rename_to(&self, to: &Place) -> Tree<()> {
        rustix::fs::renameat(&self.dir, &self.name, &to.dir, &to.name)
            .map_err(|e| io(&self.path, e))
    }
}

/// Removes `name` in `dir`: a directory is opened with `O_NOFOLLOW` (a link found there
/// instead is unlinked, never followed), emptied and removed.
fn remove_at(dir: BorrowedFd<'_>, name: &OsStr, path: &Path) -> Tree<()> {
    check()?;
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let inner = match rustix::fs::openat(dir, name, flags, Mode::empty()) {
        Ok(inner) => inner,
        Err(Errno::NOTDIR | Errno::LOOP) => {
            return rustix::fs::unlinkat(dir, name, AtFlags::empty()).map_err(|e| io(path, e));
        }
        Err(e) => return Err(io(path, e)),
    };
    for entry in Dir::read_from(&inner).map_err(|e| io(path, e))? {
        let entry = entry.map_err(|e| io(path, e))?;
        let child = entry.file_name();
        if is_dot(child) {
            continue;
        }
        // Each entry as the top was: opened as a directory without following a link, else
        // unlinked. The type the directory listing gives is not trusted: it can be stale.
        let child = OsStr::from_bytes(child.to_bytes());
        remove_at(inner.as_fd(), child, &path.join(child))?;
    }
    rustix::fs::unlinkat(dir, name, AtFlags::REMOVEDIR).map_err(|e| io(path, e))
}

fn is_dot(name: &CStr) -> bool {
    matches!(name.to_bytes(), b"." | b"..")
}

/// Copies the directory `from` (links followed to reach it: the script named it to copy what
/// it holds) into a new directory `to`. Inside, a link is copied as a link, a directory is
/// entered only through a descriptor opened with `O_NOFOLLOW`, and every file is created anew
/// (`O_EXCL`), so nothing is read or written through a link; a FIFO or a device inside stops
/// the copy, naming it.
pub(super) fn copy_dir(from: &Path, to: &Path) -> Tree<()> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let source = rustix::fs::open(from, flags, Mode::empty()).map_err(|e| io(from, e))?;
    let mode = rustix::fs::fstat(&source).map_err(|e| io(from, e))?.st_mode;
    rustix::fs::mkdir(to, Mode::from_raw_mode(mode & 0o7777)).map_err(|e| io(to, e))?;
    let target =
        rustix::fs::open(to, flags | OFlags::NOFOLLOW, Mode::empty()).map_err(|e| io(to, e))?;
    copy_entries(source.as_fd(), target.as_fd(), from, to)
}

fn copy_entries(
    source: BorrowedFd<'_>,
    target: BorrowedFd<'_>,
    from: &Path,
    to: &Path,
) -> Tree<()> {
    for entry in Dir::read_from(source).map_err(|e| io(from, e))? {
        check()?;
        let entry = entry.map_err(|e| io(from, e))?;
        if is_dot(entry.file_name()) {
            continue;
        }
        let name = OsStr::from_bytes(entry.file_name().to_bytes());
        let (from, to) = (from.join(name), to.join(name));
        let stat = rustix::fs::statat(source, name, AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|e| io(&from, e))?;
        let mode = Mode::from_raw_mode(stat.st_mode & 0o7777);
        match FileType::from_raw_mode(stat.st_mode) {
            FileType::Symlink => {
                let link =
                    rustix::fs::readlinkat(source, name, Vec::new()).map_err(|e| io(&from, e))?;
                rustix::fs::symlinkat(link.as_c_str(), target, name).map_err(|e| io(&to, e))?;
            }
            FileType::Directory => {
                let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
                let inner = rustix::fs::openat(source, name, flags, Mode::empty())
                    .map_err(|e| io(&from, e))?;
                rustix::fs::mkdirat(target, name, mode).map_err(|e| io(&to, e))?;
                let made = rustix::fs::openat(target, name, flags, Mode::empty())
                    .map_err(|e| io(&to, e))?;
                copy_entries(inner.as_fd(), made.as_fd(), &from, &to)?;
            }
            FileType::RegularFile => {
                let read = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
                let input = rustix::fs::openat(source, name, read, Mode::empty())
                    .map_err(|e| io(&from, e))?;
                let write = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC;
                let output =
                    rustix::fs::openat(target, name, write, mode).map_err(|e| io(&to, e))?;
                copy_bytes(
                    &std::fs::File::from(input),
                    &std::fs::File::from(output),
                    &from,
                    &to,
                )?;
            }
            other => return Err(TreeError::Special(from, special(other))),
        }
    }
    Ok(())
}

/// What a file that is not regular, a directory or a link is, for a message.
fn special(kind: FileType) -> &'static str {
    match kind {
        FileType::Fifo => "a FIFO",
        FileType::Socket => "a socket",
        FileType::CharacterDevice | FileType::BlockDevice => "a device",
        _ => "not a regular file",
    }
}

/// Every byte of `input` into `output`, a piece at a time so that Ctrl-C stops a big copy; an
/// error names the side it came from (a source that cannot be read, a target's full disk).
pub(super) fn copy_bytes(
    mut input: &std::fs::File,
    mut output: &std::fs::File,
    from: &Path,
    to: &Path,
) -> Tree<()> {
    use std::io::{ErrorKind, Read, Write};
    let mut buffer = vec![0; 256 * 1024];
    loop {
        check()?;
        let n = match input.read(&mut buffer) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(from, e)),
        };
        output.write_all(&buffer[..n]).map_err(|e| io(to, e))?;
    }
}
