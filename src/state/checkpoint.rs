//! Step checkpoints: which steps of a script run (its path and arguments) have completed, so a
//! re-run after a failure resumes at the step that failed. Written atomically (temp file,
//! fsync, rename): a kill at any moment leaves the old checkpoint or the new one, never half;
//! the temp file a kill leaves behind is swept away by the next write.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Checkpoint {
    pub script: String,
    pub args: Vec<String>,
    pub steps: Vec<DoneStep>,
    /// Where a loop of the step that was running stopped (`db::batches`' last committed key),
    /// by `step number:step name:loop`: a re-run resumes the step there.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub cursors: std::collections::BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct DoneStep {
    pub name: String,
    /// A hash of the step's code: an edited step no longer counts as done.
    pub code: String,
    pub finished_at: String,
    pub duration_ms: u64,
}

/// The checkpoint file of one script run, keyed by the script and its arguments.
pub(crate) fn path(state_dir: &Path, script: &str, args: &[String]) -> PathBuf {
    let key = std::iter::once(script)
        .chain(args.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join("\0");
    let name = super::lock::file_name(script);
    let hash = crate::hash::fnv(key.as_bytes());
    state_dir.join(format!("{name}-{hash:016x}.json"))
}

pub(crate) fn load(path: &Path) -> Result<Option<Checkpoint>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    serde_json::from_str(&text).map(Some).with_context(|| {
        format!(
            "{} is not a checkpoint adminsh can read; delete it or pass --restart",
            path.display()
        )
    })
}

pub(crate) fn save(path: &Path, checkpoint: &Checkpoint) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        sweep(dir);
    }
    let text = serde_json::to_string_pretty(checkpoint)?;
    super::write_atomically(path, text.as_bytes())
        .with_context(|| format!("cannot write checkpoint {}", path.display()))
}

/// Saves a checkpoint whose only change is where a loop of the running step got to: an older
/// one after a machine crash does a batch again (see `write_atomically_keeping_old_on_crash`).
pub(crate) fn save_progress(path: &Path, checkpoint: &Checkpoint) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(checkpoint)?;
    super::files::write_atomically_keeping_old_on_crash(path, text.as_bytes())
        .with_context(|| format!("cannot write checkpoint {}", path.display()))
}

/// How old a checkpoint's temp file must be to go even when its process may be alive (its
/// pid reused): a write takes milliseconds.
const STALE_AFTER: std::time::Duration = std::time::Duration::from_mins(10);

/// Removes the temp files of checkpoint writes that never finished (`.NAME.json.adminsh-PID.tmp`,
/// left by a run killed mid-write): those of a process that is gone, or older than
/// `STALE_AFTER`. Best effort: a file that cannot be removed stays.
pub(crate) fn sweep(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(temp_pid) else {
            continue;
        };
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_AFTER);
        if pid != std::process::id() && (old || !alive(pid)) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The pid in the name of a checkpoint's temp file.
fn temp_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let (target, pid) = rest.rsplit_once(".adminsh-")?;
    // Checkpoints are `NAME-HASH.json`, as `path` names them.
    let checkpoint = Path::new(target).extension().is_some_and(|e| e == "json");
    checkpoint.then(|| pid.parse().ok()).flatten()
}

/// Whether process `pid` exists (one of another user counts).
fn alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let found = unsafe { libc::kill(pid, 0) } == 0;
    found || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

pub(crate) fn clear(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove checkpoint {}", path.display()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_keys() {
        let dir = tempfile::tempdir().unwrap();
        let args = vec!["2026-11".to_owned()];
        let p = path(dir.path(), "/app/scripts/migrate.rhai", &args);
        assert_ne!(p, path(dir.path(), "/app/scripts/migrate.rhai", &[]));
        assert_eq!(load(&p).unwrap(), None);
        let checkpoint = Checkpoint {
            script: "/app/scripts/migrate.rhai".into(),
            args,
            steps: vec![DoneStep {
                name: "backup".into(),
                code: "abc".into(),
                finished_at: "2026-11-25T02:30:00Z".into(),
                duration_ms: 12,
            }],
            cursors: std::collections::BTreeMap::new(),
        };
        save(&p, &checkpoint).unwrap();
        assert_eq!(load(&p).unwrap(), Some(checkpoint));
        std::fs::write(&p, "{ half").unwrap();
        assert!(load(&p).unwrap_err().to_string().contains("pass --restart"));
        clear(&p).unwrap();
        clear(&p).unwrap();
    }

    #[test]
    fn temp_files_of_killed_writes_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        // No process has a pid this high (the kernel's limit is 2^22).
        let gone = format!(".x-0123.json.adminsh-{}.tmp", i32::MAX);
        let running = format!(".x-0123.json.adminsh-{}.tmp", std::process::id());
        let other = format!(".notes.txt.adminsh-{}.tmp", i32::MAX);
        for name in [&gone, &running, &other, &"x-0123.json".to_owned()] {
            std::fs::write(dir.path().join(name), "{").unwrap();
        }
        let p = dir.path().join("y-4567.json");
        save(&p, &Checkpoint::default()).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [other, running, "x-0123.json".into(), "y-4567.json".into()]
        );
        assert_eq!(temp_pid(".a.json.adminsh-12.tmp"), Some(12));
        assert_eq!(temp_pid(".a.json.adminsh-x.tmp"), None);
        assert_eq!(temp_pid("a.json.adminsh-12.tmp"), None);
    }
}
