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
