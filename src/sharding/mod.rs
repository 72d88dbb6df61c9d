//! `--shards N`: a script run as N worker processes of adminsh, each the same command line with
//! the environment saying which shard it is (`shard.rs`), so that each walks its slice of the
//! script's walks: a table's key range, an array's or a range's share, every Nth line of a
//! command. The workers run at most `--parallel P` at a time, each with its own lock,
//! checkpoint, audit lines and database connection; their output comes here line by line,
//! each line marked with its shard. A shard that fails does not stop the others.
//!
//! Which shards finished is kept in the state directory (`state/shards.rs`), under the sharded run's
//! id: the same command run again starts only the shards that did not finish, with the same
//! id, so their walks resume where they stopped and split the table as before.
//!
//! The whole run holds the script's lock, so a plain run of the script cannot start beside it.

use std::ffi::OsString;
use std::io::PipeReader;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::audit;
use crate::error::{EXIT_FAILURE, EXIT_PAUSED, Error};
use crate::interrupt;
use crate::log;
use crate::options::{Detach, Flags, ReleaseMode, Shards};
use crate::release::Release;
use crate::report::Report;
use crate::run::{self, Job, Prepared};
use crate::shard::{COUNT_VAR, Ended, INDEX_VAR, OF_RUN_VAR, RUN_VAR, summary};
use crate::state::ShardRun;

/// How long a worker's output is waited for after it exits.
const DRAIN: Duration = Duration::from_secs(5);

/// Runs `job`'s script as `flags.run.shards` workers; the exit code: 0 when every shard
/// finished, 128 + the signal when interrupted, 148 when a pause stopped some and none failed,
/// else 1.
pub(crate) fn run(
    release: &Release,
    mode: &ReleaseMode,
    flags: &Flags,
    job: &Job,
) -> Result<i32, Error> {
    let Some(shards) = job.options.shards else {
        return Err(Error::usage("--shards N: no number of shards"));
    };
    let name = match prepared(release, job)? {
        Ok(name) => name,
        Err(code) => return Ok(code),
    };
    // Asked once here: the workers have no terminal to ask on.
    let reason = audit::reason(release, job.options.reason.as_deref())?;
    interrupt::install();
    let detached = job.detached.as_deref();
    let _lock = run::lock_script(release, &name, job.options.wait, detached, None)?;
    if let Some(detached) = detached {
        detached.started();
    }
    let keep = !job.options.dry_run;
    // Keyed as a checkpoint is: another stage's sharded run is another run.
    let mut key = job.args.clone();
    key.push(format!("--stage={}", release.stage));
    let (record, warning) = ShardRun::open(
        &release.state_dir(),
        &name,
        &key,
        shards.count,
        keep,
        !job.options.restart,
    )
    .map_err(Error::usage)?;
    if let Some(warning) = warning {
        log::warn(&warning);
    }
    record.save()?;
    let done = Mutex::new(record);
    let argv = worker_argv(mode, flags, reason);
    let shown = run::shown_script(release, &name);
    let of_run = detached.map(|d| d.id().to_owned());
    let pause = of_run
        .as_ref()
        .map(|id| crate::runs::pause_path(release, id));
    let ended = work(&done, &argv, shards, of_run.as_deref(), pause.as_deref());
    let done = done
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    log::err(&summary(&shown, &ended, interrupt::interrupted()));
    if let Some(signal) = interrupt::signal() {
        return Ok(crate::error::interrupted_code(signal));
    }
    let finished = ended
        .iter()
        .all(|e| matches!(e, Ended::Earlier | Ended::Exited(0)));
    if finished {
        done.clear()?;
        return Ok(0);
    }
    let paused = ended.iter().all(|e| {
        matches!(
            e,
            Ended::Earlier | Ended::Held | Ended::Exited(0 | EXIT_PAUSED)
        )
    });
    match detached {
        Some(detached) if paused => log::err_line(&format!(
            "adminsh: paused: `{}` goes on with the shards that did not finish",
            detached.resume_command()
        )),
        _ if keep => log::err_line(
            "adminsh: run the same command again to go on with the shards that did not finish",
        ),
        _ => {}
    }
    Ok(if paused { EXIT_PAUSED } else { EXIT_FAILURE })
}

/// The script, found and its header read and checked as a plain run checks them, and refused
/// if it asks questions without `--yes`; its name, or the exit code of a run that ends here
/// (`--help`, a header that cannot be read).
fn prepared(release: &Release, job: &Job) -> Result<Result<String, i32>, Error> {
    let origin = std::env::current_dir().unwrap_or_default();
    Ok(
        match run::prepare(release, job, &origin, &mut Report::default())? {
            Prepared::Run { name, text, .. } => {
                if !job.options.yes {
                    let who = "each shard of a sharded run";
                    crate::runs::refuse_questions(&name, &text, release, &origin, who)?;
                }
                Ok(name)
            }
            Prepared::Help(text) => {
                log::out(&text);
                Err(0)
            }
            Prepared::Broken(text) => {
                log::err_line(&text);
                Err(EXIT_FAILURE)
            }
        },
    )
}

