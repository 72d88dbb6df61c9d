//! Database URLs as the ecosystem writes them: `postgres://` and `postgresql://` (libpq's
//! `sslmode`, `sslrootcert`, a Unix socket directory as host), `mysql://` and Rails'
//! `mysql2://`, and `SQLite` both ways: `sqlite:///relative` and `sqlite:////absolute`
//! (`SQLAlchemy`, dj-database-url) and `sqlite3:relative/path`, `sqlite3:/absolute` (Rails), so
//! one `.env` serves the app and adminsh. A relative `SQLite` path is relative to the release root.

use std::path::{Path, PathBuf};

/// Where a URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    Sqlite(SqliteFile),
    Postgres(Server),
    Mysql(Server),
}

/// An `SQLite` database: a file, or memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SqliteFile {
    /// `None`: in memory.
    pub path: Option<PathBuf>,
    /// The URL asks for the file to be made when it is missing (`?mode=rwc`, `SQLite`'s own URI
    /// parameter). Otherwise a missing file is an error: an admin tool pointed at an app's data
    /// must not invent it when the URL has a typo.
    pub create: bool,
}

/// libpq's `sslmode` (`MySQL`'s `ssl-mode` maps onto it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum SslMode {
    Disable,
    #[default]
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// A database server and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Server {
    pub user: Option<String>,
    pub password: Option<String>,
    /// A host name or address; `None` with `socket`.
    pub host: Option<String>,
    pub port: Option<u16>,
    /// A Unix socket: `PostgreSQL`'s directory, `MySQL`'s file.
    pub socket: Option<PathBuf>,
    pub database: Option<String>,
    pub ssl: SslMode,
    /// Whether `sslmode` was given (`PostgreSQL` prefers TLS by default; `MySQL` here does not).
    pub ssl_given: bool,
    pub root_cert: Option<PathBuf>,
    /// `options=` (`PostgreSQL`).
    pub options: Option<String>,
    pub connect_timeout: Option<u64>,
    pub application_name: Option<String>,
}

impl Server {
    /// Where it is, for messages: `host:port` or the socket, never the password.
    pub(crate) fn place(&self, default_port: u16) -> String {
        match (&self.host, &self.socket) {
            (Some(host), _) => format!("{host}:{}", self.port.unwrap_or(default_port)),
            (None, Some(socket)) => format!("socket {}", socket.display()),
            (None, None) => "localhost".to_owned(),
        }
    }
}

/// Reads `url`; a relative `SQLite` path is taken from `root`.
pub(crate) fn parse(url: &str, root: &Path) -> Result<Target, String> {
    let url = url.trim();
    let Some((scheme, rest)) = url.split_once(':') else {
        return Err("a database URL starts with postgres://, mysql:// or sqlite:".to_owned());
    };
    match scheme.to_ascii_lowercase().as_str() {
        "postgres" | "postgresql" | "pgsql" => server(rest, scheme).map(Target::Postgres),
        "mysql" | "mysql2" | "mariadb" => server(rest, scheme).map(Target::Mysql),
        "sqlite" | "sqlite3" => sqlite(scheme, rest, root).map(Target::Sqlite),
        other => Err(format!(
            "the database URL has scheme `{other}`; std/db knows postgres://, mysql:// (mysql2://) \
             and sqlite:/sqlite3:"
        )),
    }
}

/// An `SQLite` URL, either spelling; relative paths from `root`. A URL with a host
/// (`sqlite://db.example/app.db`) is refused: the ecosystems read it differently (one drops the
/// host, another reads it as a relative directory), and `SQLite` has no server to name.
fn sqlite(scheme: &str, rest: &str, root: &Path) -> Result<SqliteFile, String> {
    if let Some(after) = rest.strip_prefix("//") {
        let host = after.split(['/', '?', '#']).next().unwrap_or("");
        if !host.is_empty() {
            return Err(format!(
                "{scheme}://{host}/... names a host, and SQLite opens files, not servers: write \
                 {scheme}:///relative/path (from the release root) or {scheme}:////absolute/path"
            ));
        }
    }
    let path = if scheme.eq_ignore_ascii_case("sqlite3") {
        rails_path(rest)
    } else {
        sqlalchemy_path(rest)
    };
    let query = rest.split_once('?').map_or("", |(_, q)| q);
    let query = query.split('#').next().unwrap_or("");
    let create = query
        .split('&')
        .any(|pair| pair.eq_ignore_ascii_case("mode=rwc"));
    Ok(SqliteFile {
        path: path.map(|p| root.join(p)),
        create,
    })
}

