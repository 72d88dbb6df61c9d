//! Which shards of a sharded run (`--shards N`) have finished, kept so that the same command
//! run again starts only the others, under the same run id (their walks then resume, and split
//! the table as they did). Keyed like a checkpoint, by the script and its arguments (the
//! stage among them); removed when every shard has finished. One unfinished sharded run of a
//! script and arguments at a time: the same command with another number of shards is refused
//! until that run finishes or `--restart` starts anew, since other slices and other cursors
//! would walk again what it did.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Kept {
    run: String,
    /// How many shards the run has.
    count: u32,
    finished: BTreeSet<u32>,
}

/// A sharded run's record of its finished shards.
#[derive(Debug)]
pub(crate) struct ShardRun {
    /// Where it is kept; `None` when nothing is (a dry run).
    path: Option<PathBuf>,
    kept: Kept,
}

impl ShardRun {
    /// The record of `script` run with `args` in `count` shards: the one an earlier run left,
    /// when `resume` and there is one, else a new run id with no shard finished. `keep`: saved
    /// as it changes. A record that cannot be read starts anew, said as a warning. An error
    /// when an earlier run's record in another number of shards is kept: why, and what to do.
    pub(crate) fn open(
        state_dir: &Path,
        script: &str,
        args: &[String],
        count: u32,
        keep: bool,
        resume: bool,
    ) -> Result<(ShardRun, Option<String>), String> {
        let path = path(state_dir, script, args);
        let mut warning = None;
        let found = if resume {
            match std::fs::read_to_string(&path) {
                Ok(text) => serde_json::from_str::<Kept>(&text)
                    .map_err(|e| {
                        warning = Some(format!(
                            "{} cannot be read ({e}): every shard runs",
                            path.display()
                        ));
                    })
                    .ok(),
                Err(_) => None,
            }
        } else {
            None
        };
        if let Some(earlier) = &found
            && earlier.count != count
        {
            return Err(format!(
                "an unfinished run of this script with these arguments in {} shards ({} of them finished) is kept in {}: run it again with --shards {} to finish it, or pass --restart to start anew in {count} shards",
                earlier.count,
                earlier.finished.len(),
                path.display(),
                earlier.count
            ));
        }
        let kept = found.unwrap_or_else(|| Kept {
            run: uuid::Uuid::new_v4().simple().to_string(),
            count,
            finished: BTreeSet::new(),
        });
        let run = ShardRun {
            path: keep.then_some(path),
            kept,
        };
        Ok((run, warning))
    }

    /// The sharded run's id, which every shard is given.
    pub(crate) fn id(&self) -> &str {
        &self.kept.run
    }

    /// The shards an earlier run finished.
    pub(crate) fn finished(&self) -> &BTreeSet<u32> {
        &self.kept.finished
    }

    /// Shard `index` finished; saved at once.
    pub(crate) fn finish(&mut self, index: u32) -> Result<()> {
        self.kept.finished.insert(index);
        self.save()
    }

    pub(crate) fn save(&self) -> Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let text = serde_json::to_string_pretty(&self.kept)?;
        super::write_atomically(path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))
    }

    /// Every shard finished: nothing is left to resume.
    pub(crate) fn clear(&self) -> Result<()> {
        match &self.path {
            Some(path) => match std::fs::remove_file(path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(e).with_context(|| format!("cannot remove {}", path.display()))
                }
                _ => Ok(()),
            },
            None => Ok(()),
        }
    }
}

fn path(state_dir: &Path, script: &str, args: &[String]) -> PathBuf {
    let key = std::iter::once(script.to_owned())
        .chain(args.iter().cloned())
        .collect::<Vec<_>>()
        .join("\0");
    let name = super::lock::file_name(script);
    let hash = crate::hash::fnv(key.as_bytes());
    state_dir
        .join("shards")
        .join(format!("{name}-{hash:016x}.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(dir: &Path, args: &[String], count: u32, resume: bool) -> Result<ShardRun, String> {
        ShardRun::open(dir, "/app/s.rhai", args, count, true, resume).map(|(run, _)| run)
    }

    #[test]
    fn a_run_again_keeps_its_id_and_finished_shards_until_all_finish() {
        let dir = tempfile::tempdir().unwrap();
        let args = vec!["--limit=5".to_owned()];
        let mut first = open(dir.path(), &args, 4, true).unwrap();
        first.save().unwrap();
        first.finish(2).unwrap();
        let (again, warning) =
            ShardRun::open(dir.path(), "/app/s.rhai", &args, 4, true, true).unwrap();
        assert_eq!(warning, None);
        assert_eq!(again.id(), first.id());
        assert_eq!(again.finished().iter().copied().collect::<Vec<_>>(), [2]);
        // Other arguments: a run of its own.
        let other = open(dir.path(), &[], 4, true).unwrap();
        assert_ne!(other.id(), first.id());
        assert!(other.finished().is_empty());
        // Another number of shards: refused while the run is unfinished, saying how to go on.
        let refused = open(dir.path(), &args, 3, true).unwrap_err();
        assert!(
            refused.starts_with(
                "an unfinished run of this script with these arguments in 4 shards (1 of them finished) is kept in "
            ) && refused.ends_with(
                ": run it again with --shards 4 to finish it, or pass --restart to start anew in 3 shards"
            ),
            "{refused}"
        );
        // --restart: a new run in 3 shards, which the record is now.
        let restarted = open(dir.path(), &args, 3, false).unwrap();
        restarted.save().unwrap();
        assert_ne!(restarted.id(), first.id());
        assert!(open(dir.path(), &args, 4, true).is_err());
        assert_eq!(
            open(dir.path(), &args, 3, true).unwrap().id(),
            restarted.id()
        );
        // Every shard finished: the record goes, and the next run is a new one.
        restarted.clear().unwrap();
        let after = open(dir.path(), &args, 4, true).unwrap();
        assert_ne!(after.id(), restarted.id());
    }

    #[test]
    fn a_record_that_cannot_be_read_starts_anew_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let run = open(dir.path(), &[], 2, true).unwrap();
        run.save().unwrap();
        std::fs::write(path(dir.path(), "/app/s.rhai", &[]), "{oops").unwrap();
        let (again, warning) =
            ShardRun::open(dir.path(), "/app/s.rhai", &[], 2, true, true).unwrap();
        assert!(again.finished().is_empty());
        assert!(warning.unwrap().contains("cannot be read"));
    }

    #[test]
    fn clearing_a_record_already_gone_is_fine_and_one_that_cannot_go_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let (run, _) = ShardRun::open(dir.path(), "/app/s.rhai", &[], 2, true, true).unwrap();
        run.save().unwrap();
        run.clear().unwrap();
        run.clear().unwrap();
        // Where the record would be, a directory: not removed, and said.
        std::fs::create_dir_all(path(dir.path(), "/app/s.rhai", &[])).unwrap();
        let error = run.clear().unwrap_err();
        assert!(
            format!("{error:#}").starts_with("cannot remove "),
            "{error:#}"
        );
    }

    #[test]
    fn a_dry_run_keeps_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (mut run, _) = ShardRun::open(dir.path(), "/app/s.rhai", &[], 2, false, true).unwrap();
        run.finish(0).unwrap();
        assert!(!dir.path().join("shards").exists());
    }
}
