//! What each `db` function does, whichever connection it is called on: the statement run
//! through the connection, recorded like a command (for `--json` and the audit log), shown in
//! a dry run's summary with the rows it would have changed, and its failure turned into the
//! script's error (the database's message and code, a caret into the SQL; Ctrl-C as an
//! interruption no `try` catches).

use std::rc::Rc;
use std::time::{Duration, Instant};

use rhai::{Array, Dynamic, EvalAltResult, FnPtr, NativeCallContext};

use super::Db;
use crate::db::{self, Conn, DbError, EachError, ErrorKind, Mode, Rows, TxError};
use crate::host::callback::Callback;
use crate::host::control;
use crate::host::def::{RhaiResult, runtime_error};
use crate::interrupt;
use crate::limits::MAX_TIMEOUT_SECONDS;
use crate::record::{CommandRecord, Statement};
use crate::session::Session;

/// Statements recorded one by one; past this, they are counted in one last record.
const RECORDED: usize = 1000;

/// Why `db::query` refuses a write, in every refusal.
const ONLY_READS: &str = "db::query only reads, so that it can run under --dry-run and \
                          --read-only; use db::exec to change data";

pub(crate) struct Api {
    pub(crate) session: Rc<Session>,
}

impl Api {
    fn mode(&self) -> Mode {
        let options = self.session.options();
        Mode {
            dry_run: options.dry_run,
            read_only: options.read_only,
            root: self.session.release.path().to_path_buf(),
        }
    }

    /// `DATABASE_URL`'s connection, opened on first use.
    pub(crate) fn default(&self) -> RhaiResult<Rc<Conn>> {
        self.session
            .db
            .default_conn(|| {
                let url = self
                    .session
                    .release
                    .config
                    .borrow()
                    .get("DATABASE_URL")
                    .map(str::to_owned);
                let url = url.ok_or(
                    "DATABASE_URL is not set (in .env, an env file or the environment); std/db \
                     connects to it on first use (db::connect(url) reaches any other)",
                )?;
                Conn::open(&url, &self.mode()).map_err(|e| format!("DATABASE_URL: {e}"))
            })
            .map_err(|e| match interrupt::signal() {
                Some(signal) => control::interrupted(signal),
                None => runtime_error(self.session.redact(&e)),
            })
    }

    /// `db::connect(url)`, or the URL in a config key.
    pub(crate) fn connect(&self, url: &str) -> RhaiResult<Db> {
        let resolved = if url.contains(':') {
            url.to_owned()
        } else {
            let value = self
                .session
                .release
                .config
                .borrow()
                .get(url)
                .map(str::to_owned);
            value.ok_or_else(|| {
                runtime_error(format!(
                    "db::connect(\"{url}\"): no config key `{url}` (give a URL, or a key that holds one)"
                ))
            })?
        };
        let conn = Conn::open(&resolved, &self.mode()).map_err(|e| match interrupt::signal() {
            Some(signal) => control::interrupted(signal),
            None => runtime_error(self.session.redact(&format!("db::connect: {e}"))),
        })?;
        let conn = Rc::new(conn);
        self.session.db.keep(&conn);
        Ok(Db(conn))
    }

    pub(crate) fn query(&self, conn: &Conn, sql: &str, params: Array) -> RhaiResult<Dynamic> {
        let rows = self.read(conn, "db::query", sql, &params)?;
        Ok(rows.into_value())
    }

    pub(crate) fn scalar(&self, conn: &Conn, sql: &str, params: Array) -> RhaiResult<Dynamic> {
        let rows = self.read(conn, "db::scalar", sql, &params)?;
        if rows.columns.len() != 1 {
            return Err(runtime_error(format!(
                "db::scalar expects one column, the query returned {}: {:?}",
                rows.columns.len(),
                rows.columns
            )));
        }
        Ok(rows.first_value())
    }

    pub(crate) fn row(&self, conn: &Conn, sql: &str, params: Array) -> RhaiResult<Dynamic> {
        let rows = self.read(conn, "db::row", sql, &params)?;
        if rows.rows.len() != 1 {
            return Err(runtime_error(format!(
                "db::row expects exactly one row, the query returned {}",
                rows.rows.len()
            )));
        }
        Ok(rows.into_array().swap_remove(0))
    }

    pub(crate) fn exec(&self, conn: &Conn, sql: &str, params: Array) -> RhaiResult<rhai::INT> {
        let n = self.statement(
            conn,
            "db::exec",
            sql,
            &params,
            |c| c.exec(sql, &params),
            |n| Some(*n),
        )?;
        Ok(count(n))
    }

