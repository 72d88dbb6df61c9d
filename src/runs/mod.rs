//! Detached runs: a script (or `-e`) started with `--detach` runs in a session of its own,
//! detached from the terminal and the connection, and keeps a run directory in the release's
//! state dir, `runs/<id>/`. Listing, following and stopping a run only read that directory
//! (and signal the pid it names), so they work the same here and on a target (`-t`).
//!
//! | file | what it holds |
//! | --- | --- |
//! | `meta.json` | who started what, when, as which pid; at the end, the exit code and time |
//! | `output.log` | the run's stdout and stderr, in order; `output.log.1` the part before |
//! | `lock` | held (`flock`) by the run's process while it lives: free without an end record, the run was lost |
//! | `pause` | `--pause` asks the run to pause: who asked and when; the run looks after each batch |
//! | `progress.json` | how far the walk in batches running now has got, written by the run |
//! | `progress-shard-N.json` | the same, of each shard of a sharded run (`--shards`), added up when read |
//! | `steps.json` | the run's steps so far and how each went, written by the run |
//! | `resume` | the command line as given, secrets included, for `--resume`: kept only while the run runs or is paused |
//!
//! | module | what it does |
//! | --- | --- |
//! | `meta.rs` | `meta.json` |
//! | `output.rs` | the log: written with a size cap and one rotation, by a thread reading a pipe |
//! | `start.rs` | `--detach`: checks everything it can first, then starts the detached process |
//! | `child.rs` | the detached process's side: its lock, its output, its end record |
//! | `questions.rs` | finds the `confirm()` and `ask()` a detached run could not answer |
//! | `follow.rs` | `--logs` and `--attach` |
//! | `stop.rs` | `--stop` |
//! | `pause.rs` | `--pause`, and the run's side of it (who asked, how far its walk is) |
//! | `resume.rs` | `--resume`: a paused run's command line started again, detached |
//! | `shard.rs` | a worker of a sharded detached run: the run's pause request, a progress file of its own |
//! | `leftovers.rs` | the processes a run killed outright left running in its session |
//! | `list.rs` | `--runs` |

mod child;
mod follow;
mod leftovers;
mod list;
mod meta;
mod output;
mod pause;
mod questions;
mod resume;
mod shard;
mod start;
mod stop;

use std::fs::{File, TryLockError};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::error::Error;
use crate::release::Release;
use crate::suggest;

// The face: the modes and `remote/` call these, never a file of this folder.
pub(crate) use child::Detached;
pub(crate) use follow::{Follower, attach, left_running, logs};
pub(crate) use list::{list, shown};
pub(crate) use meta::{Meta, outcome_of};
pub(crate) use pause::{Asked, ask_pause, pause};
pub(crate) use resume::resume;
pub(crate) use shard::ShardOfRun;
#[cfg(test)]
pub(crate) use start::child_argv;
pub(crate) use start::detach;
pub(crate) use start::refuse_questions;
pub(crate) use stop::stop;

/// The folder of run directories, in the state dir.
const DIR: &str = "runs";
/// How many run directories are kept: starting a run removes the oldest ended ones beyond.
const KEEP: usize = 50;

/// Where a release keeps its runs.
/// Where `--pause` leaves its request for run `id`: a sharded run's process looks before it
/// starts each shard.
pub(crate) fn pause_path(release: &Release, id: &str) -> PathBuf {
    dir(release).join(id).join("pause")
}

pub(crate) fn dir(release: &Release) -> PathBuf {
    release.state_dir().join(DIR)
}

/// One run's directory.
#[derive(Debug, Clone)]
pub(crate) struct RunDir {
    pub id: String,
    pub path: PathBuf,
}

/// Where a run is in its life, as its directory tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Status {
    /// Created by `--detach`; its process has not taken its lock yet.
    Starting,
    Running {
        pid: u32,
    },
    /// It ended and recorded how.
    Ended {
        outcome: String,
        code: i32,
    },
    /// Its process is gone without recording an end (killed with SIGKILL, the machine went
    /// down): its steps are kept, a re-run resumes.
    Lost {
        pid: Option<u32>,
    },
}

impl Status {
    pub(crate) fn is_running(&self) -> bool {
        matches!(self, Status::Starting | Status::Running { .. })
    }
}

impl RunDir {
    pub(crate) fn meta_path(&self) -> PathBuf {
        self.path.join("meta.json")
    }

