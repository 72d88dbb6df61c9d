//! Writing files atomically: to a temporary file beside the target, synced, then renamed over
//! it, so a reader sees the old file or the new one, never half of one. `write_atomically` is
//! for adminsh's own files (checkpoints, a run's `meta.json`); `write_through_links` for a
//! script's `write_file`, which writes through symlinks and keeps the app file's owner.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// How many symlinks a path may go through before it counts as a loop (Linux's own limit).
const MAX_LINKS: usize = 40;

/// Writes one of adminsh's own files (a checkpoint) atomically: to a temporary file beside it,
/// synced, then renamed over it, so readers see the old file or the new one, never half of one.
/// The new file keeps the old one's mode and belongs to whoever runs adminsh now (operators
/// sharing a state directory take turns).
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    replace(path, bytes, false, true)
}

/// As [`write_atomically`], for a file whose previous version serves as well after a machine
/// crash: a walk's cursor, saved after every batch, where an older cursor only does a batch
/// again, as at-least-once allows. The new text is synced before the rename, so a crash leaves
/// the old file or the new one, never an empty one; the rename itself is not synced, which
/// saves a directory sync per batch (a third of a backfill's time on a 1,000-row batch).
pub(crate) fn write_atomically_keeping_old_on_crash(
    path: &Path,
    bytes: &[u8],
) -> std::io::Result<()> {
    replace(path, bytes, false, false)
}

/// Writes a file of the app for a script (`write_file`), atomically as [`write_atomically`]
/// does, but as the app's own file:
///
/// A symlink is written through, not replaced: the file at the end of its chain (see
/// [`link_target`]) gets the new text, so Capistrano's `shared/config/x` links keep pointing at
/// the shared file. An existing file keeps its mode, owner and group (adminsh running as root
/// gives them back with `chown`); when it cannot (another user's file, a group adminsh's user
/// is not in), the write is refused rather than take the file over. A new file gets the usual
/// mode for new files (0666 less the umask).
pub(crate) fn write_through_links(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    replace(&link_target(path)?, bytes, true, true)
}

/// Replaces the file at `target` with `bytes` through a temp file beside it; with
/// `keep_owner`, the new file gets the old one's owner and group or the write is refused; with
/// `sync_rename`, the directory is synced so the rename survives a machine crash.
fn replace(
    target: &Path,
    bytes: &[u8],
    keep_owner: bool,
    sync_rename: bool,
) -> std::io::Result<()> {
    let existing = match std::fs::metadata(target) {
        Ok(meta) if meta.is_file() => Some(meta),
        Ok(meta) if meta.is_dir() => return Err(ErrorKind::IsADirectory.into()),
        Ok(_) => {
            return Err(std::io::Error::other(
                "it is not a regular file, so it cannot be replaced",
            ));
        }
        Err(e) if e.kind() == ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = target.file_name().ok_or(ErrorKind::InvalidInput)?;
    let temp = dir.join(format!(
        ".{}.adminsh-{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        // A leftover of a killed run with the same pid; never opened through a link planted there.
        match std::fs::remove_file(&temp) {
            Err(e) if e.kind() != ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            // Private until it has the target's mode: the text may be a secret.
            .mode(if existing.is_some() { 0o600 } else { 0o666 })
            .open(&temp)?;
        match &existing {
            Some(meta) if keep_owner => keep_owner_and_mode(&file, meta)?,
            Some(meta) => {
                file.set_permissions(std::fs::Permissions::from_mode(meta.mode() & 0o7777))?;
            }
            None => {}
        }
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, target)?;
        if sync_rename {
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Where a write to `path` lands: the end of its chain of symlinks (a relative link read from
/// the link's own directory), or `path` itself when it is no link. The end need not exist: a
/// dangling link gives the path it points at, where a write creates the file (as a shell's `>`
/// does).
pub(crate) fn link_target(path: &Path) -> std::io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let next = std::fs::read_link(&current)?;
                current = match current.parent() {
                    Some(dir) if next.is_relative() => dir.join(next),
                    _ => next,
                };
            }
            Ok(_) => return Ok(current),
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(current),
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::from_raw_os_error(libc::ELOOP))
}

/// Gives the new `file` the owner, group and mode of the file it replaces (`meta`).
fn keep_owner_and_mode(file: &File, meta: &Metadata) -> std::io::Result<()> {
    // SAFETY: geteuid cannot fail.
    let euid = unsafe { libc::geteuid() };
    if euid == 0 {
        std::os::unix::fs::fchown(file, Some(meta.uid()), Some(meta.gid()))?;
    } else if meta.uid() != euid {
        return Err(std::io::Error::other(format!(
            "it belongs to uid {} and adminsh runs as uid {euid}: a replacement would belong to \
             uid {euid}, so adminsh does not replace it (run adminsh as its owner or as root)",
            meta.uid()
        )));
    } else if file.metadata()?.gid() != meta.gid() {
        std::os::unix::fs::fchown(file, None, Some(meta.gid())).map_err(|_| {
            std::io::Error::other(format!(
                "its group is gid {}, which adminsh (uid {euid}) cannot give a replacement, so \
                 adminsh does not replace it (run adminsh as root)",
                meta.gid()
            ))
        })?;
    }
    // After chown, which clears the set-id bits.
    file.set_permissions(std::fs::Permissions::from_mode(meta.mode() & 0o7777))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// adminsh's own files belong to whoever wrote them last (operators take turns); a script's
    /// `write_file` keeps the app file's owner. Both keep the mode and the text is whole.
    #[test]
    fn own_files_change_hands_app_files_keep_their_owner() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        // SAFETY: geteuid cannot fail.
        let root = unsafe { libc::geteuid() } == 0;
        #[allow(clippy::items_after_statements)] // named beside its one use
        type Writer = fn(&Path, &[u8]) -> std::io::Result<()>;
        let writers: [(Writer, bool); 2] = [(write_atomically, false), (write_through_links, true)];
        for (write, keeps_owner) in writers {
            let path = dir.path().join("file");
            std::fs::write(&path, "old").unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
            if root {
                std::os::unix::fs::chown(&path, Some(65534), Some(65534)).unwrap();
            }
            write(&path, b"new").unwrap();
            let meta = std::fs::metadata(&path).unwrap();
            assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
            assert_eq!(meta.mode() & 0o7777, 0o640);
            if root {
                assert_eq!(meta.uid() == 65534, keeps_owner);
            }
        }
    }
}
