//! A file's contents in and out, and finding files, for scripts: `read_file`, `write_file`
//! (atomic, through symlinks, keeping owner and mode), `exists`, `glob`. Relative paths are
//! relative to the release root, where commands run too. Whatever can wait (a big tree to walk,
//! `walk.rs`; a FIFO without its other end, `stream.rs`) stops on Ctrl-C and SIGTERM like a
//! running command. Changing the file tree itself (mkdir, remove, copy...) is `file_tree.rs`.

mod stream;
mod walk;

pub(super) use stream::{Error as StreamError, append};

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use rhai::{Array, Dynamic, EvalAltResult};

use super::control;
use super::def::{Host, RhaiResult, rows, runtime_error};
use crate::interrupt;
use crate::session::Session;

pub(super) fn register(host: &mut Host, session: &Rc<Session>) {
    rows!(host, session;
        "read_file", "path: String -> String", "The text of a file (relative to the release root)",
            move |path: &str| read_file(&session, path);
        "write_file", "path: String, text: String",
            "Writes a file atomically (through a symlink, keeping owner and mode)",
            move |path: &str, text: &str| write_file(&session, path, text);
        "exists", "path: String -> bool", "Whether a path exists",
            move |path: &str| in_release(&session, path).exists();
        "glob", "pattern: String -> Array", "The paths matching a glob pattern, sorted",
            move |pattern: &str| glob(&session, pattern);
    );
}

fn read_file(session: &Session, path: &str) -> RhaiResult<String> {
    let limit = crate::limits::MAX_STRING_BYTES;
    let bytes = stream::read(&in_release(session, path), limit, &interrupt::signal)
        .map_err(|e| stream_error(e, "read", path))?;
    String::from_utf8(bytes).map_err(|e| {
        runtime_error(format!(
            "`{path}` is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

fn write_file(session: &Session, path: &str, text: &str) -> RhaiResult<()> {
    if session.options().read_only {
        return Err(runtime_error(format!(
            "refused in read-only mode: write_file({path:?})"
        )));
    }
    if session.options().dry_run {
        session.would(
            &format!("write {path} ({} bytes)", text.len()),
            &format!("write {path}"),
        );
        return Ok(());
    }
    let full = in_release(session, path);
    write(&full, text.as_bytes()).map_err(|e| {
        // Through a link, the file that could not be written is the one it points at.
        let through = crate::state::link_target(&full).ok().filter(|t| *t != full);
        match (e, through) {
            (stream::Error::Io(e), Some(target)) => runtime_error(format!(
                "cannot write `{path}` (a link to {}): {}",
                target.display(),
                io_reason(&e)
            )),
            (e, _) => stream_error(e, "write", path),
        }
    })
}

fn glob(session: &Session, pattern: &str) -> RhaiResult<Array> {
    let root = session.release.path();
    let full = in_release(session, pattern);
    let paths =
        walk::matches(&full.to_string_lossy(), &interrupt::signal).map_err(|e| match e {
            walk::Error::Pattern(e) => runtime_error(format!("bad glob pattern `{pattern}`: {e}")),
            walk::Error::Interrupted(signal) => control::interrupted(signal),
        })?;
    let mut found = Array::new();
    for path in paths {
        // Shown as the script wrote them: relative patterns give release-relative paths.
        let shown = if Path::new(pattern).is_absolute() {
            path
        } else {
            path.strip_prefix(root)
                .map(Path::to_path_buf)
                .unwrap_or(path)
        };
        found.push(Dynamic::from(shown.to_string_lossy().into_owned()));
    }
    Ok(found)
}

/// `write_file`: a regular file (or a new one) is replaced atomically; a FIFO, a terminal or a
/// device is written into, as a shell's `>` would, rather than replaced by a regular file.
fn write(full: &Path, bytes: &[u8]) -> Result<(), stream::Error> {
    // The kernel follows every kind of link here, `/proc/self/fd/1` included.
    match std::fs::metadata(full) {
        Ok(meta) if !meta.is_file() && !meta.is_dir() => {
            stream::write_into(full, bytes, &interrupt::signal)
        }
        _ => crate::state::write_through_links(full, bytes).map_err(stream::Error::Io),
    }
}

/// A script's path made whole: relative to the release root, and [`clean`].
pub(super) fn in_release(session: &Session, path: &str) -> PathBuf {
    session.release.path().join(clean(Path::new(path)))
}

/// `path` as it reads: `.` parts and a trailing `/` dropped, `name/..` folded away, so that
/// `shared/`, `shared/.` and `shared/sub/..` all name `shared` (the link itself when it is one,
/// never a place the kernel would reach by following it first). A `..` with nothing before it
/// to fold stays, to climb from where the path starts.
pub(super) fn clean(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut parts: Vec<Component<'_>> = Vec::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => match parts.last() {
                Some(Component::Normal(_)) => {
                    parts.pop();
                }
                // `/..` is `/`.
                Some(Component::RootDir) => {}
                _ => parts.push(part),
            },
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        return PathBuf::from(".");
    }
    parts.iter().collect()
}

fn stream_error(error: stream::Error, verb: &str, path: &str) -> Box<EvalAltResult> {
    match error {
        stream::Error::Interrupted(signal) => control::interrupted(signal),
        stream::Error::Io(e) => runtime_error(format!("cannot {verb} `{path}`: {}", io_reason(&e))),
        stream::Error::TooLarge(limit) => runtime_error(format!(
            "cannot {verb} `{path}`: it holds more than {}, the longest string a script may \
             hold (read a big file a line at a time: cmd(\"cat\", [path]).each_line(|line| ...))",
            crate::small_file::sized(limit as u64)
        )),
    }
}

/// Why a file was not read, in the words of [`io_reason`] for the system's errors.
pub(super) fn refusal_reason(e: &crate::small_file::Refusal) -> String {
    match e {
        crate::small_file::Refusal::Io(e) => io_reason(e),
        other => other.to_string(),
    }
}

pub(super) fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::NotFound => "no such file or directory".into(),
        ErrorKind::PermissionDenied => "permission denied".into(),
        ErrorKind::IsADirectory => "it is a directory".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::clean;
    use std::path::Path;

    #[test]
    fn a_path_means_what_it_reads_as() {
        for (path, cleaned) in [
            ("shared/", "shared"),
            ("shared/.", "shared"),
            ("shared/./", "shared"),
            ("shared/sub/..", "shared"),
            ("shared/sub/../", "shared"),
            ("./shared//x", "shared/x"),
            ("a/b/../../c", "c"),
            ("a/..", "."),
            ("", "."),
            (".", "."),
            ("../shared", "../shared"),
            ("../../x/..", "../.."),
            ("a/../../x", "../x"),
            ("/", "/"),
            ("/..", "/"),
            ("/tmp/x/../y/.", "/tmp/y"),
        ] {
            assert_eq!(clean(Path::new(path)), Path::new(cleaned), "{path:?}");
        }
    }
}
