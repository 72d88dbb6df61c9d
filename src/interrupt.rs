//! Ctrl-C, SIGTERM and SIGHUP: remember that the admin process was interrupted and pass the
//! signal on to the process groups of the commands it is running, so a child (and everything it
//! started) stops even when adminsh, not the terminal, received the signal. A second Ctrl-C
//! while a command is still running kills those groups outright.
//!
//! The handler only does async-signal-safe work: atomic loads and stores and `kill(2)`. The
//! groups it forwards to sit in a list of slots that only grows: a slot is allocated outside the
//! handler (when a command starts), reused once its command is done, and never freed, so the
//! handler walks the list without a lock, without allocating, and never reads freed memory.
//! There is no cap on how many groups are watched at once (a 100-stage pipeline, or commands
//! an `each_line` callback runs while its own command is still going).

use std::ptr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicUsize, Ordering};

/// The signal that interrupted the admin process, 0 if none.
static SIGNAL: AtomicI32 = AtomicI32::new(0);
/// What the groups were sent for it: the signal itself, or SIGKILL after a repeat; 0 if none.
static FORWARDED: AtomicI32 = AtomicI32::new(0);
/// Signals received so far, never reset: a slot remembers the last one its group was sent, so
/// each reaches a group once, from the handler or from `Guard::watch`, whichever comes first.
static RECEIVED: AtomicUsize = AtomicUsize::new(0);
/// The newest slot; each points to the one allocated before it.
static SLOTS: AtomicPtr<Slot> = AtomicPtr::new(ptr::null_mut());
/// Serialises adding a slot (outside the handler; the handler never takes it).
static GROW: Mutex<()> = Mutex::new(());
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// A group being claimed: the handler skips it until its id is stored.
const CLAIMING: i32 = -1;

/// One watched process group.
struct Slot {
    /// The group id; 0 when the slot is free, `CLAIMING` while it is being taken.
    group: AtomicI32,
    /// The last signal (a `RECEIVED` count) this group was sent.
    sent: AtomicUsize,
    next: Option<&'static Slot>,
}

impl Slot {
    /// Sends the `nth` signal received, as `signal`, unless this group already had it.
    /// Async-signal-safe.
    fn forward(&self, nth: usize, signal: i32) {
        let group = self.group.load(Ordering::SeqCst);
        if group > 0 && self.sent.fetch_max(nth, Ordering::SeqCst) < nth {
            // SAFETY: kill(2) is async-signal-safe; a stale group id only fails with ESRCH.
            unsafe { libc::kill(-group, signal) };
        }
    }
}

/// Every slot, newest first.
fn slots() -> impl Iterator<Item = &'static Slot> {
    // SAFETY: SLOTS is null or a pointer from `Box::leak` (see `claim`), never freed.
    let newest = unsafe { SLOTS.load(Ordering::SeqCst).as_ref() };
    std::iter::successors(newest, |slot| slot.next)
}

/// A free slot, taken for a group that is not stored yet; a new one when all are in use.
fn claim() -> &'static Slot {
    let taken = |slot: &&Slot| {
        slot.group
            .compare_exchange(0, CLAIMING, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    };
    if let Some(slot) = slots().find(taken) {
        slot.sent.store(0, Ordering::SeqCst);
        return slot;
    }
    let _grow = GROW
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let slot: &'static Slot = Box::leak(Box::new(Slot {
        group: AtomicI32::new(CLAIMING),
        sent: AtomicUsize::new(0),
        next: slots().next(),
    }));
    SLOTS.store(ptr::from_ref(slot).cast_mut(), Ordering::SeqCst);
    slot
}

/// Installs the handlers once; later calls do nothing.
pub(crate) fn install() {
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return;
    }
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only touches atomics and calls kill(2), both async-signal-safe.
        let registered =
            unsafe { signal_hook::low_level::register(signal, move || on_signal(signal)) };
        if let Err(e) = registered {
            crate::log::warn(&format!("cannot handle signal {signal}: {e}"));
        }
    }
}