/// The command line each worker runs: this one without `--shards`, with the reason given or
/// asked here, never detaching.
fn worker_argv(mode: &ReleaseMode, flags: &Flags, reason: Option<String>) -> Vec<OsString> {
    let mut same = flags.clone();
    same.run.shards = None;
    same.run.reason = reason;
    same.detach = Detach::No;
    same.announce = None;
    crate::command_line::here(mode, &same)
}

/// Runs the shards not done yet, `parallel` at a time (all at once unless said); how each
/// ended, by index.
fn work(
    done: &Mutex<ShardRun>,
    argv: &[OsString],
    shards: Shards,
    of_run: Option<&str>,
    pause: Option<&Path>,
) -> Vec<Ended> {
    let count = shards.count;
    let (earlier, run_id) = {
        let done = done
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (done.finished().clone(), done.id().to_owned())
    };
    let results: Vec<Mutex<Option<Ended>>> = (0..count)
        .map(|i| Mutex::new(earlier.contains(&i).then_some(Ended::Earlier)))
        .collect();
    let pending: Vec<u32> = (0..count).filter(|i| !earlier.contains(i)).collect();
    let next = AtomicU32::new(0);
    let parallel = shards.parallel.unwrap_or(count).clamp(1, count);
    std::thread::scope(|scope| {
        for _ in 0..parallel {
            scope.spawn(|| {
                loop {
                    if interrupt::interrupted() {
                        break;
                    }
                    let at = next.fetch_add(1, Ordering::SeqCst);
                    let Some(&index) = pending.get(at as usize) else {
                        break;
                    };
                    // Paused: the shards not started yet wait for `--resume`.
                    let ended = if pause.is_some_and(Path::exists) {
                        Ended::Held
                    } else {
                        worker(argv, index, count, &run_id, of_run)
                    };
                    if ended == Ended::Exited(0)
                        && let Ok(mut done) = done.lock()
                        && let Err(e) = done.finish(index)
                    {
                        log::warn(&format!("{e:#}"));
                    }
                    *results[index as usize]
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(ended);
                }
            });
        }
    });
    results
        .into_iter()
        .map(|r| {
            r.into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .unwrap_or(Ended::NotStarted)
        })
        .collect()
}

/// Runs shard `index`'s worker to its end, its output relayed line by line marked with the
/// shard. SIGINT reaches the workers from the terminal or `--stop` as it reaches this process
/// (they share its process group); SIGTERM and SIGHUP sent to this process alone are passed on.
fn worker(argv: &[OsString], index: u32, count: u32, run_id: &str, of_run: Option<&str>) -> Ended {
    let label = format!("shard {}/{count}", index + 1);
    let exe = std::env::current_exe().unwrap_or_else(|_| "adminsh".into());
    let mut command = Command::new(exe);
    command
        .args(argv)
        .env(COUNT_VAR, count.to_string())
        .env(INDEX_VAR, index.to_string())
        .env(RUN_VAR, run_id)
        .env_remove(OF_RUN_VAR);
    if let Some(id) = of_run {
        command.env(OF_RUN_VAR, id);
    }
    let spawned = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            log::err_line(&format!("adminsh: cannot start {label}: {e}"));
            return Ended::NotStarted;
        }
    };
    let stdout = child
        .stdout
        .take()
        .map(|p| PipeReader::from(OwnedFd::from(p)));
    let stderr = child
        .stderr
        .take()
        .map(|p| PipeReader::from(OwnedFd::from(p)));
    let relays: Vec<_> = [
        stdout.map(|pipe| (pipe, false)),
        stderr.map(|pipe| (pipe, true)),
    ]
    .into_iter()
    .flatten()
    .map(|(pipe, to_stderr)| {
        let label = label.clone();
        std::thread::spawn(move || {
            if to_stderr {
                crate::marked::relay(pipe, &label, &mut std::io::stderr());
            } else {
                crate::marked::relay(pipe, &label, &mut std::io::stdout());
            }
        })
    })
    .collect();
    let ended = wait_for(&mut child);
    // The pipes end when the worker's commands let go of them too; one that something it
    // left running holds open is not waited for past DRAIN.
    let deadline = std::time::Instant::now() + DRAIN;
    while relays.iter().any(|r| !r.is_finished()) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    ended
}

/// Waits for a worker to exit, passing on SIGTERM and SIGHUP (SIGINT reaches it as it
/// reaches this process: they share a process group).
fn wait_for(child: &mut std::process::Child) -> Ended {
    let mut passed_on = false;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ended::Exited(crate::process::status::code(status)),
            Ok(None) => {}
            Err(_) => return Ended::NotStarted,
        }
        if !passed_on && let Some(signal) = interrupt::signal().filter(|s| *s != libc::SIGINT) {
            passed_on = true;
            let pid = libc::pid_t::try_from(child.id()).unwrap_or(0);
            // SAFETY: kill(2) on our own child's pid, which it stays until it is waited for.
            unsafe { libc::kill(pid, signal) };
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
