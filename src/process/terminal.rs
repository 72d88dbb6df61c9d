//! Handing the terminal to an interactive command, as a shell does for a foreground job.
//!
//! Every command runs in a process group of its own, so adminsh can stop it and all it started.
//! When adminsh owns the terminal and the command reads that terminal, its group is made the
//! terminal's foreground group: it reads the keyboard, and Ctrl-C goes to it (a console program
//! such as `psql` or `python` handles Ctrl-C itself). adminsh takes the terminal back after.

use std::os::unix::process::CommandExt;
use std::process::Command;

const TTY: i32 = libc::STDIN_FILENO;

/// True when stdin is a terminal whose foreground process group is adminsh's.
pub(super) fn owns_terminal() -> bool {
    // SAFETY: plain queries on stdin.
    unsafe { libc::isatty(TTY) == 1 && libc::tcgetpgrp(TTY) == libc::getpgrp() }
}

/// Makes the child put itself in the terminal's foreground before it runs the program, so it
/// can never read the terminal while still in the background.
pub(super) fn foreground_in_child(command: &mut Command) {
    // SAFETY: only async-signal-safe calls (setpgid, signal, tcsetpgrp) run in the child.
    unsafe {
        command.pre_exec(|| {
            libc::setpgid(0, 0);
            libc::signal(libc::SIGTTOU, libc::SIG_IGN);
            libc::tcsetpgrp(TTY, libc::getpid());
            libc::signal(libc::SIGTTOU, libc::SIG_DFL);
            Ok(())
        });
    }
}

/// Gives the terminal to `group` from the parent's side too (whichever runs first wins the race
/// harmlessly), and returns a guard that takes it back.
pub(super) fn hand_over(group: u32) -> Reclaim {
    with_sigttou_blocked(|| {
        // SAFETY: tcsetpgrp on stdin; with SIGTTOU blocked it cannot stop us.
        unsafe { libc::tcsetpgrp(TTY, libc::pid_t::try_from(group).unwrap_or(-1)) };
    });
    Reclaim
}

pub(super) struct Reclaim;

impl Drop for Reclaim {
    fn drop(&mut self) {
        with_sigttou_blocked(|| {
            // SAFETY: as in hand_over; we are a background group now, hence SIGTTOU blocked.
            unsafe { libc::tcsetpgrp(TTY, libc::getpgrp()) };
        });
    }
}

/// Runs `f` with SIGTTOU blocked in this thread, so a background process group may change
/// the terminal's foreground group.
fn with_sigttou_blocked(f: impl FnOnce()) {
    // SAFETY: zeroed sigset_t values are valid to initialise with sigemptyset.
    let (mut block, mut old): (libc::sigset_t, libc::sigset_t) = unsafe { std::mem::zeroed() };
    // SAFETY: sigset manipulation on local values, then this thread's mask changed and restored.
    unsafe {
        libc::sigemptyset(&raw mut block);
        libc::sigaddset(&raw mut block, libc::SIGTTOU);
        libc::pthread_sigmask(libc::SIG_BLOCK, &raw const block, &raw mut old);
    }
    f();
    // SAFETY: restores the mask saved above.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &raw const old, std::ptr::null_mut()) };
}
