//! The app's database, in-process: one `Backend` per driver (`sqlite.rs` with the bundled
//! `SQLite`, `postgres.rs`, `mysql.rs`), one `Conn` over it that owns transactions, the dry-run
//! sandbox and read-only mode (set once, when it opens), and `Databases`, the session's handles:
//! `DATABASE_URL`'s connection opened on first use, and those `db::connect` opened. Drivers and
//! connections only, below the host API: `host/db/` registers it all as the `db` module scripts
//! call (`import "std/db" as db`). Callers see the names re-exported here, never a child module.

mod cancel;
mod conn;
mod mysql;
mod pg_grammar;
mod pg_value;
mod postgres;
mod sql;
mod sqlite;
mod tls;
mod url;
mod value;

use std::cell::RefCell;
use std::rc::Rc;

use rhai::{Array, Dynamic, EvalAltResult};

pub(crate) use conn::{Conn, TxError};
pub(crate) use sql::{Dialect, data_modifying_with, first_keyword, place};
pub(crate) use value::{Rows, row, shown, table};

/// An error the database (or its driver) gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DbError {
    pub message: String,
    /// The SQLSTATE (`PostgreSQL`, `MySQL`) or error code (`SQLite`, `MySQL`'s number).
    pub code: Option<String>,
    /// Where in the SQL it points (a byte offset), when the server says.
    pub position: Option<usize>,
    pub kind: ErrorKind,
}

impl DbError {
    /// What passes if the work is tried again, by the server's code: a deadlock, a
    /// serialization failure, a lock wait that timed out (`PostgreSQL` 40001, 40P01, 55P03;
    /// `MySQL` 1213, 1205), a database busy (`SQLite`); `None` for any other failure.
    pub(crate) fn passes(&self) -> Option<&'static str> {
        let code = self.code.as_deref()?;
        let number = code.split(',').next().unwrap_or(code);
        match number {
            "40001" => Some("a serialization failure"),
            "40P01" | "1213" => Some("a deadlock"),
            "55P03" | "1205" => Some("a lock wait timed out"),
            _ if code.starts_with("SQLITE_BUSY") || code.starts_with("SQLITE_LOCKED") => {
                Some("the database is busy")
            }
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    Failed,
    /// The database refused a write: a read-only session, or `db::query`'s read-only statement.
    ReadOnly,
    /// adminsh refused the statement before sending it.
    Refused,
    /// Cancelled (Ctrl-C or a statement timeout).
    Cancelled,
    /// The transaction a dry run or a read-only run keeps open is gone or changed: the run
    /// stops, whatever the script catches.
    FenceGone,
}

impl DbError {
    pub(crate) fn failed(message: impl Into<String>) -> Self {
        DbError {
            message: message.into(),
            code: None,
            position: None,
            kind: ErrorKind::Failed,
        }
    }

    pub(crate) fn refused(message: impl Into<String>) -> Self {
        DbError {
            kind: ErrorKind::Refused,
            ..DbError::failed(message)
        }
    }

    /// Ctrl-C (or SIGTERM, SIGHUP) arrived while the statement ran or before a commit.
    pub(crate) fn interrupted() -> Self {
        DbError {
            kind: ErrorKind::Cancelled,
            ..DbError::failed("interrupted")
        }
    }

