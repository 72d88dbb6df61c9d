//! The processes a run leaves behind. A detached run leads a session of its own (`setsid`), and
//! each command it runs leads a process group inside that session, so a signal to the run's
//! group does not reach them: when the run's adminsh is killed outright (`kill -9`, or
//! `--stop` after its grace), its commands live on, orphaned, and a backfill would go on
//! writing while the run shows as over. They are found by their session, which is the run's
//! pid, among processes started no earlier than the run (so a pid used again since is not
//! taken for the run's). Linux (`/proc`) only; elsewhere none are found.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::Meta;

/// What a run whose adminsh is gone left running: none while its adminsh (or a stranger with
/// its pid) lives.
pub(crate) fn of(meta: &Meta) -> Vec<u32> {
    match (meta.pid, since(meta)) {
        (Some(pid), Some(since)) if stat(pid).is_none() => find(pid, since),
        _ => Vec::new(),
    }
}

/// When the run started, as its record says.
pub(crate) fn since(meta: &Meta) -> Option<SystemTime> {
    let at: jiff::Timestamp = meta.started.parse().ok()?;
    let seconds = u64::try_from(at.as_second()).ok()?;
    UNIX_EPOCH.checked_add(Duration::from_secs(seconds))
}

/// `1 process (pid 42)`, `2 processes (pids 42, 43)`.
pub(crate) fn described(pids: &[u32]) -> String {
    let list: Vec<String> = pids.iter().map(ToString::to_string).collect();
    match pids {
        [one] => format!("1 process (pid {one})"),
        _ => format!("{} processes (pids {})", pids.len(), list.join(", ")),
    }
}

/// The pids of the processes in session `sid` (the run's pid) started at `since` or later,
/// the session leader included if it is still there (a zombie is not).
pub(crate) fn find(sid: u32, since: SystemTime) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    // The run's start is recorded to the second: a process started in that second counts.
    let since = since.checked_sub(Duration::from_secs(1)).unwrap_or(since);
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Some((session, started)) = stat(pid) else {
            continue;
        };
        if session == sid && started_at(started).is_some_and(|at| at >= since) {
            found.push(pid);
        }
    }
    found.sort_unstable();
    found
}

