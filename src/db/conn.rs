//! One connection and the promises adminsh keeps around it, whatever the driver: transactions
//! only through `db::transaction` (savepoints when nested; rolled back on any error, `exit`,
//! Ctrl-C), the dry-run sandbox (everything in one transaction rolled back when the run ends)
//! and read-only mode, both set once when the connection opens and held by the server: in
//! either, every statement runs inside a transaction adminsh opened first (the fence), checked
//! after each statement against what the server says; statements cancelled on Ctrl-C or after
//! `db::statement_timeout`, and no transaction committed after Ctrl-C.

use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;

use rhai::{Array, Dynamic};

use super::cancel::{Busy, Why};
use super::pg_grammar;
use super::sql::{self, Dialect};
use super::url::{self, Target};
use super::value::Rows;
use super::{Backend, DbError, EachError, ErrorKind, Mode, RowFn};

pub(crate) struct Conn {
    backend: Box<dyn Backend>,
    /// How messages name it: `PostgreSQL at 127.0.0.1:5432`, never with a password.
    pub name: String,
    /// Transactions (and savepoints) open: `db::transaction` and `db::each`.
    depth: Cell<u32>,
    /// A dry run: one transaction, open from the start, rolled back at the end.
    pub sandbox: bool,
    /// A dry run or `--read-only`: every statement runs inside one transaction adminsh opened
    /// (the fence), and what cannot be judged safe is refused.
    guarded: bool,
    /// What the server said of the fence when it was opened (`None`: it cannot tell), and
    /// whether it has been found gone (then nothing more runs on this connection).
    fence: Option<String>,
    fence_gone: Cell<bool>,
    /// A dry run's sequences as they were when it began.
    sequences: Vec<(String, Option<i64>)>,
    /// `PostgreSQL` aborts a transaction at its first failed statement: the lowest depth at
    /// which one failed and was not rolled back yet.
    failed_at: Cell<Option<u32>>,
    /// Why the last statement that failed may pass if tried again (`DbError::passes`).
    last_failure: Cell<Option<&'static str>>,
    busy: Arc<Busy>,
    timeout: Cell<Option<Duration>>,
    finished: Cell<bool>,
}

/// How a `db::transaction` body went wrong.
pub(crate) enum TxError<E> {
    Db(DbError),
    Body(E),
}

impl Conn {
    /// Opens `url` (a sandbox in a dry run, read-only with `--read-only`); an error is one line
    /// naming the server, never the password.
    pub(crate) fn open(url: &str, mode: &Mode) -> Result<Conn, String> {
        let target = url::parse(url, &mode.root)?;
        let (backend, name): (Box<dyn Backend>, String) = match &target {
            Target::Sqlite(file) => {
                let name = match &file.path {
                    Some(path) => format!("SQLite file {}", path.display()),
                    None => "SQLite in memory".to_owned(),
                };
                (Box::new(super::sqlite::Sqlite::open(file, mode)?), name)
            }
            Target::Postgres(server) => {
                let name = format!("PostgreSQL at {}", server.place(5432));
                let backend = super::postgres::Postgres::connect(server, mode.read_only)
                    .map_err(|e| format!("cannot connect to {name}: {e}"))?;
                (Box::new(backend), name)
            }
            Target::Mysql(server) => {
                let name = format!("MySQL at {}", server.place(3306));
                let backend = super::mysql::Mysql::connect(server, mode.read_only)
                    .map_err(|e| format!("cannot connect to {name}: {e}"))?;
                (Box::new(backend), name)
            }
        };
        let busy = Busy::watch(backend.canceller());
        let mut conn = Conn {
            backend,
            name,
            depth: Cell::new(0),
            sandbox: mode.dry_run,
            guarded: mode.dry_run || mode.read_only,
            fence: None,
            fence_gone: Cell::new(false),
            sequences: Vec::new(),
            failed_at: Cell::new(None),
            last_failure: Cell::new(None),
            busy,
            timeout: Cell::new(None),
            finished: Cell::new(false),
        };
        if conn.guarded {
            let what = if conn.sandbox {
                "dry run's"
            } else {
                "read-only"
            };
            let failed = |e: DbError| {
                format!(
                    "cannot begin the {what} transaction on {}: {}",
                    conn.name,
                    e.text()
                )
            };
            conn.backend
                .control(conn.backend.begin_sql())
                .map_err(&failed)?;
            let fence = conn.backend.transaction_token().map_err(&failed)?;
            conn.fence = fence;
            if conn.sandbox {
                conn.sequences = conn.backend.sequences().map_err(&failed)?;
            }
        }
        Ok(conn)
    }

