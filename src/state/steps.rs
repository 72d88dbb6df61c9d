//! The steps of one run: which have started, which an earlier failed run completed (the
//! checkpoint they resume from), and what each did, for the audit log and the `--json` report.
//! A value of its own, so the step machinery needs no session and a test needs no release.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::checkpoint::{self, Checkpoint, DoneStep};

/// What one step did in this run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Step {
    pub name: String,
    /// `done`, `skipped` (completed in an earlier run), `failed`, `paused`.
    pub outcome: String,
    pub duration_ms: u64,
}

/// What `step()` should do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum StepStart {
    Skip { number: usize, finished_at: String },
    Run { number: usize, changed: bool },
}

/// The steps of a run and the checkpoint they resume from.
#[derive(Debug, Default)]
pub(crate) struct Steps {
    /// Where the checkpoint is kept; `None` for `-e` and the console, and in a dry run.
    path: Option<PathBuf>,
    checkpoint: Checkpoint,
    /// How many steps have started.
    started: usize,
    /// The first step that differed from the checkpoint: it and all after it run again.
    diverged: bool,
    /// The step running now, for dry-run listings.
    current: Option<String>,
    /// The walks in batches begun in the step running now, by name: a second walk of the same
    /// name in one step keeps its cursor apart as `name #2`.
    walks: std::collections::HashMap<String, usize>,
    log: Vec<Step>,
}

impl Steps {
    /// Keeps the checkpoint of `script` run with `args` (secrets already masked) under
    /// `state_dir`, resuming from the one an earlier run left unless `restart`.
    pub(crate) fn use_checkpoint(
        &mut self,
        state_dir: &Path,
        script: &str,
        args: &[String],
        shown_args: Vec<String>,
        restart: bool,
    ) -> anyhow::Result<()> {
        let path = checkpoint::path(state_dir, script, args);
        let found = if restart {
            None
        } else {
            checkpoint::load(&path)?
        };
        self.checkpoint = found.unwrap_or_else(|| Checkpoint {
            script: script.to_owned(),
            args: shown_args,
            steps: Vec::new(),
            cursors: std::collections::BTreeMap::new(),
        });
        self.path = Some(path);
        Ok(())
    }

    /// The run finished: its checkpoint has served its purpose.
    pub(crate) fn clear_checkpoint(&self) -> anyhow::Result<()> {
        match &self.path {
            Some(path) => checkpoint::clear(path),
            None => Ok(()),
        }
    }

    /// A step begins: skip it if it completed in an earlier run with the same code.
    pub(crate) fn start(&mut self, name: &str, code: &str) -> StepStart {
        let index = self.started;
        self.started += 1;
        let number = index + 1;
        let done = self.checkpoint.steps.get(index).cloned();
        let changed = match done {
            Some(done) if !self.diverged && done.name == name && done.code == code => {
                self.log.push(Step {
                    name: name.to_owned(),
                    outcome: "skipped".into(),
                    duration_ms: 0,
                });
                return StepStart::Skip {
                    number,
                    finished_at: done.finished_at,
                };
            }
            Some(_) if !self.diverged => {
                self.checkpoint.steps.truncate(index);
                self.checkpoint.cursors.clear();
                self.diverged = true;
                true
            }
            _ => false,
        };
        self.current = Some(name.to_owned());
        self.walks.clear();
        StepStart::Run { number, changed }
    }

