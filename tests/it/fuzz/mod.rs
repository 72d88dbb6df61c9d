//! A fuzzer over scripts and command lines. It generates small Rhai programs from a grammar
//! of host calls, rhai built-ins and odd values (huge, negative and NaN numbers, deep nesting,
//! odd strings and paths), some of them mangled into text the parser must refuse, and random
//! command lines; runs the real binary on each in a fresh app, with a time and memory limit;
//! and fails if any run panics, dies of a signal (an abort, a stack overflow) or hangs.
//!
//! Tests run as root: a program may touch nothing outside its app. The grammar sees to it
//! (`program.rs` says how), and a guard checks it after every run: `/dev/null` must still be
//! the null device and a file outside the apps unchanged, or the test stops there, naming the
//! run. (An earlier version wrote to "/dev/null", which replaced the device with a regular
//! file and broke tmux and ssh for every test after it.)
//!
//! The budget is a number of seconds: `ADMINSH_FUZZ_SECONDS` (default 10, or 60 when `CI` is
//! set), optionally capped at `ADMINSH_FUZZ_RUNS` runs, and never fewer than
//! `ADMINSH_FUZZ_MIN_RUNS` (default 20). `ADMINSH_FUZZ_SEED` picks the seed (default: a new one
//! from the clock, printed on every run); a failure prints the seed, the run's number and its
//! command line, so it can be replayed. Run with `--nocapture` to see the figures.
//!
//! Left out on purpose: reading endless files (`/dev/zero`, a FIFO), globbing the whole disk
//! and nested `lock`s of one name (known, tracked apart), remote targets, numbers just below a
//! size limit, and values grown step by step without end (doubling a string in a loop), which
//! memory bounds, not a limit. A run stopped by SIGTERM at the time limit is counted as slow,
//! not failed; one that ignores SIGTERM hangs.

use std::ffi::OsString;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::BIN;

mod command_line;
mod program;

use command_line::{command_line, mangle};
use program::Program;

#[test]
fn fuzz_scripts_and_command_lines() {
    let ci = crate::support::tools::in_ci();
    let seconds: f64 = env_number("ADMINSH_FUZZ_SECONDS").unwrap_or(if ci { 60.0 } else { 10.0 });
    let max_runs: u64 = env_number("ADMINSH_FUZZ_RUNS").unwrap_or(u64::MAX);
    // However slow the machine, at least this many runs, so a budget never means no test.
    let min_runs: u64 = env_number("ADMINSH_FUZZ_MIN_RUNS")
        .unwrap_or(MIN_RUNS)
        .min(max_runs);
    let seed = seed();
    eprintln!("fuzz: seed {seed} (ADMINSH_FUZZ_SEED={seed} runs the same cases again)");
    let budget = Duration::from_secs_f64(seconds);
    let outside = Outside::new();
    if let Err(problem) = outside.check() {
        panic!("before the fuzzer ran: {problem}");
    }
    let start = Instant::now();
    let mut tally = Tally::default();
    let mut run = 0;
    while (start.elapsed() < budget || run < min_runs) && run < max_runs {
        let mut rng = Rng::new(seed, run);
        let case = Case::generate(&mut rng);
        let began = Instant::now();
        let outcome = case.run();
        if let Err(problem) = outside.check() {
            panic!(
                "seed {seed}, run {run} reached outside its app: {problem}\n  it ran: {}",
                case.shown()
            );
        }
        tally.count(&outcome);
        tally.slowest = tally.slowest.max(began.elapsed());
        if matches!(outcome.hung, Some(Hang::Slow)) {
            eprintln!(
                "fuzz: run {run} was slow (SIGTERM stopped it): {:?}",
                case.args
            );
        }
        if let Some(problem) = outcome.problem() {
            tally.failures.push(format!(
                "seed {seed}, run {run}: {problem}\n  args: {:?}\n  stderr (end): {}",
                case.args,
                outcome.stderr_tail()
            ));
            if tally.failures.len() >= 5 {
                break;
            }
        }
        run += 1;
    }
    eprintln!(
        "fuzz: seed {seed}: {} runs ({} scripts, {} mangled scripts, {} command lines; {} did not compile) in {:.1} min (slowest {:.1} s); exit codes {:?}; {} failing",
        tally.runs,
        tally.scripts,
        tally.mangled,
        tally.command_lines,
        tally.refused_to_compile,
        start.elapsed().as_secs_f64() / 60.0,
        tally.slowest.as_secs_f64(),
        tally.codes,
        tally.failures.len(),
    );
    assert!(
        tally.failures.is_empty(),
        "the fuzzer found crashes or hangs:\n{}",
        tally.failures.join("\n\n")
    );
}

