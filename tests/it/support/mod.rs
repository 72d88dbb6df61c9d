//! The test builder: an app directory in a temp dir, the real adminsh binary run in it with
//! chosen arguments, environment and stdin, and exact expectations on stdout, stderr and the
//! exit code, with both streams shown when something differs.

pub(crate) mod mariadb;
pub(crate) mod postgres;
pub(crate) mod processes;
pub(crate) mod skips;
pub(crate) mod sshd;
pub(crate) mod tmpfs;
pub(crate) mod tmux;
pub(crate) mod tools;
pub(crate) mod wait;

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_adminsh");

/// Removes the common indentation and the first newline, so expected text can be written
/// indented in the test.
/// Output bytes as text, for messages and comparisons.
pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub(crate) fn unindent(text: &str) -> String {
    let text = text.strip_prefix('\n').unwrap_or(text);
    let mut lines: Vec<&str> = text.split('\n').collect();
    // A last line holding only the closing indentation is not content.
    let trailing = lines.len() > 1 && lines.last().is_some_and(|l| l.trim().is_empty());
    if trailing {
        lines.pop();
    }
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out = lines
        .iter()
        .map(|l| l.get(indent..).unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    if trailing {
        out.push('\n');
    }
    out
}

enum Expect {
    Exact(String),
    Contains(Vec<String>),
    Any,
}

impl Expect {
    fn check(&self, what: &str, actual: &str) -> Option<String> {
        match self {
            Expect::Exact(expected) if expected != actual => Some(format!(
                "{what} differs\n--- expected\n{expected}\n--- actual\n{actual}\n---"
            )),
            Expect::Contains(parts) => parts
                .iter()
                .find(|p| !actual.contains(p.as_str()))
                .map(|p| format!("{what} lacks {p:?}\n--- actual\n{actual}\n---")),
            _ => None,
        }
    }
}

#[must_use = "a Test does nothing until .run()"]
pub(crate) struct Test {
    pub dir: tempfile::TempDir,
    cwd: Option<PathBuf>,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    stdin: Option<Vec<u8>>,
    status: i32,
    stdout: Expect,
    stderr: Expect,
}

impl Default for Test {
    #[track_caller]
    fn default() -> Self {
        Self::new()
    }
}

impl Test {
    /// An empty app: a temp dir with an empty `adminsh.toml`.
    #[track_caller]
    pub(crate) fn new() -> Self {
        Self::bare().file("adminsh.toml", "")
    }

    /// A fresh copy of the example shop (`examples/shop`), without what a developer's runs
    /// left in the clone (its virtualenv, database, caches and state).
    #[track_caller]
    pub(crate) fn example_shop() -> Self {
        let app = Test::bare();
        copy_app(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/shop"),
            app.path(),
        );
        app
    }

    /// A temp dir with nothing in it.
    #[track_caller]
    pub(crate) fn bare() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("adminsh-test-")
            .tempdir()
            .unwrap();
        Test {
            dir,
            cwd: None,
            args: Vec::new(),
            env: Vec::new(),
            stdin: None,
            status: 0,
            stdout: Expect::Exact(String::new()),
            stderr: Expect::Exact(String::new()),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file of the app (text unindented).
    #[track_caller]
    pub(crate) fn file(self, path: &str, text: &str) -> Self {
        let full = self.dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, unindent(text)).unwrap();
        self
    }

    /// Writes `scripts/<name>.rhai`.
    #[track_caller]
    pub(crate) fn script(self, name: &str, text: &str) -> Self {
        self.file(&format!("scripts/{name}.rhai"), text)
    }

    /// Makes an executable file (a fake program of the app).
    #[track_caller]
    pub(crate) fn executable(self, path: &str, text: &str) -> Self {
        use std::os::unix::fs::PermissionsExt;
        let this = self.file(path, text);
        let full = this.dir.path().join(path);
        std::fs::set_permissions(full, std::fs::Permissions::from_mode(0o755)).unwrap();
        this
    }

    /// Runs adminsh from this subdirectory of the app instead of its root.
    #[track_caller]
    pub(crate) fn current_dir(mut self, dir: &str) -> Self {
        let full = self.dir.path().join(dir);
        std::fs::create_dir_all(&full).unwrap();
        self.cwd = Some(full);
        self
    }

    pub(crate) fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(OsString::from));
        self
    }

    pub(crate) fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub(crate) fn env(mut self, key: &str, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    pub(crate) fn stdin(mut self, text: &str) -> Self {
        self.stdin = Some(unindent(text).into_bytes());
        self
    }

    pub(crate) fn status(mut self, code: i32) -> Self {
        self.status = code;
        self
    }

    pub(crate) fn stdout(mut self, text: &str) -> Self {
        self.stdout = Expect::Exact(unindent(text));
        self
    }

    pub(crate) fn stdout_contains(mut self, part: &str) -> Self {
        self.stdout = append(self.stdout, part);
        self
    }

    pub(crate) fn any_stdout(mut self) -> Self {
        self.stdout = Expect::Any;
        self
    }

    pub(crate) fn stderr(mut self, text: &str) -> Self {
        self.stderr = Expect::Exact(unindent(text));
        self
    }

    pub(crate) fn stderr_contains(mut self, part: &str) -> Self {
        self.stderr = append(self.stderr, part);
        self
    }

    pub(crate) fn any_stderr(mut self) -> Self {
        self.stderr = Expect::Any;
        self
    }

    /// The command this test runs: a clean environment (PATH, HOME, LANG) plus the test's own.
    pub(crate) fn command(&self) -> Command {
        let mut command = Command::new(BIN);
        command
            .args(&self.args)
            .current_dir(self.cwd.as_deref().unwrap_or(self.dir.path()))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("LANG", "C.UTF-8")
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }

    /// The command for `args` in this test's app, its stdin, stdout and stderr left to the
    /// caller.
    pub(crate) fn command_with(&self, args: &[&str]) -> Command {
        let mut command = self.command();
        command.args(args);
        command
    }

    /// Starts adminsh with `args` in this test's app, stdin from `/dev/null` and its output
    /// piped, for a test that signals it or reads it while it runs.
    #[track_caller]
    pub(crate) fn spawn(&self, args: &[&str]) -> std::process::Child {
        self.command_with(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Runs adminsh with `args` in this test's app to the end, started as `spawn` starts it
    /// (killed, and the test failed, if it outlives the tests' patience).
    #[track_caller]
    pub(crate) fn output(&self, args: &[&str]) -> std::process::Output {
        processes::finish(self.spawn(args), &format!("adminsh {args:?}"))
    }

    /// Runs adminsh with `args` and `CRASH=yes`, for a script that kills itself with SIGKILL
    /// at a chosen moment (`if env("CRASH") == "yes" { cmd("sh", ["-c", "kill -9 $PPID"]).run() }`),
    /// and checks that it died so, as a run killed by the OOM killer or a deploy dies.
    #[track_caller]
    pub(crate) fn crash(&self, args: &[&str]) {
        let killed = self
            .command_with(args)
            .env("CRASH", "yes")
            .output()
            .unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&killed.status),
            Some(9),
            "adminsh {args:?} did not die of SIGKILL: {killed:?}"
        );
    }

    /// Runs adminsh and checks every expectation; returns the output and the app dir.
    #[track_caller]
    pub(crate) fn run(self) -> Finished {
        let mut child = self
            .command()
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Fed from a thread while the output is read, so neither side can fill a pipe and wait
        // for the other.
        let feeding = child
            .stdin
            .take()
            .zip(self.stdin.clone())
            .map(|(pipe, input)| std::thread::spawn(move || feed(pipe, &input)));
        let output = child.wait_with_output().unwrap();
        if let Some(Err(e)) = feeding.map(|f| f.join().unwrap()) {
            panic!("cannot write adminsh's stdin: {e}");
        }
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let mut problems = Vec::new();
        if output.status.code() != Some(self.status) {
            problems.push(format!(
                "exit status: expected {}, got {:?}",
                self.status, output.status
            ));
        }
        problems.extend(self.stdout.check("stdout", &stdout));
        problems.extend(self.stderr.check("stderr", &stderr));
        assert!(
            problems.is_empty(),
            "adminsh {:?} in {}:\n{}\n=== stdout\n{stdout}=== stderr\n{stderr}===",
            self.args,
            self.dir.path().display(),
            problems.join("\n")
        );
        Finished {
            stdout,
            stderr,
            dir: self.dir,
        }
    }
}

