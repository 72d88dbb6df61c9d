//! The audit log: one JSON line when an admin process starts and one when it finishes, appended
//! to `.adminsh/audit.jsonl` (or the manifest's `audit_log`, or `$ADMINSH_AUDIT_LOG`), flushed to
//! disk each time. Who ran what, against which release, and what happened; secrets masked.
//! A start line without a finish line is a process that was killed.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::error::{Ending, Error};
use crate::release::secrets::Redactor;
use crate::spawner::CommandRecord;
use crate::state::steps::Step;

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
}

/// The last line of an admin process.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Finish {
    pub event: String,
    pub id: String,
    pub time: String,
    /// `success`, `failure`, `interrupted`.
    pub outcome: String,
    pub exit_code: i32,
    pub duration_ms: u64,
    pub commands: Vec<Command>,
    pub steps: Vec<Step>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Command {
    pub argv: Vec<Vec<String>>,
    pub status: Option<i32>,
    pub duration_ms: u64,
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
    /// durable).
    pub(crate) fn append(&mut self, record: &impl Serialize) -> Result<()> {
        let mut line = serde_json::to_string(record)?;
        line.push('\n');
        // One write of the whole line: appends from several processes do not interleave.
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| {
                if self.durable {
                    self.file.sync_data()
                } else {
                    Ok(())
                }
            })
            .with_context(|| format!("cannot write the audit log {}", self.path.display()))
    }
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
            time: crate::state::now_rfc3339(),
            user: crate::state::user(),
            host: crate::state::host(),
            root: release.path().display().to_string(),
            version: release.identity().version.clone(),
            stage: release.stage.clone(),
            kind: what.kind.into(),
            script: what.script.map(|(path, _)| path.to_owned()),
            script_sha256: what.script.map(|(_, text)| sha256_hex(text.as_bytes())),
            args: what.args.iter().map(|a| redactor.redact(a)).collect(),
            reason: what.reason.map(|r| redactor.redact(r)),
            dry_run: what.dry_run,
            run: what.run.map(str::to_owned),
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
            (_, 0) => "success",
            _ => "failure",
        };
        let finish = Finish {
            event: "finish".into(),
            id: self.id.clone(),
            time: crate::state::now_rfc3339(),
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
                })
                .collect(),
            steps: ran.steps.to_vec(),
            error: ran
                .ending
                .and_then(Ending::error)
                .map(|e| ran.redactor.redact(&e)),
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

/// The last `count` admin processes of a log, newest last, as table rows for `adminsh --audit`.
pub(crate) fn table(path: &Path, count: usize) -> Result<String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(format!("no audit log yet at {}\n", path.display()));
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut starts: Vec<Start> = Vec::new();
    let mut finishes = std::collections::HashMap::new();
    for (number, line) in text.lines().enumerate() {
        let value: serde_json::Value = serde_json::from_str(line)
            .with_context(|| format!("{}:{}: not a JSON line", path.display(), number + 1))?;
        match value["event"].as_str() {
            Some("start") => starts.push(serde_json::from_value(value)?),
            Some("finish") => {
                let finish: Finish = serde_json::from_value(value)?;
                finishes.insert(finish.id.clone(), finish);
            }
            _ => {}
        }
    }
    let mut rows = vec![[
        "STARTED".to_owned(),
        "USER".to_owned(),
        "STAGE".to_owned(),
        "WHAT".to_owned(),
        "OUTCOME".to_owned(),
        "EXIT".to_owned(),
        "TIME".to_owned(),
        "REASON".to_owned(),
    ]];
    for start in starts.iter().skip(starts.len().saturating_sub(count)) {
        let what = match &start.script {
            Some(script) => {
                let name = Path::new(script)
                    .file_stem()
                    .map_or(script.clone(), |s| s.to_string_lossy().into_owned());
                std::iter::once(name)
                    .chain(start.args.iter().cloned())
                    .collect::<Vec<_>>()
                    .join(" ")
            }
            None => start.kind.clone(),
        };
        let (outcome, exit, time) = match finishes.get(&start.id) {
            Some(f) => (
                f.outcome.clone(),
                f.exit_code.to_string(),
                format!("{:.1}s", f.duration_ms as f64 / 1000.0),
            ),
            None => (
                "no finish (killed?)".to_owned(),
                "-".to_owned(),
                "-".to_owned(),
            ),
        };
        rows.push([
            start.time.clone(),
            format!("{}@{}", start.user, start.host),
            start.stage.clone(),
            what,
            outcome,
            exit,
            time,
            start.reason.clone().unwrap_or_default(),
        ]);
    }
    let widths: Vec<usize> = (0..8)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:w$}", w = widths[i]))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    Ok(out)
}
