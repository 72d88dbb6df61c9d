//! `--logs ID` prints what a run has written (`output.log.1`, then `output.log`); `--attach ID`
//! prints the same and follows the log as it grows (across rotations, as `tail -F` does) until
//! the run records its end, then exits with the run's exit code. Ctrl-C stops following, not
//! the run. Both only read the run directory, so any number can follow one run at once.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

use super::{Meta, RunDir, Status};
use crate::error::{EXIT_FAILURE, Error, interrupted_code};
use crate::interrupt;
use crate::release::Release;

/// How often a quiet log is looked at again.
const TICK: Duration = Duration::from_millis(100);

/// `--logs ID`.
pub(crate) fn logs(release: &Release, id: &str) -> Result<i32, Error> {
    let (run, meta) = super::find(release, id)?;
    let mut out = std::io::stdout().lock();
    for path in [run.output_before(), run.output()] {
        if let Ok(mut file) = File::open(&path)
            && copy(&mut file, &mut out).is_err()
        {
            // The reader went away (`| head`).
            return Ok(0);
        }
    }
    let _ = out.flush();
    note_lost(&meta);
    if let Status::Lost { .. } = run.status(&meta) {
        crate::log::err_line(&format!("adminsh: {}", lost(&run, &meta)));
    }
    Ok(0)
}

/// `--attach ID`. `target` is the target this runs through (`-t`), for the messages.
pub(crate) fn attach(release: &Release, id: &str, target: Option<&str>) -> Result<i32, Error> {
    let (run, _) = super::find(release, id)?;
    interrupt::install();
    let mut out = std::io::stdout();
    let mut follower = Follower::new(&run);
    loop {
        // The status first: once it says ended, what the log holds is all there will be.
        let meta = run.load()?;
        let status = run.status(&meta);
        let wrote = follower.pump(&mut out);
        if wrote.is_err() {
            // The reader went away: following is over, the run goes on.
            return Ok(0);
        }
        match status {
            Status::Ended { code, .. } => {
                let _ = out.flush();
                note_lost(&meta);
                return Ok(code);
            }
            Status::Lost { .. } => {
                let _ = out.flush();
                crate::log::err_line(&format!("adminsh: {}", lost(&run, &meta)));
                return Ok(EXIT_FAILURE);
            }
            Status::Starting | Status::Running { .. } => {}
        }
        if let Some(signal) = interrupt::signal() {
            let _ = out.flush();
            let adminsh = target.map_or("adminsh".to_owned(), |t| format!("adminsh -t {t}"));
            crate::log::err_line(&left_running(&run.id, &adminsh));
            return Ok(interrupted_code(signal));
        }
        if wrote.is_ok_and(|n| n == 0) {
            std::thread::sleep(TICK);
        }
    }
}

/// What Ctrl-C while attached says: the run goes on, and how to get back to it.
pub(crate) fn left_running(id: &str, adminsh: &str) -> String {
    format!(
        "adminsh: stopped following run {id}; it is still running: `{adminsh} --attach {id}` \
         follows it again, `{adminsh} --stop {id}` stops it"
    )
}

/// What a lost run is, and what is left of it: its output and steps, and any commands it
/// started that still run (a re-run would resume beside them).
pub(crate) fn lost(run: &RunDir, meta: &Meta) -> String {
    let pid = meta
        .pid
        .map_or(String::new(), |pid| format!(" (pid {pid})"));
    let mut text = format!(
        "run {} was lost: its process{pid} ended without recording how (killed with SIGKILL, or \
         the machine went down); its output is kept, and the steps it completed are too",
        run.id
    );
    let left = super::leftovers::of(meta);
    if left.is_empty() {
        text.push_str(": running the script again resumes after them");
    } else {
        text.push_str(&format!(
            "; {} it started still {}: `--stop {}` stops {} before the script runs again",
            super::leftovers::described(&left),
            if left.len() == 1 { "runs" } else { "run" },
            run.id,
            if left.len() == 1 { "it" } else { "them" }
        ));
    }
    text
}

fn note_lost(meta: &Meta) {
    if meta.output_lost > 0 {
        crate::log::err_line(&format!(
            "adminsh: {} bytes of run {}'s output could not be written to its log: {}",
            meta.output_lost,
            meta.id,
            meta.output_error.as_deref().unwrap_or("unknown error")
        ));
    }
}

/// Reads a run's log as it grows, following it to a new file when it is rotated (`--attach`,
/// and the web view's live output).
pub(crate) struct Follower {
    run: RunDir,
    /// The file being read and its inode; `None` until the log exists.
    file: Option<(File, u64)>,
}

impl Follower {
    /// Starts with `output.log.1`, when there is one: the older part.
    pub(crate) fn new(run: &RunDir) -> Self {
        let file = open(&run.output_before()).or_else(|| open(&run.output()));
        Follower {
            run: run.clone(),
            file,
        }
    }

    /// Writes what is new to `out`; the bytes written (0: nothing new).
    pub(crate) fn pump(&mut self, out: &mut impl Write) -> std::io::Result<u64> {
        let mut total = 0;
        loop {
            if let Some((file, _)) = &mut self.file {
                total += copy(file, out)?;
            }
            // At the end of this file: the log may have moved on to a new one.
            let current = open(&self.run.output());
            let moved = match (&self.file, &current) {
                (Some((_, reading)), Some((_, inode))) => reading != inode,
                (None, Some(_)) => true,
                _ => false,
            };
            if !moved {
                return Ok(total);
            }
            self.file = current;
        }
    }
}

fn open(path: &Path) -> Option<(File, u64)> {
    let file = File::open(path).ok()?;
    let inode = file.metadata().ok()?.ino();
    Some((file, inode))
}

/// Copies what `file` holds from where it is to its end; a reader gone is an error.
fn copy(file: &mut File, out: &mut impl Write) -> std::io::Result<u64> {
    let mut buffer = vec![0; 64 << 10];
    let mut total = 0;
    loop {
        match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                out.write_all(&buffer[..n])?;
                total += n as u64;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // A read error in a log is no reason to stop following.
            Err(_) => break,
        }
    }
    out.flush()?;
    Ok(total)
}