/// The fewest runs a fuzz test makes, whatever its time budget.
const MIN_RUNS: u64 = 20;

/// `ADMINSH_FUZZ_SEED`, else a new one from the clock each time: every run tries new cases, and
/// prints its seed so a failure can be run again.
pub(crate) fn seed() -> u64 {
    env_number("ADMINSH_FUZZ_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_secs() ^ u64::from(d.subsec_nanos()))
    })
}

pub(crate) fn env_number<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[derive(Default)]
struct Tally {
    runs: u64,
    scripts: u64,
    mangled: u64,
    command_lines: u64,
    /// Runs whose code did not compile (mangled ones, mostly).
    refused_to_compile: u64,
    codes: std::collections::BTreeMap<String, u64>,
    slowest: Duration,
    failures: Vec<String>,
}

impl Tally {
    fn count(&mut self, outcome: &Outcome) {
        self.runs += 1;
        match outcome.kind {
            Kind::Script => self.scripts += 1,
            Kind::Mangled => self.mangled += 1,
            Kind::CommandLine => self.command_lines += 1,
        }
        *self.codes.entry(outcome.ending()).or_default() += 1;
        if outcome.stderr.contains("Syntax error") {
            self.refused_to_compile += 1;
        }
    }
}

/// A tiny xorshift generator: the fuzzer needs to be replayable, not cryptographic.
pub(crate) struct Rng(u64);

impl Rng {
    /// The generator of run `run` of seed `seed` (mixed by splitmix64, so neighbouring runs
    /// start far apart).
    pub(crate) fn new(seed: u64, run: u64) -> Self {
        let mut z = seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(run.wrapping_mul(0xBF58_476D_1CE4_E5B9));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).expect("less than n")
    }

    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    pub(crate) fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.below(items.len())]
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Script,
    Mangled,
    CommandLine,
}

struct Case {
    kind: Kind,
    args: Vec<OsString>,
}

/// A script with declared parameters, for command lines that bind them.
const PARAMS_SCRIPT: &str = "//! Fuzzed parameters.\n//! @param count: int = 1  How many\n//! @param ratio: float = 0.5  Share\n//! @param since: date?  From when\n//! @param mode: one-of(fast|safe) = safe  How\n//! @param out: path = out.txt  Where\n//! @flag dry  Nothing for real\nprint(PARAMS);\n";

impl Case {
    fn generate(rng: &mut Rng) -> Case {
        match rng.below(10) {
            0..=5 => Case {
                kind: Kind::Script,
                args: vec!["-e".into(), Program::new(rng).generate().into()],
            },
            6 => {
                // Random edits can make anything of a program's text: one without writing
                // functions or the shell, run under --read-only.
                let text = Program::to_mangle(rng).generate();
                Case {
                    kind: Kind::Mangled,
                    args: vec!["--read-only".into(), "-e".into(), mangle(rng, &text).into()],
                }
            }
            _ => Case {
                kind: Kind::CommandLine,
                args: command_line(rng),
            },
        }
    }