/// `sqlite:///var/app.db` is `var/app.db`, `sqlite:////srv/app.db` is `/srv/app.db`; `sqlite://`
/// and `sqlite:///:memory:` are in memory.
fn sqlalchemy_path(rest: &str) -> Option<PathBuf> {
    let rest = without_query(rest);
    let path = rest.strip_prefix("//").unwrap_or(rest);
    // What follows `//` is the (empty) host, then `/`, then the path.
    let path = match path.find('/') {
        Some(slash) => &path[slash + 1..],
        None => "",
    };
    let path = percent_decode(path);
    if path.is_empty() || path == ":memory:" {
        None
    } else {
        Some(PathBuf::from(path))
    }
}

/// Rails: `sqlite3:db/development.sqlite3` is relative, `sqlite3:/srv/app.db` and
/// `sqlite3:///srv/app.db` are absolute, `sqlite3::memory:` is in memory.
fn rails_path(rest: &str) -> Option<PathBuf> {
    let rest = without_query(rest);
    let path = match rest.strip_prefix("//") {
        // `sqlite3:///path`: the URL's path, absolute.
        Some(after) => after.find('/').map_or("", |slash| &after[slash..]),
        None => rest,
    };
    let path = percent_decode(path);
    if path.is_empty() || path == ":memory:" {
        None
    } else {
        Some(PathBuf::from(path))
    }
}

fn without_query(rest: &str) -> &str {
    rest.split(['?', '#']).next().unwrap_or("")
}

/// `//user:password@host:port/database?key=value` for a server.
fn server(rest: &str, scheme: &str) -> Result<Server, String> {
    let Some(rest) = rest.strip_prefix("//") else {
        return Err(format!(
            "a {scheme} URL is {scheme}://user:password@host:port/database"
        ));
    };
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut s = Server::default();
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    if let Some(userinfo) = userinfo {
        let (user, password) = match userinfo.split_once(':') {
            Some((u, p)) => (u, Some(p)),
            None => (userinfo, None),
        };
        s.user = Some(percent_decode(user)).filter(|u| !u.is_empty());
        s.password = password.map(percent_decode);
    }
    let (host, port) = split_port(hostport)?;
    let host = percent_decode(host);
    if host.starts_with('/') {
        s.socket = Some(PathBuf::from(host));
    } else if !host.is_empty() {
        s.host = Some(host);
    }
    s.port = port;
    let database = percent_decode(path);
    s.database = Some(database).filter(|d| !d.is_empty());
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(&value.replace('+', " "));
        match key.to_ascii_lowercase().replace('-', "_").as_str() {
            "sslmode" | "ssl_mode" => {
                s.ssl = ssl_mode(&value)?;
                s.ssl_given = true;
            }
            "ssl" | "useSSL" => {
                if matches!(value.as_str(), "true" | "1") {
                    s.ssl = SslMode::Require;
                    s.ssl_given = true;
                }
            }
            "sslrootcert" | "sslca" | "ssl_ca" => s.root_cert = Some(PathBuf::from(value)),
            "host" if value.starts_with('/') => {
                s.socket = Some(PathBuf::from(value));
                s.host = None;
            }
            "host" => s.host = Some(value),
            "socket" => s.socket = Some(PathBuf::from(value)),
            "port" => {
                s.port = Some(
                    value
                        .parse()
                        .map_err(|_| format!("port `{value}` is not a number"))?,
                );
            }
            "user" | "username" => s.user = Some(value),
            "password" => s.password = Some(value),
            "dbname" | "database" => s.database = Some(value),
            "options" => s.options = Some(value),
            "connect_timeout" => s.connect_timeout = value.parse().ok(),
            "application_name" => s.application_name = Some(value),
            // Options the drivers do not need (pool sizes, encodings, Rails' own): ignored.
            _ => {}
        }
    }
    Ok(s)
}