fn on_signal(signal: i32) {
    let nth = RECEIVED.fetch_add(1, Ordering::SeqCst) + 1;
    let repeated = SIGNAL.swap(signal, Ordering::SeqCst) != 0;
    let forward = if repeated { libc::SIGKILL } else { signal };
    FORWARDED.store(forward, Ordering::SeqCst);
    for slot in slots() {
        slot.forward(nth, forward);
    }
}

/// The signal that interrupted us, if any.
pub(crate) fn signal() -> Option<i32> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

pub(crate) fn interrupted() -> bool {
    signal().is_some()
}

/// Forgets an interruption (the console does this before each input).
pub(crate) fn clear() {
    SIGNAL.store(0, Ordering::SeqCst);
    FORWARDED.store(0, Ordering::SeqCst);
}

/// An interruption set aside while cleanup code runs (`ensure`): the script's code, its
/// commands and its waits carry on as if none had come, and a second Ctrl-C (or SIGTERM) in
/// the meantime interrupts the cleanup itself. `restore` puts it back.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SetAside {
    signal: i32,
    forwarded: i32,
}

/// Takes the interruption (if any) aside; `None` when there is none.
pub(crate) fn set_aside() -> Option<SetAside> {
    let signal = SIGNAL.swap(0, Ordering::SeqCst);
    let forwarded = FORWARDED.swap(0, Ordering::SeqCst);
    (signal != 0).then_some(SetAside { signal, forwarded })
}

/// Puts an interruption set aside back, unless another one came meanwhile (which stands).
pub(crate) fn restore(aside: Option<SetAside>) {
    let Some(aside) = aside else { return };
    if SIGNAL
        .compare_exchange(0, aside.signal, Ordering::SeqCst, Ordering::SeqCst)
        .is_ok()
    {
        FORWARDED.store(aside.forwarded, Ordering::SeqCst);
    }
}

/// Records a running command's process groups for forwarding; removes them when dropped.
pub(crate) struct Guard {
    slots: Vec<&'static Slot>,
}

impl Guard {
    pub(crate) fn watch(groups: &[u32]) -> Guard {
        let mut slots = Vec::with_capacity(groups.len());
        for &group in groups {
            let Ok(group) = i32::try_from(group) else {
                continue;
            };
            let slot = claim();
            slot.group.store(group, Ordering::SeqCst);
            slots.push(slot);
            // A signal that arrived between spawn and here has not reached this group yet.
            let nth = RECEIVED.load(Ordering::SeqCst);
            let forward = FORWARDED.load(Ordering::SeqCst);
            if forward != 0 {
                slot.forward(nth, forward);
            }
        }
        Guard { slots }
    }

    /// Sends `signal` to every watched group.
    pub(crate) fn kill(&self, signal: i32) {
        for slot in &self.slots {
            let group = slot.group.load(Ordering::SeqCst);
            if group > 0 {
                // SAFETY: kill(2) on a group we started.
                unsafe { libc::kill(-group, signal) };
            }
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        for slot in &self.slots {
            slot.group.store(0, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_reused_and_the_list_grows_past_any_fixed_size() {
        let groups: Vec<u32> = (0..100).map(|i| 4_000_000 + i).collect();
        let guard = Guard::watch(&groups);
        let watched = |group: u32| {
            slots()
                .filter(|slot| i64::from(slot.group.load(Ordering::SeqCst)) == i64::from(group))
                .count()
        };
        assert!(groups.iter().all(|&g| watched(g) == 1));
        let allocated = slots().count();
        drop(guard);
        assert_eq!(watched(4_000_000), 0);
        // Freed slots are taken again before any new one is allocated.
        // (Other tests may watch groups meanwhile, hence no exact count.)
        let again = Guard::watch(&groups[..50]);
        assert!(slots().count() < allocated + 50);
        drop(again);
    }
}