    pub(crate) fn output(&self) -> PathBuf {
        self.path.join("output.log")
    }

    /// The output before the last rotation.
    pub(crate) fn output_before(&self) -> PathBuf {
        self.path.join("output.log.1")
    }

    /// Room kept on the disk for the end record while the run lives.
    pub(crate) fn reserve_path(&self) -> PathBuf {
        self.path.join("reserve")
    }

    pub(crate) fn lock_path(&self) -> PathBuf {
        self.path.join("lock")
    }

    /// Where `--pause` leaves its request.
    pub(crate) fn pause_path(&self) -> PathBuf {
        self.path.join("pause")
    }

    /// How far the run's walk in batches has got.
    pub(crate) fn progress_path(&self) -> PathBuf {
        self.path.join("progress.json")
    }

    /// The run's steps so far.
    pub(crate) fn steps_path(&self) -> PathBuf {
        self.path.join("steps.json")
    }

    /// The run's steps so far, the one running last.
    pub(crate) fn steps(&self) -> Vec<crate::record::StepRecord> {
        read_private(&self.steps_path(), 1 << 20)
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default()
    }

    /// The command line `--resume` starts again.
    pub(crate) fn resume_path(&self) -> PathBuf {
        self.path.join("resume")
    }

    /// How far shard `index`'s walk has got, in a sharded run.
    pub(crate) fn shard_progress_path(&self, index: u32) -> PathBuf {
        self.path.join(format!("progress-shard-{index}.json"))
    }

    /// How far the run's walk in batches has got, if it has walked one; a sharded run's, its
    /// shards' walks added up.
    pub(crate) fn progress(&self) -> Option<crate::record::WalkProgress> {
        let read = |path: &Path| -> Option<crate::record::WalkProgress> {
            let text = read_private(path, 1 << 20)?;
            serde_json::from_str(&text).ok()
        };
        if let Some(progress) = read(&self.progress_path()) {
            return Some(progress);
        }
        let walks: Vec<_> = self.shards_progress().into_iter().map(|(_, p)| p).collect();
        shard::combined(&walks)
    }

    /// How far each shard's walk has got, in a sharded run, by the shard's index. A shard's
    /// progress file appears once its walk begins: shards that have not walked yet are not
    /// listed.
    pub(crate) fn shards_progress(&self) -> Vec<(u32, crate::record::WalkProgress)> {
        let Ok(entries) = std::fs::read_dir(&self.path) else {
            return Vec::new();
        };
        let mut shards: Vec<(u32, crate::record::WalkProgress)> = entries
            .filter_map(|entry| {
                let name = entry.ok()?.file_name().into_string().ok()?;
                let index = name
                    .strip_prefix("progress-shard-")?
                    .strip_suffix(".json")?
                    .parse()
                    .ok()?;
                let text = read_private(&self.shard_progress_path(index), 1 << 20)?;
                Some((index, serde_json::from_str(&text).ok()?))
            })
            .collect();
        shards.sort_by_key(|(index, _)| *index);
        shards
    }

    pub(crate) fn load(&self) -> anyhow::Result<Meta> {
        meta::load(&self.meta_path())
    }

    /// The run's status: its end record, else whether its process still holds its lock.
    pub(crate) fn status(&self, meta: &Meta) -> Status {
        if let (Some(code), Some(outcome)) = (meta.exit_code, &meta.outcome) {
            return Status::Ended {
                outcome: outcome.clone(),
                code,
            };
        }
        match (self.held(), meta.pid) {
            (true, Some(pid)) => Status::Running { pid },
            (_, None) => Status::Starting,
            (false, pid) => Status::Lost { pid },
        }
    }

    /// Whether the run's process holds its lock. A shared probe: two probes never get in each
    /// other's way, and the process takes its lock waiting, so a probe never stops it.
    ///
    /// Never through a symlink: a forged directory whose `lock` leads to a file some other
    /// process holds must not make that process look like the run's (and `--stop` signal it).
    fn held(&self) -> bool {
        use std::os::unix::fs::OpenOptionsExt;
        let opened = File::options()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(self.lock_path());
        let Ok(file) = opened else {
            return false;
        };
        matches!(file.try_lock_shared(), Err(TryLockError::WouldBlock))
    }

    /// The lock file's device and inode (never through a symlink), to find who holds it.
    pub(crate) fn lock_id(&self) -> Option<(u64, u64)> {
        use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
        let file = File::options()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(self.lock_path())
            .ok()?;
        let meta = file.metadata().ok()?;
        Some((meta.dev(), meta.ino()))
    }
}

