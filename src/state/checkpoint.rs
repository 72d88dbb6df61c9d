//! Step checkpoints: which steps of a script run (its path and arguments) have completed, so a
//! re-run after a failure resumes at the step that failed. Written atomically (temp file,
//! fsync, rename): a kill at any moment leaves the old checkpoint or the new one, never half.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Checkpoint {
    pub script: String,
    pub args: Vec<String>,
    pub steps: Vec<DoneStep>,
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
    let hash = super::fnv(key.as_bytes());
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
    }
    let text = serde_json::to_string_pretty(checkpoint)?;
    super::write_atomically(path, text.as_bytes())
        .with_context(|| format!("cannot write checkpoint {}", path.display()))
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
        };
        save(&p, &checkpoint).unwrap();
        assert_eq!(load(&p).unwrap(), Some(checkpoint));
        std::fs::write(&p, "{ half").unwrap();
        assert!(load(&p).unwrap_err().to_string().contains("pass --restart"));
        clear(&p).unwrap();
        clear(&p).unwrap();
    }
}
