//! `PostgreSQL` through tokio-postgres, over one connection driven by a runtime of its own on
//! the script's thread (each call waits for its answer): TLS with rustls as libpq's `sslmode`
//! says (`require` encrypts, `verify-ca` checks the chain, `verify-full` also the host name;
//! roots from `sslrootcert` or the system's store), statements prepared once and cached,
//! parameters encoded for the type the server infers for each `$n` (text for the types
//! without a binary encoder here, so the server parses them), `db::exec_many` pipelined (every
//! parameter set sent before the first answer is read, as psycopg's `executemany` does),
//! `db::each` through a cursor fetched a thousand rows at a time, `db::query` in a read-only
//! transaction (or a read-only savepoint inside one), Ctrl-C as a cancel request.

use std::cell::RefCell;
use std::collections::HashMap;
use std::error::Error as StdError;
use std::rc::Rc;
use std::time::Duration;

use futures_util::TryStreamExt;
use rhai::{Array, Dynamic};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls, Statement};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::pg_value::{Param, values};
use super::sql::{self, Dialect};
use super::url::{Server, SslMode};
use super::value::Rows;
use super::{Backend, Canceller, DbError, EachError, ErrorKind, RowFn};

/// Statements kept prepared; past this many, the cache starts again.
const CACHED: usize = 256;
/// Rows fetched from a `db::each` cursor at a time.
const BATCH: usize = 1000;
/// What the transaction open now is: `now()` is the transaction's start, the same for all of
/// it (outside one it is each statement's own), and whether it is read-only. As microseconds,
/// so that no setting of the session (a time zone, a date style) changes how it reads;
/// schema-qualified, so no function of a script's can stand in.
const TOKEN: &str = "select (extract(epoch from pg_catalog.now()) * 1000000)::int8, \
                     pg_catalog.current_setting('transaction_read_only')";

/// Undoes a guarded statement that failed in its savepoint, leaving the fence as it was.
const UNDO_STATEMENT: &str =
    "ROLLBACK TO SAVEPOINT adminsh_statement; RELEASE SAVEPOINT adminsh_statement";

/// [`TOKEN`]'s row as the token.
fn token(row: &tokio_postgres::Row) -> String {
    let (started, read_only): (i64, String) = (row.get(0), row.get(1));
    format!("{started} {read_only}")
}

/// Parameter sets of `db::exec_many` in flight at once: enough to keep the connection busy,
/// few enough that the answers waiting to be read stay small.
const PIPELINED: usize = 1000;

pub(crate) struct Postgres {
    /// Runs the connection (its socket, TLS) whenever a call waits on it.
    runtime: tokio::runtime::Runtime,
    /// `None` only while the connection closes.
    client: Option<Client>,
    /// The connection's task: waited for on drop, so the server is told goodbye.
    connection: Option<tokio::task::JoinHandle<()>>,
    statements: RefCell<HashMap<String, Statement>>,
    cancel: tokio_postgres::CancelToken,
    tls: Option<MakeRustlsConnect>,
    /// Cursors open (nested `db::each`): each has its own name.
    cursors: std::cell::Cell<u32>,
}

impl Postgres {
    /// Connects (within `connect_timeout`, 10 s unless the URL says); a read-only session with
    /// `read_only`.
    pub(crate) fn connect(server: &Server, read_only: bool) -> Result<Postgres, String> {
        let mut config = tokio_postgres::Config::new();
        match (&server.host, &server.socket) {
            (Some(host), _) => {
                config.host(host);
            }
            (None, Some(dir)) => {
                config.host_path(dir);
            }
            (None, None) => {
                let dir = ["/var/run/postgresql", "/tmp"]
                    .into_iter()
                    .find(|d| std::path::Path::new(d).is_dir())
                    .unwrap_or("/tmp");
                config.host_path(dir);
            }
        }
        config.port(server.port.unwrap_or(5432));
        let user = server
            .user
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| "postgres".into());
        config.user(&user);
        if let Some(password) = &server.password {
            config.password(password);
        }
        config.dbname(server.database.as_deref().unwrap_or(&user));
        config.application_name(server.application_name.as_deref().unwrap_or("adminsh"));
        config.connect_timeout(Duration::from_secs(
            server.connect_timeout.unwrap_or(10).max(1),
        ));
        let mut options = server.options.clone().unwrap_or_default();
        if read_only {
            options.push_str(" -c default_transaction_read_only=on");
        }
        if !options.trim().is_empty() {
            config.options(options.trim());
        }
        // Over a Unix socket, TLS is neither needed nor offered.
        let tls = if server.host.is_none() || server.ssl == SslMode::Disable {
            config.ssl_mode(tokio_postgres::config::SslMode::Disable);
            None
        } else {
            config.ssl_mode(match server.ssl {
                SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
                _ => tokio_postgres::config::SslMode::Require,
            });
            Some(MakeRustlsConnect::new(super::tls::client_config(server)?))
        };
        let timeout = Duration::from_secs(server.connect_timeout.unwrap_or(10).max(1));
        let attempt = tls.clone();
        let shown = server.clone();
        let (runtime, client, connection) =
            super::within(timeout, move || open(&config, attempt.as_ref(), &shown))?;
        let cancel = client.cancel_token();
        let backend = Postgres {
            runtime,
            client: Some(client),
            connection: Some(connection),
            statements: RefCell::default(),
            cancel,
            tls,
            cursors: std::cell::Cell::new(0),
        };
        if read_only {
            backend
                .control("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
                .map_err(|e| e.text())?;
        }
        Ok(backend)
    }