    /// After a statement of a guarded mode: the fence is still the transaction the server has
    /// open, in the same mode. A statement that ended it (a `COMMIT` the checks before sending
    /// did not recognise) stops everything: nothing more runs here, and what can be is rolled
    /// back.
    fn fence_holds(&self) -> Result<(), DbError> {
        if self.fence.is_none() {
            return Ok(());
        }
        self.fence_is(self.backend.transaction_token()?)
    }

    /// [`Conn::fence_holds`], for the token the server gave after the statement.
    fn fence_is(&self, now: Option<String>) -> Result<(), DbError> {
        let Some(fence) = &self.fence else {
            return Ok(());
        };
        if now.as_ref() == Some(fence) {
            return Ok(());
        }
        self.fence_gone.set(true);
        let _ = self.backend.control("ROLLBACK");
        let what = if self.sandbox {
            "the dry run's transaction"
        } else {
            "the read-only transaction"
        };
        Err(DbError {
            kind: ErrorKind::FenceGone,
            ..DbError::failed(format!(
                "{what} on {} ended or changed during the statement: what ran before it may \
                 have been committed, so adminsh stopped the run",
                self.name
            ))
        })
    }

    pub(crate) fn dialect(&self) -> Dialect {
        self.backend.dialect()
    }

    fn in_transaction(&self) -> bool {
        self.guarded || self.depth.get() > 0
    }

    /// `db::statement_timeout`: each statement from now on is cancelled after `timeout`.
    pub(crate) fn set_timeout(&self, timeout: Option<Duration>) {
        self.timeout.set(timeout);
    }

    /// Runs a driver call as the running statement (cancellable), noting a failure that aborts
    /// the transaction.
    ///
    /// An interrupted statement is an error even when it returned normally (`MySQL`'s `SLEEP`
    /// does, and so does a `PostgreSQL` block that catches `query_canceled`): Ctrl-C means
    /// stop, and the transaction around it must roll back, not commit.
    fn run<T>(&self, call: impl FnOnce() -> Result<T, DbError>) -> Result<T, DbError> {
        // A statement that failed ended nothing (on PostgreSQL it left the transaction to be
        // rolled back to its savepoint, where no question can be asked yet).
        let value = self.control(call)?;
        if self.guarded {
            self.fence_holds()?;
        }
        if crate::interrupt::interrupted() {
            return Err(self.failed(DbError::interrupted()));
        }
        Ok(value)
    }

    /// Runs adminsh's own transaction control (`BEGIN`, `COMMIT`, a savepoint) as the running
    /// statement: what it did is what the server says, interrupted or not.
    fn control<T>(&self, call: impl FnOnce() -> Result<T, DbError>) -> Result<T, DbError> {
        let running = self.busy.start(self.timeout.get());
        let result = call();
        drop(running);
        result.map_err(|e| self.failed(e))
    }

    /// Forgets the last statement's failure (see [`Conn::failure_passes`]).
    pub(crate) fn forget_failure(&self) {
        self.last_failure.set(None);
    }

