//! `MySQL` and `MariaDB` through the `mysql` crate (rustls for TLS): `$n` placeholders turned into
//! `?` with the parameters in order, statements prepared and cached by the driver, rows typed
//! from the binary protocol (`tinyint(1)` as bool, DECIMAL as exact text, binary strings as
//! blobs, JSON parsed), `db::each` streaming the result (so its callback cannot use the same
//! connection), `--read-only` as a read-only session, Ctrl-C as `KILL QUERY` from a second
//! connection.

use std::cell::RefCell;
use std::rc::Rc;

use mysql::consts::{ColumnFlags, ColumnType};
use mysql::prelude::Queryable;
use mysql::{Column, Conn, Opts, OptsBuilder, Params, SslOpts, Value};
use rhai::{Array, Dynamic};

use super::sql::{self, Dialect};
use super::url::{Server, SslMode};
use super::value::{self, Rows};
use super::{Backend, Canceller, DbError, EachError, ErrorKind, RowFn};

mod many;

/// `MySQL`'s warning that a rollback left a table that is not transactional changed.
const NOT_UNDONE: u32 = 1196;

/// Taken before each statement of many rows `exec_many` sends.
const SAVEPOINT: &str = "SAVEPOINT adminsh_rows";

/// `MySQL`'s number for "binary" as a character set: such strings are bytes.
const BINARY_CHARSET: u16 = 63;

pub(crate) struct Mysql {
    conn: RefCell<Conn>,
    opts: Opts,
    id: u32,
    /// The session is read-only (`--read-only`).
    read_only: bool,
}

impl Mysql {
    pub(crate) fn connect(server: &Server, read_only: bool) -> Result<Mysql, String> {
        let timeout = std::time::Duration::from_secs(server.connect_timeout.unwrap_or(10).max(1));
        let mut builder = OptsBuilder::new()
            .user(server.user.clone())
            .pass(server.password.clone())
            .db_name(server.database.clone())
            .tcp_connect_timeout(Some(timeout))
            .prefer_socket(false)
            // Rows a statement matched, as PostgreSQL and SQLite count them.
            .additional_capabilities(mysql::consts::CapabilityFlags::CLIENT_FOUND_ROWS)
            .init(vec!["SET NAMES utf8mb4"]);
        match (&server.host, &server.socket) {
            (Some(host), _) => {
                builder = builder
                    .ip_or_hostname(Some(host.clone()))
                    .tcp_port(server.port.unwrap_or(3306));
            }
            (None, Some(socket)) => builder = builder.socket(Some(socket.display().to_string())),
            (None, None) => builder = builder.ip_or_hostname(Some("localhost")),
        }
        let ssl = match server.ssl {
            _ if server.host.is_none() => None,
            SslMode::Disable => None,
            // MySQL clients prefer TLS by default; so does adminsh, when the URL asks for it.
            SslMode::Prefer if !server.ssl_given => None,
            SslMode::Prefer | SslMode::Require => Some(
                SslOpts::default()
                    .with_danger_accept_invalid_certs(server.root_cert.is_none())
                    .with_danger_skip_domain_validation(true),
            ),
            SslMode::VerifyCa => Some(SslOpts::default().with_danger_skip_domain_validation(true)),
            SslMode::VerifyFull => Some(SslOpts::default()),
        };
        // The driver reads the file itself: it is checked first to be a regular file of a
        // configuration file's size, which the driver would block on or read without end.
        if let (Some(path), Some(_)) = (&server.root_cert, &ssl) {
            super::tls::root_cert(path)?;
        }
        let ssl = ssl.map(|opts| match &server.root_cert {
            Some(path) => opts.with_root_cert_path(Some(path.clone())),
            None => opts,
        });
        let prefer = server.ssl == SslMode::Prefer && ssl.is_some();
        let opts: Opts = builder.clone().ssl_opts(ssl).into();
        let (conn, opts) = super::within(timeout, move || {
            match Conn::new(opts.clone()) {
                Ok(conn) => Ok((conn, opts)),
                // `prefer`: TLS if the server has it, else plain.
                Err(_) if prefer => {
                    let plain: Opts = builder.ssl_opts(None::<SslOpts>).into();
                    Conn::new(plain.clone()).map(|c| (c, plain))
                }
                Err(e) => Err(e),
            }
            .map_err(|e| error(e).text())
        })?;
        let id = conn.connection_id();
        let backend = Mysql {
            conn: RefCell::new(conn),
            opts,
            id,
            read_only,
        };
        if read_only {
            backend
                .control("SET SESSION TRANSACTION READ ONLY")
                .map_err(|e| e.text())?;
        }
        Ok(backend)
    }

