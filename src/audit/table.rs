//! `adminsh --audit`: the last admin processes of the audit log as a table, one row per start
//! line with the outcome of its finish line. A line that is no readable record (cut short by
//! a full disk or a crash) is skipped with a warning; the others are shown.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result};

use super::{Action, Finish, Start};

/// The last `count` admin processes of a log, newest last, as table rows for `adminsh --audit`,
/// and a warning for each line that is no readable record (cut short by a full disk or a
/// crash): those are skipped, the others shown.
pub(crate) fn table(path: &Path, count: usize) -> Result<(String, Vec<String>)> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((
                format!("no audit log yet at {}\n", path.display()),
                Vec::new(),
            ));
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let log = Log::read(path, &String::from_utf8_lossy(&bytes));
    let mut rows = vec![HEADER.map(str::to_owned)];
    let shown = log.starts.len().saturating_sub(count);
    rows.extend(log.starts[shown..].iter().map(|start| log.row(start)));
    let mut out = String::new();
    for line in crate::table::plain(&rows) {
        out.push_str(&line);
        out.push('\n');
    }
    Ok((out, log.damaged))
}

/// The last `count` admin processes of a log (and actions taken from the web view), newest
/// last, each as the row `--audit` shows, with the warnings for damaged lines. No log yet is
/// no rows.
pub(crate) fn rows(path: &Path, count: usize) -> Result<(Vec<[String; 8]>, Vec<String>)> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let log = Log::read(path, &String::from_utf8_lossy(&bytes));
    let shown = log.starts.len().saturating_sub(count);
    let rows = log.starts[shown..]
        .iter()
        .map(|start| log.row(start))
        .collect();
    Ok((rows, log.damaged))
}

/// The error the detached run `run` ended with, as its finish line says (masked there).
pub(crate) fn run_error(path: &Path, run: &str) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    let log = Log::read(path, &String::from_utf8_lossy(&bytes));
    let start =
        log.starts.iter().rev().find(|s| {
            matches!(s.kind.as_str(), "script" | "eval") && s.run.as_deref() == Some(run)
        })?;
    log.finishes.get(&start.id)?.error.clone()
}

/// The columns of `--audit`.
pub(crate) const HEADER: [&str; 8] = [
    "STARTED", "USER", "STAGE", "WHAT", "OUTCOME", "EXIT", "TIME", "REASON",
];

/// The records of an audit log: its start lines in order, its finish lines by id, and a
/// warning for each line that is neither.
struct Log {
    starts: Vec<Start>,
    finishes: HashMap<String, Finish>,
    damaged: Vec<String>,
}

impl Log {
    /// The records in `text`, the log at `path`.
    fn read(path: &Path, text: &str) -> Log {
        let mut log = Log {
            starts: Vec::new(),
            finishes: HashMap::new(),
            damaged: Vec::new(),
        };
        for (number, line) in text.lines().enumerate() {
            if !line.trim().is_empty() && !log.take(line) {
                log.damaged.push(damaged_line(path, number + 1, line));
            }
        }
        log
    }

    /// Keeps the record on `line`; false when the line is no readable record.
    fn take(&mut self, line: &str) -> bool {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else {
            return false;
        };
        match value["event"].as_str() {
            Some("start") => serde_json::from_value(value)
                .map(|start| self.starts.push(start))
                .is_ok(),
            Some("finish") => serde_json::from_value::<Finish>(value)
                .map(|finish| self.finishes.insert(finish.id.clone(), finish))
                .is_ok(),
            Some("action") => serde_json::from_value::<Action>(value)
                .map(|action| self.take_action(action))
                .is_ok(),
            // A record of a kind this adminsh does not know is no damage.
            Some(_) => true,
            None => false,
        }
    }

    /// An action from the web view, as a row of its own: its start, and its result as the
    /// finish.
    fn take_action(&mut self, action: Action) {
        let what = std::iter::once(format!("--ui {}", action.action))
            .chain(action.run.clone())
            .chain(action.what.clone())
            .collect::<Vec<_>>()
            .join(" ");
        self.finishes.insert(
            action.id.clone(),
            Finish {
                event: "finish".into(),
                id: action.id.clone(),
                time: action.time.clone(),
                outcome: action.result,
                exit_code: 0,
                duration_ms: 0,
                commands: Vec::new(),
                steps: Vec::new(),
                error: None,
                lost_output: Vec::new(),
            },
        );
        self.starts.push(Start {
            event: "start".into(),
            id: action.id,
            time: action.time,
            user: action.user,
            host: action.host,
            root: action.root,
            version: None,
            stage: action.stage,
            kind: what,
            script: None,
            script_sha256: None,
            args: Vec::new(),
            reason: action.reason,
            dry_run: false,
            run: action.run,
            shard: None,
            sharded_run: None,
        });
    }

    /// The row of one admin process: its start line with the outcome of its finish line.
    fn row(&self, start: &Start) -> [String; 8] {
        let (outcome, exit, time) = match self.finishes.get(&start.id) {
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
        [
            start.time.clone(),
            format!("{}@{}", start.user, start.host),
            start.stage.clone(),
            what(start),
            outcome,
            exit,
            time,
            start.reason.clone().unwrap_or_default(),
        ]
    }
}

/// What an admin process ran: its script's name and arguments, or its kind (`eval`, `console`).
fn what(start: &Start) -> String {
    match &start.script {
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
    }
}

/// The warning for a line of the log that is no readable record, with its start.
fn damaged_line(path: &Path, number: usize, line: &str) -> String {
    const SHOWN: usize = 60;
    let start: String = line.chars().take(SHOWN).collect();
    let more = if line.chars().count() > SHOWN {
        "..."
    } else {
        ""
    };
    format!(
        "{}:{number}: a damaged line, not a whole record (cut short by a full disk or a crash?); skipped: {start}{more}",
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damaged_lines_are_flagged_and_the_rest_shown() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("audit.jsonl");
        let start = r#"{"event":"start","id":"a","time":"T","user":"u","host":"h","root":"/r","version":null,"stage":"production","kind":"eval","script":null,"script_sha256":null,"args":[],"reason":null,"dry_run":false}"#;
        let finish = r#"{"event":"finish","id":"a","time":"T","outcome":"success","exit_code":0,"duration_ms":1200,"commands":[],"steps":[],"error":null}"#;
        let text = format!(
            "{start}\n{{\"event\":\"start\",\"id\":\"b\n\u{fffd}\n{{\"event\":\"future\"}}\n{finish}\n"
        );
        std::fs::write(&log, text).unwrap();
        let (table, damaged) = table(&log, 20).unwrap();
        assert_eq!(
            table,
            "STARTED  USER  STAGE       WHAT  OUTCOME  EXIT  TIME  REASON\nT        u@h   production  eval  success  0     1.2s\n"
        );
        assert_eq!(damaged.len(), 2, "{damaged:?}");
        assert!(
            damaged[0].contains("audit.jsonl:2: a damaged line"),
            "{damaged:?}"
        );
        assert!(damaged[1].contains("audit.jsonl:3: "), "{damaged:?}");
    }
}
