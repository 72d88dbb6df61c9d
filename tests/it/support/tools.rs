//! The programs some tests need besides the README's prerequisites: shells for completion,
//! tmux for a terminal, `PostgreSQL`, OpenSSH, Ruby. A test names them first with
//! `require!(Tmux, Sshd)`: when one is missing the test prints one line naming it and how to
//! install it, and returns without running; `skips.rs` lists every skip again under the
//! summary. With `CI=true` (`.ci/run`, which installs them
//! all) a missing tool fails the test instead.
//!
//! The fixtures that start a tool (tmux, a `PostgreSQL` cluster, sshd) check that their test
//! required it, so a test cannot pass here and panic on a machine without the tool.

use std::cell::RefCell;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tool {
    Bundler,
    /// `cargo deb` (`cargo install cargo-deb --locked`) and dpkg, to build and install the .deb.
    CargoDeb,
    /// Headless Chromium, its `chromedriver`, and Python's selenium for `/usr/bin/python3`:
    /// the web view's tests drive a real browser.
    Browser,
    Fish,
    /// `MariaDB`'s server (`mariadbd`, `mariadb-install-db`) and its `mariadb` client.
    Mariadb,
    Openssl,
    /// The Python Kubernetes client for the system's `/usr/bin/python3`: its models check a
    /// Job manifest against the Kubernetes object schema.
    KubernetesClient,
    /// The `PostgreSQL` server (`initdb`, `pg_ctl`) and `psql`.
    Postgres,
    /// `python3` with its standard `venv` module (`--without-pip` needs nothing more).
    Python,
    /// `PyYAML` for the system's `/usr/bin/python3`, to read the CI examples as CI services do.
    PyYaml,
    /// Root, to `chroot` into an image's root and make its device nodes.
    Root,
    Ruby,
    Rustfmt,
    Sqlite3,
    /// `ssh` and `ssh-keygen`.
    Ssh,
    Sshd,
    /// Mounting a tmpfs: root (or `CAP_SYS_ADMIN`) and `mount`.
    Tmpfs,
    Tmux,
    Zsh,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Bundler => "bundle",
            Tool::CargoDeb => "cargo-deb and dpkg",
            Tool::Browser => "chromium, chromedriver and selenium for /usr/bin/python3",
            Tool::Fish => "fish",
            Tool::Mariadb => "MariaDB (mariadbd, mariadb-install-db, mariadb)",
            Tool::Openssl => "openssl",
            Tool::KubernetesClient => "the Python kubernetes client (/usr/bin/python3)",
            Tool::Postgres => "PostgreSQL (initdb, pg_ctl, psql)",
            Tool::Python => "python3 with venv",
            Tool::PyYaml => "PyYAML for /usr/bin/python3",
            Tool::Root => "root, to chroot",
            Tool::Ruby => "ruby",
            Tool::Rustfmt => "rustfmt",
            Tool::Sqlite3 => "sqlite3",
            Tool::Ssh => "ssh and ssh-keygen",
            Tool::Sshd => super::sshd::SSHD,
            Tool::Tmpfs => "root to mount a tmpfs",
            Tool::Tmux => "tmux",
            Tool::Zsh => "zsh",
        }
    }

    /// How to install it (on Debian, as `.ci/run` does).
    fn install(self) -> &'static str {
        match self {
            Tool::Bundler => "apt-get install ruby-bundler",
            Tool::CargoDeb => "cargo install cargo-deb --locked",
            Tool::Browser => "apt-get install chromium chromium-driver python3-selenium",
            Tool::Fish => "apt-get install fish",
            Tool::Mariadb => "apt-get install mariadb-server",
            Tool::Openssl => "apt-get install openssl",
            Tool::KubernetesClient => "apt-get install python3-kubernetes",
            Tool::Postgres => "apt-get install postgresql",
            Tool::Python => "apt-get install python3",
            Tool::PyYaml => "apt-get install python3-yaml",
            Tool::Root => "run the tests as root (sudo)",
            Tool::Ruby => "apt-get install ruby",
            Tool::Rustfmt => "rustup component add rustfmt",
            Tool::Sqlite3 => "apt-get install sqlite3",
            Tool::Ssh => "apt-get install openssh-client",
            Tool::Sshd => "apt-get install openssh-server",
            Tool::Tmpfs => "run the tests as root",
            Tool::Tmux => "apt-get install tmux",
            Tool::Zsh => "apt-get install zsh",
        }
    }

    fn is_installed(self) -> bool {
        match self {
            Tool::Bundler => on_path("bundle"),
            Tool::CargoDeb => on_path("dpkg") && succeeds(env!("CARGO"), &["deb", "--version"]),
            Tool::Browser => {
                on_path("chromium")
                    && on_path("chromedriver")
                    && succeeds("/usr/bin/python3", &["-c", "import selenium"])
            }
            Tool::Fish => on_path("fish"),
            Tool::Mariadb => {
                Path::new(super::mariadb::server_program()).is_file()
                    && on_path("mariadb-install-db")
                    && on_path("mariadb")
            }
            Tool::Openssl => on_path("openssl"),
            Tool::KubernetesClient => succeeds("/usr/bin/python3", &["-c", "import kubernetes"]),
            Tool::Postgres => {
                super::postgres::server_bin().is_some()
                    && on_path("psql")
                    && (!super::postgres::is_root() || super::postgres::user_exists())
            }
            Tool::Python => succeeds("python3", &["-c", "import venv"]),
            Tool::PyYaml => succeeds("/usr/bin/python3", &["-c", "import yaml"]),
            // SAFETY: geteuid has no preconditions and cannot fail.
            Tool::Root => (unsafe { libc::geteuid() }) == 0,
            Tool::Ruby => on_path("ruby"),
            Tool::Rustfmt => succeeds(env!("CARGO"), &["fmt", "--version"]),
            Tool::Sqlite3 => on_path("sqlite3"),
            Tool::Ssh => on_path("ssh") && on_path("ssh-keygen"),
            Tool::Sshd => is_executable(Path::new(super::sshd::SSHD)),
            // SAFETY: geteuid has no preconditions and cannot fail.
            Tool::Tmpfs => (unsafe { libc::geteuid() }) == 0 && on_path("mount"),
            Tool::Tmux => on_path("tmux"),
            Tool::Zsh => on_path("zsh"),
        }
    }
}