/// Writes a child's stdin and closes it. A child may exit without reading all of it (adminsh
/// refusing to start, a script that never reads): the broken pipe that leaves is no error.
fn feed(mut pipe: impl Write, input: &[u8]) -> std::io::Result<()> {
    match pipe.write_all(input) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        written => written,
    }
}

fn append(expect: Expect, part: &str) -> Expect {
    match expect {
        Expect::Contains(mut parts) => {
            parts.push(part.to_owned());
            Expect::Contains(parts)
        }
        _ => Expect::Contains(vec![part.to_owned()]),
    }
}

pub(crate) struct Finished {
    pub stdout: String,
    pub stderr: String,
    pub dir: tempfile::TempDir,
}

impl Finished {
    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Another run in the same app directory.
    #[track_caller]
    pub(crate) fn again(self) -> Test {
        Test {
            dir: self.dir,
            ..Test::bare()
        }
    }
}

#[test]
fn stdin_that_adminsh_never_reads_is_no_error() {
    // More than a pipe holds: the write is still going on when adminsh exits without reading.
    let input = "x\n".repeat(1 << 20);
    Test::new()
        .args(&["-e", "1"])
        .stdin(&input)
        .stdout("1\n")
        .run();
}

#[test]
fn unindent_strips_common_indentation() {
    assert_eq!(unindent("\n    a\n      b\n    "), "a\n  b\n");
    assert_eq!(unindent("x"), "x");
}

/// Copies an app's files, leaving out what its runs make: `.venv`, `shop.db`, `__pycache__`,
/// `.adminsh`.
fn copy_app(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == ".venv" || name == "shop.db" || name == "__pycache__" || name == ".adminsh" {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_app(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
