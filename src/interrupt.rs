//! Ctrl-C, SIGTERM and SIGHUP: remember that the admin process was interrupted and pass the
//! signal on to the process groups of the commands it is running, so a child (and everything it
//! started) stops even when adminsh, not the terminal, received the signal. A second Ctrl-C
//! while a command is still running kills those groups outright.
//!
//! The handler only does async-signal-safe work: atomic loads and stores and `kill(2)`.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// Process groups of the commands running now (0 = free slot).
static GROUPS: [AtomicI32; 32] = [const { AtomicI32::new(0) }; 32];
/// The signal that interrupted the admin process, 0 if none.
static SIGNAL: AtomicI32 = AtomicI32::new(0);
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Installs the handlers once; later calls do nothing.
pub fn install() {
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return;
    }
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only touches atomics and calls kill(2), both async-signal-safe.
        let registered =
            unsafe { signal_hook::low_level::register(signal, move || on_signal(signal)) };
        if let Err(e) = registered {
            eprintln!("adminsh: warning: cannot handle signal {signal}: {e}");
        }
    }
}

fn on_signal(signal: i32) {
    let repeated = SIGNAL.swap(signal, Ordering::SeqCst) != 0;
    let forward = if repeated { libc::SIGKILL } else { signal };
    for slot in &GROUPS {
        let group = slot.load(Ordering::SeqCst);
        if group > 0 {
            // SAFETY: kill(2) is async-signal-safe; a stale group id only fails with ESRCH.
            unsafe { libc::kill(-group, forward) };
        }
    }
}

/// The signal that interrupted us, if any.
pub fn signal() -> Option<i32> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

pub fn interrupted() -> bool {
    signal().is_some()
}

/// Forgets an interruption (the console does this before each input).
pub fn clear() {
    SIGNAL.store(0, Ordering::SeqCst);
}

/// Records a running command's process groups for forwarding; removes them when dropped.
pub struct Guard {
    slots: Vec<usize>,
}

impl Guard {
    pub fn watch(groups: &[u32]) -> Guard {
        let mut slots = Vec::with_capacity(groups.len());
        for &group in groups {
            let Ok(group) = i32::try_from(group) else {
                continue;
            };
            let free = GROUPS.iter().position(|slot| {
                slot.compare_exchange(0, group, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok()
            });
            if let Some(slot) = free {
                slots.push(slot);
            }
            // A signal that arrived between spawn and here has not reached this group yet.
            if let Some(signal) = signal() {
                // SAFETY: plain kill(2) on a group we just started.
                unsafe { libc::kill(-group, signal) };
            }
        }
        Guard { slots }
    }

    /// Sends `signal` to every watched group.
    pub fn kill(&self, signal: i32) {
        for &slot in &self.slots {
            let group = GROUPS[slot].load(Ordering::SeqCst);
            if group > 0 {
                // SAFETY: kill(2) on a group we started.
                unsafe { libc::kill(-group, signal) };
            }
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        for &slot in &self.slots {
            GROUPS[slot].store(0, Ordering::SeqCst);
        }
    }
}
