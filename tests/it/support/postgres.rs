//! A throwaway `PostgreSQL` cluster for tests: initdb in a temp dir, a free port on 127.0.0.1,
//! password authentication (so the password really has to reach psql), stopped on drop.
//! `PostgreSQL` refuses to run as root, so as root the server runs as the `postgres` user.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub(crate) struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
    pub password: &'static str,
}

impl Cluster {
    /// `DATABASE_URL` for the `postgres` database as the `postgres` user.
    pub(crate) fn url(&self) -> String {
        // The password holds `:`, `@` and `/`, so it must be percent-encoded in a URL.
        let encoded = self
            .password
            .replace(':', "%3A")
            .replace('@', "%40")
            .replace('/', "%2F");
        format!(
            "postgres://postgres:{encoded}@127.0.0.1:{}/postgres",
            self.port
        )
    }

    /// Runs SQL with psql as `postgres`, outside adminsh (to set up and to check); its output
    /// unaligned, without headers.
    pub(crate) fn psql(&self, sql: &str) -> String {
        let output = Command::new(self.tool("psql"))
            .args([
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
            ])
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                "postgres",
            ])
            .args(["-c", sql])
            .env("PGPASSWORD", self.password)
            .env_remove("PGOPTIONS")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "psql -c {sql:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// The whole `postgres` database as `pg_dump` prints it: schema, rows, sequence values and
    /// large objects, so that two dumps are equal only if nothing changed.
    pub(crate) fn dump(&self) -> String {
        self.dump_of("postgres")
    }

    /// Database `name` as `dump` prints the `postgres` one.
    pub(crate) fn dump_of(&self, name: &str) -> String {
        let output = Command::new(self.tool("pg_dump"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
            ])
            .args(["--blobs", "-d", name])
            .env("PGPASSWORD", self.password)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "pg_dump: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        // Newer pg_dumps fence their output with a random `\restrict` key.
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .filter(|line| !line.starts_with("\\restrict ") && !line.starts_with("\\unrestrict "))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// A psql session as `postgres` named `app` (its `application_name`), reading SQL from its
    /// stdin as the test writes it, its output discarded: a second session holding locks or
    /// waiting for them. It ends when its stdin closes, or when it is killed.
    pub(crate) fn session(&self, app: &str) -> std::process::Child {
        Command::new(self.tool("psql"))
            .args(["-X", "-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-U", "postgres", "-d", "postgres"])
            .env("PGPASSWORD", self.password)
            .env("PGAPPNAME", app)
            .env_remove("PGOPTIONS")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// A streaming replica of this cluster: `pg_basebackup -R` into a temp dir of its own,
    /// started on another port (same password), stopped on drop.
    #[track_caller]
    pub(crate) fn replica(&self) -> Cluster {
        let dir = tempfile::Builder::new()
            .prefix("adminsh-pg-replica-")
            .tempdir()
            .unwrap();
        if is_root() {
            chown_postgres(dir.path());
        }
        let data = dir.path().join("data").to_string_lossy().into_owned();
        let basebackup = self.tool("pg_basebackup").to_string_lossy().into_owned();
        let port = self.port.to_string();
        as_postgres(
            dir.path(),
            &[
                &basebackup,
                "-D",
                &data,
                "-R",
                "-X",
                "stream",
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
            ],
            &[("PGPASSWORD", self.password)],
        );
        let replica_port = free_port();
        let options = format!(
            "-c port={replica_port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off",
            dir.path().display()
        );
        let pg_ctl = self.bin.join("pg_ctl").to_string_lossy().into_owned();
        let log = dir.path().join("log").to_string_lossy().into_owned();
        as_postgres(
            dir.path(),
            &[
                &pg_ctl, "-D", &data, "-l", &log, "-o", &options, "-w", "start",
            ],
            &[],
        );
        Cluster {
            dir,
            bin: self.bin.clone(),
            port: replica_port,
            password: self.password,
        }
    }

    /// A client program beside the server's, else the one on PATH.
    fn tool(&self, name: &str) -> PathBuf {
        let beside = self.bin.join(name);
        if beside.is_file() {
            beside
        } else {
            PathBuf::from(name)
        }
    }

    /// A file of the cluster's directory (with TLS: `ca.crt`, the CA that signed the server's
    /// certificate for `localhost` and 127.0.0.1, and `other-ca.crt`, one that did not).
    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Starts a cluster; the test must have `require!(Postgres)`.
    #[track_caller]
    pub(crate) fn start() -> Cluster {
        Self::start_with(false)
    }

    /// Starts a cluster with `ssl=on` and a certificate made here with openssl, which takes
    /// TCP connections over TLS only; the test must have `require!(Postgres, Openssl)`.
    #[track_caller]
    pub(crate) fn start_tls() -> Cluster {
        super::tools::used(super::tools::Tool::Openssl);
        Self::start_with(true)
    }

    #[track_caller]
    fn start_with(tls: bool) -> Cluster {
        super::tools::used(super::tools::Tool::Postgres);
        let bin = server_bin().expect("PostgreSQL server binaries (initdb, pg_ctl) not found");
        let dir = tempfile::Builder::new()
            .prefix("adminsh-pg-")
            .tempdir()
            .unwrap();
        let password = "s3cr3t-pw:@/x";
        let data = dir.path().join("data");
        std::fs::write(dir.path().join("pwfile"), password).unwrap();
        let is_root = is_root();
        if is_root {
            chown_postgres(dir.path());
            chown_postgres(&dir.path().join("pwfile"));
        }
        let port = free_port();
        let run = |args: &[&str]| as_postgres(dir.path(), args, &[]);
        let initdb = bin.join("initdb").to_string_lossy().into_owned();
        let pg_ctl = bin.join("pg_ctl").to_string_lossy().into_owned();
        let data_s = data.to_string_lossy().into_owned();
        let pwfile = dir.path().join("pwfile").to_string_lossy().into_owned();
        run(&[
            &initdb,
            "-D",
            &data_s,
            "-U",
            "postgres",
            "--auth=scram-sha-256",
            &format!("--pwfile={pwfile}"),
            "-E",
            "UTF8",
            "--no-instructions",
        ]);
        let mut options = format!(
            "-c port={port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off",
            dir.path().display()
        );
        if tls {
            make_certificates(dir.path());
            if is_root {
                for file in ["server.crt", "server.key"] {
                    chown_postgres(&dir.path().join(file));
                }
            }
            options.push_str(&format!(
                " -c ssl=on -c ssl_cert_file={0}/server.crt -c ssl_key_file={0}/server.key",
                dir.path().display()
            ));
            std::fs::write(
                data.join("pg_hba.conf"),
                "local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n",
            )
            .unwrap();
        }
        let log = dir.path().join("log").to_string_lossy().into_owned();
        run(&[
            &pg_ctl, "-D", &data_s, "-l", &log, "-o", &options, "-w", "start",
        ]);
        Cluster {
            dir,
            bin,
            port,
            password,
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let pg_ctl = self.bin.join("pg_ctl");
        let mut command = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&pg_ctl);
            c
        } else {
            Command::new(&pg_ctl)
        };
        let _ = command
            .args(["-D"])
            .arg(&data)
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .status();
    }
}