    /// The message with its code: `relation "x" does not exist (SQLSTATE 42P01)`.
    pub(crate) fn text(&self) -> String {
        match &self.code {
            Some(code) if code.starts_with("SQLITE") => format!("{} ({code})", self.message),
            Some(code) if code.len() == 5 && !code.contains(' ') => {
                format!("{} (SQLSTATE {code})", self.message)
            }
            Some(code) => format!("{} (error {code})", self.message),
            None => self.message.clone(),
        }
    }
}

/// How a `db::each` walk stopped early: the database failed, or the callback raised.
pub(crate) enum EachError {
    Db(DbError),
    Script(Box<EvalAltResult>),
}

impl From<DbError> for EachError {
    fn from(e: DbError) -> Self {
        EachError::Db(e)
    }
}

/// `exec` once per parameter set; the rows affected, in total. A failure names its set, counted
/// from `first` + 1.
fn one_by_one<B: Backend + ?Sized>(
    backend: &B,
    sql: &str,
    sets: &[Array],
    first: usize,
) -> Result<u64, DbError> {
    let mut total = 0;
    for (n, set) in sets.iter().enumerate() {
        total += backend.exec(sql, set).map_err(|e| in_set(first + n, e))?;
    }
    Ok(total)
}

/// The error of the parameter set at `index` (0-based), named for the user (1-based).
fn in_set(index: usize, mut e: DbError) -> DbError {
    e.message = format!("parameter set {}: {}", index + 1, e.message);
    e
}

/// What a callback of `db::each` says after a row: go on, or stop.
pub(crate) type RowFn<'a> = dyn FnMut(&Rc<[String]>, Vec<Dynamic>) -> Result<bool, EachError> + 'a;

/// Cancels the statement running on a connection, from another thread.
pub(crate) type Canceller = Box<dyn Fn() + Send + Sync>;

/// One driver. Every method takes `&self`: a `db::each` callback may use the same connection
/// while the walk goes on, so a driver holds what it must change in cells, borrowed only
/// while it talks to the server.
pub(crate) trait Backend {
    fn dialect(&self) -> Dialect;
    /// Runs one statement that must not write, refused by the database if it does.
    /// `in_transaction`: a transaction is open (the read must not end it).
    fn read(&self, sql: &str, params: &[Dynamic], in_transaction: bool) -> Result<Rows, DbError>;
    /// Runs one statement and returns the rows it affected.
    fn exec(&self, sql: &str, params: &[Dynamic]) -> Result<u64, DbError>;
    /// Runs one prepared statement for each parameter set; the rows affected, in total. A
    /// failure names the set it came from.
    fn exec_many(&self, sql: &str, sets: &[Array]) -> Result<u64, DbError> {
        one_by_one(self, sql, sets, 0)
    }
    /// Walks the rows of a statement in constant memory, inside a transaction.
    fn each(&self, sql: &str, params: &[Dynamic], f: &mut RowFn<'_>) -> Result<u64, EachError>;
    /// Transaction control, adminsh's own: `BEGIN`, `SAVEPOINT x`, `COMMIT`...
    fn control(&self, sql: &str) -> Result<(), DbError>;
    /// The text that begins a transaction.
    fn begin_sql(&self) -> &'static str {
        "BEGIN"
    }
    /// What the server says of the transaction it has open now: a value that changes when the
    /// transaction ends or its mode changes (`None`: this server gives no way to tell). After
    /// each statement of a dry run or a read-only run, adminsh compares it with the one it saw
    /// when it opened its own transaction, the fence every statement runs inside.
    fn transaction_token(&self) -> Result<Option<String>, DbError>;
    /// In a guarded mode: one statement for its effect, then the transaction token read after
    /// it (see [`Backend::transaction_token`]). With a savepoint (outside the script's own
    /// transactions), a statement that fails leaves the transaction as it was before it: where
    /// a failure aborts the transaction, as on `PostgreSQL`, the statement runs in a savepoint
    /// of its own. `PostgreSQL` sends all of it at once; elsewhere it is the statement, then
    /// the question.
    fn exec_fenced(
        &self,
        sql: &str,
        params: &[Dynamic],
        _savepoint: bool,
    ) -> Result<(u64, Option<String>), DbError> {
        let rows = self.exec(sql, params)?;
        Ok((rows, self.transaction_token()?))
    }
    /// Each sequence and its value, where a rollback leaves sequences as they moved
    /// (`PostgreSQL`): a dry run compares them before and after, to say what it could not undo.
    fn sequences(&self) -> Result<Vec<(String, Option<i64>)>, DbError> {
        Ok(Vec::new())
    }
    fn canceller(&self) -> Canceller;
}

/// Runs `connect` on a thread of its own and waits at most `timeout` (a driver's own timeout
/// covers the TCP connection, not a server that takes it and never answers), or until Ctrl-C.
pub(crate) fn within<T: Send + 'static>(
    timeout: std::time::Duration,
    connect: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let (done, outcome) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("adminsh-db-connect".into())
        .spawn(move || {
            let _ = done.send(connect());
        })
        .map_err(|e| format!("cannot start connecting: {e}"))?;
    let started = std::time::Instant::now();
    loop {
        match outcome.recv_timeout(std::time::Duration::from_millis(50)) {
            Ok(result) => return result,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return Err("the connection attempt failed".to_owned());
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
        }
        if crate::interrupt::interrupted() {
            return Err("interrupted".to_owned());
        }
        if started.elapsed() > timeout {
            return Err(format!(
                "no answer within {}s (connect_timeout)",
                timeout.as_secs()
            ));
        }
    }
}

