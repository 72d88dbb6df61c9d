//! The audit log: one JSON line when an admin process starts and one when it finishes, appended
//! to `.adminsh/audit.jsonl` (or the manifest's `audit_log`, or `$ADMINSH_AUDIT_LOG`), flushed to
//! disk each time. Who ran what, against which release, and what happened; secrets masked.
//! A start line without a finish line is a process that was killed.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::error::{Ending, Error};
use crate::record::CommandRecord;
use crate::release::Redactor;
use crate::state::Step;

mod table;
pub(crate) use table::{HEADER, rows, run_error, table};

/// The first line of an admin process.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Start {
    pub event: String,
    pub id: String,
    pub time: String,
    pub user: String,
    pub host: String,
    pub root: String,
    pub version: Option<String>,
    pub stage: String,
    /// `script`, `eval` or `console`.
    pub kind: String,
    pub script: Option<String>,
    pub script_sha256: Option<String>,
    pub args: Vec<String>,
    pub reason: Option<String>,
    pub dry_run: bool,
    /// The detached run this admin process is (`--detach`): its id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// The shard of a sharded run this admin process is: `2/4`, and the sharded run's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sharded_run: Option<String>,
}

/// The last line of an admin process.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Finish {
    pub event: String,
    pub id: String,
    pub time: String,
    /// `success`, `failure`, `interrupted`, `paused`.
    pub outcome: String,
    pub exit_code: i32,
    pub duration_ms: u64,
    pub commands: Vec<Command>,
    pub steps: Vec<Step>,
    pub error: Option<String>,
    /// adminsh's outputs whose reader went away during the run (`stdout`, `stderr`): what it
    /// wrote there afterwards was lost, though the run went on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lost_output: Vec<String>,
}

/// An action taken on the runs from the web view (`adminsh --ui --allow-actions`): who, on
/// what, and how it went. A line of its own, beside the start and finish lines of the runs it
/// starts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Action {
    pub event: String,
    pub id: String,
    pub time: String,
    pub user: String,
    pub host: String,
    pub root: String,
    pub stage: String,
    /// `start`, `pause`, `resume`, `stop`.
    pub action: String,
    /// The run acted on, or the run an action started.
    pub run: Option<String>,
    /// The script started, with its arguments (secrets masked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub what: Option<String>,
    pub reason: Option<String>,
    /// What came of it: `done`, or why not.
    pub result: String,
    /// Where it was asked: `ui`.
    pub via: String,
}

impl Action {
    /// Appends the line (to the disk too when `durable`); a log that cannot be written is a
    /// warning, as for a run's finish line.
    pub(crate) fn append(&self, path: &Path, durable: bool) -> Result<()> {
        AuditLog::open(path, durable)?.append(self)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Command {
    pub argv: Vec<Vec<String>>,
    pub status: Option<i32>,
    pub duration_ms: u64,
    /// A database statement (std/db): the SQL, its parameters, the rows affected, any error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

pub(crate) struct AuditLog {
    path: PathBuf,
    file: File,
    /// Also force each line to the disk (`fdatasync`), not only to the kernel: survives a
    /// machine crash, not just a killed process, at a cost of a disk round trip per line.
    durable: bool,
}

impl AuditLog {
    /// Opens the log for appending, creating it (and its directory) if needed.
    pub(crate) fn open(path: &Path, durable: bool) -> Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open the audit log {}", path.display()))?;
        Ok(AuditLog {
            path: path.to_path_buf(),
            file,
            durable,
        })
    }

    /// Appends one record as one line, flushed to the kernel at once (and to the disk when
    /// durable); a line that cannot be written whole (a full disk) is not written at all.
    pub(crate) fn append(&mut self, record: &impl Serialize) -> Result<()> {
        let mut line = serde_json::to_string(record)?;
        line.push('\n');
        append_line(&mut self.file, line.as_bytes(), self.durable)
            .with_context(|| format!("cannot write the audit log {}", self.path.display()))
    }
}

/// Appends `line` whole or not at all. One write of the whole line, so appends from several
/// processes do not interleave; a short write (the disk filled up mid-line) or a failed sync is
/// taken back by truncating the file to where the line began, so the log stays as it was. A
/// log whose last line was cut short before (by an older adminsh, a crash) gets a newline
/// first, so this record is not glued onto the damaged one.
fn append_line(file: &mut File, line: &[u8], durable: bool) -> std::io::Result<()> {
    use std::io::{Error, ErrorKind, Seek};
    use std::os::unix::fs::FileExt;
    let len = file.metadata()?.len();
    let mut last = [b'\n'];
    if len > 0 {
        file.read_exact_at(&mut last, len - 1)?;
    }
    let line: std::borrow::Cow<'_, [u8]> = if last[0] == b'\n' {
        line.into()
    } else {
        [b"\n", line].concat().into()
    };
    let written = loop {
        match file.write(&line) {
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            other => break other?,
        }
    };
    // Appending leaves the file offset at the end of what this write added.
    let take_back = |file: &mut File, count: usize| {
        if let Ok(end) = file.stream_position() {
            let _ = file.set_len(end.saturating_sub(count as u64));
        }
    };
    if written < line.len() {
        take_back(file, written);
        return Err(Error::new(
            ErrorKind::StorageFull,
            format!(
                "only {written} of {} bytes could be written (is the disk full?); the line was taken back",
                line.len()
            ),
        ));
    }
    if durable && let Err(e) = file.sync_data() {
        take_back(file, written);
        return Err(e);
    }
    Ok(())
}

/// One admin process's pair of lines: `begin` writes the start line, `end` the finish line.
pub(crate) struct Trail {
    log: Option<AuditLog>,
    id: String,
    started: std::time::Instant,
}

/// What is starting, for the start line.
pub(crate) struct What<'a> {
    /// `script`, `eval` or `console`.
    pub kind: &'a str,
    /// The script's path and text.
    pub script: Option<(&'a str, &'a str)>,
    pub args: &'a [String],
    pub reason: Option<&'a str>,
    pub dry_run: bool,
    /// The id of the detached run this is, if it is one.
    pub run: Option<&'a str>,
    /// The shard of a sharded run this is, if it is one.
    pub shard: Option<&'a crate::shard::Shard>,
}

