//! The file tree for scripts, beyond reading and writing a file's contents (`file_io/`):
//! `mkdir`, `remove`, `rename`, `copy`, `stat`, `file_size`, `file_mtime`, `temp_dir` and
//! `which`, and `append_file` (gated as they are). Paths are relative to the release root.
//! What changes files is refused under `--read-only` and only said under `--dry-run`, as
//! `write_file` is; `remove` and `rename` refuse `/`, the release root and any directory
//! holding it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Mutex;

use rhai::{Dynamic, Map};

use super::control;
use super::def::{Host, RhaiResult, rows, runtime_error};
use super::file_io::{in_release, io_reason};
use super::time::Time;
use crate::interrupt;
use crate::session::Session;

/// Whether a change may go ahead: an error under `--read-only`; `false` (after saying what
/// would be done) under `--dry-run`.
fn may_change(session: &Session, call: &str, action: &str) -> RhaiResult<bool> {
    if session.options().read_only {
        return Err(runtime_error(format!("refused in read-only mode: {call}")));
    }
    if session.options().dry_run {
        session.would(action, action);
        return Ok(false);
    }
    Ok(true)
}

fn failed(verb: &str, path: &str, e: &std::io::Error) -> Box<rhai::EvalAltResult> {
    runtime_error(format!("cannot {verb} `{path}`: {}", io_reason(e)))
}

/// `full` with its directories' links resolved, the last part kept as it is (a link named
/// is the link, not what it points at).
fn resolved(full: &Path) -> PathBuf {
    let is_link = full.symlink_metadata().is_ok_and(|m| m.is_symlink());
    match (is_link, full.parent(), full.file_name()) {
        (true, Some(parent), Some(name)) => parent
            .canonicalize()
            .unwrap_or_else(|_| parent.to_path_buf())
            .join(name),
        _ => full.canonicalize().unwrap_or_else(|_| full.to_path_buf()),
    }
}

/// `full` with every link resolved, for a path that need not exist yet: its nearest existing
/// ancestor resolved, the rest kept as it is.
fn real(full: &Path) -> PathBuf {
    let mut rest = Vec::new();
    let mut at = full;
    loop {
        if let Ok(real) = at.canonicalize() {
            return rest.iter().rev().fold(real, |path, part| path.join(part));
        }
        match (at.parent(), at.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name);
                at = parent;
            }
            _ => return full.to_path_buf(),
        }
    }
}

/// Refuses `/`, the release root and every directory above it.
fn not_the_root(session: &Session, call: &str, path: &str) -> RhaiResult<PathBuf> {
    let full = in_release(session, path);
    let target = resolved(&full);
    let root = session.release.path();
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    if target == Path::new("/") || root.starts_with(&target) {
        let what = if target == root {
            "the release root".to_owned()
        } else {
            format!("{}, which holds the release", target.display())
        };
        return Err(runtime_error(format!(
            "{call}({path:?}) refused: it is {what}"
        )));
    }
    Ok(full)
}