    fn client(&self) -> &Client {
        self.client
            .as_ref()
            .expect("the connection is open until dropped")
    }

    /// Waits for `work` on this connection.
    fn wait<T>(&self, work: impl Future<Output = T>) -> T {
        self.runtime.block_on(work)
    }

    fn prepared(&self, sql: &str) -> Result<Statement, DbError> {
        if let Some(stmt) = self.statements.borrow().get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = self
            .wait(self.client().prepare(sql))
            .map_err(|e| self.failed(sql, &e))?;
        let mut cache = self.statements.borrow_mut();
        if cache.len() >= CACHED {
            cache.clear();
        }
        cache.insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }

    /// Whether a statement for its effect goes unnamed, with its execution: a text not seen
    /// before that takes no parameters (`"... where id = " + id`), which prepared would cost a
    /// round trip of its own, and would be prepared for nothing if it is not sent again. A
    /// `$` anywhere (a placeholder, or a dollar quote) keeps the prepared path, where a wrong
    /// count of parameters is said before anything runs.
    fn unnamed(&self, sql: &str, params: &[Dynamic]) -> bool {
        params.is_empty() && !sql.contains('$') && !self.statements.borrow().contains_key(sql)
    }

    /// A statement for its effect, ready to send: unnamed, or prepared with its parameters.
    fn bound_exec<'s>(&self, sql: &'s str, params: &[Dynamic]) -> Result<Bound<'s>, DbError> {
        if self.unnamed(sql, params) {
            return Ok(Bound::Unnamed(sql));
        }
        let (stmt, params) = self.bound(sql, params)?;
        Ok(Bound::Prepared(stmt, params))
    }

    /// The statement, prepared, with its parameters checked against what it takes.
    fn bound(&self, sql: &str, params: &[Dynamic]) -> Result<(Statement, Vec<Param>), DbError> {
        let params = Param::all(params)?;
        let stmt = self.prepared(sql)?;
        let wanted = stmt.params().len();
        if wanted != params.len() {
            return Err(sql::counted(wanted, params.len()));
        }
        Ok((stmt, params))
    }

    fn rows(&self, sql: &str, params: &[Dynamic]) -> Result<Rows, DbError> {
        let (stmt, params) = self.bound(sql, params)?;
        let mut rows = Rows::new(stmt.columns().iter().map(|c| c.name().to_owned()).collect());
        // Each row made as it arrives: the server's rows are never all held beside ours.
        self.wait(async {
            let refs = params.iter().map(|p| p as &(dyn ToSql + Sync));
            let stream = self
                .client()
                .query_raw(&stmt, refs)
                .await
                .map_err(|e| self.failed(sql, &e))?;
            futures_util::pin_mut!(stream);
            while let Some(row) = stream.try_next().await.map_err(|e| self.failed(sql, &e))? {
                rows.push(values(&row)?);
            }
            Ok::<(), DbError>(())
        })?;
        Ok(rows)
    }

    /// The statement and the token's question sent together, inside the script's own
    /// transaction: a failed statement fails the question too, and the statement's error is
    /// what is said.
    fn exec_then_token(
        &self,
        sql: &str,
        params: &[Dynamic],
    ) -> Result<(u64, Option<String>), DbError> {
        let bound = self.bound_exec(sql, params)?;
        let question = self.prepared(TOKEN)?;
        let client = self.client();
        let (done, token_row) = self.wait(futures_util::future::join(
            bound.execute(client),
            client.query_one(&question, &[]),
        ));
        let rows = done.map_err(|e| read_only(self.failed(sql, &e)))?;
        Ok((rows, token_row.ok().map(|row| token(&row))))
    }

    /// An error, and a cached statement dropped when the server no longer takes it.
    fn failed(&self, sql: &str, e: &tokio_postgres::Error) -> DbError {
        let mut e = error(e);
        if e.code.as_deref() == Some("0A000") || e.code.as_deref() == Some("26000") {
            self.statements.borrow_mut().remove(sql);
        }
        if e.position.is_some() {
            e.position = e.position.map(|p| char_to_byte(sql, p));
        }
        e
    }
}