    /// After a statement of many rows failed: whether the transaction is still open and rolling
    /// back to the savepoint before the statement undid all of it (no warning that a table could
    /// not be rolled back).
    fn undone(&self) -> bool {
        let open = matches!(self.transaction_token(), Ok(Some(token)) if token.starts_with('1'));
        open && self.control(&format!("ROLLBACK TO {SAVEPOINT}")).is_ok()
            && self
                .conn()
                .ok()
                .and_then(|mut conn| conn.query::<(String, u32, String), _>("SHOW WARNINGS").ok())
                .is_some_and(|warnings| warnings.iter().all(|(_, code, _)| *code != NOT_UNDONE))
    }

    /// The connection, unless a `db::each` walk streams over it.
    fn conn(&self) -> Result<std::cell::RefMut<'_, Conn>, DbError> {
        self.conn.try_borrow_mut().map_err(|_| {
            DbError::refused(
                "a statement on the connection a db::each walk streams over: MySQL sends the \
                 rows as they come, so the callback cannot use it (collect with db::query, or \
                 open a second connection with db::connect)",
            )
        })
    }

    fn prepare(sql: &str, params: &[Dynamic]) -> Result<(String, Params), DbError> {
        let translated = sql::translate(sql, Dialect::Mysql).map_err(DbError::refused)?;
        if translated.highest != params.len() {
            return Err(sql::counted(translated.highest, params.len()));
        }
        let mut values = Vec::with_capacity(translated.order.len());
        for &i in &translated.order {
            values.push(
                param(&params[i])
                    .map_err(|e| DbError::failed(format!("parameter ${}: {e}", i + 1)))?,
            );
        }
        let params = if values.is_empty() {
            Params::Empty
        } else {
            Params::Positional(values)
        };
        Ok((translated.sql, params))
    }

    fn rows(&self, sql: &str, params: &[Dynamic]) -> Result<Rows, DbError> {
        let (text, params) = Self::prepare(sql, params)?;
        let mut conn = self.conn()?;
        let mut result = conn.exec_iter(text, params).map_err(error)?;
        let columns: Vec<Column> = result.columns().as_ref().to_vec();
        let mut rows = Rows::new(columns.iter().map(|c| c.name_str().into_owned()).collect());
        for row in result.by_ref() {
            let row = row.map_err(error)?;
            rows.push(
                row.unwrap()
                    .into_iter()
                    .zip(&columns)
                    .map(|(v, c)| cell(v, c))
                    .collect::<Result<_, _>>()?,
            );
        }
        Ok(rows)
    }
}

impl Backend for Mysql {
    fn dialect(&self) -> Dialect {
        Dialect::Mysql
    }