/// How connections open: a dry run's sandbox, read-only, where relative files are.
#[derive(Debug, Clone, Default)]
pub(crate) struct Mode {
    pub dry_run: bool,
    pub read_only: bool,
    pub root: std::path::PathBuf,
}

/// The session's connections: `DATABASE_URL`'s, opened on first use, and every other one a
/// script opened, so that all are closed (a sandbox rolled back) when the run ends.
#[derive(Default)]
pub(crate) struct Databases {
    default: RefCell<Option<Rc<Conn>>>,
    all: RefCell<Vec<Rc<Conn>>>,
    /// Statements run so far (all are counted; the first thousand are recorded one by one).
    pub recorded: std::cell::Cell<usize>,
    /// The record that counts the statements past the first thousand.
    pub overflow: std::cell::Cell<Option<usize>>,
}

impl Databases {
    /// `DATABASE_URL`'s connection, opened now if it is not yet.
    pub(crate) fn default_conn(
        &self,
        open: impl FnOnce() -> Result<Conn, String>,
    ) -> Result<Rc<Conn>, String> {
        if let Some(conn) = self.default.borrow().as_ref() {
            return Ok(conn.clone());
        }
        let conn = Rc::new(open()?);
        self.all.borrow_mut().push(conn.clone());
        *self.default.borrow_mut() = Some(conn.clone());
        Ok(conn)
    }

    /// Keeps a connection a script opened, to close it at the end.
    pub(crate) fn keep(&self, conn: &Rc<Conn>) {
        self.all.borrow_mut().push(conn.clone());
    }

    /// Ends every connection: a dry run's sandbox rolled back, anything left open rolled back.
    /// Returns what the rollbacks could not undo.
    pub(crate) fn close(&self) -> Vec<String> {
        self.default.borrow_mut().take();
        self.all
            .borrow_mut()
            .drain(..)
            .flat_map(|conn| conn.finish())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::DbError;

    #[test]
    fn failures_that_pass_if_tried_again() {
        for (code, passes) in [
            ("40001", Some("a serialization failure")),
            ("40P01", Some("a deadlock")),
            ("55P03", Some("a lock wait timed out")),
            ("1213, SQLSTATE 40001", Some("a deadlock")),
            ("1205, SQLSTATE HY000", Some("a lock wait timed out")),
            ("SQLITE_BUSY", Some("the database is busy")),
            ("SQLITE_BUSY_SNAPSHOT", Some("the database is busy")),
            ("23505", None),
            ("1062, SQLSTATE 23000", None),
            ("57014", None),
            ("SQLITE_CONSTRAINT_UNIQUE", None),
        ] {
            let error = DbError {
                code: Some(code.to_owned()),
                ..DbError::failed("x")
            };
            assert_eq!(error.passes(), passes, "{code}");
        }
        assert_eq!(DbError::failed("x").passes(), None);
    }
}
