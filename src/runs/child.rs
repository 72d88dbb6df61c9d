//! The detached process's side of a run (the hidden `--detached-run ID` that `--detach`
//! starts, in a session of its own, stdin `/dev/null`): it takes the run's lock for as long as
//! it lives, sends its stdout into the run's log at once, and its stderr too once the run has
//! started. Until then its stderr is the pipe `--detach` reads, so whatever stops the run
//! before its first line (the script's lock held, say) is told to the operator who started
//! it, as a foreground run would. At the end it writes the run's end record.

use std::cell::{Cell, RefCell};
use std::fs::File;
use std::io::{PipeWriter, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

use anyhow::Context;

use super::output::{self, Capture, Log};
use super::{Meta, RunDir, meta};
use crate::error::{EXIT_PAUSED, Error};
use crate::record::{StepRecord, WalkProgress};
use crate::release::Release;
use crate::run::DetachedRun;
use crate::session::Control;

/// The line that tells `--detach` the run has started (its script's lock taken, its audit line
/// written, or, with `--wait`, waiting for the lock): what came before on the pipe is for the
/// operator; nothing comes after.
pub(crate) const STARTED: &str = "adminsh-detached: started\n";

/// How long the end waits for the log to take in the last output, when something the run left
/// in the background keeps the pipe open.
const DRAIN: Duration = Duration::from_secs(5);

/// The room kept for the end record: a run whose output fills the disk still records how it
/// ended (a `meta.json` is well under a page; the rest is for the file system's own needs).
const RESERVE: usize = 64 << 10;

pub(crate) struct Detached {
    run: RunDir,
    meta: RefCell<Meta>,
    /// Held while the process lives: the kernel lets go of it however the process ends.
    _lock: File,
    /// The pipe into the log: stdout now, stderr once started.
    pipe: RefCell<Option<PipeWriter>>,
    capture: RefCell<Option<Capture>>,
    started: Cell<bool>,
    /// The steps so far, as `steps.json` has them.
    steps: RefCell<Vec<StepRecord>>,
}

impl Detached {
    /// Takes run `id`'s lock, records this process's pid and sends stdout into its log.
    pub(crate) fn begin(release: &Release, id: &str) -> Result<Detached, Error> {
        let run = RunDir {
            id: id.to_owned(),
            path: super::dir(release).join(id),
        };
        let mut meta = run.load()?;
        let lock = super::private_file(&run.lock_path())
            .with_context(|| format!("cannot create {}", run.lock_path().display()))?;
        // Waiting: a `--runs` probing the lock holds it shared for a moment.
        lock.lock()
            .with_context(|| format!("cannot lock {}", run.lock_path().display()))?;
        reserve(&run)?;
        let limit = release
            .manifest
            .run_log_limit
            .unwrap_or(output::DEFAULT_LIMIT);
        let log = Log::create(&run.output(), limit)
            .with_context(|| format!("cannot create {}", run.output().display()))?;
        let (reader, writer) = std::io::pipe().context("cannot make a pipe")?;
        let capture = output::capture(reader, log);
        redirect(writer.as_raw_fd(), libc::STDOUT_FILENO)?;
        meta.pid = Some(std::process::id());
        meta::save(&run.meta_path(), &meta)?;
        Ok(Detached {
            run,
            meta: RefCell::new(meta),
            _lock: lock,
            pipe: RefCell::new(Some(writer)),
            capture: RefCell::new(Some(capture)),
            started: Cell::new(false),
            steps: RefCell::default(),
        })
    }
}

impl Control for Detached {
    fn pause_asked(&self) -> Option<String> {
        super::pause::asked(&self.run).map(|request| request.described())
    }

    /// Written whole, so `--runs` and the web view never read half of it; a write that fails
    /// (a full disk) only leaves the last one in place.
    fn walked(&self, progress: &WalkProgress) {
        if let Ok(mut text) = serde_json::to_string(progress) {
            text.push('\n');
            let _ = super::write_private(&self.run.progress_path(), &text);
        }
    }

    /// `steps.json`: every step so far, the one running last.
    fn stepped(&self, step: &StepRecord) {
        let mut steps = self.steps.borrow_mut();
        match steps.iter_mut().find(|s| s.number == step.number) {
            Some(known) => *known = step.clone(),
            None => steps.push(step.clone()),
        }
        if let Ok(mut text) = serde_json::to_string(&*steps) {
            text.push('\n');
            let _ = super::write_private(&self.run.steps_path(), &text);
        }
    }

    fn resume_command(&self) -> String {
        let via = self.meta.borrow().via.clone();
        format!(
            "{} --resume {}",
            via.as_deref().unwrap_or("adminsh"),
            self.run.id
        )
    }
}

impl DetachedRun for Detached {
    fn id(&self) -> &str {
        &self.run.id
    }

    /// The run has started: tells `--detach` so, and sends stderr into the log too. Only the
    /// first call does anything.
    fn started(&self) {
        if self.started.replace(true) {
            return;
        }
        let _ = std::io::stderr().write_all(STARTED.as_bytes());
        if let Some(pipe) = self.pipe.borrow().as_ref() {
            let _ = redirect(pipe.as_raw_fd(), libc::STDERR_FILENO);
        }
    }
}

impl Detached {
    /// The run ended with `code`: lets the log take in the last output, then writes the end
    /// record. Before the run started there is no record to write: `--detach` told the
    /// operator why and removes the directory.
    pub(crate) fn finish(&self, code: i32) {
        if !self.started.get() {
            return;
        }
        let _ = std::io::stdout().flush();
        // Closing this process's ends of the pipe: the copy ends when the commands' do.
        if let Ok(null) = File::options().write(true).open("/dev/null") {
            let _ = redirect(null.as_raw_fd(), libc::STDOUT_FILENO);
            let _ = redirect(null.as_raw_fd(), libc::STDERR_FILENO);
        }
        drop(self.pipe.borrow_mut().take());
        let log = self
            .capture
            .borrow_mut()
            .take()
            .and_then(|c| c.finish(DRAIN));
        let mut meta = self.meta.borrow_mut();
        if let Some(log) = log {
            meta.output_lost = log.lost;
            meta.output_error = log.error;
        }
        meta.end(code, None);
        // Only a paused run is resumed: the command line it keeps for that, secrets included,
        // goes with any other ending.
        if code != EXIT_PAUSED {
            let _ = std::fs::remove_file(self.run.resume_path());
        }
        // The room kept at the start is what the record is written into when the output
        // filled the disk.
        let _ = std::fs::remove_file(self.run.reserve_path());
        // Nowhere left to say it: the record is what tells, and a full disk is for the audit
        // log's warning.
        let _ = meta::save(&self.run.meta_path(), &meta);
    }
}

/// Keeps room on the run directory's disk for the end record, written out (not a sparse file)
/// so the space is taken now.
fn reserve(run: &RunDir) -> anyhow::Result<()> {
    let path = run.reserve_path();
    let kept = super::private_file(&path).and_then(|mut file| {
        file.write_all(&vec![0; RESERVE])?;
        file.sync_all()
    });
    kept.with_context(|| {
        format!(
            "cannot keep {} KiB free for the run's end record in {}",
            RESERVE >> 10,
            path.display()
        )
    })
}

/// Makes `to` (stdout, stderr) another name for `from`.
fn redirect(from: RawFd, to: RawFd) -> std::io::Result<()> {
    // SAFETY: dup2 on descriptors this process owns; `to` is a standard stream, which Rust's
    // std writes to by number, so replacing what it names is what is wanted.
    if unsafe { libc::dup2(from, to) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}