/// Copies a file, or a directory with everything in it (links copied as links).
fn copy_tree(from: &Path, to: &Path) -> Result<(), CopyError> {
    if let Some(signal) = interrupt::signal() {
        return Err(CopyError::Interrupted(signal));
    }
    let meta = from
        .symlink_metadata()
        .map_err(|e| CopyError::Io(from.into(), e))?;
    if meta.is_symlink() {
        let target = std::fs::read_link(from).map_err(|e| CopyError::Io(from.into(), e))?;
        std::os::unix::fs::symlink(target, to).map_err(|e| CopyError::Io(to.into(), e))
    } else if meta.is_dir() {
        std::fs::create_dir(to).map_err(|e| CopyError::Io(to.into(), e))?;
        std::fs::set_permissions(to, meta.permissions())
            .map_err(|e| CopyError::Io(to.into(), e))?;
        for entry in std::fs::read_dir(from).map_err(|e| CopyError::Io(from.into(), e))? {
            let entry = entry.map_err(|e| CopyError::Io(from.into(), e))?;
            copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
        Ok(())
    } else {
        std::fs::copy(from, to)
            .map(drop)
            .map_err(|e| CopyError::Io(to.into(), e))
    }
}

enum CopyError {
    Io(PathBuf, std::io::Error),
    Interrupted(i32),
}

fn stat(session: &Session, path: &str) -> RhaiResult<Map> {
    let full = in_release(session, path);
    let link = full
        .symlink_metadata()
        .map_err(|e| failed("stat", path, &e))?;
    let meta = full.metadata().unwrap_or_else(|_| link.clone());
    let modified = meta
        .modified()
        .ok()
        .and_then(Time::from_system)
        .map_or(Dynamic::UNIT, Dynamic::from);
    let mut map = Map::new();
    map.insert(
        "size".into(),
        rhai::INT::try_from(meta.len())
            .unwrap_or(rhai::INT::MAX)
            .into(),
    );
    map.insert("modified".into(), modified);
    map.insert("is_file".into(), meta.is_file().into());
    map.insert("is_dir".into(), meta.is_dir().into());
    map.insert("is_link".into(), link.is_symlink().into());
    map.insert(
        "mode".into(),
        rhai::INT::from(std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o7777)
            .into(),
    );
    Ok(map)
}

/// The directories `temp_dir()` made, removed by `remove_temp_dirs` when the script or the
/// console ends (the engine itself is never dropped: the process exits instead).
static TEMPORARY: Mutex<Vec<tempfile::TempDir>> = Mutex::new(Vec::new());

/// Removes every directory `temp_dir()` made, with its contents.
pub(crate) fn remove_temp_dirs() {
    let dirs = std::mem::take(
        &mut *TEMPORARY
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    for dir in dirs {
        let path = dir.path().to_path_buf();
        if let Err(e) = dir.close() {
            crate::log::warn(&format!(
                "cannot remove the temporary directory {}: {}",
                path.display(),
                io_reason(&e)
            ));
        }
    }
}

/// The file-tree family: what changes the tree (gated), then what looks at it.
pub(super) fn register(host: &mut Host, session: &Rc<Session>) {
    changing(host, session);
    looking(host, session);
}

/// `append_file`, `mkdir`, `remove`, `rename`, `copy`: refused under `--read-only`, only said
/// under `--dry-run`.
fn changing(host: &mut Host, session: &Rc<Session>) {
    rows!(host, session;
        "append_file", "path: String, text: String",
            "Appends `text` to a file, creating it if missing",
            move |path: &str, text: &str| append_file(&session, path, text);
        "mkdir", "path: String", "Creates a directory and any missing parents (mkdir -p)",
            move |path: &str| mkdir(&session, path);
        "remove", "path: String -> bool",
            "Removes a file, a link or a directory with everything in it; false if there was nothing",
            move |path: &str| remove(&session, path);
        "rename", "from: String, to: String",
            "Renames or moves a file or directory (on the same filesystem); replaces a file at `to`",
            move |from: &str, to: &str| rename(&session, from, to);
        "copy", "from: String, to: String",
            "Copies a file (replacing `to`), or a directory into a new one at `to`",
            move |from: &str, to: &str| copy(&session, from, to);
    );
}

/// `stat` and its parts, `temp_dir`, `which`.
fn looking(host: &mut Host, session: &Rc<Session>) {
    rows!(host, session;
        "stat", "path: String -> Map",
            "#{size, modified, is_file, is_dir, is_link, mode} of a path (links followed)",
            move |path: &str| stat(&session, path);
        "file_size", "path: String -> int", "A file's size in bytes",
            move |path: &str| -> RhaiResult<Dynamic> { Ok(stat(&session, path)?["size"].clone()) };
        "file_mtime", "path: String -> Time", "When a file was last modified",
            move |path: &str| -> RhaiResult<Dynamic> {
                Ok(stat(&session, path)?["modified"].clone())
            };
        "temp_dir", "-> String",
            "A new empty directory (under TMPDIR), removed with its contents when the script ends",
            temp_dir;
        "which", "prog: String -> ?",
            "The path `cmd(prog)` would run (the release's PATH, isolation first), or ()",
            move |program: &str| {
                session
                    .spawner
                    .which(&session.release, program)
                    .map_or(Dynamic::UNIT, |p| p.to_string_lossy().into_owned().into())
            };
    );
}

fn append_file(session: &Session, path: &str, text: &str) -> RhaiResult<()> {
    let call = format!("append_file({path:?})");
    let action = format!("append to {path} ({} bytes)", text.len());
    if !may_change(session, &call, &action)? {
        return Ok(());
    }
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(in_release(session, path))
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| failed("append to", path, &e))
}

fn mkdir(session: &Session, path: &str) -> RhaiResult<()> {
    if !may_change(
        session,
        &format!("mkdir({path:?})"),
        &format!("mkdir -p {path}"),
    )? {
        return Ok(());
    }
    std::fs::create_dir_all(in_release(session, path)).map_err(|e| failed("create", path, &e))
}

fn remove(session: &Session, path: &str) -> RhaiResult<bool> {
    let full = not_the_root(session, "remove", path)?;
    let Ok(meta) = full.symlink_metadata() else {
        return Ok(false);
    };
    if !may_change(
        session,
        &format!("remove({path:?})"),
        &format!("remove {path}"),
    )? {
        return Ok(true);
    }
    let removed = if meta.is_dir() {
        std::fs::remove_dir_all(&full)
    } else {
        std::fs::remove_file(&full)
    };
    removed
        .map(|()| true)
        .map_err(|e| failed("remove", path, &e))
}

fn rename(session: &Session, from: &str, to: &str) -> RhaiResult<()> {
    let full = not_the_root(session, "rename", from)?;
    let call = format!("rename({from:?}, {to:?})");
    if !may_change(session, &call, &format!("rename {from} to {to}"))? {
        return Ok(());
    }
    std::fs::rename(&full, in_release(session, to)).map_err(|e| {
        if e.raw_os_error() == Some(libc::EXDEV) {
            runtime_error(format!(
                "cannot rename `{from}` to `{to}`: they are on different filesystems (copy, then remove)"
            ))
        } else {
            failed("rename", from, &e)
        }
    })
}

fn copy(session: &Session, from: &str, to: &str) -> RhaiResult<()> {
    let call = format!("copy({from:?}, {to:?})");
    let (source, target) = (in_release(session, from), in_release(session, to));
    let is_dir = source.metadata().is_ok_and(|m| m.is_dir());
    // Into itself, the copy would copy what it has copied, until paths grow too long.
    if is_dir && real(&target).starts_with(real(&source)) {
        return Err(runtime_error(format!(
            "{call} refused: `{to}` is inside the directory it would copy"
        )));
    }
    if !may_change(session, &call, &format!("copy {from} to {to}"))? {
        return Ok(());
    }
    if is_dir && target.symlink_metadata().is_ok() {
        return Err(runtime_error(format!(
            "cannot copy the directory `{from}` to `{to}`: `{to}` exists"
        )));
    }
    // A file is copied with its contents, whatever links lead to it.
    let copied = if is_dir {
        copy_tree(&source, &target)
    } else {
        std::fs::copy(&source, &target)
            .map(drop)
            .map_err(|e| CopyError::Io(source.clone(), e))
    };
    copied.map_err(|e| match e {
        CopyError::Interrupted(signal) => control::interrupted(signal),
        CopyError::Io(path, e) if path == source => failed("copy", from, &e),
        CopyError::Io(path, e) => runtime_error(format!(
            "cannot copy `{from}` to `{to}`: {}: {}",
            path.display(),
            io_reason(&e)
        )),
    })
}

fn temp_dir() -> RhaiResult<String> {
    let dir = tempfile::Builder::new()
        .prefix("adminsh-tmp-")
        .tempdir()
        .map_err(|e| runtime_error(format!("temp_dir: {}", io_reason(&e))))?;
    let path = dir.path().to_string_lossy().into_owned();
    TEMPORARY
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(dir);
    Ok(path)
}
