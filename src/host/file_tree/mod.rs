//! The file tree for scripts, beyond reading and writing a file's contents (`file_io/`):
//! `mkdir`, `remove`, `rename`, `copy`, `stat`, `file_size`, `file_mtime`, `temp_dir` and
//! `which`, and `append_file` (gated as they are). Paths are relative to the release root and
//! mean what they read as (`file_io::clean`: `shared/`, `shared/.` and `shared/sub/..` are
//! `shared`). What changes files is refused under `--read-only` and only said under
//! `--dry-run`, as `write_file` is; `remove` and `rename` refuse `/`, the release root and any
//! directory holding it, and act on a path resolved once (`at.rs`): a link named last is the
//! link, never what it points at.

mod at;

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Mutex;

use rhai::{Dynamic, Map};

use super::control;
use super::def::{Host, RhaiResult, rows, runtime_error};
use super::file_io::{StreamError, in_release, io_reason};
use super::time::Time;
use crate::interrupt;
use crate::session::Session;
use at::{Place, TreeError};

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

/// The place of `path`, refused when it is `/`, the release root or a directory holding it;
/// `None` when the directory that would hold it does not exist.
fn not_the_root(session: &Session, call: &str, path: &str) -> RhaiResult<Option<Place>> {
    let full = in_release(session, path);
    let place = match Place::of(&full) {
        Ok(place) => place,
        Err(TreeError::Io(_, e)) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(tree_failed(session, call, path, e)),
    };
    // `/` and paths of nothing but `..` have no last name: what they name is resolved.
    let target = place.as_ref().map_or_else(
        || full.canonicalize().unwrap_or_else(|_| full.clone()),
        Place::real,
    );
    let root = session.release.path();
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    if target == Path::new("/") || root.starts_with(&target) || place.is_none() {
        let what = if target == root {
            "the release root".to_owned()
        } else {
            format!("{}, which holds the release", target.display())
        };
        return Err(runtime_error(format!(
            "{call}({path:?}) refused: it is {what}"
        )));
    }
    Ok(place)
}

/// The message for a change to the tree that stopped, naming the script's path and, when the
/// trouble was further in (a file inside a directory being copied), that path too.
fn tree_failed(
    session: &Session,
    verb: &str,
    path: &str,
    error: TreeError,
) -> Box<rhai::EvalAltResult> {
    let inner = |at: &Path| {
        let shown = at.strip_prefix(session.release.path()).unwrap_or(at);
        (shown != super::file_io::clean(Path::new(path))).then(|| shown.display().to_string())
    };
    let message = match error {
        TreeError::Interrupted(signal) => return control::interrupted(signal),
        TreeError::Io(at, e) => match inner(&at) {
            None => io_reason(&e),
            Some(at) => format!("`{at}`: {}", io_reason(&e)),
        },
        TreeError::Special(at, kind) => match inner(&at) {
            None => format!("it is {kind}, not a regular file"),
            Some(at) => format!("`{at}` is {kind}, not a regular file"),
        },
    };
    runtime_error(format!("cannot {verb} `{path}`: {message}"))
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
    // Opened without waiting and written as it takes bytes: a FIFO without a reader, or one
    // that stops reading, leaves Ctrl-C working.
    super::file_io::append(
        &in_release(session, path),
        text.as_bytes(),
        &interrupt::signal,
    )
    .map_err(|e| match e {
        StreamError::Interrupted(signal) => control::interrupted(signal),
        StreamError::Io(e) => failed("append to", path, &e),
        StreamError::TooLarge(_) => runtime_error(format!("cannot append to `{path}`")),
    })
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
    let Some(place) = not_the_root(session, "remove", path)? else {
        return Ok(false);
    };
    let kind = place
        .kind()
        .map_err(|e| tree_failed(session, "remove", path, e))?;
    if kind.is_none() {
        return Ok(false);
    }
    if !may_change(
        session,
        &format!("remove({path:?})"),
        &format!("remove {path}"),
    )? {
        return Ok(true);
    }
    place
        .remove()
        .map(|()| true)
        .map_err(|e| tree_failed(session, "remove", path, e))
}

fn rename(session: &Session, from: &str, to: &str) -> RhaiResult<()> {
    let source = not_the_root(session, "rename", from)?;
    let target = not_the_root(session, "rename", to)?;
    let call = format!("rename({from:?}, {to:?})");
    if !may_change(session, &call, &format!("rename {from} to {to}"))? {
        return Ok(());
    }
    let missing = |path: &str| failed("rename", path, &std::io::ErrorKind::NotFound.into());
    let source = source.ok_or_else(|| missing(from))?;
    let target = target.ok_or_else(|| missing(to))?;
    source.rename_to(&target).map_err(|e| match e {
        TreeError::Io(_, e) if e.raw_os_error() == Some(libc::EXDEV) => runtime_error(format!(
            "cannot rename `{from}` to `{to}`: they are on different filesystems (copy, then remove)"
        )),
        e => tree_failed(session, "rename", from, e),
    })
}

fn copy(session: &Session, from: &str, to: &str) -> RhaiResult<()> {
    let call = format!("copy({from:?}, {to:?})");
    let (source, target) = (in_release(session, from), in_release(session, to));
    // A link named as the source is followed: the script named it to copy what it leads to.
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
    let copied = if is_dir {
        at::copy_dir(&source, &target)
    } else {
        copy_file(&source, &target)
    };
    copied.map_err(|e| tree_failed(session, "copy", from, e))
}

/// Copies a regular file's bytes and mode to `to`, replacing what is there (through a link at
/// `to`, as `write_file` and `cp` write). A FIFO or a device at either end is refused, at once.
fn copy_file(from: &Path, to: &Path) -> at::Tree<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let input = crate::small_file::open_regular(from).map_err(|e| match e {
        crate::small_file::Refusal::NotRegular(kind) => TreeError::Special(from.into(), kind),
        crate::small_file::Refusal::Io(e) => TreeError::Io(from.into(), e),
        other @ crate::small_file::Refusal::TooLarge(_) => {
            TreeError::Io(from.into(), std::io::Error::other(other.to_string()))
        }
    })?;
    let output = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(to)
        .map_err(|e| match e.raw_os_error() {
            // Only a FIFO without a reader says so at a non-blocking open.
            Some(libc::ENXIO) => TreeError::Special(to.into(), "a FIFO"),
            _ => TreeError::Io(to.into(), e),
        })?;
    let meta = output.metadata().map_err(|e| TreeError::Io(to.into(), e))?;
    if let Some(kind) = crate::small_file::kind_of(&meta) {
        return Err(TreeError::Special(to.into(), kind));
    }
    let mode = input
        .metadata()
        .map_err(|e| TreeError::Io(from.into(), e))?
        .permissions();
    output
        .set_permissions(mode)
        .map_err(|e| TreeError::Io(to.into(), e))?;
    at::copy_bytes(&input, &output, from, to)
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
