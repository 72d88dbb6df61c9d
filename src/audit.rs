//! The audit log: one JSON line when an admin process starts and one when it finishes, appended
//! to `.adminsh/audit.jsonl` (or the manifest's `audit_log`, or `$ADMINSH_AUDIT_LOG`), flushed to
//! disk each time. Who ran what, against which release, and what happened; secrets masked.
//! A start line without a finish line is a process that was killed.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// The first line of an admin process.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Start {
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
}

/// The last line of an admin process.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finish {
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
pub struct Command {
    pub argv: Vec<Vec<String>>,
    pub status: Option<i32>,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Step {
    pub name: String,
    /// `done`, `skipped` (completed in an earlier run), `failed`.
    pub outcome: String,
    pub duration_ms: u64,
}

pub struct AuditLog {
    path: PathBuf,
    file: File,
}

impl AuditLog {
    /// Opens the log for appending, creating it (and its directory) if needed.
    pub fn open(path: &Path) -> Result<Self> {
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
        })
    }

    /// Appends one record as one line, and makes sure it reached the disk.
    pub fn append(&mut self, record: &impl Serialize) -> Result<()> {
        let mut line = serde_json::to_string(record)?;
        line.push('\n');
        // One write of the whole line: appends from several processes do not interleave.
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.sync_data())
            .with_context(|| format!("cannot write the audit log {}", self.path.display()))
    }
}

/// A fresh id tying a start line to its finish line.
pub fn new_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{:x}-{:x}", now.as_micros(), std::process::id())
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The last `count` admin processes of a log, newest last, as table rows for `adminsh --audit`.
pub fn table(path: &Path, count: usize) -> Result<String> {
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
