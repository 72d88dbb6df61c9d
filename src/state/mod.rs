//! What adminsh keeps between runs, in the release's state directory (`.adminsh/` or the
//! manifest's `state_dir`): step checkpoints and locks, every file written atomically.
//!
//! | module | what it does |
//! | --- | --- |
//! | `steps.rs` | the steps of one run, and the checkpoint a re-run resumes from |
//! | `checkpoint.rs` | a script run's checkpoint file: which steps completed |
//! | `lock.rs` | `flock` locks between admin processes, and who holds one |
//! | `shards.rs` | which shards of a sharded run finished, for a re-run to skip |
//! | `files.rs` | atomic writes: adminsh's own files, and a script's `write_file` through links |

mod checkpoint;
mod files;
// A namespace its callers name (`lock::acquire`, `lock::file_name`), so public as a module.
pub(crate) mod lock;
mod shards;
mod steps;

// The face: callers name these, never a file of this folder (but `lock`).
pub(crate) use files::{link_target, write_atomically, write_through_links};
pub(crate) use shards::ShardRun;
pub(crate) use steps::{Step, StepStart, Steps};