impl Backend for Postgres {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn read(&self, sql: &str, params: &[Dynamic], in_transaction: bool) -> Result<Rows, DbError> {
        // Read-only transactions refuse every write (and nextval, and SELECT FOR UPDATE);
        // inside a transaction, a savepoint made read-only does, and is rolled back after.
        let (open, close) = if in_transaction {
            (
                "SAVEPOINT adminsh_read; SET LOCAL transaction_read_only = on",
                "ROLLBACK TO SAVEPOINT adminsh_read; RELEASE SAVEPOINT adminsh_read",
            )
        } else {
            ("BEGIN TRANSACTION READ ONLY", "ROLLBACK")
        };
        self.control(open)?;
        let result = self.rows(sql, params);
        let closed = self.control(close);
        let mut rows = result.map_err(|mut e| {
            if e.code.as_deref() == Some("25006") {
                e.kind = ErrorKind::ReadOnly;
            }
            e
        })?;
        closed?;
        rows.rows.shrink_to_fit();
        Ok(rows)
    }

    fn exec(&self, sql: &str, params: &[Dynamic]) -> Result<u64, DbError> {
        let bound = self.bound_exec(sql, params)?;
        self.wait(bound.execute(self.client()))
            .map_err(|e| read_only(self.failed(sql, &e)))
    }