/// Once the run's adminsh (`sid`) is gone: sends SIGTERM to each process left in its session
/// and waits up to `grace` for them to go; SIGKILL to those still there. Returns the pids that
/// were still running. While a process `sid` lives, the session is not the run's to end (the
/// run's adminsh, or a pid used again since by a stranger's session): nothing is done.
pub(crate) fn stop(sid: u32, since: SystemTime, grace: Duration) -> Vec<u32> {
    if stat(sid).is_some() {
        return Vec::new();
    }
    let left = find(sid, since);
    signal(&left, libc::SIGTERM);
    let deadline = Instant::now() + grace;
    loop {
        let still = find(sid, since);
        if still.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            // Each pass can meet processes forked since the last: a few passes end them all.
            for _ in 0..5 {
                let still = find(sid, since);
                if still.is_empty() {
                    break;
                }
                signal(&still, libc::SIGKILL);
                std::thread::sleep(Duration::from_millis(20));
            }
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    left
}

fn signal(pids: &[u32], signal: i32) {
    for &pid in pids {
        if let Ok(pid) = libc::pid_t::try_from(pid)
            && pid > 1
        {
            // SAFETY: kill(2) with plain integers, on a process of the run's session that
            // started no earlier than the run (found just now); a failure (gone) is fine.
            unsafe { libc::kill(pid, signal) };
        }
    }
}

/// Why `pid` cannot be proven to be a run's adminsh, if it cannot: it must lead its own
/// session (as the detached adminsh does), have started no earlier than the run, and hold the
/// run's lock file (`lock`: its device and inode) as `/proc/locks` says. So a pid used again
/// since, or a process a forged run directory names (its `lock` a file that process holds),
/// is never signalled. Without `/proc` (not Linux) nothing can be proven, and nothing is asked.
pub(crate) fn not_the_run(pid: u32, since: SystemTime, lock: (u64, u64)) -> Option<String> {
    if std::fs::metadata("/proc/self/stat").is_err() {
        return None;
    }
    let Some((session, started)) = stat(pid) else {
        return Some(format!("no process {pid} is running"));
    };
    if session != pid {
        return Some(format!(
            "process {pid} does not lead a session of its own, as a run does"
        ));
    }
    let since = since.checked_sub(Duration::from_secs(1)).unwrap_or(since);
    if started_at(started).is_none_or(|at| at < since) {
        return Some(format!("process {pid} started before the run"));
    }
    let held = std::fs::read_to_string("/proc/locks")
        .is_ok_and(|locks| locks.lines().any(|line| holds(line, pid, lock)));
    if !held {
        return Some(format!("process {pid} does not hold the run's lock"));
    }
    None
}

/// Whether a line of `/proc/locks` (`1: FLOCK  ADVISORY  WRITE 15454 fe:00:5588897 0 EOF`) is
/// a `flock` by `pid` on the file `(device, inode)`.
fn holds(line: &str, pid: u32, (device, inode): (u64, u64)) -> bool {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let (Some(&"FLOCK"), Some(owner), Some(file)) = (fields.get(1), fields.get(4), fields.get(5))
    else {
        return false;
    };
    let mut parts = file.split(':');
    let (Some(major), Some(minor), Some(ino)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let (Ok(major), Ok(minor), Ok(ino)) = (
        u32::from_str_radix(major, 16),
        u32::from_str_radix(minor, 16),
        ino.parse::<u64>(),
    ) else {
        return false;
    };
    *owner == pid.to_string() && ino == inode && libc::makedev(major, minor) == device
}

/// A start in clock ticks after boot, as a time.
fn started_at(ticks_after_boot: u64) -> Option<SystemTime> {
    // SAFETY: sysconf has no preconditions; a failure (-1) is handled below.
    let ticks = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).ok()?;
    Some(boot_time()? + Duration::from_millis(ticks_after_boot.saturating_mul(1000) / ticks.max(1)))
}

/// A process's session and its start (clock ticks after boot), from `/proc/PID/stat`.
fn stat(pid: u32) -> Option<(u32, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name, in parentheses, may hold spaces and `)`: the fields follow the last.
    let fields: Vec<&str> = text.get(text.rfind(')')? + 2..)?.split(' ').collect();
    // After the name: state, ppid, pgrp, session, ..., starttime (the 22nd field, 20th here).
    if fields.first() == Some(&"Z") {
        return None;
    }
    Some((fields.get(3)?.parse().ok()?, fields.get(19)?.parse().ok()?))
}

/// When the machine booted (`btime` in `/proc/stat`).
fn boot_time() -> Option<SystemTime> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    let seconds = text
        .lines()
        .find_map(|line| line.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    UNIX_EPOCH.checked_add(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;
    use std::process::Command;

    #[test]
    fn a_flock_line_is_read_for_its_owner_and_file() {
        let file = (libc::makedev(0xfe, 0), 5_588_897);
        for (line, pid, held) in [
            (
                "1: FLOCK  ADVISORY  WRITE 15454 fe:00:5588897 0 EOF",
                15454,
                true,
            ),
            (
                "1: FLOCK  ADVISORY  WRITE 15454 fe:00:5588897 0 EOF",
                1545,
                false,
            ),
            (
                "1: FLOCK  ADVISORY  WRITE 15454 fe:01:5588897 0 EOF",
                15454,
                false,
            ),
            (
                "1: FLOCK  ADVISORY  WRITE 15454 fe:00:5588898 0 EOF",
                15454,
                false,
            ),
            (
                "1: POSIX  ADVISORY  WRITE 15454 fe:00:5588897 0 EOF",
                15454,
                false,
            ),
            (
                "2: FLOCK  ADVISORY  READ 15454 fe:00:5588897 0 EOF",
                15454,
                true,
            ),
            (
                "1: -> FLOCK  ADVISORY  WRITE 15454 fe:00:5588897 0 EOF",
                15454,
                false,
            ),
            ("", 15454, false),
            (
                "1: FLOCK  ADVISORY  WRITE 15454 zz:00:5588897 0 EOF",
                15454,
                false,
            ),
        ] {
            assert_eq!(holds(line, pid, file), held, "{line:?} {pid}");
        }
    }

    #[test]
    fn the_processes_of_a_session_are_found_and_stopped() {
        let before = SystemTime::now();
        // SAFETY: setsid in the child before exec, nothing else.
        let mut child = unsafe {
            Command::new("sh")
                .args(["-c", "sleep 30 & sleep 30 & wait"])
                .pre_exec(|| {
                    libc::setsid();
                    Ok(())
                })
                .spawn()
                .unwrap()
        };
        let sid = child.id();
        let deadline = Instant::now() + Duration::from_secs(10);
        while find(sid, before).len() < 3 {
            assert!(Instant::now() < deadline, "{:?}", find(sid, before));
            std::thread::sleep(Duration::from_millis(10));
        }
        // Started after the session began: none of these count.
        assert!(find(sid, SystemTime::now() + Duration::from_secs(5)).is_empty());
        // While the leader lives, the session is not one a run left behind.
        assert!(stop(sid, before, Duration::from_secs(5)).is_empty());
        // The leader killed outright, as a run's adminsh is: its children stay, orphaned.
        child.kill().unwrap();
        let _ = child.wait();
        assert_eq!(find(sid, before).len(), 2);
        let stopped = stop(sid, before, Duration::from_secs(5));
        assert_eq!(stopped.len(), 2, "{stopped:?}");
        assert!(find(sid, before).is_empty());
    }
}