    pub(crate) fn exec_many(&self, conn: &Conn, sql: &str, sets: Array) -> RhaiResult<rhai::INT> {
        let mut arrays = Vec::with_capacity(sets.len());
        for (i, set) in sets.into_iter().enumerate() {
            let array = set.try_cast::<Array>().ok_or_else(|| {
                runtime_error(format!(
                    "db::exec_many takes an array of parameter arrays; item {} is not an array",
                    i + 1
                ))
            })?;
            arrays.push(array);
        }
        let shown = vec![Dynamic::from(format!("{} parameter sets", arrays.len()))];
        let n = self.statement(
            conn,
            "db::exec_many",
            sql,
            &shown,
            |c| c.exec_many(sql, &arrays),
            |n| Some(*n),
        )?;
        Ok(count(n))
    }

    pub(crate) fn each(
        &self,
        ctx: &NativeCallContext,
        conn: &Conn,
        sql: &str,
        params: Array,
        f: &FnPtr,
    ) -> RhaiResult<rhai::INT> {
        let mut script_error = None;
        let walked = self.statement(
            conn,
            "db::each",
            sql,
            &params,
            |c| {
                let mut list = None;
                let mut f = Callback::new(ctx, f);
                let mut call = |columns: &Rc<[String]>, values: Vec<Dynamic>| {
                    let list = *list.get_or_insert_with(|| crate::row::List::of(columns));
                    let row = db::row(list, values);
                    let answer = f.call((row,)).map_err(EachError::Script)?;
                    Ok(answer.as_bool() != Ok(false))
                };
                match c.each(sql, &params, &mut call) {
                    Ok(n) => Ok(n),
                    Err(EachError::Db(e)) => Err(e),
                    Err(EachError::Script(e)) => {
                        script_error = Some(e);
                        Err(DbError::refused("the callback failed"))
                    }
                }
            },
            |_| None,
        );
        match (walked, script_error) {
            (_, Some(e)) => Err(e),
            (walked, None) => Ok(count(walked?)),
        }
    }

    /// `transaction(f)`: `f()` in a transaction, or `f(tx)` with the connection's handle, for
    /// a closure that takes one (Rhai lends a handle to the method called on it, so
    /// `l.transaction(|| l.exec(..))` cannot reach `l` inside; `l.transaction(|tx| tx.exec(..))`
    /// can).
    pub(crate) fn transaction(
        &self,
        ctx: &NativeCallContext,
        conn: &Rc<Conn>,
        f: &FnPtr,
    ) -> RhaiResult<Dynamic> {
        let handle = Db(conn.clone());
        let outcome = conn.transaction(|| {
            match f.call_within_context::<Dynamic>(ctx, (handle.clone(),)) {
                // Not called: the closure takes no parameter.
                Err(e)
                    if matches!(&*e, EvalAltResult::ErrorFunctionNotFound(called, _)
                    if called.starts_with(f.fn_name())) =>
                {
                    f.call_within_context::<Dynamic>(ctx, ())
                }
                other => other,
            }
        });
        match outcome {
            Ok(value) => Ok(value),
            Err(TxError::Body(e)) => Err(e),
            Err(TxError::Db(e)) => Err(self.error("db::transaction", "", &e)),
        }
    }

    pub(crate) fn timeout(conn: &Conn, seconds: f64) -> RhaiResult<()> {
        if !seconds.is_finite() || seconds < 0.0 {
            return Err(runtime_error(format!(
                "db::statement_timeout({seconds}): seconds is 0 (no limit) or more"
            )));
        }
        if seconds > MAX_TIMEOUT_SECONDS as f64 {
            return Err(runtime_error(format!(
                "db::statement_timeout({seconds}): at most {MAX_TIMEOUT_SECONDS} seconds (365 \
                 days); 0 means no limit"
            )));
        }
        conn.set_timeout((seconds > 0.0).then(|| Duration::from_secs_f64(seconds)));
        Ok(())
    }

    /// Runs one statement: recorded, shown in a dry run when it changed rows, its failure
    /// turned into the script's error.
    /// A query's rows, recorded as `what` (no rows affected).
    fn read(&self, conn: &Conn, what: &str, sql: &str, params: &[Dynamic]) -> RhaiResult<Rows> {
        self.statement(conn, what, sql, params, |c| c.read(sql, params), |_| None)
    }

    fn statement<T>(
        &self,
        conn: &Conn,
        what: &str,
        sql: &str,
        params: &[Dynamic],
        call: impl FnOnce(&Conn) -> Result<T, DbError>,
        rows: impl Fn(&T) -> Option<u64>,
    ) -> RhaiResult<T> {
        let record = self.start_record(conn, sql, params);
        let started = Instant::now();
        let result = call(conn);
        let duration = started.elapsed();
        let affected = result.as_ref().ok().and_then(&rows);
        let error = result
            .as_ref()
            .err()
            .map(|e| self.session.redact(&e.text()));
        if let Some(index) = record {
            self.session.spawner.amend(index, |r| {
                r.duration = duration;
                r.error = error;
                if let Some(statement) = &mut r.statement {
                    statement.rows = affected;
                }
            });
        }
        match result {
            Ok(value) => {
                if let (true, Some(n)) = (conn.sandbox, affected) {
                    self.would(conn, sql, params, n);
                }
                Ok(value)
            }
            Err(e) => Err(self.error(what, sql, &e)),
        }
    }

