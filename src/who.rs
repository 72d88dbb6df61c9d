//! Who runs adminsh, and where: the user's name and this machine's, for lock files, the audit
//! log, a detached run's record and a Job's labels.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_names_from_a_passwd_file() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\n# a comment\n\nbroken\ndeploy:x:1000:1000::/home/deploy:/bin/sh\n";
        assert_eq!(passwd_name(passwd, 0).as_deref(), Some("root"));
        assert_eq!(passwd_name(passwd, 1000).as_deref(), Some("deploy"));
        assert_eq!(passwd_name(passwd, 7), None);
    }
}
