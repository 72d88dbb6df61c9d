//! `adminsh --audit`: the last admin processes of the audit log as a table, one row per start
//! line with the outcome of its finish line. A line that is no readable record (cut short by
//! a full disk or a crash) is skipped with a warning; the others are shown.

use std::path::Path;

use anyhow::{Context, Result};

use super::{Finish, Start};

/// The last `count` admin processes of a log, newest last, as table rows for `adminsh --audit`,
/// and a warning for each line that is no readable record (cut short by a full disk or a
/// crash): those are skipped, the others shown.
#[allow(clippy::too_many_lines, reason = "to be split into rows or steps")]
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
    let text = String::from_utf8_lossy(&bytes);
    let mut starts: Vec<Start> = Vec::new();
    let mut finishes = std::collections::HashMap::new();
    let mut damaged = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: Option<serde_json::Value> = serde_json::from_str(line).ok();
        let event = value.as_ref().and_then(|v| v["event"].as_str());
        let read = match (event, value.clone()) {
            (Some("start"), Some(value)) => serde_json::from_value(value)
                .map(|start| starts.push(start))
                .is_ok(),
            (Some("finish"), Some(value)) => serde_json::from_value::<Finish>(value)
                .map(|finish| finishes.insert(finish.id.clone(), finish))
                .is_ok(),
            // A record of a kind this adminsh does not know is no damage.
            (Some(_), Some(_)) => true,
            _ => false,
        };
        if !read {
            damaged.push(damaged_line(path, number + 1, line));
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
    let mut out = String::new();
    for line in crate::table::plain(&rows) {
        out.push_str(&line);
        out.push('\n');
    }
    Ok((out, damaged))
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
