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
    let Some(boot) = boot_time() else {
        return Vec::new();
    };
    // SAFETY: sysconf has no preconditions; a failure (-1) is handled below.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let Ok(ticks) = u64::try_from(ticks) else {
        return Vec::new();
    };
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
        let started = boot + Duration::from_millis(started.saturating_mul(1000) / ticks.max(1));
        if session == sid && started >= since {
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