/// A CA, a server certificate it signed for `localhost` and 127.0.0.1, and another CA.
pub(crate) fn make_certificates(dir: &Path) {
    let openssl = |args: &[&str]| {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    for (name, subject) in [
        ("ca", "/CN=adminsh test CA"),
        ("other-ca", "/CN=another CA"),
    ] {
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            subject,
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.crt"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
    }
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "server.crt",
    ]);
    let private = <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o600);
    std::fs::set_permissions(dir.join("server.key"), private).unwrap();
}

/// Runs a server program (`args[0]`) in `dir`, as `postgres` when the tests run as root; what
/// it prints is shown only if it fails.
#[track_caller]
fn as_postgres(dir: &Path, args: &[&str], env: &[(&str, &str)]) {
    let mut command = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(args[0]);
        c
    } else {
        Command::new(args[0])
    };
    let output = command
        .args(&args[1..])
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{args:?} failed: {}\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `PostgreSQL` refuses to run as root, so as root the cluster runs as `postgres`.
pub(crate) fn is_root() -> bool {
    // SAFETY: geteuid(2) takes nothing and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Whether the `postgres` account exists (the server package creates it).
pub(crate) fn user_exists() -> bool {
    std::fs::read_to_string("/etc/passwd")
        .is_ok_and(|p| p.lines().any(|l| l.starts_with("postgres:")))
}

/// Where `initdb` and `pg_ctl` live: on PATH, or Debian's versioned directory.
pub(crate) fn server_bin() -> Option<PathBuf> {
    let on_path =
        std::env::split_paths(&std::env::var_os("PATH")?).find(|dir| dir.join("initdb").is_file());
    on_path.or_else(|| {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .flatten()
            .map(|e| e.path().join("bin"))
            .filter(|p| p.join("initdb").is_file())
            .collect();
        versions.sort();
        versions.pop()
    })
}

fn chown_postgres(path: &Path) {
    let status = Command::new("chown")
        .arg("postgres")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