/// Every run directory that has a record, oldest first.
pub(crate) fn all(release: &Release) -> Vec<(RunDir, Meta)> {
    all_in(&dir(release))
}

/// Every run directory in `runs` (a release's [`dir`]) that has a record, oldest first.
pub(crate) fn all_in(runs: &Path) -> Vec<(RunDir, Meta)> {
    let Ok(entries) = std::fs::read_dir(runs) else {
        return Vec::new();
    };
    let mut runs: Vec<(RunDir, Meta)> = entries
        .flatten()
        .filter_map(|entry| {
            let run = RunDir {
                id: entry.file_name().to_str()?.to_owned(),
                path: entry.path(),
            };
            let meta = run.load().ok()?;
            Some((run, meta))
        })
        .collect();
    runs.sort_by(|(a, x), (b, y)| x.started.cmp(&y.started).then(a.id.cmp(&b.id)));
    runs
}

/// The run `wanted` names: its id, or a prefix of exactly one id. Otherwise a usage error
/// naming the closest ids.
pub(crate) fn find(release: &Release, wanted: &str) -> Result<(RunDir, Meta), Error> {
    let mut runs = all(release);
    let ids: Vec<&str> = runs.iter().map(|(run, _)| run.id.as_str()).collect();
    let where_ = dir(release).display().to_string();
    let i = resolve(wanted, &ids, &where_)?;
    Ok(runs.swap_remove(i))
}

/// Which of `ids` (oldest first) `wanted` names: the id itself, or the start of exactly one.
/// Otherwise a usage error naming the closest ids; `where_` says where runs were looked for.
pub(crate) fn resolve(wanted: &str, ids: &[&str], where_: &str) -> Result<usize, Error> {
    if let Some(i) = ids.iter().position(|id| *id == wanted) {
        return Ok(i);
    }
    let prefixed: Vec<usize> = (0..ids.len())
        .filter(|&i| !wanted.is_empty() && ids[i].starts_with(wanted))
        .collect();
    if let [i] = prefixed[..] {
        return Ok(i);
    }
    if ids.is_empty() {
        return Err(Error::usage(format!(
            "no run `{wanted}`: there are no detached runs in {where_}"
        )));
    }
    let newest_first: Vec<&str> = ids.iter().rev().copied().collect();
    let mut message = format!("no run `{wanted}` in {where_}");
    let close: Vec<&str> = if prefixed.len() > 1 {
        message = format!("`{wanted}` is the start of more than one run id");
        prefixed.iter().rev().map(|&i| ids[i]).collect()
    } else {
        close_ids(wanted, &newest_first)
    };
    if close.is_empty() {
        message.push_str(" (adminsh --runs lists them)");
    } else {
        let shown: Vec<String> = close.iter().take(5).map(|id| format!("`{id}`")).collect();
        message.push_str(&format!("\n  did you mean {}?", shown.join(", ")));
    }
    Err(Error::usage(message))
}

/// The ids close to `wanted`: a mistyped id, or a mistyped start of one (`waitz` for
/// `waits-20261125-023000`).
fn close_ids<'a>(wanted: &str, ids: &[&'a str]) -> Vec<&'a str> {
    // Ids share their shape (a name, a date, a time): only the closest whole one is meant.
    if let Some(id) = suggest::closest(wanted, ids.iter().copied()) {
        return vec![id];
    }
    let length = wanted.chars().count();
    let starts: Vec<String> = ids
        .iter()
        .map(|id| id.chars().take(length).collect())
        .collect();
    let close = suggest::ranked(wanted, starts.iter().map(String::as_str));
    ids.iter()
        .zip(&starts)
        .filter(|(_, start)| close.contains(&start.as_str()))
        .map(|(id, _)| *id)
        .collect()
}

/// Creates (or empties) a file of a run directory, readable by its user only: a run's output
/// and arguments are the run's own. Never through a symlink: a run trusts only what it made.
pub(crate) fn private_file(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    File::options()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// A small file of a run directory as text, never through a symlink, up to `limit` bytes;
/// `None` when it is not there or cannot be read.
pub(crate) fn read_private(path: &Path, limit: u64) -> Option<String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let file = File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut text = String::new();
    file.take(limit).read_to_string(&mut text).ok()?;
    Some(text)
}

