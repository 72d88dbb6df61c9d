//! `SQLite`, in-process with the bundled library: statements prepared once and cached, rows
//! stepped one at a time (`db::each` in constant memory), `db::query` refused by `SQLite` itself
//! when its statement would write (`sqlite3_stmt_readonly`), `--read-only` as a file opened
//! read-only with `query_only` on, `--dry-run` as a copy in memory of the file opened read-only,
//! so no statement can touch the file. In both modes, and for `db::query`, `SQLite`'s authorizer
//! denies ATTACH, DETACH, transaction control and every pragma that changes something. Ctrl-C is
//! `sqlite3_interrupt`.

use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rhai::{Array, Dynamic};
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{CachedStatement, Connection, OpenFlags, Statement};

use super::sql::{self, Dialect};
use super::url::SqliteFile;
use super::value::{self, Rows};
use super::{Backend, Canceller, DbError, EachError, ErrorKind, Mode, RowFn};

pub(crate) struct Sqlite {
    conn: Connection,
    /// Set while a `db::query` statement is prepared: the authorizer then denies what could
    /// change anything outside the statement's own result.
    reading: Arc<AtomicBool>,
    /// Set while adminsh runs its own transaction control, which the authorizer lets through.
    own: Arc<AtomicBool>,
}

impl Sqlite {
    /// Opens the file (`None`: a database in memory). A dry run never creates a file: a
    /// missing one is a fresh database in memory, as the file would have been.
    pub(crate) fn open(file: &SqliteFile, mode: &Mode) -> Result<Sqlite, String> {
        let path = file.path.as_deref();
        let flags = if mode.read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
        } else if file.create {
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
        } else {
            // Without CREATE, SQLite itself refuses a file that is not there, even one that
            // vanishes between our look and its open.
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX
        };
        let conn = match path {
            Some(path) if path.exists() && mode.dry_run => copy_in_memory(path),
            Some(path) if path.exists() => Connection::open_with_flags(path, flags),
            Some(path) if mode.read_only => {
                return Err(format!(
                    "there is no SQLite database at {} (and --read-only does not create one)",
                    path.display()
                ));
            }
            Some(path) if !file.create => return Err(missing(path)),
            // A dry run's file that a real run would create: the sandbox is memory.
            Some(_) if mode.dry_run => Connection::open_in_memory(),
            Some(path) => Connection::open_with_flags(path, flags),
            None => Connection::open_in_memory(),
        }
        .map_err(|e| match path {
            Some(path) => format!("cannot open the SQLite database {}: {e}", path.display()),
            None => format!("cannot open an SQLite database in memory: {e}"),
        })?;
        let reading = Arc::new(AtomicBool::new(false));
        let own = Arc::new(AtomicBool::new(false));
        let mut sqlite = Sqlite { conn, reading, own };
        sqlite
            .setup(mode)
            .map_err(|e| format!("cannot set up the SQLite database: {}", e.text()))?;
        Ok(sqlite)
    }

    fn setup(&mut self, mode: &Mode) -> Result<(), DbError> {
        let read_only = mode.read_only;
        let guarded_mode = mode.read_only || mode.dry_run;
        self.conn
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(error)?;
        self.conn.set_prepared_statement_cache_capacity(64);
        if read_only {
            self.conn
                .execute_batch("pragma query_only = on")
                .map_err(error)?;
        }
        let reading = self.reading.clone();
        let own = self.own.clone();
        // SQLite's own judgement of each statement as it is prepared, whatever its text looks
        // like to a lexer: in a guarded mode (or for db::query) nothing may reach another file,
        // end or begin a transaction, or change a setting.
        self.conn
            .authorizer(Some(move |context: AuthContext<'_>| {
                let guarded = guarded_mode || reading.load(Ordering::SeqCst);
                if !guarded || own.load(Ordering::SeqCst) {
                    return Authorization::Allow;
                }
                match context.action {
                    AuthAction::Attach { .. }
                    | AuthAction::Detach { .. }
                    | AuthAction::Transaction { .. }
                    | AuthAction::Savepoint { .. } => Authorization::Deny,
                    AuthAction::Pragma {
                        pragma_name,
                        pragma_value,
                    } if !looks_only(pragma_name, pragma_value) => Authorization::Deny,
                    _ => Authorization::Allow,
                }
            }))
            .map_err(error)
    }

    fn prepare(&self, sql: &str, params: usize) -> Result<CachedStatement<'_>, DbError> {
        let translated = sql::translate(sql, Dialect::Sqlite).map_err(DbError::refused)?;
        if translated.highest != params {
            return Err(sql::counted(translated.highest, params));
        }
        let stmt = self.conn.prepare_cached(&translated.sql).map_err(error)?;
        Ok(stmt)
    }

    fn bind(stmt: &mut Statement<'_>, params: &[Dynamic]) -> Result<(), DbError> {
        for (i, p) in params.iter().enumerate() {
            stmt.raw_bind_parameter(i + 1, param(p).map_err(|e| numbered(i, &e))?)
                .map_err(error)?;
        }
        Ok(())
    }

    fn collect(stmt: &mut Statement<'_>) -> Result<Rows, DbError> {
        let mut rows = Rows::new(stmt.column_names().map(str::to_owned).collect());
        let booleans = booleans(stmt);
        let n = rows.columns.len();
        let mut raw = stmt.raw_query();
        while let Some(row) = raw.next().map_err(error)? {
            let mut values = Vec::with_capacity(n);
            for (i, &boolean) in booleans.iter().enumerate() {
                values.push(cell(row.get_ref(i).map_err(error)?, boolean));
            }
            rows.push(values);
        }
        Ok(rows)
    }

    /// Runs a bound statement to its end: the rows it changed (0 for what is not DML).
    fn run(&self, stmt: &mut Statement<'_>) -> Result<u64, DbError> {
        let before = self.conn.total_changes();
        let mut raw = stmt.raw_query();
        while raw.next().map_err(error)?.is_some() {}
        drop(raw);
        Ok(if self.conn.total_changes() == before {
            0
        } else {
            self.conn.changes()
        })
    }
}