fn split_port(hostport: &str) -> Result<(&str, Option<u16>), String> {
    // `[::1]:5432`
    if let Some(rest) = hostport.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or("an IPv6 host lacks its `]`")?;
        let port = after.strip_prefix(':').filter(|p| !p.is_empty());
        return Ok((host, port.map(parse_port).transpose()?));
    }
    match hostport.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() => Ok((host, Some(parse_port(port)?))),
        Some((host, _)) => Ok((host, None)),
        None => Ok((hostport, None)),
    }
}

fn parse_port(port: &str) -> Result<u16, String> {
    port.parse()
        .map_err(|_| format!("port `{port}` is not a number"))
}

fn ssl_mode(value: &str) -> Result<SslMode, String> {
    Ok(
        match value.to_ascii_lowercase().replace('-', "_").as_str() {
            "disable" | "disabled" | "false" => SslMode::Disable,
            "allow" | "prefer" | "preferred" => SslMode::Prefer,
            "require" | "required" | "true" => SslMode::Require,
            "verify_ca" => SslMode::VerifyCa,
            "verify_full" | "verify_identity" => SslMode::VerifyFull,
            _ => {
                return Err(format!(
                    "sslmode `{value}` is none of disable, prefer, require, verify-ca, verify-full"
                ));
            }
        },
    )
}

/// `%40` is `@`: user names, passwords and paths in URLs are percent-encoded.
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|&b| hex(b)),
                bytes.get(i + 2).and_then(|&b| hex(b)),
            )
        {
            out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(url: &str) -> Option<PathBuf> {
        match parse(url, Path::new("/app")).unwrap() {
            Target::Sqlite(file) => file.path,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sqlite_urls_of_rails_and_django_name_the_same_file() {
        let file = Some(PathBuf::from("/app/db/development.sqlite3"));
        assert_eq!(sqlite("sqlite:///db/development.sqlite3"), file);
        assert_eq!(sqlite("sqlite3:db/development.sqlite3"), file);
        assert_eq!(sqlite("sqlite3:db/development.sqlite3?timeout=5000"), file);
        let absolute = Some(PathBuf::from("/srv/app.db"));
        assert_eq!(sqlite("sqlite:////srv/app.db"), absolute);
        assert_eq!(sqlite("sqlite3:/srv/app.db"), absolute);
        assert_eq!(sqlite("sqlite3:///srv/app.db"), absolute);
        assert_eq!(sqlite("sqlite://"), None);
        assert_eq!(sqlite("sqlite:///:memory:"), None);
        assert_eq!(sqlite("sqlite3::memory:"), None);
    }

    #[test]
    fn server_urls() {
        let Target::Postgres(s) = parse(
            "postgresql://app:p%40ss%3Aw@db.example.com:6432/shop?sslmode=verify-full&sslrootcert=/ca.pem&application_name=x",
            Path::new("/"),
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(s.user.as_deref(), Some("app"));
        assert_eq!(s.password.as_deref(), Some("p@ss:w"));
        assert_eq!(s.host.as_deref(), Some("db.example.com"));
        assert_eq!(s.port, Some(6432));
        assert_eq!(s.database.as_deref(), Some("shop"));
        assert_eq!(s.ssl, SslMode::VerifyFull);
        assert_eq!(s.root_cert, Some(PathBuf::from("/ca.pem")));
        assert_eq!(s.place(5432), "db.example.com:6432");
        let Target::Postgres(s) =
            parse("postgres://u@%2Fvar%2Frun%2Fpostgresql/app", Path::new("/")).unwrap()
        else {
            panic!()
        };
        assert_eq!(s.socket, Some(PathBuf::from("/var/run/postgresql")));
        let Target::Postgres(s) = parse("postgres:///app?host=/tmp", Path::new("/")).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (s.socket, s.database.as_deref()),
            (Some(PathBuf::from("/tmp")), Some("app"))
        );
        let Target::Mysql(s) = parse(
            "mysql2://root:pw@[::1]:3307/app?ssl-mode=REQUIRED",
            Path::new("/"),
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(
            (s.host.as_deref(), s.port, s.ssl),
            (Some("::1"), Some(3307), SslMode::Require)
        );
        assert!(
            parse("redis://x", Path::new("/"))
                .unwrap_err()
                .contains("`redis`")
        );
        assert!(parse("postgres://h/db?sslmode=maybe", Path::new("/")).is_err());
    }
}
