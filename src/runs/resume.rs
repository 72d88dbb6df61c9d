//! `--resume ID`: a paused run goes on. Its command line as it was given (the `resume` file
//! of its run directory: the same script, arguments, stage, env files, reason and safety
//! flags) starts a new detached run, checked at the terminal as `--detach` checks one; the
//! run's checkpoint, made with those very arguments, has its completed steps and the cursor
//! of the walk it paused in, so the walk says `resuming after ...` and goes on from there.
//! The new run's record names the one it resumes, and the paused run's names the new one.

use serde::Deserialize;

use super::{RunDir, Status, meta};
use crate::error::Error;
use crate::options::{Flags, Mode, Options, ReleaseMode};
use crate::release::Release;
use crate::run::{Code, Job};

#[derive(Deserialize)]
struct Kept {
    argv: Vec<String>,
}

/// How a command line is parsed (`cli`, which the dispatcher hands down: the command line
/// sits below the modes).
pub(crate) type Parse<'a> = &'a dyn Fn(Vec<String>) -> Result<Options, Error>;

/// `--resume ID`, with the flags it was given (`-C`, `-t`'s announcement, a new `--reason`).
/// The exit code of `--detach`.
pub(crate) fn resume(
    release: &Release,
    id: &str,
    flags: &Flags,
    parse: Parse<'_>,
) -> Result<i32, Error> {
    let (run, meta) = super::find(release, id)?;
    resumable(&run, &meta)?;
    let (mode, mut same) = kept(&run, parse)?;
    same.release.dir.clone_from(&flags.release.dir);
    same.announce.clone_from(&flags.announce);
    if flags.run.reason.is_some() {
        same.run.reason.clone_from(&flags.run.reason);
    }
    // The release as the run saw it: its stage and env files.
    let release = Release::open(&same.release, std::env::vars_os().collect())?;
    let (code, args) = match &mode {
        ReleaseMode::Script { script, args } => (Code::Script(script.clone()), args.clone()),
        ReleaseMode::Eval { code, args } => (Code::Eval(code.clone()), args.clone()),
        _ => return Err(damaged(&run, "it names no script")),
    };
    let job = Job {
        code,
        args,
        allow_outside_release: same.run.allow_outside_release,
        json: false,
        options: same.run.clone(),
        detached: None,
    };
    crate::log::err_line(&format!("adminsh: resuming run {}", run.id));
    let (code, started) = super::start::start(&release, &mode, &same, &job, Some(&run.id))?;
    if let Some(new) = started {
        let mut meta = run.load()?;
        meta.resumed_as = Some(new);
        meta::save(&run.meta_path(), &meta)?;
        // The new run keeps its own; this one's (secrets included) is not needed again.
        let _ = std::fs::remove_file(run.resume_path());
    }
    Ok(code)
}

/// Refuses a run that is not paused, or was resumed already.
fn resumable(run: &RunDir, meta: &super::Meta) -> Result<(), Error> {
    let id = &run.id;
    let refuse = |why: String| Err(Error::Failed(anyhow::anyhow!("{why}")));
    match run.status(meta) {
        Status::Ended { outcome, .. } if outcome == "paused" => {}
        Status::Ended { outcome, code } => {
            return refuse(format!(
                "run {id} ended {outcome} (exit {code}), not paused: only a paused run is \
                 resumed; running its script again (`--detach`) resumes after the steps it completed"
            ));
        }
        Status::Lost { .. } => {
            return refuse(format!(
                "run {id} was lost, not paused: running its script again resumes after the steps it completed"
            ));
        }
        Status::Starting | Status::Running { .. } => {
            return refuse(format!("run {id} is running: there is nothing to resume"));
        }
    }
    if let Some(new) = &meta.resumed_as {
        return refuse(format!(
            "run {id} was resumed already, as run {new} (`--resume {new}` if that one paused too)"
        ));
    }
    Ok(())
}

/// The paused run's command line, parsed as it was.
fn kept(run: &RunDir, parse: Parse<'_>) -> Result<(ReleaseMode, Flags), Error> {
    let Some(text) = super::read_private(&run.resume_path(), 1 << 20) else {
        return Err(Error::Failed(anyhow::anyhow!(
            "run {} kept no command line to resume with ({} is missing): run its script again \
             with the same arguments (`--detach`), and it resumes from its checkpoint",
            run.id,
            run.resume_path().display()
        )));
    };
    let kept: Kept = serde_json::from_str(&text).map_err(|e| damaged(run, &e.to_string()))?;
    let options = parse(kept.argv).map_err(|e| damaged(run, &e.to_string()))?;
    match options.mode {
        Mode::Release(mode) => Ok((mode, options.flags)),
        _ => Err(damaged(run, "it names no script")),
    }
}

fn damaged(run: &RunDir, why: &str) -> Error {
    Error::Failed(anyhow::anyhow!(
        "run {}: {} is not a command line adminsh can resume: {}",
        run.id,
        run.resume_path().display(),
        why.trim()
    ))
}