/// Where a release's audit log is: `$ADMINSH_AUDIT_LOG`, else the manifest's `audit_log`, else
/// `.adminsh/audit.jsonl` in the release.
pub(crate) fn path(release: &crate::release::Release) -> PathBuf {
    let from_env = release
        .config
        .borrow()
        .get("ADMINSH_AUDIT_LOG")
        .map(PathBuf::from);
    let configured = from_env.or_else(|| release.manifest.audit_log.clone());
    release
        .path()
        .join(configured.unwrap_or_else(|| PathBuf::from(".adminsh/audit.jsonl")))
}

impl Trail {
    /// Writes the start line. When the log cannot be written: an error if the manifest says
    /// `audit_required`, else a warning and no audit for this process.
    pub(crate) fn begin(release: &crate::release::Release, what: What<'_>) -> Result<Trail> {
        let id = new_id();
        let redactor = release.config.borrow().redactor().clone();
        let start = Start {
            event: "start".into(),
            id: id.clone(),
            time: crate::clock::now_rfc3339(),
            user: crate::who::user(),
            host: crate::who::host(),
            root: release.path().display().to_string(),
            version: release.identity().version.clone(),
            stage: release.stage.clone(),
            kind: what.kind.into(),
            script: what.script.map(|(path, _)| path.to_owned()),
            script_sha256: what.script.map(|(_, text)| sha256_hex(text.as_bytes())),
            args: redactor.words(what.args),
            reason: what.reason.map(|r| redactor.redact(r).into_owned()),
            dry_run: what.dry_run,
            run: what.run.map(str::to_owned),
            shard: what.shard.map(|s| format!("{}/{}", s.index + 1, s.count)),
            sharded_run: what.shard.map(|s| s.run.clone()),
        };
        // Where it matters most (production, or an audit the manifest requires), every line
        // also goes to the disk before anything runs.
        let durable = release.manifest.audit_required || release.is_dangerous();
        let written = AuditLog::open(&path(release), durable).and_then(|mut log| {
            log.append(&start)?;
            Ok(log)
        });
        let log = match written {
            Ok(log) => Some(log),
            Err(e) if release.manifest.audit_required => {
                return Err(e.context(
                    "the audit log is required (adminsh.toml `audit_required`), so nothing runs",
                ));
            }
            Err(e) => {
                crate::log::warn(&format!("{e:#}; this run is not audited"));
                None
            }
        };
        Ok(Trail {
            log,
            id,
            started: std::time::Instant::now(),
        })
    }

