//! Waiting for a child while its pipes are pumped: the one loop for the commands scripts run
//! and for the ssh or kubectl client of a remote run. It stops the child at its timeout
//! (SIGTERM, then SIGKILL after `GRACE`), and after Ctrl-C gives it `INTERRUPT_GRACE` to finish
//! before SIGKILL, so nothing the child started (a background grandchild that ignores SIGINT,
//! say) can keep adminsh waiting.

use std::io;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use super::pump::{Pump, Pumped, Sinks};
use crate::interrupt;

/// How long a child gets to exit after SIGTERM (timeout) before it is killed.
const GRACE: Duration = Duration::from_secs(2);
/// How long a child gets to finish after Ctrl-C before it is killed: long enough to roll back
/// a transaction, short enough that nothing can keep adminsh waiting.
pub(crate) const INTERRUPT_GRACE: Duration = Duration::from_secs(1);
/// How often the wait looks up from the child: for its exit while its pipes are open, and for
/// Ctrl-C, which a wait with no deadline would not see while a child that ignores it runs on
/// (a blocked `waitpid` is restarted after the signal handler).
const TICK: Duration = Duration::from_millis(100);

/// A running child, as the wait sees it.
pub(crate) trait Child {
    /// Waits until the child exits or `deadline` passes (`None`: no deadline); at or past the
    /// deadline, only checks. The exit status, or `None` at the deadline.
    fn wait_until(&mut self, deadline: Option<Instant>) -> io::Result<Option<ExitStatus>>;
    /// Sends `signal` to the child and what it started.
    fn signal(&mut self, signal: i32);
}

/// What ends a wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Until {
    /// Every pipe closed, then the child exited: all a command prints is read, even by what it
    /// left running in the background.
    OutputEnds,
    /// The child exited; what the pipes hold then is read, without waiting on anything that
    /// keeps them open (an ssh connection master).
    Exit,
}

pub(crate) struct Wait {
    pub until: Until,
    pub timeout: Option<Duration>,
    /// Whether the wait passes Ctrl-C on to the child, for a child the signal handler does not
    /// reach (one in adminsh's own process group).
    pub forward_interrupt: bool,
}

#[derive(Debug)]
pub(crate) struct Waited {
    pub status: ExitStatus,
    /// The timeout passed and the child was stopped.
    pub timed_out: bool,
}

/// Pumps `pump` and waits for `child` as `how` says.
pub(crate) fn wait<S: Sinks>(
    child: &mut dyn Child,
    pump: &mut Pump<S>,
    how: &Wait,
) -> io::Result<Waited> {
    let mut timeout = how.timeout.map(|t| Instant::now() + t);
    let mut timed_out = false;
    let mut interrupt: Option<Instant> = None;
    let mut interrupt_seen = false;
    let status = loop {
        if let Some(signal) = interrupt::signal()
            && !interrupt_seen
        {
            interrupt_seen = true;
            if how.forward_interrupt {
                child.signal(signal);
            }
            interrupt = Some(Instant::now() + INTERRUPT_GRACE);
        }
        let tick = Instant::now() + TICK;
        let next = [timeout, interrupt, Some(tick)].into_iter().flatten().min();
        if how.until == Until::Exit
            && let Some(status) = child.wait_until(Some(Instant::now()))?
        {
            pump.drain()?;
            break status;
        }
        if pump.pump(next)? == Pumped::Finished
            && let Some(status) = child.wait_until(next)?
        {
            break status;
        }
        let now = Instant::now();
        if interrupt.is_some_and(|at| at <= now) {
            // Interrupted and still not done: stop it all for good.
            child.signal(libc::SIGKILL);
            interrupt = None;
            timeout = None;
        } else if timeout.is_some_and(|at| at <= now) {
            // The timeout passed: ask politely, then insist.
            if timed_out {
                child.signal(libc::SIGKILL);
                timeout = None;
            } else {
                timed_out = true;
                child.signal(libc::SIGTERM);
                timeout = Some(now + GRACE);
            }
        }
    };
    Ok(Waited { status, timed_out })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    /// A child that exits on its own at a time, or when it gets one of the signals it heeds.
    struct Fake {
        exits_at: Option<Instant>,
        heeds: Vec<i32>,
        got: Vec<i32>,
        status: Option<ExitStatus>,
    }

    impl Child for Fake {
        fn wait_until(&mut self, deadline: Option<Instant>) -> io::Result<Option<ExitStatus>> {
            loop {
                if self.status.is_none() && self.exits_at.is_some_and(|at| at <= Instant::now()) {
                    self.status = Some(ExitStatus::from_raw(0));
                }
                if self.status.is_some() || deadline.is_some_and(|d| d <= Instant::now()) {
                    return Ok(self.status);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }

        fn signal(&mut self, signal: i32) {
            self.got.push(signal);
            if self.heeds.contains(&signal) && self.status.is_none() {
                self.status = Some(ExitStatus::from_raw(signal));
            }
        }
    }

    struct NoSinks;
    impl Sinks for NoSinks {
        fn stdout(&mut self, _: &[u8]) -> bool {
            true
        }
        fn stderr(&mut self, _: &[u8]) {}
    }

    fn fake(exits_in_ms: Option<u64>, heeds: &[i32]) -> Fake {
        Fake {
            exits_at: exits_in_ms.map(|ms| Instant::now() + Duration::from_millis(ms)),
            heeds: heeds.to_vec(),
            got: Vec::new(),
            status: None,
        }
    }

    fn waiting(until: Until, timeout_ms: Option<u64>) -> Wait {
        Wait {
            until,
            timeout: timeout_ms.map(Duration::from_millis),
            forward_interrupt: false,
        }
    }

    #[test]
    fn a_child_that_exits_in_time_is_not_signalled() {
        for until in [Until::OutputEnds, Until::Exit] {
            let mut child = fake(Some(20), &[]);
            let mut pump = Pump::new(None, None, NoSinks);
            let waited = wait(&mut child, &mut pump, &waiting(until, Some(5_000))).unwrap();
            assert_eq!((waited.status.code(), waited.timed_out), (Some(0), false));
            assert!(child.got.is_empty());
        }
    }

    #[test]
    fn a_timeout_sends_sigterm_then_sigkill() {
        let mut child = fake(None, &[libc::SIGTERM]);
        let mut pump = Pump::new(None, None, NoSinks);
        let waited = wait(&mut child, &mut pump, &waiting(Until::OutputEnds, Some(20))).unwrap();
        assert!(waited.timed_out);
        assert_eq!(child.got, [libc::SIGTERM]);

        let mut stubborn = fake(None, &[libc::SIGKILL]);
        let started = Instant::now();
        let waited = wait(&mut stubborn, &mut pump, &waiting(Until::Exit, Some(20))).unwrap();
        assert!(waited.timed_out && started.elapsed() >= GRACE);
        assert_eq!(stubborn.got, [libc::SIGTERM, libc::SIGKILL]);
    }

    #[test]
    fn until_exit_does_not_wait_for_pipes_held_open() {
        let (reader, _held_open) = io::pipe().unwrap();
        let mut child = fake(Some(20), &[]);
        let mut pump = Pump::new(Some(reader), None, NoSinks);
        let waited = wait(&mut child, &mut pump, &waiting(Until::Exit, None)).unwrap();
        assert_eq!(waited.status.code(), Some(0));
    }
}