    fn start_record(&self, conn: &Conn, sql: &str, params: &[Dynamic]) -> Option<usize> {
        let n = self.session.db.recorded.get();
        self.session.db.recorded.set(n + 1);
        let spawner = &self.session.spawner;
        if n >= RECORDED {
            // Past the limit, one last record counts the rest.
            let more = n + 1 - RECORDED;
            let sql = format!(
                "({more} more statement{} not listed)",
                if more == 1 { "" } else { "s" }
            );
            if let Some(index) = self.session.db.overflow.get() {
                spawner.amend(index, |r| {
                    if let Some(s) = &mut r.statement {
                        s.sql = sql;
                    }
                });
            } else {
                let index = spawner.record(self.record(conn, sql, Vec::new()));
                self.session.db.overflow.set(index);
            }
            return None;
        }
        let shown = params.iter().map(|p| self.shown(p)).collect();
        spawner.record(self.record(conn, self.session.redact(sql), shown))
    }

    /// A parameter as records and dry-run lines show it: masked as the value it is (a PIN of
    /// two digits is a whole value), then as text.
    fn shown(&self, param: &Dynamic) -> String {
        let redactor = self.session.redactor();
        redactor
            .redact(&db::shown(&redactor.value(param)))
            .into_owned()
    }

    fn record(&self, conn: &Conn, sql: String, params: Vec<String>) -> CommandRecord {
        CommandRecord {
            stages: Vec::new(),
            status: None,
            duration: Duration::ZERO,
            error: None,
            statement: Some(Statement {
                database: self.session.redact(&conn.name),
                sql,
                params,
                rows: None,
            }),
        }
    }

    /// A dry run's line for a statement that ran in the sandbox: what it would have done.
    fn would(&self, conn: &Conn, sql: &str, params: &[Dynamic], rows: u64) {
        let verb = db::first_keyword(sql, conn.dialect());
        let one_line = sql.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut shown = format!("`{one_line}`");
        if !params.is_empty() {
            let list: Vec<String> = params.iter().map(|p| self.shown(p)).collect();
            shown.push_str(&format!(" with [{}]", list.join(", ")));
        }
        let rows_text = format!(
            "{} row{}",
            thousands(rows),
            if rows == 1 { "" } else { "s" }
        );
        let action = match verb.as_str() {
            "insert" | "update" | "delete" | "replace" | "merge" => {
                format!("{verb} {rows_text}: {shown}")
            }
            _ if db::data_modifying_with(sql, conn.dialect()) => format!(
                "run {shown} (rows changed: unknown; the database counts the rows a \
                 data-modifying WITH returns, not those it changes)"
            ),
            _ if rows > 0 => format!("run {shown} ({rows_text})"),
            _ => format!("run {shown}"),
        };
        let action = self.session.redact(&action);
        self.session.would(&action, &action);
    }

    /// The script's error for a failed statement: the database's words and code, where the
    /// server points into the SQL, and an interruption as one no `try` can catch.
    pub(super) fn error(&self, what: &str, sql: &str, e: &DbError) -> Box<EvalAltResult> {
        if let Some(signal) = interrupt::signal() {
            return control::interrupted(signal);
        }
        if e.kind == ErrorKind::FenceGone {
            return control::stopped(self.session.redact(&format!("{what}: {}", e.text())));
        }
        let reading = matches!(what, "db::query" | "db::scalar" | "db::row");
        let text = e.text();
        let mut message = match e.kind {
            ErrorKind::ReadOnly if reading => {
                format!("{what} refused a statement that writes: {text} ({ONLY_READS})")
            }
            ErrorKind::ReadOnly => format!("{what} refused in read-only mode: {text}"),
            ErrorKind::Refused => format!("{what} refused {text}"),
            ErrorKind::Failed | ErrorKind::Cancelled | ErrorKind::FenceGone => {
                format!("{what} failed: {text}")
            }
        };
        if let Some(at) = e.position.filter(|_| !sql.is_empty()) {
            message.push_str(&frame(sql, at));
        }
        runtime_error(self.session.redact(&message))
    }
}

/// The SQL's line at byte `at`, with a caret under it.
fn frame(sql: &str, at: usize) -> String {
    let at = at.min(sql.len());
    let start = sql[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = sql[at..].find('\n').map_or(sql.len(), |i| at + i);
    let column = sql[start..at].chars().count();
    format!(
        "\n  at {}:\n  | {}\n  | {}^",
        db::place(sql, at),
        &sql[start..end],
        " ".repeat(column)
    )
}

fn count(n: u64) -> rhai::INT {
    rhai::INT::try_from(n).unwrap_or(rhai::INT::MAX)
}

/// `1,204`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