    /// A step ended (`outcome`: `done`, `failed`, or `paused` at the end of a batch): log it
    /// and, when it is done, checkpoint it.
    pub(crate) fn end(
        &mut self,
        name: &str,
        code: &str,
        took: Duration,
        outcome: &str,
    ) -> anyhow::Result<()> {
        self.current = None;
        let duration_ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX);
        let ok = outcome == "done";
        self.log.push(Step {
            name: name.to_owned(),
            outcome: outcome.to_owned(),
            duration_ms,
        });
        // Once a step failed or diverged, later steps cannot be trusted as a prefix.
        let index = self.checkpoint.steps.len();
        if !ok || self.started != index + 1 {
            return Ok(());
        }
        // The step is done: where its loops stopped no longer matters.
        let done = format!("{}:{name}:", self.started);
        self.checkpoint
            .cursors
            .retain(|key, _| !key.starts_with(&done));
        self.checkpoint.steps.push(DoneStep {
            name: name.to_owned(),
            code: code.to_owned(),
            finished_at: crate::clock::now_rfc3339(),
            duration_ms,
        });
        match &self.path {
            Some(path) => checkpoint::save(path, &self.checkpoint),
            None => Ok(()),
        }
    }

    /// The name a walk in batches called `name` keeps its cursor under: `name` for the first
    /// of that name in the step running now, `name #2` for the second, and so on, so two walks
    /// over the same source in one step never take each other's place. A re-run of the step
    /// walks in the same order, so each finds its own.
    pub(crate) fn walk(&mut self, name: &str) -> String {
        let n = self.walks.entry(name.to_owned()).or_insert(0);
        *n += 1;
        if *n == 1 {
            name.to_owned()
        } else {
            format!("{name} #{n}")
        }
    }

    /// Where the loop `name` of the step running now stopped in an earlier run, if that run
    /// was killed or failed in this same step (its code unchanged).
    pub(crate) fn cursor(&self, name: &str) -> Option<serde_json::Value> {
        self.current.as_ref()?;
        self.checkpoint.cursors.get(&self.cursor_key(name)).cloned()
    }

    /// Saves where the loop `name` of the step running now has got to, in the checkpoint: at
    /// once (written atomically), so that a kill right after loses nothing. `false` when
    /// nothing can resume from it: no checkpoint (`-e`, the console, a dry run), no step
    /// running, or an earlier step of this run not checkpointed.
    pub(crate) fn save_cursor(
        &mut self,
        name: &str,
        value: serde_json::Value,
    ) -> anyhow::Result<bool> {
        let resumable = self.current.is_some() && self.started == self.checkpoint.steps.len() + 1;
        let Some(path) = self.path.clone().filter(|_| resumable) else {
            return Ok(false);
        };
        let key = self.cursor_key(name);
        self.checkpoint.cursors.insert(key, value);
        checkpoint::save_progress(&path, &self.checkpoint)?;
        Ok(true)
    }

    /// The key of the loop `name` of the step running now (all its loops: `name` empty).
    fn cursor_key(&self, name: &str) -> String {
        let step = self.current.as_deref().unwrap_or_default();
        format!("{}:{step}:{name}", self.started)
    }

    /// The step running now.
    pub(crate) fn current(&self) -> Option<&str> {
        self.current.as_deref()
    }

    /// The steps so far, in order.
    pub(crate) fn log(&self) -> &[Step] {
        &self.log
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_of_one_name_in_a_step_are_numbered_and_each_step_starts_again() {
        let mut steps = Steps::default();
        let _ = steps.start("one", "code");
        let names: Vec<String> = ["batches", "db::batches t", "batches", "batches"]
            .iter()
            .map(|n| steps.walk(n))
            .collect();
        assert_eq!(
            names,
            ["batches", "db::batches t", "batches #2", "batches #3"]
        );
        let _ = steps.start("two", "code");
        assert_eq!(steps.walk("batches"), "batches");
    }

    #[test]
    fn a_rerun_skips_the_completed_prefix_and_reruns_from_a_changed_step() {
        let dir = tempfile::tempdir().unwrap();
        let args = vec!["a".to_owned()];
        let mut first = Steps::default();
        first
            .use_checkpoint(dir.path(), "s", &args, args.clone(), false)
            .unwrap();
        assert_eq!(
            first.start("one", "c1"),
            StepStart::Run {
                number: 1,
                changed: false
            }
        );
        first.end("one", "c1", Duration::ZERO, "done").unwrap();
        assert_eq!(
            first.start("two", "c2"),
            StepStart::Run {
                number: 2,
                changed: false
            }
        );
        first.end("two", "c2", Duration::ZERO, "failed").unwrap();

        let mut again = Steps::default();
        again
            .use_checkpoint(dir.path(), "s", &args, args.clone(), false)
            .unwrap();
        assert!(matches!(
            again.start("one", "c1"),
            StepStart::Skip { number: 1, .. }
        ));
        assert_eq!(
            again.start("two", "changed"),
            StepStart::Run {
                number: 2,
                changed: false
            }
        );
        let outcomes: Vec<&str> = again.log().iter().map(|s| s.outcome.as_str()).collect();
        assert_eq!(outcomes, ["skipped"]);

        let mut changed = Steps::default();
        changed
            .use_checkpoint(dir.path(), "s", &args, args.clone(), false)
            .unwrap();
        assert_eq!(
            changed.start("one", "edited"),
            StepStart::Run {
                number: 1,
                changed: true
            }
        );
    }
}