impl Backend for Sqlite {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn read(&self, sql: &str, params: &[Dynamic], _in_transaction: bool) -> Result<Rows, DbError> {
        let translated = sql::translate(sql, Dialect::Sqlite).map_err(DbError::refused)?;
        if translated.highest != params.len() {
            return Err(sql::counted(translated.highest, params.len()));
        }
        self.reading.store(true, Ordering::SeqCst);
        // Not from the cache: the authorizer judges a statement when it is prepared.
        let prepared = self.conn.prepare(&translated.sql);
        self.reading.store(false, Ordering::SeqCst);
        let mut stmt = prepared.map_err(|e| {
            let mut e = error(e);
            if e.message.contains("not authorized") {
                e.kind = ErrorKind::ReadOnly;
            }
            e
        })?;
        if !stmt.readonly() {
            return Err(DbError {
                message: "SQLite says the statement would write to the database".to_owned(),
                code: None,
                position: None,
                kind: ErrorKind::ReadOnly,
            });
        }
        Self::bind(&mut stmt, params)?;
        Self::collect(&mut stmt)
    }

    fn exec(&self, sql: &str, params: &[Dynamic]) -> Result<u64, DbError> {
        let mut stmt = self.prepare(sql, params.len())?;
        Self::bind(&mut stmt, params)?;
        self.run(&mut stmt)
    }

    fn exec_many(&self, sql: &str, sets: &[Array]) -> Result<u64, DbError> {
        let Some(first) = sets.first() else {
            return Ok(0);
        };
        let mut stmt = self.prepare(sql, first.len())?;
        let mut total = 0;
        for (n, set) in sets.iter().enumerate() {
            if set.len() != first.len() {
                return Err(DbError::failed(format!(
                    "parameter set {} has {} values, the first has {}",
                    n + 1,
                    set.len(),
                    first.len()
                )));
            }
            Self::bind(&mut stmt, set).map_err(|e| in_set(n, e))?;
            total += self.run(&mut stmt).map_err(|e| in_set(n, e))?;
        }
        Ok(total)
    }