thread_local! {
    /// The tools the test running on this thread required.
    static REQUIRED: RefCell<Vec<Tool>> = const { RefCell::new(Vec::new()) };
}

/// Skips the test (returns from it) unless every tool named is installed; with `CI=true` a
/// missing one fails the test.
macro_rules! require {
    ($($tool:ident),+ $(,)?) => {
        if !$crate::support::tools::installed(&[$($crate::support::tools::Tool::$tool),+]) {
            return;
        }
    };
}
pub(crate) use require;

/// Whether every tool is installed; if not, says which is missing in one line (or, with
/// `CI=true`, fails). What `require!` calls.
#[track_caller]
pub(crate) fn installed(tools: &[Tool]) -> bool {
    REQUIRED.with_borrow_mut(|required| required.extend_from_slice(tools));
    let Some(missing) = tools.iter().find(|tool| !tool.is_installed()) else {
        return true;
    };
    let (name, install) = (missing.name(), missing.install());
    assert!(
        !in_ci(),
        "this test needs {name}, not found here, and CI=true: {install} (.ci/run installs it)"
    );
    let location = std::panic::Location::caller();
    let thread = std::thread::current();
    let test = match thread.name() {
        Some(name) if name != "main" => name.to_owned(),
        _ => format!("{}:{}", location.file(), location.line()),
    };
    let why = format!("needs {name}, not found here ({install})");
    // Straight to stderr: libtest would capture (and hide) the output of a passing test.
    let _ = writeln!(std::io::stderr(), "skipped {test}: {why}");
    // And listed again with the others once the summary is printed.
    super::skips::record(&test, &why);
    false
}

/// For the fixtures that start a tool: fails unless the test required it.
#[track_caller]
pub(crate) fn used(tool: Tool) {
    let required = REQUIRED.with_borrow(|required| required.contains(&tool));
    assert!(
        required,
        "this test uses {} without `require!({tool:?})` first, so it would fail where it is not installed",
        tool.name()
    );
}

/// Whether this is CI, where every tool is installed (`.ci/run` sets `CI=true`): `CI` set to
/// anything but nothing, `false` or `0`, as CI services set it. The one reading every test uses.
pub(crate) fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| is_executable(&dir.join(program)))
    })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn succeeds(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
