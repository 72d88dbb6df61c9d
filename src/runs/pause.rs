//! `--pause ID`: asks a detached run to pause. The run finishes the batch it is in, its cursor
//! saved, and ends with the outcome `paused` (exit 148); `--resume ID` goes on from there.
//!
//! The request is a file in the run directory (`pause`: who asked, and when), not a signal.
//! Nothing is sent to a process, so there is no pid to prove and no process that is not the
//! run can ever receive it; the run's own signal handling (Ctrl-C, `--stop`) is untouched; a
//! request made while the run is between walks waits there until the next batch ends; and
//! `--runs` can say that a pause was asked. The run looks for the file after each batch,
//! which costs one `open(2)` next to a batch's transaction. Only the run's user can write in
//! its directory (0700), as only that user could signal it.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::{RunDir, Status};
use crate::error::Error;
use crate::record::WalkProgress;
use crate::release::Release;

/// How long `--pause` waits for a run in a walk to finish its batch before it leaves it to.
const PATIENCE: Duration = Duration::from_secs(30);
const TICK: Duration = Duration::from_millis(50);

/// Who asked a run to pause, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PauseRequest {
    pub user: String,
    pub host: String,
    pub time: String,
}

impl PauseRequest {
    /// `ana@app1 at 2026-11-25T02:40:00Z`.
    pub(crate) fn described(&self) -> String {
        format!("{}@{} at {}", self.user, self.host, self.time)
    }
}

/// What a request to pause found.
pub(crate) enum Asked {
    /// The request is in place; the run's walk now, if it is in one.
    Yes(Option<WalkProgress>),
    /// The run is not running: what it is instead.
    Over(String),
}

/// Leaves the request to pause in a running run's directory, as `user@host` (the web view
/// passes its own user). Does not wait.
pub(crate) fn ask_pause(run: &RunDir, user: &str, host: &str) -> Result<Asked, Error> {
    let meta = run.load()?;
    match run.status(&meta) {
        Status::Ended { outcome, code } => {
            let ended = meta.ended.as_deref().unwrap_or("?");
            return Ok(Asked::Over(format!(
                "run {} already ended at {ended} ({outcome}, exit {code}): nothing to pause",
                run.id
            )));
        }
        Status::Lost { .. } => {
            return Ok(Asked::Over(format!(
                "nothing to pause: {}",
                super::follow::lost(run, &meta)
            )));
        }
        Status::Starting | Status::Running { .. } => {}
    }
    let request = PauseRequest {
        user: user.to_owned(),
        host: host.to_owned(),
        time: crate::clock::now_rfc3339(),
    };
    let mut text = serde_json::to_string(&request).map_err(anyhow::Error::from)?;
    text.push('\n');
    super::write_private(&run.pause_path(), &text)?;
    Ok(Asked::Yes(run.progress().filter(|p| p.walking)))
}

/// Who asked the run to pause, if someone has.
pub(crate) fn asked(run: &RunDir) -> Option<PauseRequest> {
    let text = super::read_private(&run.pause_path(), 4096)?;
    Some(
        serde_json::from_str(&text).unwrap_or_else(|_| PauseRequest {
            user: "someone".to_owned(),
            host: "?".to_owned(),
            time: "?".to_owned(),
        }),
    )
}

/// `--pause ID`: 0 once the request is in place (or the run is over already). `adminsh` is
/// how the operator reaches this release (`adminsh -t production`), for what it suggests.
pub(crate) fn pause(release: &Release, id: &str, adminsh: &str) -> Result<i32, Error> {
    let (run, _) = super::find(release, id)?;
    let walk = match ask_pause(&run, &crate::who::user(), &crate::who::host())? {
        Asked::Over(said) => {
            crate::log::err_line(&format!("adminsh: {said}"));
            return Ok(0);
        }
        Asked::Yes(walk) => walk,
    };
    let id = &run.id;
    let Some(walk) = walk else {
        crate::log::err_line(&format!(
            "adminsh: asked run {id} to pause; it is not in a batch walk now, so it pauses at the \
             end of the next batch it walks (`db::batches`, `batches`); a run that walks none \
             goes on to its end (`--stop` stops it)"
        ));
        return Ok(0);
    };
    crate::log::err_line(&format!(
        "adminsh: asked run {id} to pause: it finishes the batch it is in ({}: {} {} done so far), saves its cursor and ends...",
        walk.walk, walk.done, walk.unit
    ));
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        let meta = run.load()?;
        match run.status(&meta) {
            Status::Ended { outcome, code } => {
                crate::log::err_line(&ended(&run, &outcome, code, adminsh));
                return Ok(0);
            }
            Status::Lost { .. } => {
                crate::log::err_line(&format!("adminsh: {}", super::follow::lost(&run, &meta)));
                return Ok(0);
            }
            Status::Starting | Status::Running { .. } => std::thread::sleep(TICK),
        }
    }
    crate::log::err_line(&format!(
        "adminsh: run {id} is still in its batch after {}s; it pauses when the batch ends (`--runs` shows it)",
        PATIENCE.as_secs()
    ));
    Ok(0)
}

/// What `--pause` says once the run has ended.
fn ended(run: &RunDir, outcome: &str, code: i32, adminsh: &str) -> String {
    let id = &run.id;
    if outcome == "paused" {
        let done = run.progress().map_or(String::new(), |p| {
            format!(" after {} {} of {}", p.done, p.unit, p.walk)
        });
        format!("adminsh: run {id} paused{done}: `{adminsh} --resume {id}` goes on from there")
    } else {
        format!("adminsh: run {id} ended before it could pause ({outcome}, exit {code})")
    }
}
