//! What adminsh keeps between runs, in the release's state directory (`.adminsh/` or the
//! manifest's `state_dir`): step checkpoints and locks. Every write is atomic: `write_atomically`
//! for adminsh's own files, `write_through_links` for scripts' `write_file`.

mod checkpoint;
pub(crate) mod lock;
mod steps;

pub(crate) use steps::{Step, StepStart, Steps};

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
    replace(path, bytes, false)
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
    replace(&link_target(path)?, bytes, true)
}

/// Replaces the file at `target` with `bytes` through a temp file beside it; with
/// `keep_owner`, the new file gets the old one's owner and group or the write is refused.
fn replace(target: &Path, bytes: &[u8], keep_owner: bool) -> std::io::Result<()> {
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
        File::open(dir)?.sync_all()
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

/// The user running adminsh, for lock files and the audit log: `$USER`, `$LOGNAME`, else the
/// account's name in the user database (cron, CI and containers set neither), else `uid N`.
pub(crate) fn user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| {
            // SAFETY: geteuid cannot fail.
            let uid = unsafe { libc::geteuid() };
            account_name(uid).unwrap_or_else(|| format!("uid {uid}"))
        })
}

/// The name of account `uid` in `/etc/passwd`, where servers, CI and containers keep their
/// accounts. A statically linked adminsh reads the file itself: glibc's user database would
/// load NSS modules built for whatever glibc the machine has, which a static binary must not.
#[cfg(target_feature = "crt-static")]
fn account_name(uid: libc::uid_t) -> Option<String> {
    passwd_name(&std::fs::read_to_string("/etc/passwd").ok()?, uid)
}

/// The name of account `uid` in the text of a `passwd` file.
#[cfg_attr(not(target_feature = "crt-static"), allow(dead_code))]
fn passwd_name(text: &str, uid: libc::uid_t) -> Option<String> {
    text.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id = fields.nth(1)?.parse::<libc::uid_t>().ok()?;
        (id == uid && !name.is_empty() && !name.starts_with('#')).then(|| name.to_owned())
    })
}

/// The name of account `uid` in the user database (`/etc/passwd`, NSS), if it has one.
#[cfg(not(target_feature = "crt-static"))]
fn account_name(uid: libc::uid_t) -> Option<String> {
    let mut buf = vec![0u8; 1024];
    loop {
        // SAFETY: an all-zero passwd (null pointers, zero ids) is a valid value to be filled in.
        let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call: `entry` and `found` are live locals, and
        // `buf` is writable for `buf.len()` bytes; getpwuid_r writes the strings it points
        // `entry` at into `buf`, which outlives their use below.
        let code = unsafe {
            libc::getpwuid_r(
                uid,
                &raw mut entry,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &raw mut found,
            )
        };
        if code == libc::ERANGE && buf.len() < 1 << 20 {
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        if code != 0 || found.is_null() || entry.pw_name.is_null() {
            return None;
        }
        // SAFETY: getpwuid_r succeeded, so pw_name points at a NUL-terminated string in `buf`.
        let name = unsafe { std::ffi::CStr::from_ptr(entry.pw_name) };
        let name = name.to_string_lossy().into_owned();
        return (!name.is_empty()).then_some(name);
    }
}

/// This machine's name.
pub(crate) fn host() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    if ok {
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        "unknown".into()
    }
}

/// Now, as `2026-11-25T02:30:00Z`.
pub(crate) fn now_rfc3339() -> String {
    rfc3339(std::time::SystemTime::now())
}

pub(crate) fn rfc3339(time: std::time::SystemTime) -> String {
    let secs = time
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// FNV-1a: a stable hash for file names (not for security).
pub(crate) fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
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

    #[test]
    fn dates() {
        let at = |secs| rfc3339(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_795_573_800), "2026-11-25T02:30:00Z");
    }

    #[test]
    fn account_names_from_a_passwd_file() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\n# a comment\n\nbroken\ndeploy:x:1000:1000::/home/deploy:/bin/sh\n";
        assert_eq!(passwd_name(passwd, 0).as_deref(), Some("root"));
        assert_eq!(passwd_name(passwd, 1000).as_deref(), Some("deploy"));
        assert_eq!(passwd_name(passwd, 7), None);
    }
}
