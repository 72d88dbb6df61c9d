//! What adminsh keeps between runs, in the release's state directory (`.adminsh/` or the
//! manifest's `state_dir`): step checkpoints and locks. Every write is atomic.

pub(crate) mod checkpoint;
pub(crate) mod lock;
pub(crate) mod steps;

use std::io::Write;
use std::path::Path;

/// Writes to a temporary file beside the target, syncs it, then renames it over the target:
/// readers see the old file or the new one, never half of one.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().ok_or(std::io::ErrorKind::InvalidInput)?;
    let temp = dir.join(format!(
        ".{}.adminsh-{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        if let Ok(meta) = std::fs::metadata(path) {
            std::fs::set_permissions(&temp, meta.permissions())?;
        }
        std::fs::rename(&temp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
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
