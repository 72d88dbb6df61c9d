//! Cancelling a running statement on the server: on Ctrl-C (or SIGTERM, SIGHUP) and when a
//! statement outlives `db::statement_timeout`. A statement blocks the script's thread inside
//! the driver, so one watcher thread, started with the first connection, looks every 50 ms at
//! the statements running and cancels them the driver's way (`PostgreSQL`'s cancel request,
//! `SQLite`'s interrupt, `MySQL`'s `KILL QUERY`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once, PoisonError, Weak};
use std::time::{Duration, Instant};

use super::Canceller;
use crate::interrupt;

/// Why a statement was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Why {
    Signal(i32),
    Timeout(Duration),
}

/// One connection's running statement, as the watcher sees it.
pub(crate) struct Busy {
    cancel: Canceller,
    state: Mutex<State>,
    /// Set while a statement runs.
    running: AtomicBool,
}

#[derive(Default)]
struct State {
    deadline: Option<(Instant, Duration)>,
    cancelled: Option<Why>,
    /// When the cancel was last sent: it is sent again while the statement goes on (a cancel
    /// that arrives between two statements of a driver's own is lost).
    sent: Option<Instant>,
}

/// How long a cancelled statement may go on before the cancel is sent again.
const RESEND: Duration = Duration::from_millis(500);

static WATCHED: Mutex<Vec<Weak<Busy>>> = Mutex::new(Vec::new());
static STARTED: Once = Once::new();

impl Busy {
    /// Watches a new connection, starting the watcher thread if needed.
    pub(crate) fn watch(cancel: Canceller) -> Arc<Busy> {
        let busy = Arc::new(Busy {
            cancel,
            state: Mutex::default(),
            running: AtomicBool::new(false),
        });
        let mut watched = WATCHED.lock().unwrap_or_else(PoisonError::into_inner);
        watched.retain(|w| w.strong_count() > 0);
        watched.push(Arc::downgrade(&busy));
        drop(watched);
        STARTED.call_once(|| {
            let spawned = std::thread::Builder::new()
                .name("adminsh-db-cancel".into())
                .spawn(watch_loop);
            if let Err(e) = spawned {
                crate::log::warn(&format!("cannot watch statements for Ctrl-C: {e}"));
            }
        });
        busy
    }

    /// Marks a statement running until the guard drops, cancelled after `timeout` if given.
    pub(crate) fn start(self: &Arc<Self>, timeout: Option<Duration>) -> Running {
        {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.cancelled = None;
            state.sent = None;
            state.deadline = timeout.map(|t| (Instant::now() + t, t));
        }
        self.running.store(true, Ordering::SeqCst);
        Running(self.clone())
    }

    /// Why the last statement was cancelled, if it was.
    pub(crate) fn cancelled(&self) -> Option<Why> {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .cancelled
    }

    fn check(&self, signal: Option<i32>, now: Instant) {
        if !self.running.load(Ordering::SeqCst) {
            return;
        }
        {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            if state.sent.is_some_and(|sent| now < sent + RESEND) {
                return;
            }
            let why = match (state.cancelled, signal, state.deadline) {
                (Some(why), _, _) => why,
                (None, Some(signal), _) => Why::Signal(signal),
                (None, None, Some((deadline, limit))) if now >= deadline => Why::Timeout(limit),
                _ => return,
            };
            state.cancelled = Some(why);
            state.sent = Some(now);
        }
        (self.cancel)();
    }
}

/// A statement running; dropping it says it is done.
pub(crate) struct Running(Arc<Busy>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.running.store(false, Ordering::SeqCst);
    }
}

fn watch_loop() {
    loop {
        std::thread::sleep(Duration::from_millis(50));
        let signal = interrupt::signal();
        let now = Instant::now();
        let watched: Vec<Arc<Busy>> = WATCHED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        for busy in watched {
            busy.check(signal, now);
        }
    }
}
