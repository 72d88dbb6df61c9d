//! `--runs`: the recent detached runs as a table, oldest first, with what each is doing now.

use std::io::Write;

use super::{Meta, RunDir, Status};
use crate::release::Release;

/// How many runs `--runs` shows.
const SHOWN: usize = 20;

pub(crate) fn list(release: &Release) -> i32 {
    let runs = super::all(release);
    let mut out = std::io::stdout().lock();
    if runs.is_empty() {
        let _ = writeln!(
            out,
            "no detached runs yet in {}",
            super::dir(release).display()
        );
        return 0;
    }
    let mut rows =
        vec![["ID", "STATUS", "EXIT", "STARTED", "ENDED", "USER", "WHAT"].map(str::to_owned)];
    for (run, meta) in runs.iter().skip(runs.len().saturating_sub(SHOWN)) {
        let (status, exit) = shown(run, meta);
        rows.push([
            run.id.clone(),
            status,
            exit,
            meta.started.clone(),
            meta.ended.clone().unwrap_or_else(|| "-".to_owned()),
            format!("{}@{}", meta.user, meta.host),
            meta.what(),
        ]);
    }
    for line in crate::table::plain(&rows) {
        if writeln!(out, "{line}").is_err() {
            break;
        }
    }
    0
}

/// A run's STATUS and EXIT: `running (pid N)`, `pausing (pid N)` once a pause was asked,
/// `paused` (`paused, resumed as ID` once resumed), how it ended, or `lost`.
pub(crate) fn shown(run: &RunDir, meta: &Meta) -> (String, String) {
    match run.status(meta) {
        Status::Starting => ("starting".to_owned(), "-".to_owned()),
        Status::Running { pid } if super::pause::asked(run).is_some() => {
            (format!("pausing (pid {pid})"), "-".to_owned())
        }
        Status::Running { pid } => (format!("running (pid {pid})"), "-".to_owned()),
        Status::Ended { outcome, code } => match &meta.resumed_as {
            Some(new) if outcome == "paused" => {
                (format!("paused, resumed as {new}"), code.to_string())
            }
            _ => (outcome, code.to_string()),
        },
        Status::Lost { .. } => ("lost".to_owned(), "-".to_owned()),
    }
}