    fn each(&self, sql: &str, params: &[Dynamic], f: &mut RowFn<'_>) -> Result<u64, EachError> {
        let translated = sql::translate(sql, Dialect::Sqlite).map_err(DbError::refused)?;
        if translated.highest != params.len() {
            return Err(sql::counted(translated.highest, params.len()).into());
        }
        // Prepared anew: the callback may run the same SQL from the cache while this one steps.
        let mut stmt = self.conn.prepare(&translated.sql).map_err(error)?;
        Self::bind(&mut stmt, params)?;
        let columns: Rc<[String]> =
            Rows::new(stmt.column_names().map(str::to_owned).collect()).columns;
        let booleans = booleans(&stmt);
        let mut raw = stmt.raw_query();
        let mut walked = 0;
        while let Some(row) = raw.next().map_err(error)? {
            let mut values = Vec::with_capacity(booleans.len());
            for (i, &boolean) in booleans.iter().enumerate() {
                values.push(cell(row.get_ref(i).map_err(error)?, boolean));
            }
            walked += 1;
            if !f(&columns, values)? {
                break;
            }
        }
        Ok(walked)
    }

    fn control(&self, sql: &str) -> Result<(), DbError> {
        self.own.store(true, Ordering::SeqCst);
        let done = self.conn.execute_batch(sql).map_err(error);
        self.own.store(false, Ordering::SeqCst);
        done
    }

    fn transaction_token(&self) -> Result<Option<String>, DbError> {
        // The authorizer refuses a guarded statement that would begin one, so open is enough.
        Ok(Some(
            if self.conn.is_autocommit() {
                "none"
            } else {
                "open"
            }
            .to_owned(),
        ))
    }

    fn canceller(&self) -> Canceller {
        let handle = self.conn.get_interrupt_handle();
        Box::new(move || handle.interrupt())
    }
}

/// Which columns are declared BOOLEAN (`SQLite` stores them as 0 and 1).
fn booleans(stmt: &Statement<'_>) -> Vec<bool> {
    stmt.columns()
        .map(|c| {
            c.decl_type()
                .is_some_and(|t| t.to_ascii_lowercase().starts_with("bool"))
        })
        .collect()
}

fn cell(value: ValueRef<'_>, boolean: bool) -> Dynamic {
    match value {
        ValueRef::Null => Dynamic::UNIT,
        ValueRef::Integer(i) if boolean => Dynamic::from_bool(i != 0),
        ValueRef::Integer(i) => Dynamic::from_int(i),
        ValueRef::Real(f) => Dynamic::from_float(f),
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned().into(),
        ValueRef::Blob(b) => Dynamic::from_blob(b.to_vec()),
    }
}

/// A Rhai value as an `SQLite` parameter: arrays and maps as JSON text (for `json_each($1)`).
fn param(value: &Dynamic) -> Result<ToSqlOutput<'static>, String> {
    let value = if value.is_unit() {
        Value::Null
    } else if let Ok(b) = value.as_bool() {
        Value::Integer(i64::from(b))
    } else if let Ok(i) = value.as_int() {
        Value::Integer(i)
    } else if let Ok(f) = value.as_float() {
        Value::Real(f)
    } else if value.is_string() || value.is_char() {
        Value::Text(value.to_string())
    } else if value.is_blob() {
        Value::Blob(value.clone().cast::<rhai::Blob>())
    } else if value.is_array() || value.is_map() || value.is::<crate::row::Row>() {
        Value::Text(value::to_json(value)?)
    } else {
        return Err(format!("{} cannot be a parameter", crate::kind::of(value)));
    };
    Ok(ToSqlOutput::Owned(value))
}

fn numbered(i: usize, message: &str) -> DbError {
    DbError::failed(format!("parameter ${}: {message}", i + 1))
}

fn in_set(n: usize, mut e: DbError) -> DbError {
    e.message = format!("parameter set {}: {}", n + 1, e.message);
    e
}

