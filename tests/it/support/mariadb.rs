//! A throwaway `MariaDB` server for tests, from Debian's `mariadb-server`: a data directory made
//! by `mariadb-install-db` in a temp dir, the server on a free port of 127.0.0.1 (and a socket
//! in the temp dir), a user `app` with a password that must travel in the URL, a database
//! `app`; stopped on drop.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use super::wait;

/// Two installs at once (the TLS test beside the others) sometimes fail to make their system
/// tables: one at a time.
static INSTALLING: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub(crate) struct Server {
    dir: tempfile::TempDir,
    child: Child,
    pub port: u16,
    pub password: &'static str,
}

impl Server {
    /// `DATABASE_URL` for the `app` database as `app`, as Rails writes it.
    pub(crate) fn url(&self) -> String {
        format!("mysql2://app:pw%3A%40%2Fx@127.0.0.1:{}/app", self.port)
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("sock")
    }

    /// Runs SQL with the `mariadb` client as root over the socket; its output, tab-separated,
    /// without headers.
    pub(crate) fn sql(&self, sql: &str) -> String {
        self.client(&["-D", "app"], sql)
    }

    /// A second session: the `mariadb` client as root running `sql` in `app`, its output
    /// discarded and its stderr piped (to read how it ended).
    pub(crate) fn session(&self, sql: &str) -> Child {
        Command::new("mariadb")
            .args(["--no-defaults", "-uroot", "-N", "-B", "-D", "app"])
            .arg("-S")
            .arg(self.socket())
            .args(["-e", sql])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Database `db` as `mariadb-dump` prints it, without the lines that change from one dump
    /// to the next (its date): equal for two databases holding the same.
    pub(crate) fn dump_of(&self, db: &str) -> String {
        let output = Command::new("mariadb-dump")
            .args([
                "--no-defaults",
                "-uroot",
                "--skip-dump-date",
                "--skip-comments",
            ])
            .arg("-S")
            .arg(self.socket())
            .arg(db)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "mariadb-dump {db}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Loads an SQL file (a dump) into database `db` with the `mariadb` client.
    pub(crate) fn load(&self, db: &str, file: &std::path::Path) {
        let output = Command::new("mariadb")
            .args(["--no-defaults", "-uroot", "-D", db])
            .arg("-S")
            .arg(self.socket())
            .stdin(std::fs::File::open(file).unwrap())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "mariadb {db} < {}: {}",
            file.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn client(&self, options: &[&str], sql: &str) -> String {
        let output = Command::new("mariadb")
            .args(["--no-defaults", "-uroot", "-N", "-B"])
            .args(options)
            .arg("-S")
            .arg(self.socket())
            .args(["-e", sql])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "mariadb -e {sql:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// A file of the server's directory (with TLS: `ca.crt`, `other-ca.crt`).
    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Starts a server; the test must have `require!(Mariadb)`.
    #[track_caller]
    pub(crate) fn start() -> Server {
        Self::start_with(false)
    }

    /// Starts a server that takes TCP connections over TLS only, with a certificate made here
    /// by openssl (`ca.crt` signed it); the test must have `require!(Mariadb, Openssl)`.
    #[track_caller]
    pub(crate) fn start_tls() -> Server {
        super::tools::used(super::tools::Tool::Openssl);
        Self::start_with(true)
    }

    #[track_caller]
    fn start_with(tls: bool) -> Server {
        super::tools::used(super::tools::Tool::Mariadb);
        let dir = tempfile::Builder::new()
            .prefix("adminsh-mariadb-")
            .tempdir()
            .unwrap();
        let data = dir.path().join("data");
        let installing = INSTALLING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let output = Command::new("mariadb-install-db")
            .args(["--no-defaults", "--user=root", "--skip-test-db"])
            .args(["--auth-root-authentication-method=socket"])
            .arg(format!("--datadir={}", data.display()))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        drop(installing);
        assert!(
            output.status.success(),
            "mariadb-install-db: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let port = super::postgres::free_port();
        let socket = dir.path().join("sock");
        let log = dir.path().join("server.log");
        let mut tls_options = Vec::new();
        if tls {
            super::postgres::make_certificates(dir.path());
            for (option, file) in [
                ("ssl-cert", "server.crt"),
                ("ssl-key", "server.key"),
                ("ssl-ca", "ca.crt"),
            ] {
                tls_options.push(format!("--{option}={}", dir.path().join(file).display()));
            }
            tls_options.push("--require-secure-transport=ON".to_owned());
        }
        let child = Command::new(server_program())
            .args(["--no-defaults", "--user=root", "--bind-address=127.0.0.1"])
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--port={port}"))
            .arg(format!("--socket={}", socket.display()))
            .arg(format!("--pid-file={}", dir.path().join("pid").display()))
            .arg(format!("--log-error={}", log.display()))
            .args([
                "--skip-log-bin",
                "--innodb-buffer-pool-size=16M",
                "--innodb-log-file-size=8M",
            ])
            .args(&tls_options)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Server {
            dir,
            child,
            port,
            password: "pw:@/x",
        };
        wait::wait_for_port(port, || std::fs::read_to_string(&log).unwrap_or_default());
        wait::wait_for_path(&socket);
        server.client(&[], &format!(
            "create database app character set utf8mb4; create user 'app'@'127.0.0.1' identified by '{}';
             grant all on *.* to 'app'@'127.0.0.1';",
            server.password
        ));
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `mariadbd`, or `mysqld` on older packages.
pub(crate) fn server_program() -> &'static str {
    ["/usr/sbin/mariadbd", "/usr/sbin/mysqld"]
        .into_iter()
        .find(|p| std::path::Path::new(p).is_file())
        .unwrap_or("mariadbd")
}
