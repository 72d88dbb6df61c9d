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