    /// Every set sent before the answers are read, [`PIPELINED`] at a time; the first failure
    /// (the sets after it fail too, in the transaction adminsh runs them in) names its set.
    fn exec_many(&self, sql: &str, sets: &[Array]) -> Result<u64, DbError> {
        let stmt = self.prepared(sql)?;
        let wanted = stmt.params().len();
        let mut total = 0;
        for (chunk, sets) in sets.chunks(PIPELINED).enumerate() {
            let bound = sets
                .iter()
                .enumerate()
                .map(|(i, set)| {
                    let params = Param::all(set).and_then(|params| {
                        if params.len() == wanted {
                            Ok(params)
                        } else {
                            Err(sql::counted(wanted, params.len()))
                        }
                    });
                    params.map_err(|e| numbered(chunk * PIPELINED + i, e))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let refs: Vec<Vec<&(dyn ToSql + Sync)>> = bound
                .iter()
                .map(|params| params.iter().map(|p| p as &(dyn ToSql + Sync)).collect())
                .collect();
            let client = self.client();
            let answers = self.wait(futures_util::future::join_all(
                refs.iter().map(|refs| client.execute(&stmt, refs)),
            ));
            for (i, answer) in answers.into_iter().enumerate() {
                total += answer.map_err(|e| {
                    numbered(chunk * PIPELINED + i, read_only(self.failed(sql, &e)))
                })?;
            }
        }
        Ok(total)
    }

    fn each(&self, sql: &str, params: &[Dynamic], f: &mut RowFn<'_>) -> Result<u64, EachError> {
        let n = self.cursors.get() + 1;
        let cursor = format!("adminsh_cursor_{n}");
        let declare = format!("DECLARE {cursor} NO SCROLL CURSOR FOR {sql}");
        let fetch = format!("FETCH {BATCH} FROM {cursor}");
        // DECLARE is prepared anew each time: the statement it holds is the one to run.
        {
            let client = self.client();
            let stmt = self
                .wait(client.prepare(&declare))
                .map_err(|e| self.failed(sql, &e))?;
            if stmt.params().len() != params.len() {
                return Err(sql::counted(stmt.params().len(), params.len()).into());
            }
            let bound = Param::all(params)?;
            let refs: Vec<&(dyn ToSql + Sync)> =
                bound.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
            self.wait(client.execute(&stmt, &refs))
                .map_err(|e| read_only(self.failed(sql, &e)))?;
        }
        self.cursors.set(n);
        let mut walked = 0;
        let result = (|| {
            let mut columns: Option<Rc<[String]>> = None;
            loop {
                let stmt = self.prepared(&fetch)?;
                let batch = self
                    .wait(self.client().query(&stmt, &[]))
                    .map_err(|e| error(&e))?;
                if batch.is_empty() {
                    return Ok(walked);
                }
                let columns = columns.get_or_insert_with(|| {
                    Rows::new(
                        batch[0]
                            .columns()
                            .iter()
                            .map(|c| c.name().to_owned())
                            .collect(),
                    )
                    .columns
                });
                let full = batch.len() == BATCH;
                for row in &batch {
                    walked += 1;
                    if !f(columns, values(row)?)? {
                        return Ok(walked);
                    }
                }
                if !full {
                    return Ok(walked);
                }
            }
        })();
        self.cursors.set(n - 1);
        // The cursor ends with its transaction; closing it here frees it sooner.
        if result.is_ok() {
            let _ = self.control(&format!("CLOSE {cursor}"));
        }
        self.statements.borrow_mut().remove(&fetch);
        result
    }

    fn control(&self, sql: &str) -> Result<(), DbError> {
        self.wait(self.client().batch_execute(sql))
            .map_err(|e| error(&e))
    }

    fn sequences(&self) -> Result<Vec<(String, Option<i64>)>, DbError> {
        let rows = self
            .wait(self.client().query(
                "select pg_catalog.format('%I.%I', schemaname, sequencename), last_value \
                 from pg_catalog.pg_sequences order by 1",
                &[],
            ))
            .map_err(|e| error(&e))?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn transaction_token(&self) -> Result<Option<String>, DbError> {
        let question = self.prepared(TOKEN)?;
        let row = self
            .wait(self.client().query_one(&question, &[]))
            .map_err(|e| error(&e))?;
        Ok(Some(token(&row)))
    }

    /// The savepoint, the statement, the token and the release, sent at once: one round trip
    /// where the steps one after the other took four (a statement's first time, two: it is
    /// prepared in the savepoint first). A failed statement fails what follows it in the
    /// aborted transaction too; the savepoint is then rolled back to.
    fn exec_fenced(
        &self,
        sql: &str,
        params: &[Dynamic],
        savepoint: bool,
    ) -> Result<(u64, Option<String>), DbError> {
        if !savepoint {
            return self.exec_then_token(sql, params);
        }
        // A statement not prepared yet is prepared inside the savepoint: a prepare the server
        // refuses (a table that does not exist) aborts the transaction as a failed statement
        // does.
        // An unnamed statement is parsed as it runs, inside the savepoint sent with it.
        let saved_first = !self.unnamed(sql, params) && !self.statements.borrow().contains_key(sql);
        if saved_first {
            self.control("SAVEPOINT adminsh_statement")?;
        }
        let bound = match self.bound_exec(sql, params) {
            Ok(bound) => bound,
            Err(e) => {
                if saved_first {
                    let _ = self.control(UNDO_STATEMENT);
                }
                return Err(e);
            }
        };
        // Prepared once: a question asked after every statement must cost one round trip.
        let question = self.prepared(TOKEN)?;
        let client = self.client();
        let (saved, done, token_row, released) = self.wait(futures_util::future::join4(
            async {
                if saved_first {
                    Ok(())
                } else {
                    client.batch_execute("SAVEPOINT adminsh_statement").await
                }
            },
            bound.execute(client),
            client.query_one(&question, &[]),
            client.batch_execute("RELEASE SAVEPOINT adminsh_statement"),
        ));
        saved.map_err(|e| error(&e))?;
        let rows = match done {
            Ok(rows) => rows,
            Err(e) => {
                let _ = self.control(UNDO_STATEMENT);
                return Err(read_only(self.failed(sql, &e)));
            }
        };
        // A statement that ended the transaction leaves no savepoint to release: the token,
        // which then differs, says so (no token at all stops the run as surely).
        let token = token_row
            .ok()
            .filter(|_| released.is_ok())
            .map(|row| token(&row));
        Ok((rows, token))
    }

    fn canceller(&self) -> Canceller {
        let token = self.cancel.clone();
        let tls = self.tls.clone();
        // Called from the thread that watches for Ctrl-C and timeouts, while the script's
        // thread waits on the connection: the request goes over a connection of its own.
        Box::new(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .enable_time()
                .build()
            else {
                return;
            };
            let _ = runtime.block_on(async {
                match &tls {
                    Some(tls) => token.cancel_query(tls.clone()).await,
                    None => token.cancel_query(NoTls).await,
                }
            });
        })
    }
}

/// A statement for its effect, ready to send (`Postgres::bound_exec`).
enum Bound<'s> {
    /// Prepared (and kept), its parameters checked against what it takes.
    Prepared(Statement, Vec<Param>),
    /// Parsed, bound and run in one round trip, as the server's unnamed statement.
    Unnamed(&'s str),
}

impl Bound<'_> {
    /// Runs it: the rows it affected.
    async fn execute(&self, client: &Client) -> Result<u64, tokio_postgres::Error> {
        match self {
            Bound::Prepared(stmt, params) => {
                let refs: Vec<&(dyn ToSql + Sync)> =
                    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
                client.execute(stmt, &refs).await
            }
            Bound::Unnamed(sql) => client.execute_typed(sql, &[]).await,
        }
    }
}

/// Connects on a runtime of the connection's own, whose task drives the socket from then on.
fn open(
    config: &tokio_postgres::Config,
    tls: Option<&MakeRustlsConnect>,
    server: &Server,
) -> Result<(tokio::runtime::Runtime, Client, tokio::task::JoinHandle<()>), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| format!("cannot start the connection's runtime: {e}"))?;
    let (client, connection) = runtime.block_on(async {
        match tls {
            Some(tls) => config
                .connect(tls.clone())
                .await
                .map(|(c, conn)| (c, runtime.spawn(async move { drop(conn.await) }))),
            None => config
                .connect(NoTls)
                .await
                .map(|(c, conn)| (c, runtime.spawn(async move { drop(conn.await) }))),
        }
        .map_err(|e| connect_error(&e, server))
    })?;
    Ok((runtime, client, connection))
}

