//! A process's exit status as one number and in words, as a shell reports it: the exit code,
//! or 128 + the number of the signal that killed it. Shared by the commands scripts run and the
//! ssh or kubectl client of a remote run.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

/// The exit code, or 128 + the signal for a process killed by one.
pub(crate) fn code(status: ExitStatus) -> i32 {
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1)
}

/// `exit status N`, or `killed by signal N (NAME)` above 128.
pub(crate) fn describe(status: i32) -> String {
    if status > 128 {
        format!(
            "killed by signal {} ({})",
            status - 128,
            signal_name(status - 128)
        )
    } else {
        format!("exit status {status}")
    }
}

pub(crate) fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        libc::SIGHUP => "SIGHUP",
        libc::SIGKILL => "SIGKILL",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGABRT => "SIGABRT",
        _ => "signal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_and_signals_become_one_number() {
        assert_eq!(code(ExitStatus::from_raw(3 << 8)), 3);
        assert_eq!(code(ExitStatus::from_raw(libc::SIGKILL)), 137);
        assert_eq!(describe(3), "exit status 3");
        assert_eq!(describe(130), "killed by signal 2 (SIGINT)");
    }
}
