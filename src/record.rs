//! What an admin process ran, as the `--json` report and the audit log keep it: a command's
//! argv, status and duration, or a database statement. A leaf: the session's spawner and the
//! `db` functions write records, `report.rs` and `audit` read them, and neither side imports
//! the other.

use std::time::Duration;

/// A command an admin process ran, for the `--json` report and the audit log.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CommandRecord {
    /// The argv of each program of the pipeline, secrets masked.
    pub stages: Vec<Vec<String>>,
    /// The exit status; `None` when there is none (not found, timed out, interrupted).
    pub status: Option<i32>,
    pub duration: Duration,
    /// Why it raised an error, when it did.
    pub error: Option<String>,
    /// A database statement (std/db), which has no argv.
    pub statement: Option<Statement>,
}

/// A database statement, recorded like a command.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Statement {
    /// The database, as messages name it (no password).
    pub database: String,
    /// The SQL, secrets masked.
    pub sql: String,
    /// The parameters as the script gave them, secrets masked.
    pub params: Vec<String>,
    /// The rows it affected (`db::exec`, `db::exec_many`).
    pub rows: Option<u64>,
}

/// A walk in batches (`db::batches`, `batches`) as it ended, for the `--json` report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct WalkRecord {
    /// `db::batches users`, `batches`, ``batches `seq 5` ``.
    pub name: String,
    /// What an item is: `rows`, `items`, `lines`.
    pub unit: String,
    /// The items walked by this run (an earlier run's, skipped on resuming, not counted).
    pub items: u64,
    pub batches: u64,
    pub duration_ms: u64,
    /// The size the batches had reached, when it adapts (`target_seconds`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<u64>,
    /// The total known or estimated when the walk began (an array's length, the database's
    /// estimate of a table).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// A dry run stopped it after its first batches.
    pub stopped_by_dry_run: bool,
}

/// How far a walk in batches (`db::batches`, `batches`) has got, as a detached run keeps it in
/// its directory (`progress.json`) for `--pause`, `--runs` and the web view: the host writes
/// it, `runs/` reads it, and neither imports the other.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct WalkProgress {
    /// `db::batches users`, `batches`.
    pub walk: String,
    /// What one item is called: `rows`, `items`, `lines`.
    pub unit: String,
    /// Items the finished batches held, in this run.
    pub done: u64,
    pub batches: u64,
    /// Items in all, where the walk knows or estimates it.
    pub total: Option<u64>,
    /// Items per second since the walk began.
    pub rate: f64,
    /// Seconds since the walk began.
    pub elapsed: f64,
    /// Seconds left at this rate, where the total is known.
    pub left: Option<f64>,
    /// Whether the walk is still going (false once it ended, however it did).
    pub walking: bool,
    /// `[seconds since the walk began, items done]`, a point every second or more, for the
    /// chart of items per second over time; thinned out as it grows.
    pub samples: Vec<[f64; 2]>,
    /// When this record was written (RFC 3339).
    pub updated: String,
}

/// A step of a detached run as its directory keeps it (`steps.json`), for the web view: its
/// number, name, and `running`, `done`, `skipped`, `failed` or `paused`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct StepRecord {
    pub number: usize,
    pub name: String,
    pub outcome: String,
    /// How long it took, once it ended.
    pub seconds: Option<f64>,
}