impl Drop for Postgres {
    /// Closes the connection as a client should: dropping the client sends the server its
    /// goodbye, which the connection's task writes before it ends (a second at most).
    fn drop(&mut self) {
        drop(self.client.take());
        if let Some(connection) = self.connection.take() {
            let _ = self
                .runtime
                .block_on(async { tokio::time::timeout(Duration::from_secs(1), connection).await });
        }
    }
}

fn read_only(mut e: DbError) -> DbError {
    if e.code.as_deref() == Some("25006") {
        e.kind = ErrorKind::ReadOnly;
    }
    e
}

/// The server's 1-based character position as a byte offset into `sql`.
fn char_to_byte(sql: &str, position: usize) -> usize {
    sql.char_indices()
        .nth(position.saturating_sub(1))
        .map_or(sql.len(), |(i, _)| i)
}

/// `e` said of parameter set `index` (from 0).
fn numbered(index: usize, mut e: DbError) -> DbError {
    e.message = format!("parameter set {}: {}", index + 1, e.message);
    e
}

fn error(e: &tokio_postgres::Error) -> DbError {
    if let Some(db) = e.as_db_error() {
        let mut message = db.message().to_owned();
        if let Some(detail) = db.detail() {
            message.push_str(&format!(" ({detail})"));
        }
        let code = db.code().code();
        let kind = match code {
            "57014" => ErrorKind::Cancelled,
            "25006" => ErrorKind::ReadOnly,
            _ => ErrorKind::Failed,
        };
        let position = match db.position() {
            Some(tokio_postgres::error::ErrorPosition::Original(p)) => usize::try_from(*p).ok(),
            _ => None,
        };
        return DbError {
            message,
            code: Some(code.to_owned()),
            position,
            kind,
        };
    }
    let mut message = e.to_string();
    if let Some(source) = e.source() {
        message = format!("{message}: {source}");
    }
    DbError::failed(message)
}

/// A connection failure in one line: the server's words, or the network's.
fn connect_error(e: &tokio_postgres::Error, server: &Server) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{} (SQLSTATE {})", db.message(), db.code().code());
    }
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let said = cause.to_string();
        if !text.contains(&said) {
            text = format!("{text}: {said}");
        }
        source = cause.source();
    }
    if text.contains("timed out") || text.contains("timeout") {
        text = format!(
            "no answer within {}s (connect_timeout): {text}",
            server.connect_timeout.unwrap_or(10)
        );
    }
    text
}