    /// Writes the finish line: the outcome and what ran.
    pub(crate) fn end(mut self, ran: &Ran<'_>) {
        let Some(log) = &mut self.log else { return };
        let exit_code = ran.ending.map_or(0, Ending::code);
        let outcome = match (ran.ending, exit_code) {
            (Some(Ending::Interrupted(_)), _) => "interrupted",
            (Some(Ending::Paused(_)), _) => "paused",
            (_, 0) => "success",
            _ => "failure",
        };
        let finish = Finish {
            event: "finish".into(),
            id: self.id.clone(),
            time: crate::clock::now_rfc3339(),
            outcome: outcome.into(),
            exit_code,
            duration_ms: millis(self.started.elapsed()),
            commands: ran
                .commands
                .iter()
                .map(|c| Command {
                    argv: c.stages.clone(),
                    status: c.status,
                    duration_ms: millis(c.duration),
                    sql: c
                        .statement
                        .as_ref()
                        .map(|s| ran.redactor.redact(&s.sql).into_owned()),
                    params: c.statement.as_ref().map(|s| ran.redactor.words(&s.params)),
                    rows: c.statement.as_ref().and_then(|s| s.rows),
                    error: c
                        .statement
                        .as_ref()
                        .and(c.error.as_ref())
                        .map(|e| ran.redactor.redact(e).into_owned()),
                })
                .collect(),
            steps: ran.steps.to_vec(),
            error: ran
                .ending
                .and_then(Ending::error)
                .map(|e| ran.redactor.redact(&e).into_owned()),
            lost_output: crate::log::lost().into_iter().map(str::to_owned).collect(),
        };
        if let Err(e) = log.append(&finish) {
            crate::log::warn(&format!("{e:#}"));
        }
    }
}

/// What an admin process did, for its finish line.
pub(crate) struct Ran<'a> {
    /// How it ended when it did not simply succeed.
    pub ending: Option<&'a Ending>,
    pub commands: &'a [CommandRecord],
    pub steps: &'a [Step],
    pub redactor: &'a Redactor,
}

fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The reason this admin process runs: `--reason`, or, where the manifest requires one for the
/// stage, asked for at the terminal; without a terminal a missing reason is a usage error.
pub(crate) fn reason(
    release: &crate::release::Release,
    given: Option<&str>,
) -> Result<Option<String>, Error> {
    let required = release
        .manifest
        .require_reason
        .iter()
        .any(|stage| stage == "*" || *stage == release.stage);
    match given {
        Some(reason) if !reason.trim().is_empty() => return Ok(Some(reason.to_owned())),
        _ if !required => return Ok(None),
        _ => {}
    }
    let refuse = || {
        Error::usage(format!(
            "stage {} requires a reason for every admin process: pass --reason \"...\"",
            release.stage
        ))
    };
    if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return Err(refuse());
    }
    let mut editor = rustyline::DefaultEditor::new().map_err(anyhow::Error::from)?;
    let answer = editor
        .readline(&format!(
            "Reason for this admin process on {}: ",
            release.stage
        ))
        .unwrap_or_default();
    if answer.trim().is_empty() {
        return Err(refuse());
    }
    Ok(Some(answer.trim().to_owned()))
}

/// A fresh id tying a start line to its finish line.
pub(crate) fn new_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{:x}-{:x}", now.as_micros(), std::process::id())
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    use std::fmt::Write as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the log holds after appending `line` to a file that held `before`.
    fn after_append(before: &[u8], line: &[u8]) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        std::fs::write(&path, before).unwrap();
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .open(&path)
            .unwrap();
        append_line(&mut file, line, false).unwrap();
        std::fs::read(&path).unwrap()
    }

    /// A record is appended as it is, except after a line an older writer left cut short:
    /// then a newline comes first, so the record is a line of its own.
    #[test]
    fn a_line_is_appended_whole_and_never_glued_to_a_cut_one() {
        assert_eq!(after_append(b"", b"{\"a\":1}\n"), b"{\"a\":1}\n");
        assert_eq!(
            after_append(b"{\"a\":1}\n", b"{\"b\":2}\n"),
            b"{\"a\":1}\n{\"b\":2}\n"
        );
        assert_eq!(
            after_append(b"{\"a\":1}\n{\"cut", b"{\"b\":2}\n"),
            b"{\"a\":1}\n{\"cut\n{\"b\":2}\n"
        );
    }
}