    fn run(&self) -> Outcome {
        let dir = tempfile::Builder::new()
            .prefix("adminsh-fuzz-")
            .tempdir()
            .unwrap();
        let root = dir.path();
        std::fs::write(root.join("adminsh.toml"), "name = \"fuzz\"\n").unwrap();
        std::fs::write(
            root.join(".env"),
            "DATABASE_URL=postgres://app:s3cret@db/app\nTOKEN=tok-123\n",
        )
        .unwrap();
        std::fs::create_dir_all(root.join("scripts/lib")).unwrap();
        std::fs::write(root.join("scripts/params.rhai"), PARAMS_SCRIPT).unwrap();
        std::fs::write(root.join("scripts/hello.rhai"), "print(\"hello\");\n").unwrap();
        std::fs::write(
            root.join("scripts/lib/util.rhai"),
            "fn twice(x) { x * 2 }\n",
        )
        .unwrap();
        std::fs::write(root.join("Procfile"), "web: true\nworker: echo work\n").unwrap();
        std::fs::create_dir(root.join("tmp")).unwrap();
        let stdout = std::fs::File::create(root.join(".fuzz-stdout")).unwrap();
        let stderr = std::fs::File::create(root.join(".fuzz-stderr")).unwrap();
        let mut command = Command::new(BIN);
        command
            .args(&self.args)
            .current_dir(root)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", root)
            .env("LANG", "C.UTF-8")
            .env("TMPDIR", root.join("tmp"))
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        // SAFETY: only setrlimit and setpgid, both async-signal-safe, run in the child.
        unsafe {
            command.pre_exec(|| {
                // A runaway allocation fails instead of taking the machine's memory.
                let memory = libc::rlimit {
                    rlim_cur: 6 << 30,
                    rlim_max: 6 << 30,
                };
                libc::setrlimit(libc::RLIMIT_AS, &raw const memory);
                // Its own process group, so that a hang's children are stopped with it.
                libc::setpgid(0, 0);
                Ok(())
            });
        }
        let started = Instant::now();
        let mut child = command.spawn().unwrap();
        let pid = i32::try_from(child.id()).expect("a pid");
        let mut hung = None;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            let waited = started.elapsed();
            if hung.is_none() && waited > RUN_TIMEOUT {
                // Past its time: what Ctrl-C's sibling, SIGTERM, does to it tells a slow run
                // from one that ignores signals.
                hung = Some(Hang::Slow);
                // SAFETY: kill(2) on the child we spawned, still running (not reaped).
                unsafe { libc::kill(pid, libc::SIGTERM) };
            } else if waited > RUN_TIMEOUT + Duration::from_secs(5) {
                hung = Some(Hang::IgnoresSigterm);
                // SAFETY: kill(2) on the process group the child leads, with what it started.
                unsafe { libc::kill(-pid, libc::SIGKILL) };
                break child.wait().unwrap();
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        Outcome {
            kind: self.kind,
            status,
            hung,
            stderr: read_lossy(&root.join(".fuzz-stderr")),
        }
    }
}

impl Case {
    /// The case as a person reads it: the program's text, or the command line.
    fn shown(&self) -> String {
        match self.args.iter().position(|a| a == "-e") {
            Some(at) if !matches!(self.kind, Kind::CommandLine) => format!(
                "adminsh {}\n--- program ---\n{}\n---",
                self.args[..=at]
                    .iter()
                    .map(|a| a.to_string_lossy())
                    .collect::<Vec<_>>()
                    .join(" "),
                self.args[at + 1..]
                    .iter()
                    .map(|a| a.to_string_lossy())
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            _ => format!("adminsh {:?}", self.args),
        }
    }
}

/// What lies outside the fuzzer's apps, checked after every run: `/dev/null`, and a sentinel
/// file in a directory beside the apps.
struct Outside {
    _dir: tempfile::TempDir,
    sentinel: PathBuf,
    text: Vec<u8>,
    meta: std::fs::Metadata,
}

const SENTINEL_TEXT: &str = "left alone by the fuzzer\n";

impl Outside {
    fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("adminsh-fuzz-sentinel-")
            .tempdir()
            .unwrap();
        let sentinel = dir.path().join("sentinel");
        std::fs::write(&sentinel, SENTINEL_TEXT).unwrap();
        let meta = std::fs::symlink_metadata(&sentinel).unwrap();
        Outside {
            text: SENTINEL_TEXT.into(),
            meta,
            sentinel,
            _dir: dir,
        }
    }

