//! A shard of a detached sharded run (`--detach --shards N`): a worker the run's process
//! started, which belongs to that run. It looks for the run's pause request after each batch,
//! as the run itself would, and writes how far its walk is in a progress file of its own
//! (`progress-shard-N.json`), which `--runs` and the web view add up with the others'.

use super::{RunDir, pause};
use crate::record::{StepRecord, WalkProgress};
use crate::release::Release;
use crate::run::DetachedRun;
use crate::session::Control;

pub(crate) struct ShardOfRun {
    run: RunDir,
    index: u32,
    /// How the run was reached (`adminsh -t production`), for what a pause suggests.
    via: String,
}

impl ShardOfRun {
    /// Shard `index` of detached run `id`.
    pub(crate) fn open(release: &Release, id: &str, index: u32) -> ShardOfRun {
        let run = RunDir {
            id: id.to_owned(),
            path: super::dir(release).join(id),
        };
        let via = run
            .load()
            .ok()
            .and_then(|m| m.via)
            .unwrap_or_else(|| "adminsh".to_owned());
        ShardOfRun { run, index, via }
    }
}

impl Control for ShardOfRun {
    fn pause_asked(&self) -> Option<String> {
        pause::asked(&self.run).map(|request| request.described())
    }

    fn walked(&self, progress: &WalkProgress) {
        if let Ok(mut text) = serde_json::to_string(progress) {
            text.push('\n');
            let _ = super::write_private(&self.run.shard_progress_path(self.index), &text);
        }
    }

    /// The run's steps are its shards'; `steps.json` is not written by each.
    fn stepped(&self, _step: &StepRecord) {}

    fn resume_command(&self) -> String {
        format!("{} --resume {}", self.via, self.run.id)
    }
}

impl DetachedRun for ShardOfRun {
    fn id(&self) -> &str {
        &self.run.id
    }

    /// The run's process has told `--detach` that it started.
    fn started(&self) {}
}

/// The walks of the shards as one: their items, batches, totals and rates added up, the time
/// left at that rate; walking while any walks.
pub(crate) fn combined(shards: &[WalkProgress]) -> Option<WalkProgress> {
    let first = shards.first()?;
    let done: u64 = shards.iter().map(|p| p.done).sum();
    let total = shards.iter().map(|p| p.total).sum::<Option<u64>>();
    let rate: f64 = shards.iter().filter(|p| p.walking).map(|p| p.rate).sum();
    let left = total
        .filter(|_| rate > 0.0)
        .map(|t| t.saturating_sub(done) as f64 / rate);
    Some(WalkProgress {
        walk: first.walk.clone(),
        unit: first.unit.clone(),
        done,
        batches: shards.iter().map(|p| p.batches).sum(),
        total,
        rate,
        elapsed: shards.iter().map(|p| p.elapsed).fold(0.0, f64::max),
        left,
        walking: shards.iter().any(|p| p.walking),
        samples: Vec::new(),
        updated: shards
            .iter()
            .map(|p| p.updated.clone())
            .max()
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(done: u64, total: Option<u64>, rate: f64, walking: bool) -> WalkProgress {
        WalkProgress {
            walk: "db::batches users".into(),
            unit: "rows".into(),
            done,
            batches: done / 100,
            total,
            rate,
            elapsed: done as f64 / rate.max(1.0),
            left: None,
            walking,
            samples: vec![[1.0, 1.0]],
            updated: format!("2026-12-07T21:00:0{}Z", done % 10),
        }
    }

    #[test]
    fn shards_add_up_to_one_walk() {
        assert!(combined(&[]).is_none());
        let all = combined(&[
            walk(1000, Some(4000), 100.0, true),
            walk(3000, Some(3000), 300.0, false),
            walk(500, Some(2500), 50.0, true),
        ])
        .unwrap();
        assert_eq!((all.done, all.batches, all.total), (4500, 45, Some(9500)));
        // The rate of the shards still walking: a finished one adds nothing more.
        assert!((all.rate - 150.0).abs() < 1e-9);
        assert!((all.left.unwrap() - 5000.0 / 150.0).abs() < 1e-9);
        assert!(all.walking);
        // One total unknown: no total, no time left.
        let unknown =
            combined(&[walk(10, None, 1.0, true), walk(10, Some(20), 1.0, true)]).unwrap();
        assert_eq!((unknown.total, unknown.left), (None, None));
        let over = combined(&[walk(10, Some(10), 5.0, false)]).unwrap();
        assert!(!over.walking);
    }
}
