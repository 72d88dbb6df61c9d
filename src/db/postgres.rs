//! `PostgreSQL` through rust-postgres, over one connection: TLS with rustls as libpq's `sslmode`
//! says (`require` encrypts, `verify-ca` checks the chain, `verify-full` also the host name;
//! roots from `sslrootcert` or the system's store), statements prepared once and cached,
//! parameters encoded for the type the server infers for each `$n` (text for the types
//! without a binary encoder here, so the server parses them), `db::each` through a cursor
//! fetched a thousand rows at a time, `db::query` in a read-only transaction (or a read-only
//! savepoint inside one), Ctrl-C as a cancel request.

use std::cell::RefCell;
use std::collections::HashMap;
use std::error::Error as StdError;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use postgres::types::{FromSql, IsNull, Kind, ToSql, Type, to_sql_checked};
use postgres::{Client, NoTls, Statement};
use postgres_protocol::types as pg;
use rhai::{Array, Dynamic};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::sql::Dialect;
use super::url::{Server, SslMode};
use super::value::{self, Rows};
use super::{Backend, Canceller, DbError, EachError, ErrorKind, RowFn};

type BoxError = Box<dyn StdError + Sync + Send>;

/// Statements kept prepared; past this many, the cache starts again.
const CACHED: usize = 256;
/// Rows fetched from a `db::each` cursor at a time.
const BATCH: usize = 1000;

pub(crate) struct Postgres {
    client: RefCell<Client>,
    statements: RefCell<HashMap<String, Statement>>,
    cancel: postgres::CancelToken,
    tls: Option<MakeRustlsConnect>,
    /// Cursors open (nested `db::each`): each has its own name.
    cursors: std::cell::Cell<u32>,
}