/// Writes a small file of a run directory whole (temp file, rename), readable by its user
/// only.
pub(crate) fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    crate::state::write_atomically(path, text.as_bytes())
        .and_then(|()| std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)))
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Makes a directory of the runs (or the `runs` folder itself) private to adminsh's user.
fn private_dir(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
}

/// A new run directory for a run of `name` (a script's name, or `eval`), its id made of the
/// name and the time: `backfill-20261125-023000`, then `-2`, `-3` for another in the same
/// second. Ids are lowercase letters, digits and `-` only, as a Kubernetes name must be.
pub(crate) fn create(release: &Release, name: &str) -> anyhow::Result<RunDir> {
    let parent = dir(release);
    std::fs::create_dir_all(&parent)
        .with_context(|| format!("cannot create the run directory {}", parent.display()))?;
    // The runs folder may belong to another user of the release (a deploy user's, made under
    // root): each run's own directory, made here, is private whatever the folder is.
    let _ = private_dir(&parent);
    let base = id_base(name);
    for n in 1.. {
        let id = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        let path = parent.join(&id);
        match std::fs::create_dir(&path).and_then(|()| private_dir(&path)) {
            Ok(()) => {
                prune(release);
                return Ok(RunDir { id, path });
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(e).with_context(|| {
                    format!("cannot create the run directory {}", path.display())
                });
            }
        }
    }
    unreachable!("some suffix is free")
}

/// An id for a run of `name` started now: `backfill-20261125-023000`.
pub(crate) fn id_base(name: &str) -> String {
    format!("{}-{}", id_name(name), compact_time())
}

/// The part of an id naming the script: its file name, lowercase, other characters as `-`.
fn id_name(name: &str) -> String {
    let stem = Path::new(name)
        .file_stem()
        .map_or_else(|| name.to_owned(), |s| s.to_string_lossy().into_owned());
    let mut id = String::new();
    for c in stem.chars().flat_map(char::to_lowercase) {
        let c = if c.is_ascii_alphanumeric() { c } else { '-' };
        if !(c == '-' && (id.is_empty() || id.ends_with('-'))) {
            id.push(c);
        }
        if id.len() >= 30 {
            break;
        }
    }
    let id = id.trim_end_matches('-');
    if id.is_empty() {
        "run".to_owned()
    } else {
        id.to_owned()
    }
}

/// Now as `20261125-023000` (UTC).
fn compact_time() -> String {
    let t = crate::clock::now_rfc3339();
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    format!("{}-{}", &digits[..8], &digits[8..14])
}

/// Removes the oldest runs that are over beyond the newest [`KEEP`].
fn prune(release: &Release) {
    let runs = all(release);
    let excess = runs.len().saturating_sub(KEEP);
    for (run, meta) in runs.iter().take(excess) {
        if !run.status(meta).is_running() {
            let _ = std::fs::remove_dir_all(&run.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_ids_are_found_for_a_mistyped_id_or_start() {
        let ids = [
            "waits-20261125-023000",
            "eval-20261125-023100",
            "fix-20261125-023200",
        ];
        assert_eq!(close_ids("waitz", &ids), ["waits-20261125-023000"]);
        assert_eq!(
            close_ids("evla-20261125-023100", &ids),
            ["eval-20261125-023100"]
        );
        assert!(close_ids("zzz", &ids).is_empty());
    }

    #[test]
    fn a_runs_small_files_are_read_and_written_never_through_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("progress.json");
        write_private(&path, "{}\n").unwrap();
        assert_eq!(read_private(&path, 100).as_deref(), Some("{}\n"));
        assert_eq!(read_private(&path, 1).as_deref(), Some("{"));
        let mode = std::fs::metadata(&path).unwrap().permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o600
        );
        let link = dir.path().join("pause");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert_eq!(read_private(&link, 100), None);
        assert_eq!(read_private(dir.path(), 100), None);
        assert_eq!(read_private(&dir.path().join("missing"), 100), None);
    }

    #[test]
    fn ids_are_kubernetes_names() {
        assert_eq!(id_name("fix_records"), "fix-records");
        assert_eq!(id_name("db/Backfill Orders.rhai"), "backfill-orders");
        assert_eq!(id_name("__"), "run");
        assert_eq!(id_name(&"x".repeat(80)).len(), 30);
        let time = compact_time();
        assert_eq!(time.len(), 15);
        assert_eq!(&time[8..9], "-");
    }
}