    /// What changed, if anything did.
    fn check(&self) -> Result<(), String> {
        match std::fs::symlink_metadata("/dev/null") {
            Ok(meta) if meta.file_type().is_char_device() => {}
            Ok(meta) => {
                return Err(format!(
                    "/dev/null is no longer a character device but {:?}; put it back with \
                     `rm -f /dev/null && mknod -m 666 /dev/null c 1 3`",
                    meta.file_type()
                ));
            }
            Err(e) => {
                return Err(format!(
                    "/dev/null is gone ({e}); put it back with `mknod -m 666 /dev/null c 1 3`"
                ));
            }
        }
        let sentinel = self.sentinel.display();
        let meta = std::fs::symlink_metadata(&self.sentinel)
            .map_err(|e| format!("the sentinel file {sentinel} is gone: {e}"))?;
        let same = meta.file_type().is_file()
            && meta.ino() == self.meta.ino()
            && meta.mode() == self.meta.mode()
            && meta.uid() == self.meta.uid()
            && meta.mtime() == self.meta.mtime()
            && meta.mtime_nsec() == self.meta.mtime_nsec()
            && std::fs::read(&self.sentinel).is_ok_and(|text| text == self.text);
        if same {
            Ok(())
        } else {
            Err(format!("the sentinel file {sentinel} was changed"))
        }
    }
}

const RUN_TIMEOUT: Duration = Duration::from_secs(20);

fn read_lossy(path: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned()
}

enum Hang {
    /// Stopped by SIGTERM after the time limit.
    Slow,
    /// Still running 5 s after SIGTERM.
    IgnoresSigterm,
}

struct Outcome {
    kind: Kind,
    status: std::process::ExitStatus,
    hung: Option<Hang>,
    stderr: String,
}

impl Outcome {
    fn ending(&self) -> String {
        match (&self.hung, self.status.code(), self.status.signal()) {
            (Some(Hang::Slow), ..) => "slow, stopped by SIGTERM".into(),
            (Some(Hang::IgnoresSigterm), ..) => "hang".into(),
            (None, Some(code), _) => code.to_string(),
            (None, None, Some(signal)) => format!("signal {signal}"),
            _ => "?".into(),
        }
    }

    /// What went wrong, if anything did. A script still running at the time limit but
    /// stopped by SIGTERM is only slow (a generated program may sleep or loop for long); one
    /// that ignores SIGTERM hangs, and so does a command line that needs that long.
    fn problem(&self) -> Option<String> {
        match (&self.hung, self.kind) {
            (Some(Hang::IgnoresSigterm), _) => {
                return Some(format!(
                    "still running {RUN_TIMEOUT:?} after it started and 5 s after SIGTERM"
                ));
            }
            (Some(Hang::Slow), Kind::CommandLine) => {
                return Some(format!("still running after {RUN_TIMEOUT:?}"));
            }
            (Some(Hang::Slow), _) => return None,
            (None, _) => {}
        }
        if let Some(signal) = self.status.signal() {
            return Some(format!("killed by signal {signal}"));
        }
        let crashed = [
            "panicked at",
            "fatal runtime error",
            "has overflowed its stack",
            "RUST_BACKTRACE",
        ];
        if let Some(sign) = crashed.iter().find(|s| self.stderr.contains(**s)) {
            return Some(format!(
                "exit {:?}, stderr says {sign:?}",
                self.status.code()
            ));
        }
        // 101 is how a panic ends a debug build.
        (self.status.code() == Some(101)).then(|| "exit 101 (a panic)".to_owned())
    }

    fn stderr_tail(&self) -> String {
        let lines: Vec<&str> = self.stderr.lines().collect();
        let tail = &lines[lines.len().saturating_sub(8)..];
        let mut text = tail.join("\n");
        if text.len() > 2000 {
            let end = (0..=2000).rev().find(|&i| text.is_char_boundary(i));
            text.truncate(end.unwrap_or(0));
        }
        text
    }
}

/// The guard sees a changed sentinel, and passes an untouched one.
#[test]
fn the_guard_sees_a_changed_sentinel() {
    let outside = Outside::new();
    outside.check().unwrap();
    std::fs::write(&outside.sentinel, "changed\n").unwrap();
    let problem = outside.check().unwrap_err();
    assert!(problem.contains("was changed"), "{problem}");
}
