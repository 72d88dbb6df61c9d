//! `--stop ID`: stops a detached run as Ctrl-C stops one at a terminal. SIGINT goes to the
//! run's process group (the detached adminsh leads it), and adminsh passes it on to the
//! process groups of the commands it runs; the script stops, its audit and end record are
//! written, exit 130. A run still going after [`GRACE`] gets SIGINT again (adminsh then kills
//! its commands' groups) and SIGKILL; `--stop` then writes its end record itself (`killed`),
//! and ends whatever its commands left running in the run's session. A lost run's commands
//! still running (its adminsh was killed outright) are stopped the same way.

use std::time::{Duration, Instant};

use super::{Meta, RunDir, Status, leftovers, meta};
use crate::error::Error;
use crate::release::Release;

/// How long a run gets to stop after SIGINT before it is killed.
pub(crate) const GRACE: Duration = Duration::from_secs(10);
/// How often the run is looked at while it stops.
const TICK: Duration = Duration::from_millis(50);
/// How long what a killed run left running gets after SIGTERM, before SIGKILL: the run's own
/// grace has passed already.
const LEFTOVER_GRACE: Duration = Duration::from_secs(2);
/// The exit code recorded for a run killed after its grace: 128 + SIGKILL.
const KILLED: i32 = 128 + libc::SIGKILL;

/// `--stop ID`. 0 once the run is not running (stopped now, or already over).
pub(crate) fn stop(release: &Release, id: &str) -> Result<i32, Error> {
    let (run, meta) = super::find(release, id)?;
    let pid = match run.status(&meta) {
        Status::Ended { outcome, code } => {
            let ended = meta.ended.as_deref().unwrap_or("?");
            crate::log::err_line(&format!(
                "adminsh: run {} already ended at {ended} ({outcome}, exit {code}): nothing to stop",
                run.id
            ));
            return Ok(0);
        }
        Status::Lost { pid } => {
            stop_lost(&run, &meta, pid);
            return Ok(0);
        }
        Status::Starting => {
            return Err(Error::Failed(anyhow::anyhow!(
                "run {} is starting: try again in a moment",
                run.id
            )));
        }
        Status::Running { pid } => pid,
    };
    let group = libc::pid_t::try_from(pid)
        .ok()
        .filter(|&p| p > 1)
        .ok_or_else(|| anyhow::anyhow!("run {} names no process it could be ({pid})", run.id))?;
    prove(&run, &meta, pid)?;
    signal(&run, group, libc::SIGINT)?;
    crate::log::err_line(&format!(
        "adminsh: stopping run {} (pid {pid}) as Ctrl-C would...",
        run.id
    ));
    if !ended_within(&run, GRACE) {
        kill(&run, &meta, pid, group)?;
    }
    record_end(&run)
}

/// Refuses to go on unless process `pid` is proven to be the run's adminsh (see
/// `leftovers::not_the_run`): what `meta.json` says is only a claim.
fn prove(run: &RunDir, meta: &Meta, pid: u32) -> Result<(), Error> {
    let why = match (leftovers::since(meta), run.lock_id()) {
        (Some(since), Some(lock)) => leftovers::not_the_run(pid, since, lock),
        (None, _) => Some(format!("its record has no start time ({:?})", meta.started)),
        (_, None) => Some("its lock file cannot be opened".to_owned()),
    };
    match why {
        None => Ok(()),
        Some(why) => Err(Error::Failed(anyhow::anyhow!(
            "run {}: not stopped, its process cannot be proven to be the run: {why}",
            run.id
        ))),
    }
}

/// A lost run (its adminsh killed outright): stops what its commands still run, and says so.
fn stop_lost(run: &RunDir, meta: &Meta, pid: Option<u32>) {
    let left = match (pid, leftovers::since(meta)) {
        (Some(pid), Some(since)) => leftovers::stop(pid, since, GRACE),
        _ => Vec::new(),
    };
    if left.is_empty() {
        crate::log::err_line(&format!(
            "adminsh: nothing to stop: {}",
            super::follow::lost(run, meta)
        ));
    } else {
        crate::log::err_line(&format!(
            "adminsh: run {} was lost, but {} still ran: stopped {}",
            run.id,
            leftovers::described(&left),
            if left.len() == 1 { "it" } else { "them" }
        ));
    }
}

/// A run still going after its grace: SIGINT again, then SIGKILL, then whatever its commands
/// left running in its session.
fn kill(run: &RunDir, meta: &Meta, pid: u32, group: libc::pid_t) -> Result<(), Error> {
    crate::log::err_line(&format!(
        "adminsh: run {} is still running after {}s: killing it",
        run.id,
        GRACE.as_secs()
    ));
    // A second SIGINT: adminsh kills its commands' groups outright; then adminsh itself.
    let _ = signal(run, group, libc::SIGINT);
    std::thread::sleep(Duration::from_millis(200));
    let _ = signal(run, group, libc::SIGKILL);
    if !ended_within(run, GRACE) {
        return Err(Error::Failed(anyhow::anyhow!(
            "run {} (pid {pid}) does not stop, even with SIGKILL",
            run.id
        )));
    }
    // Its commands lead groups of their own, which only adminsh could signal.
    if let Some(since) = leftovers::since(meta) {
        let left = leftovers::stop(pid, since, LEFTOVER_GRACE);
        if !left.is_empty() {
            crate::log::err_line(&format!(
                "adminsh: run {} left {} running: killed",
                run.id,
                leftovers::described(&left)
            ));
        }
    }
    Ok(())
}

/// The stopped run's end record, written here if it was killed before it could write it;
/// says how it ended.
fn record_end(run: &RunDir) -> Result<i32, Error> {
    let mut meta = run.load()?;
    if meta.exit_code.is_none() {
        // Killed before it could write its end record: written here, while nothing holds the
        // lock (so nothing else writes it).
        meta.end(KILLED, Some("killed"));
        meta::save(&run.meta_path(), &meta)?;
    }
    crate::log::err_line(&format!(
        "adminsh: run {} stopped: {}, exit {}",
        run.id,
        meta.outcome.as_deref().unwrap_or("?"),
        meta.exit_code.unwrap_or(KILLED)
    ));
    Ok(0)
}

/// Sends `signal` to the run's process group.
fn signal(run: &RunDir, group: libc::pid_t, signal: i32) -> Result<(), Error> {
    // SAFETY: kill(2) on the process group a running run recorded as its own (it holds the
    // run's lock, so the pid is not a reused one).
    if unsafe { libc::kill(-group, signal) } == 0 {
        return Ok(());
    }
    let error = std::io::Error::last_os_error();
    if error.raw_os_error() == Some(libc::ESRCH) {
        return Ok(());
    }
    Err(Error::Failed(anyhow::anyhow!(
        "cannot signal run {} (process group {group}): {error}",
        run.id
    )))
}

/// Waits up to `patience` for the run's process to be gone (its lock free).
fn ended_within(run: &RunDir, patience: Duration) -> bool {
    let deadline = Instant::now() + patience;
    loop {
        if !run.held() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(TICK);
    }
}
