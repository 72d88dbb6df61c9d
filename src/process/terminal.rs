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
pub fn owns_terminal() -> bool {
    // SAFETY: plain queries on stdin.
    unsafe { libc::isatty(TTY) == 1 && libc::tcgetpgrp(TTY) == libc::getpgrp() }
}

/// Makes the child put itself in the terminal's foreground before it runs the program, so it
/// can never read the terminal while still in the background.
pub fn foreground_in_child(command: &mut Command) {
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
pub fn hand_over(group: u32) -> Reclaim {
    // SAFETY: tcsetpgrp on stdin with SIGTTOU blocked cannot stop us.
    unsafe { with_sigttou_blocked(|| libc::tcsetpgrp(TTY, group as libc::pid_t)) };
    Reclaim
}

pub struct Reclaim;

impl Drop for Reclaim {
    fn drop(&mut self) {
        // SAFETY: as in hand_over; we are a background group now, so SIGTTOU must be blocked.
        unsafe { with_sigttou_blocked(|| libc::tcsetpgrp(TTY, libc::getpgrp())) };
    }
}

unsafe fn with_sigttou_blocked(f: impl FnOnce() -> i32) {
    // SAFETY: sigset manipulation on local values, then restoring the old mask.
    unsafe {
        let mut block: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut block);
        libc::sigaddset(&mut block, libc::SIGTTOU);
        libc::pthread_sigmask(libc::SIG_BLOCK, &block, &mut old);
        f();
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
    }
}