    fn begin_sql(&self) -> &'static str {
        "START TRANSACTION"
    }

    fn read(&self, sql: &str, params: &[Dynamic], in_transaction: bool) -> Result<Rows, DbError> {
        if in_transaction {
            // MySQL cannot make part of a transaction read-only: adminsh reads the statement.
            let first = sql::first_keyword(sql, Dialect::Mysql);
            let lower = sql.to_ascii_lowercase();
            let reads = matches!(
                first.as_str(),
                "select" | "with" | "values" | "table" | "show" | "explain" | "describe" | "desc"
            );
            if !reads
                || lower.contains("outfile")
                || lower.contains("dumpfile")
                || lower.contains(" for update")
            {
                return Err(DbError {
                    kind: ErrorKind::ReadOnly,
                    ..DbError::failed(format!(
                        "a `{first}` statement inside a transaction (MySQL cannot make part of a \
                         transaction read-only, so there adminsh takes only plain queries)"
                    ))
                });
            }
            return self.rows(sql, params);
        }
        // DDL commits the transaction it is in and runs on its own: the session itself is made
        // read-only for the query, so that the server refuses that too.
        self.control("SET SESSION TRANSACTION READ ONLY")?;
        self.control("START TRANSACTION READ ONLY")?;
        let result = self.rows(sql, params);
        let mut closed = self.control("ROLLBACK");
        if !self.read_only {
            closed = closed.and(self.control("SET SESSION TRANSACTION READ WRITE"));
        }
        let rows = result?;
        closed?;
        Ok(rows)
    }

    fn exec(&self, sql: &str, params: &[Dynamic]) -> Result<u64, DbError> {
        let (text, params) = Self::prepare(sql, params)?;
        let mut conn = self.conn()?;
        let result = conn.exec_iter(text, params).map_err(error)?;
        let affected = result.affected_rows();
        drop(result);
        Ok(affected)
    }

    /// An `INSERT` of one row of placeholders goes as statements of many rows (a thousand sets
    /// each, fewer when their values are large), as `PyMySQL`'s `executemany` sends it: one round
    /// trip for each thousand rows instead of each row. A statement that fails is rolled back
    /// to the savepoint taken before it (`exec_many` runs in a transaction), and its sets are
    /// sent again one by one, so the error names the set that fails, as it does everywhere
    /// else; where the failure ended the transaction (a deadlock), left rows a rollback cannot
    /// take back (`MyISAM`) or came of Ctrl-C, the error names the statement's sets instead.
    fn exec_many(&self, sql: &str, sets: &[Array]) -> Result<u64, DbError> {
        let translated = sql::translate(sql, Dialect::Mysql).map_err(DbError::refused)?;
        let Some(row) = sql::mysql_values_row(&translated.sql).filter(|_| sets.len() > 1) else {
            return super::one_by_one(self, sql, sets, 0);
        };
        let mut total = 0;
        let mut first = 0;
        while first < sets.len() {
            let (taken, params) = many::chunk(&translated, &sets[first..], first)?;
            let text = many::statement(&translated.sql, row, taken);
            // Where the statement fails, the savepoint undoes what it did, and the server says
            // whether something could not be undone (a table that is not transactional).
            self.control(SAVEPOINT)?;
            let sent = self.conn().and_then(|mut conn| {
                let result = conn
                    .exec_iter(text, Params::Positional(params))
                    .map_err(error)?;
                Ok(result.affected_rows())
            });
            total += match sent {
                Ok(n) => n,
                // Sent again only when the statement is undone whole and the transaction still
                // open: a deadlock ends it, and what followed would commit on its own; a
                // MyISAM table keeps the rows before the failure, which would go in twice.
                // Never after Ctrl-C.
                Err(e) if crate::interrupt::interrupted() || !self.undone() => {
                    return Err(DbError {
                        message: format!(
                            "parameter sets {} to {} (one statement): {}",
                            first + 1,
                            first + taken,
                            e.message
                        ),
                        ..e
                    });
                }
                Err(_) => super::one_by_one(self, sql, &sets[first..first + taken], first)?,
            };
            first += taken;
        }
        Ok(total)
    }

    fn each(&self, sql: &str, params: &[Dynamic], f: &mut RowFn<'_>) -> Result<u64, EachError> {
        let (text, params) = Self::prepare(sql, params)?;
        let mut conn = self.conn()?;
        let mut result = conn.exec_iter(text, params).map_err(error)?;
        let columns: Vec<Column> = result.columns().as_ref().to_vec();
        let names: Rc<[String]> =
            Rows::new(columns.iter().map(|c| c.name_str().into_owned()).collect()).columns;
        let mut walked = 0;
        for row in result.by_ref() {
            let row = row.map_err(error)?;
            let values = row
                .unwrap()
                .into_iter()
                .zip(&columns)
                .map(|(v, c)| cell(v, c))
                .collect::<Result<_, _>>()?;
            walked += 1;
            if !f(&names, values)? {
                break;
            }
        }
        Ok(walked)
    }

    fn control(&self, sql: &str) -> Result<(), DbError> {
        self.conn()?.query_drop(sql).map_err(error)
    }

    fn transaction_token(&self) -> Result<Option<String>, DbError> {
        // MariaDB names the mode `tx_read_only`, MySQL 8 `transaction_read_only`; a server
        // that knows neither, or not `in_transaction`, cannot be asked.
        let mut conn = self.conn()?;
        for sql in [
            "select concat(@@in_transaction, ' ', @@tx_read_only)",
            "select concat(@@in_transaction, ' ', @@transaction_read_only)",
        ] {
            if let Ok(Some(Some(said))) = conn.query_first::<Option<String>, _>(sql) {
                return Ok(Some(said));
            }
        }
        Ok(None)
    }

    fn canceller(&self) -> Canceller {
        let opts = self.opts.clone();
        let id = self.id;
        Box::new(move || {
            if let Ok(mut conn) = Conn::new(opts.clone()) {
                let _ = conn.query_drop(format!("KILL QUERY {id}"));
            }
        })
    }
}

