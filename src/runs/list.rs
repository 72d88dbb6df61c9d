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

/// A run's STATUS and EXIT: `running (pid N)`, with how far its walk is while it walks
/// (`running (pid N), 1200 rows, 40%`: a sharded run's shards added up), `pausing (pid N)`
/// once a pause was asked, `paused` (`paused, resumed as ID` once resumed), how it ended, or
/// `lost`.
pub(crate) fn shown(run: &RunDir, meta: &Meta) -> (String, String) {
    match run.status(meta) {
        Status::Starting => ("starting".to_owned(), "-".to_owned()),
        Status::Running { pid } if super::pause::asked(run).is_some() => {
            (format!("pausing (pid {pid})"), "-".to_owned())
        }
        Status::Running { pid } => (
            format!("running (pid {pid}){}", walked(run)),
            "-".to_owned(),
        ),
        Status::Ended { outcome, code } => match &meta.resumed_as {
            Some(new) if outcome == "paused" => {
                (format!("paused, resumed as {new}"), code.to_string())
            }
            _ => (outcome, code.to_string()),
        },
        Status::Lost { .. } => ("lost".to_owned(), "-".to_owned()),
    }
}

/// `, 1200 rows, 40%` while the run walks; nothing otherwise.
fn walked(run: &RunDir) -> String {
    let Some(progress) = run.progress().filter(|p| p.walking) else {
        return String::new();
    };
    let share = progress
        .total
        .filter(|t| *t > 0)
        .map_or(String::new(), |t| {
            format!(", {}%", (progress.done.saturating_mul(100) / t).min(100))
        });
    format!(", {} {}{share}", progress.done, progress.unit)
}