/// A dry run's database: the file opened read-only (the OS keeps it as it is, whatever a
/// statement or a pragma asks) and copied into memory, where the sandbox runs. A database
/// larger than memory cannot be dry-run.
fn copy_in_memory(path: &Path) -> rusqlite::Result<Connection> {
    let disk = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let mut memory = Connection::open_in_memory()?;
    rusqlite::backup::Backup::new(&disk, &mut memory)?.run_to_completion(
        4096,
        std::time::Duration::ZERO,
        None,
    )?;
    Ok(memory)
}

/// The pragmas a guarded statement may run: those that only look (the schema's introspection,
/// and a setting read without a value). Every other one, and every setting changed, is denied:
/// what is not known to be harmless is refused.
fn looks_only(name: &str, value: Option<&str>) -> bool {
    const INTROSPECTION: &[&str] = &[
        "table_info",
        "table_xinfo",
        "table_list",
        "index_list",
        "index_info",
        "index_xinfo",
        "foreign_key_list",
        "foreign_key_check",
        "integrity_check",
        "quick_check",
        "database_list",
        "collation_list",
        "function_list",
        "module_list",
        "pragma_list",
        "compile_options",
    ];
    const SETTINGS: &[&str] = &[
        "application_id",
        "auto_vacuum",
        "busy_timeout",
        "cache_size",
        "data_version",
        "encoding",
        "foreign_keys",
        "freelist_count",
        "journal_mode",
        "page_count",
        "page_size",
        "query_only",
        "schema_version",
        "synchronous",
        "user_version",
    ];
    let name = name.to_ascii_lowercase();
    INTROSPECTION.contains(&name.as_str()) || (value.is_none() && SETTINGS.contains(&name.as_str()))
}

/// Why a missing file is not made: a typo in `DATABASE_URL` must not read as an empty, clean
/// database.
fn missing(path: &Path) -> String {
    format!(
        "there is no SQLite database at {}; check the URL's path, or add ?mode=rwc to the URL \
         to create the file",
        path.display()
    )
}

fn error(e: rusqlite::Error) -> DbError {
    match &e {
        rusqlite::Error::SqliteFailure(failure, message) => {
            let kind = match failure.code {
                rusqlite::ErrorCode::ReadOnly => ErrorKind::ReadOnly,
                rusqlite::ErrorCode::OperationInterrupted => ErrorKind::Cancelled,
                _ => ErrorKind::Failed,
            };
            DbError {
                message: message.clone().unwrap_or_else(|| failure.to_string()),
                code: Some(code_name(failure.extended_code)),
                position: None,
                kind,
            }
        }
        rusqlite::Error::SqlInputError {
            error, msg, offset, ..
        } => DbError {
            message: msg.clone(),
            code: Some(code_name(error.extended_code)),
            position: usize::try_from(*offset).ok(),
            kind: ErrorKind::Failed,
        },
        rusqlite::Error::MultipleStatement => DbError::failed(
            "the SQL holds more than one statement; run one at a time (or use db::exec_many)",
        ),
        _ => DbError::failed(e.to_string()),
    }
}

/// `SQLITE_CONSTRAINT_UNIQUE` and the like, for the primary codes users look up.
fn code_name(code: i32) -> String {
    let name = match code & 0xff {
        1 => "SQLITE_ERROR",
        5 => "SQLITE_BUSY",
        6 => "SQLITE_LOCKED",
        8 => "SQLITE_READONLY",
        9 => "SQLITE_INTERRUPT",
        11 => "SQLITE_CORRUPT",
        13 => "SQLITE_FULL",
        14 => "SQLITE_CANTOPEN",
        19 => "SQLITE_CONSTRAINT",
        20 => "SQLITE_MISMATCH",
        23 => "SQLITE_AUTH",
        25 => "SQLITE_RANGE",
        _ => return format!("SQLITE error {code}"),
    };
    if code > 0xff {
        format!("{name}, extended code {code}")
    } else {
        name.to_owned()
    }
}