pub(super) fn param(v: &Dynamic) -> Result<Value, String> {
    Ok(if v.is_unit() {
        Value::NULL
    } else if let Ok(b) = v.as_bool() {
        Value::Int(i64::from(b))
    } else if let Ok(i) = v.as_int() {
        Value::Int(i)
    } else if let Ok(f) = v.as_float() {
        Value::Double(f)
    } else if v.is_string() || v.is_char() {
        Value::Bytes(v.to_string().into_bytes())
    } else if let Some(blob) = v.read_lock::<rhai::Blob>() {
        Value::Bytes(blob.clone())
    } else if v.is_array() || v.is_map() || v.is::<crate::row::Row>() {
        Value::Bytes(value::to_json(v)?.into_bytes())
    } else {
        return Err(format!("{} cannot be a parameter", crate::kind::of(v)));
    })
}

// The names are the protocol's: year, month, day, hours, minutes, seconds.
#[allow(clippy::many_single_char_names)]
fn cell(v: Value, column: &Column) -> Result<Dynamic, DbError> {
    let ty = column.column_type();
    Ok(match v {
        Value::NULL => Dynamic::UNIT,
        Value::Int(i) if ty == ColumnType::MYSQL_TYPE_TINY && column.column_length() == 1 => {
            Dynamic::from_bool(i != 0)
        }
        Value::Int(i) => Dynamic::from_int(i),
        Value::UInt(u) => match i64::try_from(u) {
            Ok(i) => Dynamic::from_int(i),
            Err(_) => u.to_string().into(),
        },
        Value::Float(f) => Dynamic::from_float(f64::from(f)),
        Value::Double(f) => Dynamic::from_float(f),
        Value::Date(y, m, d, h, mi, s, us) => {
            let date = format!("{y:04}-{m:02}-{d:02}");
            if ty == ColumnType::MYSQL_TYPE_DATE {
                date.into()
            } else {
                let micros = ((i64::from(h) * 60 + i64::from(mi)) * 60 + i64::from(s)) * 1_000_000
                    + i64::from(us);
                format!("{date}T{}", value::time(micros)).into()
            }
        }
        Value::Time(negative, days, h, m, s, us) => {
            let micros = (((i64::from(days) * 24 + i64::from(h)) * 60 + i64::from(m)) * 60
                + i64::from(s))
                * 1_000_000
                + i64::from(us);
            format!("{}{}", if negative { "-" } else { "" }, value::time(micros)).into()
        }
        Value::Bytes(bytes) => match ty {
            ColumnType::MYSQL_TYPE_JSON => {
                value::from_json(&String::from_utf8_lossy(&bytes)).map_err(DbError::failed)?
            }
            ColumnType::MYSQL_TYPE_BIT => Dynamic::from_blob(bytes),
            _ if column.character_set() == BINARY_CHARSET
                && !matches!(
                    ty,
                    ColumnType::MYSQL_TYPE_DECIMAL | ColumnType::MYSQL_TYPE_NEWDECIMAL
                )
                && (column.flags().contains(ColumnFlags::BINARY_FLAG)
                    || column.flags().contains(ColumnFlags::BLOB_FLAG)) =>
            {
                Dynamic::from_blob(bytes)
            }
            _ => String::from_utf8_lossy(&bytes).into_owned().into(),
        },
    })
}

fn error(e: mysql::Error) -> DbError {
    match e {
        mysql::Error::MySqlError(e) => DbError {
            kind: match e.code {
                1792 | 1290 => ErrorKind::ReadOnly,
                1317 => ErrorKind::Cancelled,
                _ => ErrorKind::Failed,
            },
            message: e.message,
            code: Some(format!("{}, SQLSTATE {}", e.code, e.state)),
            position: None,
        },
        // The driver's own Display wraps each kind in `IoError { ... }`: the words inside are
        // what a user reads.
        mysql::Error::IoError(e) => DbError::failed(e.to_string()),
        mysql::Error::CodecError(e) => DbError::failed(e.to_string()),
        mysql::Error::DriverError(e) => DbError::failed(e.to_string()),
        mysql::Error::UrlError(e) => DbError::failed(e.to_string()),
        mysql::Error::TlsError(e) => DbError::failed(e.to_string()),
        other => DbError::failed(other.to_string()),
    }
}