    /// Whether the last statement that failed failed for a reason that passes if tried again
    /// (a deadlock, a lock wait), and which.
    pub(crate) fn failure_passes(&self) -> Option<&'static str> {
        self.last_failure.get()
    }

    fn failed(&self, mut e: DbError) -> DbError {
        self.last_failure.set(e.passes());
        match self.busy.cancelled() {
            Some(Why::Signal(_)) => {
                e.kind = ErrorKind::Cancelled;
            }
            Some(Why::Timeout(limit)) => {
                e.kind = ErrorKind::Cancelled;
                e.message = format!(
                    "cancelled after {}s (db::statement_timeout): {}",
                    limit.as_secs_f64(),
                    e.message
                );
            }
            None => {}
        }
        if self.dialect() == Dialect::Postgres
            && self.depth.get() > 0
            && self.failed_at.get().is_none()
        {
            self.failed_at.set(Some(self.depth.get()));
        }
        e
    }

    /// Refuses what adminsh keeps to itself (transaction control, the session's read-only mode)
    /// and, in a guarded mode, what acts outside the transaction and (on `MySQL`) whatever is
    /// not a plain statement; returns where the statement begins, the part the server is sent
    /// (see `sql::start`).
    fn check(&self, sql: &str) -> Result<usize, DbError> {
        if self.fence_gone.get() {
            return Err(DbError {
                kind: ErrorKind::FenceGone,
                ..DbError::failed(format!(
                    "{} is closed to this run: its guarded transaction ended",
                    self.name
                ))
            });
        }
        let dialect = self.dialect();
        let start = sql::start(sql, dialect);
        if start == sql.len() {
            return Err(DbError::refused(
                "the SQL holds no statement, only blanks and comments",
            ));
        }
        if let Some(why) = sql::reserved(sql, dialect) {
            return Err(DbError::refused(why));
        }
        if self.guarded {
            if let Some(why) = sql::outside_effects(sql, dialect) {
                return Err(DbError::refused(why));
            }
            if dialect == Dialect::Mysql {
                sql::plain_mysql(sql).map_err(DbError::refused)?;
            }
        }
        if dialect == Dialect::Postgres
            && let Some(why) = pg_grammar::refusal(sql, self.guarded)
        {
            return Err(DbError::refused(why));
        }
        Ok(start)
    }

    /// The statement from where it begins; a position the server reports in it, back in the
    /// script's text.
    fn sent(sql: &str, start: usize) -> (&str, impl Fn(DbError) -> DbError) {
        (&sql[start..], move |mut e: DbError| {
            e.position = e.position.map(|p| p + start);
            e
        })
    }

    /// One statement that must not write (`db::query`, `db::scalar`, `db::row`).
    pub(crate) fn read(&self, sql: &str, params: &[Dynamic]) -> Result<Rows, DbError> {
        let (sql, placed) = Self::sent(sql, self.check(sql)?);
        let in_transaction = self.in_transaction();
        // A read that fails inside its savepoint leaves the transaction as it was.
        let before = self.failed_at.get();
        let result = self.run(|| self.backend.read(sql, params, in_transaction));
        self.failed_at.set(before);
        result.map_err(placed)
    }

    /// One statement for its effect: the rows it affected. In a guarded mode the statement
    /// and the fence's check go together (one round trip on `PostgreSQL`; outside the
    /// script's transactions, in a savepoint of its own), then the fence is checked as after
    /// any statement.
    pub(crate) fn exec(&self, sql: &str, params: &[Dynamic]) -> Result<u64, DbError> {
        let (sql, placed) = Self::sent(sql, self.check_write(sql)?);
        if !self.guarded {
            return self.run(|| self.backend.exec(sql, params)).map_err(placed);
        }
        let savepoint = self.depth.get() == 0;
        let (rows, token) = self
            .control(|| self.backend.exec_fenced(sql, params, savepoint))
            .map_err(&placed)?;
        self.fence_is(token).map_err(&placed)?;
        if crate::interrupt::interrupted() {
            return Err(self.failed(DbError::interrupted()));
        }
        Ok(rows)
    }

    /// One prepared statement for many parameter sets, all or none: outside a transaction of
    /// the script's, in one of its own (a guarded mode's savepoint is one), so that a set that
    /// fails leaves nothing of the sets before it, whichever way the driver sends them (one by
    /// one, or pipelined).
    pub(crate) fn exec_many(&self, sql: &str, sets: &[Array]) -> Result<u64, DbError> {
        let (sql, placed) = Self::sent(sql, self.check_write(sql)?);
        let all = || self.guarded(|| self.run(|| self.backend.exec_many(sql, sets)));
        let done = if self.in_transaction() {
            all()
        } else {
            self.transaction(all).map_err(|e| match e {
                TxError::Db(e) | TxError::Body(e) => e,
            })
        };
        done.map_err(placed)
    }

    fn check_write(&self, sql: &str) -> Result<usize, DbError> {
        let start = self.check(sql)?;
        if self.sandbox && self.dialect() == Dialect::Mysql && sql::mysql_commits_implicitly(sql) {
            return Err(DbError::refused(format!(
                "`{}` in a dry run: MySQL commits the transaction around it, so the dry run \
                 could not roll it back",
                sql::first_keyword(sql, Dialect::Mysql)
            )));
        }
        Ok(start)
    }

    /// In a guarded mode (a dry run, `--read-only`), outside any transaction of the script's, a
    /// `PostgreSQL` statement runs in a savepoint: a failed one leaves the fence usable, as it
    /// would leave a real run.
    fn guarded<T>(&self, call: impl FnOnce() -> Result<T, DbError>) -> Result<T, DbError> {
        if !(self.guarded && self.depth.get() == 0 && self.dialect() == Dialect::Postgres) {
            return call();
        }
        self.backend.control("SAVEPOINT adminsh_statement")?;
        match call() {
            Ok(value) => {
                self.backend
                    .control("RELEASE SAVEPOINT adminsh_statement")?;
                Ok(value)
            }
            Err(e) => {
                let _ = self
                    .backend
                    .control("ROLLBACK TO SAVEPOINT adminsh_statement");
                let _ = self.backend.control("RELEASE SAVEPOINT adminsh_statement");
                Err(e)
            }
        }
    }

    /// Walks a statement's rows in a transaction of its own (a savepoint inside one): what the
    /// callback writes commits when the walk ends, and rolls back if it fails.
    pub(crate) fn each(
        &self,
        sql: &str,
        params: &[Dynamic],
        f: &mut RowFn<'_>,
    ) -> Result<u64, EachError> {
        let (sql, placed) = Self::sent(sql, self.check(sql)?);
        let outcome = self.transaction(|| {
            let running = self.busy.start(self.timeout.get());
            let result = self.backend.each(sql, params, f);
            drop(running);
            result.map_err(|e| match e {
                EachError::Db(e) => EachError::Db(self.failed(e)),
                other @ EachError::Script(_) => other,
            })
        });
        match outcome {
            Ok(n) => Ok(n),
            Err(TxError::Db(e) | TxError::Body(EachError::Db(e))) => Err(EachError::Db(placed(e))),
            Err(TxError::Body(e)) => Err(e),
        }
    }

    /// Runs `body` in a transaction, or in a savepoint inside one: committed (released) when it
    /// returns, rolled back when it fails, whatever the failure.
    pub(crate) fn transaction<T, E>(
        &self,
        body: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, TxError<E>> {
        let depth = self.depth.get();
        let nested = self.in_transaction();
        let savepoint = format!("adminsh_{}", depth + 1);
        let begin = if nested {
            format!("SAVEPOINT {savepoint}")
        } else {
            self.backend.begin_sql().to_owned()
        };
        self.control(|| self.backend.control(&begin))
            .map_err(TxError::Db)?;
        self.depth.set(depth + 1);
        let result = body();
        self.depth.set(depth);
        let failed_inside = self.failed_at.get().is_some_and(|d| d > depth);
        match result {
            Ok(_) if failed_inside => {
                self.undo(nested, &savepoint);
                Err(TxError::Db(DbError::failed(
                    "rolled back instead of committing: a statement in it failed, \
                     and PostgreSQL aborts a transaction at its first error (catch the error in a \
                     nested db::transaction to go on after it)",
                )))
            }
            // Ctrl-C during the body, whatever its statements returned: roll back.
            Ok(_) if crate::interrupt::interrupted() => {
                self.undo(nested, &savepoint);
                Err(TxError::Db(DbError::interrupted()))
            }
            Ok(value) => {
                let end = if nested {
                    format!("RELEASE SAVEPOINT {savepoint}")
                } else {
                    "COMMIT".to_owned()
                };
                match self.control(|| self.backend.control(&end)) {
                    Ok(()) => Ok(value),
                    Err(e) => {
                        self.undo(nested, &savepoint);
                        Err(TxError::Db(e))
                    }
                }
            }
            Err(e) => {
                self.undo(nested, &savepoint);
                Err(TxError::Body(e))
            }
        }
    }

    /// Rolls a transaction (or savepoint) back, after a failure that is reported already.
    fn undo(&self, nested: bool, savepoint: &str) {
        if nested {
            let _ = self
                .backend
                .control(&format!("ROLLBACK TO SAVEPOINT {savepoint}"));
            let _ = self
                .backend
                .control(&format!("RELEASE SAVEPOINT {savepoint}"));
        } else {
            let _ = self.backend.control("ROLLBACK");
        }
        if self.failed_at.get().is_some_and(|d| d > self.depth.get()) {
            self.failed_at.set(None);
        }
    }

    /// The run is over: a dry run's sandbox (and anything left open) is rolled back. Returns
    /// what the rollback could not undo: the sequences a dry run moved.
    pub(crate) fn finish(&self) -> Vec<String> {
        if self.finished.replace(true) {
            return Vec::new();
        }
        if self.in_transaction() {
            let _ = self.backend.control("ROLLBACK");
        }
        if !self.sandbox || self.sequences.is_empty() || self.fence_gone.get() {
            return Vec::new();
        }
        let Ok(after) = self.backend.sequences() else {
            return Vec::new();
        };
        let shown = |value: Option<i64>| value.map_or("unused".to_owned(), |v| v.to_string());
        after
            .iter()
            .filter_map(|(name, now)| {
                let before = self
                    .sequences
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| *v);
                (before != Some(*now)).then(|| {
                    format!(
                        "sequence {name} on {} moved from {} to {} (a rollback does not undo it)",
                        self.name,
                        before.map_or("nothing (it is new)".to_owned(), shown),
                        shown(*now)
                    )
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opened(dry_run: bool, read_only: bool) -> Conn {
        let mode = Mode {
            dry_run,
            read_only,
            root: std::env::temp_dir(),
        };
        Conn::open("sqlite::memory:", &mode).unwrap()
    }

    /// Whatever ended the guarded transaction behind the checks' back, the connection finds it
    /// gone: the run stops with an error naming the transaction, what can be is rolled back,
    /// and nothing more runs on that connection.
    #[test]
    fn a_fence_found_gone_closes_the_connection_to_the_run() {
        for (dry_run, read_only, what) in [
            (
                true,
                false,
                "the dry run's transaction on SQLite in memory ended",
            ),
            (
                false,
                true,
                "the read-only transaction on SQLite in memory ended",
            ),
        ] {
            let conn = opened(dry_run, read_only);
            assert!(conn.fence.is_some());
            assert!(conn.fence_holds().is_ok(), "{what}");
            assert_eq!(
                conn.read("select 1 as one", &[]).map(|r| r.rows.len()).ok(),
                Some(1)
            );
            // The server says another transaction, or none, is open now.
            let error = conn.fence_is(Some("another".to_owned())).unwrap_err();
            assert!(matches!(error.kind, ErrorKind::FenceGone), "{what}");
            assert!(error.text().starts_with(what), "{}", error.text());
            assert!(conn.fence_gone.get());
            // Rolled back: the server has no transaction open any more.
            assert_eq!(
                conn.backend.transaction_token().unwrap().as_deref(),
                Some("none")
            );
            for attempt in [
                conn.read("select 1", &[]).map(drop),
                conn.exec("select 1", &[]).map(drop),
            ] {
                let error = attempt.unwrap_err();
                assert!(matches!(error.kind, ErrorKind::FenceGone), "{what}");
                assert!(
                    error
                        .text()
                        .contains("is closed to this run: its guarded transaction ended"),
                    "{}",
                    error.text()
                );
            }
            let gone = conn.fence_is(None).unwrap_err();
            assert!(matches!(gone.kind, ErrorKind::FenceGone));
        }
        // Outside the guarded modes there is no fence to lose.
        let plain = opened(false, false);
        assert!(plain.fence.is_none());
        assert!(plain.fence_is(Some("anything".to_owned())).is_ok());
        assert!(plain.exec("select 1", &[]).is_ok());
    }
}