impl Postgres {
    /// Connects (within `connect_timeout`, 10 s unless the URL says); a read-only session with
    /// `read_only`.
    pub(crate) fn connect(server: &Server, read_only: bool) -> Result<Postgres, String> {
        let mut config = postgres::Config::new();
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
            config.ssl_mode(postgres::config::SslMode::Disable);
            None
        } else {
            config.ssl_mode(match server.ssl {
                SslMode::Prefer => postgres::config::SslMode::Prefer,
                _ => postgres::config::SslMode::Require,
            });
            Some(MakeRustlsConnect::new(tls_config(server)?))
        };
        let timeout = Duration::from_secs(server.connect_timeout.unwrap_or(10).max(1));
        let attempt = tls.clone();
        let shown = server.clone();
        let client = super::within(timeout, move || {
            match &attempt {
                Some(tls) => config.connect(tls.clone()),
                None => config.connect(NoTls),
            }
            .map_err(|e| connect_error(&e, &shown))
        })?;
        let cancel = client.cancel_token();
        let backend = Postgres {
            client: RefCell::new(client),
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

    fn prepared(&self, sql: &str) -> Result<Statement, DbError> {
        if let Some(stmt) = self.statements.borrow().get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = self
            .client
            .borrow_mut()
            .prepare(sql)
            .map_err(|e| self.failed(sql, &e))?;
        let mut cache = self.statements.borrow_mut();
        if cache.len() >= CACHED {
            cache.clear();
        }
        cache.insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }

    /// The statement, prepared, with its parameters checked against what it takes.
    fn bound(&self, sql: &str, params: &[Dynamic]) -> Result<(Statement, Vec<Param>), DbError> {
        let params = Param::all(params)?;
        let stmt = self.prepared(sql)?;
        let wanted = stmt.params().len();
        if wanted != params.len() {
            return Err(super::sqlite::counted(wanted, params.len()));
        }
        Ok((stmt, params))
    }

    fn rows(&self, sql: &str, params: &[Dynamic]) -> Result<Rows, DbError> {
        let (stmt, params) = self.bound(sql, params)?;
        let refs: Vec<&(dyn ToSql + Sync)> =
            params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        let found = self
            .client
            .borrow_mut()
            .query(&stmt, &refs)
            .map_err(|e| self.failed(sql, &e))?;
        let mut rows = Rows::new(stmt.columns().iter().map(|c| c.name().to_owned()).collect());
        for row in &found {
            rows.rows.push(values(row)?);
        }
        Ok(rows)
    }

    /// An error, and a cached statement dropped when the server no longer takes it.
    fn failed(&self, sql: &str, e: &postgres::Error) -> DbError {
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
        let (stmt, params) = self.bound(sql, params)?;
        let refs: Vec<&(dyn ToSql + Sync)> =
            params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        self.client
            .borrow_mut()
            .execute(&stmt, &refs)
            .map_err(|e| read_only(self.failed(sql, &e)))
    }

    fn exec_many(&self, sql: &str, sets: &[Array]) -> Result<u64, DbError> {
        let mut total = 0;
        for (n, set) in sets.iter().enumerate() {
            total += self.exec(sql, set).map_err(|mut e| {
                e.message = format!("parameter set {}: {}", n + 1, e.message);
                e
            })?;
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
            let mut client = self.client.borrow_mut();
            let stmt = client.prepare(&declare).map_err(|e| self.failed(sql, &e))?;
            if stmt.params().len() != params.len() {
                return Err(super::sqlite::counted(stmt.params().len(), params.len()).into());
            }
            let bound = Param::all(params)?;
            let refs: Vec<&(dyn ToSql + Sync)> =
                bound.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
            client
                .execute(&stmt, &refs)
                .map_err(|e| read_only(self.failed(sql, &e)))?;
        }
        self.cursors.set(n);
        let mut walked = 0;
        let result = (|| {
            let mut columns: Option<Rc<[String]>> = None;
            loop {
                let stmt = self.prepared(&fetch)?;
                let batch = self
                    .client
                    .borrow_mut()
                    .query(&stmt, &[])
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
        self.client
            .borrow_mut()
            .batch_execute(sql)
            .map_err(|e| error(&e))
    }

    fn canceller(&self) -> Canceller {
        let token = self.cancel.clone();
        let tls = self.tls.clone();
        Box::new(move || {
            let _ = match &tls {
                Some(tls) => token.cancel_query(tls.clone()),
                None => token.cancel_query(NoTls),
            };
        })
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

fn error(e: &postgres::Error) -> DbError {
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
            Some(postgres::error::ErrorPosition::Original(p)) => usize::try_from(*p).ok(),
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
fn connect_error(e: &postgres::Error, server: &Server) -> String {
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

/// The TLS client sslmode asks for.
fn tls_config(server: &Server) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    // libpq: with a root certificate file, `require` verifies the chain as `verify-ca` does.
    let verify = match server.ssl {
        SslMode::VerifyCa | SslMode::VerifyFull => true,
        SslMode::Require => server.root_cert.is_some(),
        _ => false,
    };
    if !verify {
        return Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Unverified(provider)))
            .with_no_client_auth());
    }
    let mut roots = rustls::RootCertStore::empty();
    if let Some(path) = &server.root_cert {
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| format!("cannot read sslrootcert {}: {e}", path.display()))?;
        for cert in certs {
            let cert =
                cert.map_err(|e| format!("cannot read sslrootcert {}: {e}", path.display()))?;
            roots
                .add(cert)
                .map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
        }
    } else {
        let found = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(found.certs);
        if roots.is_empty() {
            return Err(
                "sslmode verify-ca/verify-full needs CA certificates: none in the system's \
                 store; give sslrootcert=/path/to/ca.pem"
                    .to_owned(),
            );
        }
    }
    let webpki =
        rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| e.to_string())?;
    let verifier: Arc<dyn ServerCertVerifier> = if server.ssl == SslMode::VerifyFull {
        webpki
    } else {
        Arc::new(AnyName(webpki))
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// `sslmode=require` without a root certificate: encrypted, the server's certificate taken as
/// it is (libpq's own behaviour); its signatures are still checked.
#[derive(Debug)]
struct Unverified(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `sslmode=verify-ca`: the chain must lead to a trusted root; the host name is not checked.
#[derive(Debug)]
struct AnyName(Arc<rustls::client::WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// A row's values, typed.
fn values(row: &postgres::Row) -> Result<Vec<Dynamic>, DbError> {
    (0..row.len())
        .map(|i| {
            row.try_get::<_, Cell>(i).map(|c| c.0).map_err(|e| {
                let column = row.columns()[i].name();
                DbError::failed(format!(
                    "column `{column}`: {}",
                    e.source()
                        .map_or_else(|| e.to_string(), ToString::to_string)
                ))
            })
        })
        .collect()
}

/// One value from the server, as Rhai sees it.
struct Cell(Dynamic);

impl<'a> FromSql<'a> for Cell {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        decode(ty, raw).map(Cell)
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(Cell(Dynamic::UNIT))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// Microseconds from 1970-01-01 to 2000-01-01, `PostgreSQL`'s epoch.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;
const PG_EPOCH_DAYS: i64 = 10_957;

fn decode(ty: &Type, raw: &[u8]) -> Result<Dynamic, BoxError> {
    Ok(match *ty {
        Type::BOOL => pg::bool_from_sql(raw)?.into(),
        Type::INT2 => Dynamic::from_int(i64::from(pg::int2_from_sql(raw)?)),
        Type::INT4 => Dynamic::from_int(i64::from(pg::int4_from_sql(raw)?)),
        Type::INT8 => Dynamic::from_int(pg::int8_from_sql(raw)?),
        Type::OID | Type::XID | Type::CID => Dynamic::from_int(i64::from(pg::oid_from_sql(raw)?)),
        Type::FLOAT4 => Dynamic::from_float(f64::from(pg::float4_from_sql(raw)?)),
        Type::FLOAT8 => Dynamic::from_float(pg::float8_from_sql(raw)?),
        Type::BYTEA => Dynamic::from_blob(raw.to_vec()),
        Type::JSON => value::from_json(std::str::from_utf8(raw)?)?,
        Type::JSONB => match raw.split_first() {
            Some((1, json)) => value::from_json(std::str::from_utf8(json)?)?,
            _ => return Err("unknown jsonb version".into()),
        },
        Type::NUMERIC => numeric(raw)?.into(),
        Type::DATE => match pg::date_from_sql(raw)? {
            i32::MAX => "infinity".into(),
            i32::MIN => "-infinity".into(),
            days => value::date(i64::from(days) + PG_EPOCH_DAYS).into(),
        },
        Type::TIMESTAMP | Type::TIMESTAMPTZ => match pg::timestamp_from_sql(raw)? {
            i64::MAX => "infinity".into(),
            i64::MIN => "-infinity".into(),
            micros => value::timestamp(micros + PG_EPOCH_MICROS, *ty == Type::TIMESTAMPTZ).into(),
        },
        Type::TIME => value::time(pg::time_from_sql(raw)?).into(),
        Type::UUID => uuid(pg::uuid_from_sql(raw)?).into(),
        Type::CHAR => Dynamic::from(char::from(*raw.first().unwrap_or(&0)).to_string()),
        _ => match ty.kind() {
            Kind::Array(member) => array(member, raw)?,
            Kind::Domain(inner) => decode(inner, raw)?,
            Kind::Simple | Kind::Enum(_) if is_text(ty) => {
                std::str::from_utf8(raw)?.to_owned().into()
            }
            _ => {
                return Err(format!(
                    "std/db cannot read type {} yet; cast it in the query (e.g. `{}::text`)",
                    ty.name(),
                    "column"
                )
                .into());
            }
        },
    })
}

/// Types whose binary form is their text: text itself, names, enums, citext.
fn is_text(ty: &Type) -> bool {
    matches!(
        *ty,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN
    ) || matches!(ty.kind(), Kind::Enum(_))
        || ty.name() == "citext"
}

fn array(member: &Type, raw: &[u8]) -> Result<Dynamic, BoxError> {
    let array = pg::array_from_sql(raw)?;
    let dims: Vec<usize> = {
        use postgres_protocol::types::ArrayDimension;
        let mut dims = Vec::new();
        let mut it = array.dimensions();
        while let Some(ArrayDimension { len, .. }) =
            fallible_iterator::FallibleIterator::next(&mut it)?
        {
            dims.push(usize::try_from(len).unwrap_or(0));
        }
        dims
    };
    let mut flat = Vec::new();
    let mut values = array.values();
    while let Some(v) = fallible_iterator::FallibleIterator::next(&mut values)? {
        flat.push(match v {
            Some(raw) => decode(member, raw)?,
            None => Dynamic::UNIT,
        });
    }
    Ok(nest(&dims, &mut flat.into_iter()))
}

/// Flat values as nested arrays of these dimensions.
fn nest(dims: &[usize], flat: &mut impl Iterator<Item = Dynamic>) -> Dynamic {
    match dims.split_first() {
        None => Dynamic::from_array(Array::new()),
        Some((&n, [])) => Dynamic::from_array(flat.take(n).collect()),
        Some((&n, rest)) => Dynamic::from_array((0..n).map(|_| nest(rest, flat)).collect()),
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

fn uuid(bytes: [u8; 16]) -> String {
    let hex = hex(&bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// NUMERIC's binary form (base-10000 digits, a weight, a sign, a scale) as its exact text.
fn numeric(raw: &[u8]) -> Result<String, BoxError> {
    let word = |i: usize| -> Result<i32, BoxError> {
        let b = raw.get(i * 2..i * 2 + 2).ok_or("a short numeric")?;
        Ok(i32::from(i16::from_be_bytes([b[0], b[1]])))
    };
    let ndigits = usize::try_from(word(0)?).map_err(|_| "a bad numeric")?;
    let weight = word(1)?;
    let sign = u16::from_be_bytes([
        raw.get(4).copied().unwrap_or(0),
        raw.get(5).copied().unwrap_or(0),
    ]);
    let dscale = usize::try_from(word(3)?).map_err(|_| "a bad numeric")?;
    match sign {
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        _ => {}
    }
    let digits: Vec<i32> = (0..ndigits)
        .map(|i| word(4 + i))
        .collect::<Result<_, _>>()?;
    let digit = |i: i32| -> i32 {
        usize::try_from(i)
            .ok()
            .and_then(|i| digits.get(i).copied())
            .unwrap_or(0)
    };
    let mut out = String::new();
    if sign == 0x4000 {
        out.push('-');
    }
    // The integer part: the digit groups at weights weight..=0.
    if weight < 0 {
        out.push('0');
    } else {
        for i in 0..=weight {
            let d = digit(i);
            if i == 0 {
                out.push_str(&d.to_string());
            } else {
                out.push_str(&format!("{d:04}"));
            }
        }
    }
    if dscale > 0 {
        let mut frac = String::new();
        let mut i = weight + 1;
        while frac.len() < dscale {
            frac.push_str(&format!("{:04}", digit(i)));
            i += 1;
        }
        frac.truncate(dscale);
        out.push('.');
        out.push_str(&frac);
    }
    Ok(out)
}

/// A script value as a parameter, converted before it is sent (the driver wants `Sync`
/// values; a script's are not).
#[derive(Debug)]
enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    Blob(Vec<u8>),
    /// A map: JSON.
    Map(String),
    /// An array: its `PostgreSQL` array literal, and its JSON.
    Array {
        literal: String,
        json: String,
    },
}

/// A parameter (its position, for messages), encoded for the type the server gave its
/// placeholder.
#[derive(Debug)]
struct Param(usize, Val);

impl Param {
    fn new(i: usize, v: &Dynamic) -> Result<Param, DbError> {
        let fail = |e: String| DbError::failed(format!("parameter ${}: {e}", i + 1));
        let val = if v.is_unit() {
            Val::Null
        } else if let Ok(b) = v.as_bool() {
            Val::Bool(b)
        } else if let Ok(n) = v.as_int() {
            Val::Int(n)
        } else if let Ok(f) = v.as_float() {
            Val::Float(f)
        } else if v.is_string() || v.is_char() {
            Val::Text(v.to_string())
        } else if let Some(blob) = v.read_lock::<rhai::Blob>() {
            Val::Blob(blob.clone())
        } else if v.is_map() {
            Val::Map(value::to_json(v).map_err(fail)?)
        } else if v.is_array() {
            Val::Array {
                literal: array_literal(v).map_err(fail)?,
                json: value::to_json(v).map_err(fail)?,
            }
        } else {
            return Err(fail(format!("a {} cannot be a parameter", v.type_name())));
        };
        Ok(Param(i, val))
    }

    fn all(params: &[Dynamic]) -> Result<Vec<Param>, DbError> {
        params
            .iter()
            .enumerate()
            .map(|(i, v)| Param::new(i, v))
            .collect()
    }

    /// Whether the value goes in binary; every other goes as text, parsed by the server (the
    /// types without a binary encoder here: numeric, dates, uuid, json, arrays, enums...).
    fn binary(&self, ty: &Type) -> bool {
        matches!(
            (&self.1, ty),
            (Val::Bool(_), &Type::BOOL)
                | (
                    Val::Int(_),
                    &Type::INT2 | &Type::INT4 | &Type::INT8 | &Type::OID
                )
                | (Val::Int(_) | Val::Float(_), &Type::FLOAT4 | &Type::FLOAT8)
                | (Val::Blob(_) | Val::Text(_), &Type::BYTEA)
        )
    }
}

impl ToSql for Param {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxError> {
        let n = self.0 + 1;
        let range = |v: &i64, what: &str| format!("parameter ${n}: {v} does not fit {what}");
        match (&self.1, ty) {
            (Val::Null, _) => return Ok(IsNull::Yes),
            (Val::Bool(b), &Type::BOOL) => pg::bool_to_sql(*b, out),
            (Val::Int(i), &Type::INT2) => {
                pg::int2_to_sql(i16::try_from(*i).map_err(|_| range(i, "smallint"))?, out);
            }
            (Val::Int(i), &Type::INT4) => {
                pg::int4_to_sql(i32::try_from(*i).map_err(|_| range(i, "integer"))?, out);
            }
            (Val::Int(i), &Type::OID) => {
                pg::oid_to_sql(u32::try_from(*i).map_err(|_| range(i, "oid"))?, out);
            }
            (Val::Int(i), &Type::INT8) => pg::int8_to_sql(*i, out),
            (Val::Int(i), &Type::FLOAT4) => pg::float4_to_sql(*i as f32, out),
            (Val::Int(i), &Type::FLOAT8) => pg::float8_to_sql(*i as f64, out),
            #[allow(clippy::cast_possible_truncation)]
            (Val::Float(f), &Type::FLOAT4) => pg::float4_to_sql(*f as f32, out),
            (Val::Float(f), &Type::FLOAT8) => pg::float8_to_sql(*f, out),
            (Val::Blob(b), &Type::BYTEA) => out.extend_from_slice(b),
            (Val::Text(t), &Type::BYTEA) => out.extend_from_slice(t.as_bytes()),
            (val, ty) => {
                let text = text(val, ty).map_err(|e| format!("parameter ${n}: {e}"))?;
                out.extend_from_slice(text.as_bytes());
            }
        }
        Ok(IsNull::No)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    fn encode_format(&self, ty: &Type) -> postgres::types::Format {
        if self.binary(ty) {
            postgres::types::Format::Binary
        } else {
            postgres::types::Format::Text
        }
    }

    to_sql_checked!();
}

/// A value in `PostgreSQL`'s text form for `ty`.
fn text(v: &Val, ty: &Type) -> Result<String, String> {
    let json = matches!(*ty, Type::JSON | Type::JSONB);
    let is_array = matches!(ty.kind(), Kind::Array(_));
    Ok(match v {
        Val::Null => String::new(),
        Val::Array { json: j, .. } if json => j.clone(),
        Val::Map(j) if json => j.clone(),
        Val::Array { literal, .. } if is_array => literal.clone(),
        Val::Array { .. } => {
            return Err(format!(
                "an array is a parameter for a PostgreSQL array (as in `id = ANY($1)`) or json, not for {ty}"
            ));
        }
        Val::Map(_) => {
            return Err(format!(
                "a map is a parameter for json or jsonb, not for {ty}"
            ));
        }
        _ if is_array => return Err(format!("{ty} takes an array")),
        Val::Bool(b) => b.to_string(),
        Val::Int(i) => i.to_string(),
        Val::Float(f) => float_text(*f),
        Val::Text(t) => t.clone(),
        Val::Blob(b) => format!("\\x{}", hex(b)),
    })
}

fn float_text(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        }
    } else {
        format!("{f:?}")
    }
}

/// `{1,2,"it's \"x\"",NULL}`.
fn array_literal(v: &Dynamic) -> Result<String, String> {
    let items = v.read_lock::<Array>().ok_or("an array")?;
    let mut parts = Vec::with_capacity(items.len());
    for item in items.iter() {
        parts.push(if item.is_unit() {
            "NULL".to_owned()
        } else if item.is_array() {
            array_literal(item)?
        } else if let Ok(f) = item.as_float() {
            float_text(f)
        } else if item.is_string() || item.is_char() || item.is_int() || item.is_bool() {
            let text = item.to_string();
            format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
        } else {
            return Err(format!(
                "an array of {} cannot be a parameter",
                item.type_name()
            ));
        });
    }
    Ok(format!("{{{}}}", parts.join(",")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numerics_keep_every_digit() {
        // 12345.6789: weight 1, digits [1, 2345, 6789], scale 4.
        let raw = [0, 3, 0, 1, 0, 0, 0, 4, 0, 1, 0x09, 0x29, 0x1a, 0x85];
        assert_eq!(numeric(&raw).unwrap(), "12345.6789");
        // -0.0012: weight -1, digits [12], scale 4.
        let raw = [0, 1, 0xff, 0xff, 0x40, 0, 0, 4, 0, 12];
        assert_eq!(numeric(&raw).unwrap(), "-0.0012");
        // 1e20: weight 5, digits [1], scale 0.
        let raw = [0, 1, 0, 5, 0, 0, 0, 0, 0, 1];
        assert_eq!(numeric(&raw).unwrap(), "100000000000000000000");
    }

    #[test]
    fn array_parameters_are_quoted() {
        let v: Dynamic = vec![
            Dynamic::from("it's \"x\""),
            Dynamic::UNIT,
            Dynamic::from(3_i64),
        ]
        .into();
        assert_eq!(array_literal(&v).unwrap(), r#"{"it's \"x\"",NULL,"3"}"#);
    }
}
