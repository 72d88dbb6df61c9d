//! A fuzzer over scripts and command lines. It generates small Rhai programs from a grammar
//! of host calls, rhai built-ins and odd values (huge, negative and NaN numbers, deep nesting,
//! odd strings and paths), some of them mangled into text the parser must refuse, and random
//! command lines; runs the real binary on each in a fresh app, with a time and memory limit;
//! and fails if any run panics, dies of a signal (an abort, a stack overflow) or hangs.
//!
//! The budget is a number of seconds: `ADMINSH_FUZZ_SECONDS` (default 10, or 180 when `CI` is
//! set), optionally capped at `ADMINSH_FUZZ_RUNS` runs. `ADMINSH_FUZZ_SEED` picks the seed
//! (default 1, or the clock when `CI` is set); a failure prints the seed, the run's number and
//! its command line, so it can be replayed. Run with `--nocapture` to see the figures.
//!
//! Left out on purpose: reading endless files (`/dev/zero`, a FIFO), globbing the whole disk
//! and nested `lock`s of one name (known, tracked apart), remote targets, numbers just below a
//! size limit, and values grown step by step without end (doubling a string in a loop), which
//! memory bounds, not a limit. A run stopped by SIGTERM at the time limit is counted as slow,
//! not failed; one that ignores SIGTERM hangs.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::BIN;

#[test]
fn fuzz_scripts_and_command_lines() {
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false");
    let seconds: f64 = env_number("ADMINSH_FUZZ_SECONDS").unwrap_or(if ci { 180.0 } else { 10.0 });
    let max_runs = env_number("ADMINSH_FUZZ_RUNS").map_or(u64::MAX, |n| n as u64);
    let seed = env_number("ADMINSH_FUZZ_SEED").map_or_else(
        || {
            if ci {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            } else {
                1
            }
        },
        |n| n as u64,
    );
    let budget = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut tally = Tally::default();
    let mut run = 0;
    while start.elapsed() < budget && run < max_runs {
        let mut rng = Rng::new(seed, run);
        let case = Case::generate(&mut rng);
        let began = Instant::now();
        let outcome = case.run();
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
        "fuzz: seed {seed}: {} runs ({} scripts, {} mangled scripts, {} command lines) in {:.1} min (slowest {:.1} s); exit codes {:?}; {} failing",
        tally.runs,
        tally.scripts,
        tally.mangled,
        tally.command_lines,
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

fn env_number(name: &str) -> Option<f64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[derive(Default)]
struct Tally {
    runs: u64,
    scripts: u64,
    mangled: u64,
    command_lines: u64,
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
    }
}

/// A tiny xorshift generator: the fuzzer needs to be replayable, not cryptographic.
struct Rng(u64);

impl Rng {
    /// The generator of run `run` of seed `seed` (mixed by splitmix64, so neighbouring runs
    /// start far apart).
    fn new(seed: u64, run: u64) -> Self {
        let mut z = seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(run.wrapping_mul(0xBF58_476D_1CE4_E5B9));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
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
                let text = Program::new(rng).generate();
                Case {
                    kind: Kind::Mangled,
                    args: vec!["-e".into(), mangle(rng, &text).into()],
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
                libc::setrlimit(libc::RLIMIT_AS, &memory);
                // Its own process group, so that a hang's children are stopped with it.
                libc::setpgid(0, 0);
                Ok(())
            });
        }
        let started = Instant::now();
        let mut child = command.spawn().unwrap();
        let pid = child.id() as i32;
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
            text.truncate(text.floor_char_boundary(2000));
        }
        text
    }
}

/// `text` with a few random edits: characters that matter to the tokenizer inserted, spans
/// deleted or repeated.
fn mangle(rng: &mut Rng, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let special: Vec<char> = "{}[]()\"'`#$;,.:=!-+*/\\\n|&?<>@~^%0e_x\u{feff}é💥"
        .chars()
        .collect();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(chars.len() + 1);
        match rng.below(3) {
            0 => chars.insert(at, special[rng.below(special.len())]),
            1 if at < chars.len() => {
                let end = (at + 1 + rng.below(8)).min(chars.len());
                chars.drain(at..end);
            }
            _ => {
                let end = (at + 1 + rng.below(12)).min(chars.len());
                let span: Vec<char> = chars[at..end].to_vec();
                for (i, c) in span.into_iter().enumerate() {
                    chars.insert(end + i, c);
                }
            }
        }
    }
    chars.into_iter().collect()
}

/// A random command line: adminsh's own options and modes, script names and their
/// parameters, odd values and bytes.
fn command_line(rng: &mut Rng) -> Vec<OsString> {
    let words: &[&[&str]] = &[
        &["-e", "1 + 1"],
        &["-e", "ARGS"],
        &["-e", "PARAMS"],
        &["--json", "-e", "print(1); 2"],
        &["-C", "."],
        &["-C", "/nonexistent"],
        &["-C", ""],
        &["--dir=scripts"],
        &["--env-file", ".env"],
        &["--env-file", "/nonexistent"],
        &["--env-file", "/dev/null"],
        &["--env-file", "scripts"],
        &["-s", "production"],
        &["--stage", ""],
        &["--stage=-x"],
        &["--allow-outside-release"],
        &["--json"],
        &["-n"],
        &["--dry-run"],
        &["--read-only"],
        &["-y"],
        &["--restart"],
        &["--reason", "fuzz"],
        &["--reason", ""],
        &["--audit"],
        &["--list"],
        &["--check"],
        &["--env"],
        &["--env", "--all"],
        &["--all"],
        &["--completions", "bash"],
        &["--completions", "zsh"],
        &["--completions", "tcsh"],
        &["--targets"],
        &["-t", "nope"],
        &["--each"],
        &["--parallel", "0"],
        &["--parallel", "99999999999999999999"],
        &["--help"],
        &["-h"],
        &["-V"],
        &["--"],
        &["-"],
        &[""],
        &["params"],
        &["params", "--help"],
        &["params", "--count", "9223372036854775808"],
        &["params", "--count=-9223372036854775808"],
        &["params", "--count", "1e20"],
        &["params", "--ratio", "NaN"],
        &["params", "--ratio=1e999"],
        &["params", "--since", "2024-02-30"],
        &["params", "--since", "99999-01-01"],
        &["params", "--mode", "fast", "--mode", "safe"],
        &["params", "--out", ""],
        &["params", "--dry", "--dry"],
        &["params", "--dry=maybe"],
        &["params", "--unknown"],
        &["params", "--", "--count"],
        &["hello"],
        &["hello", "a", "--b", "-c"],
        &["lib/util"],
        &["scripts/hello.rhai"],
        &["nonexistent"],
        &["/dev/null"],
        &["/etc/passwd"],
        &["."],
        &["../x"],
        &["--remote-argv", "!!!"],
        &["--remote-argv", ""],
    ];
    let mut args: Vec<OsString> = Vec::new();
    for _ in 0..rng.below(5) {
        args.extend(rng.pick(words).iter().map(OsString::from));
    }
    match rng.below(6) {
        0 => {
            // Completion requests, with word indexes in range or far out of it.
            let shell = rng.pick(&["bash", "zsh", "fish", "tcsh", ""]);
            let mut request: Vec<OsString> =
                vec!["--complete-words".into(), "--".into(), shell.into()];
            let mut words: Vec<String> = vec!["adminsh".into()];
            for _ in 0..rng.below(5) {
                words.push(
                    rng.pick(&[
                        "params", "--count", "--mode", "=", "f", "-C", ".", "-e", "--", "",
                        "hello", "--dry=",
                    ])
                    .into(),
                );
            }
            let cword = match rng.below(4) {
                0 => rng
                    .pick(&[
                        "18446744073709551615",
                        "99999999999999999999",
                        "-1",
                        "x",
                        "1e3",
                    ])
                    .to_owned(),
                _ => rng.below(words.len() + 2).to_string(),
            };
            request.push(cword.into());
            request.extend(words.into_iter().map(OsString::from));
            request
        }
        1 => {
            // Bytes that are not UTF-8, as an argument of a script and of adminsh.
            let mut with_bytes = args;
            with_bytes.push(OsString::from_vec(vec![b'-', b'-', 0xff, b'=', 0xfe]));
            with_bytes.push("hello".into());
            with_bytes.push(OsString::from_vec(vec![0xc3, 0x28]));
            with_bytes
        }
        _ => args,
    }
}

/// A generator of small programs: statements over host calls, built-ins and odd values.
struct Program<'r> {
    rng: &'r mut Rng,
    /// Variables defined so far (strict mode refuses others).
    vars: Vec<String>,
    depth: usize,
}

/// Function specs: a name and the kinds of its arguments (`C` a command as receiver), `s`
/// string, `i` int, `f` float, `n` any number, `a` array, `m` map, `b` blob, `p` function,
/// `x` anything. A leading `.` calls it as a method on the first argument.
const HOST: &[&str] = &[
    "cmd s",
    "cmd sa",
    "sh s",
    "app s",
    "app sa",
    ".arg Cx",
    ".args Ca",
    ".env Csx",
    ".env_remove Cs",
    ".dir Cs",
    ".stdin Cs",
    ".stdin Cb",
    ".pipe CC",
    ".timeout Ci",
    ".timeout Cf",
    ".read_only C",
    ".unchecked C",
    ".to_string C",
    ".to_debug C",
    ".run C",
    ".read C",
    ".read_bytes C",
    ".lines C",
    ".output C",
    ".each_line Cp",
    "env s",
    "env sx",
    "has_env s",
    "set_env sx",
    "fail x",
    "parse_json s",
    "to_json x",
    "to_json xx",
    "parse_url s",
    "read_file s",
    "write_file ss",
    "exists s",
    "glob s",
    "info x",
    "warn x",
    "error x",
    "procfile",
    "proc s",
    "progress i",
    ".inc P",
    ".inc Pi",
    ".message Ps",
    ".finish P",
    "each_progress ap",
    "confirm s",
    "ask ss",
    "step sp",
    "sleep d",
    "exit i",
    "eval s",
];

const BUILTIN: &[&str] = &[
    ".len s",
    ".pad sis",
    ".sub_string sii",
    ".crop si",
    ".split ss",
    ".split si",
    ".replace sss",
    ".trim s",
    ".to_upper s",
    ".index_of ss",
    ".index_of ssi",
    ".contains ss",
    ".chars s",
    ".to_chars s",
    ".get si",
    ".truncate si",
    ".bytes s",
    ".to_blob s",
    ".starts_with ss",
    ".len a",
    ".push ax",
    ".pad aix",
    ".insert aix",
    ".extract aii",
    ".splice aiia",
    ".get ai",
    ".remove ai",
    ".chop ai",
    ".truncate ai",
    ".reverse a",
    ".sort a",
    ".dedup a",
    ".filter ap",
    ".map ap",
    ".reduce ap",
    ".index_of ax",
    ".contains ax",
    ".drain aii",
    ".retain aii",
    ".split ai",
    ".zip aap",
    ".all ap",
    ".some ap",
    ".keys m",
    ".values m",
    ".len m",
    ".get ms",
    ".remove ms",
    ".mixin mm",
    ".fill_with mm",
    ".contains ms",
    ".len b",
    ".push bi",
    ".pad bii",
    ".parse_le_int bii",
    ".parse_be_float bii",
    ".write_le biii",
    ".write_utf8 biis",
    ".as_string b",
    ".extract bii",
    ".get bi",
    ".abs n",
    ".sqrt n",
    ".floor n",
    ".to_int n",
    ".to_float n",
    ".to_string x",
    ".to_debug x",
    "blob i",
    "blob ii",
    "range ii",
    "range iii",
    "parse_int s",
    "parse_int si",
    "parse_float s",
    "max nn",
    "min nn",
    "type_of x",
    "print x",
    "debug x",
    "timestamp",
    "take x",
    "Fn s",
];

/// Small numbers, and numbers past the limits; none just below a limit, where a run would only
/// spend seconds and gigabytes on what it was asked for.
const INTS: &[&str] = &[
    "0",
    "1",
    "2",
    "-1",
    "7",
    "255",
    "256",
    "1000",
    "65536",
    "4294967296",
    "100000000000",
    "9223372036854775807",
    "(-9223372036854775807 - 1)",
    "2147483649",
    "16777217",
    "31536001",
    "-100000000000",
];

const FLOATS: &[&str] = &[
    "0.0",
    "-0.0",
    "0.5",
    "1.5",
    "-1.5",
    "1e20",
    "1e-300",
    "1e308",
    "(0.0 / 0.0)",
    "(1.0 / 0.0)",
    "(-1.0 / 0.0)",
    "9.3e18",
    "31536000.5",
    "2.5e9",
];

const STRINGS: &[&str] = &[
    "\"\"",
    "\"x\"",
    "\"hello world\"",
    "\"é💥\"",
    "\"a\\nb\"",
    "\"\\t\"",
    "\"\\x00\"",
    "\"$HOME\"",
    "\"--x\"",
    "\"-e\"",
    "\"%00%zz\"",
    "\"{\"",
    "\"[1, 2\"",
    "\"null\"",
    "\"1e999\"",
    "\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]\"",
    "\"{\\\"a\\\": [1, 2.5, null, true, {\\\"b\\\": \\\"c\\\"}]}\"",
    "\"18446744073709551616\"",
    "\"\\\"\\\\ud800\\\"\"",
    "\"postgres://u:p%40ss@h:5432/db?sslmode=off\"",
    "\"x://[::1\"",
    "\"x://h:99999/\"",
    "\"://\"",
    "\"a://@\"",
    "\"/\"",
    "\".\"",
    "\"..\"",
    "\"/dev/null\"",
    "\"/proc/self/status\"",
    "\"nonexistent\"",
    "\"out.txt\"",
    "\"dir/sub/x\"",
    "\"*\"",
    "\"**/*.rhai\"",
    "\"[\"",
    "\"scripts/*\"",
    "\"DATABASE_URL\"",
    "\"TOKEN\"",
    "\"A=B\"",
    "\"=\"",
    "\"web\"",
    "\"worker\"",
    "\"std/db\"",
    "\"1 + 1\"",
    "\"const M = #{a: 1}; M.a = 2;\"",
    "\"fn f(n) { f(n) } f(1)\"",
];

const PROGRAMS: &[&str] = &[
    "\"true\"",
    "\"false\"",
    "\"echo\"",
    "\"printf\"",
    "\"cat\"",
    "\"nonexistent-program\"",
    "\"\"",
    "\"env\"",
    "\"sh\"",
];

const SHELL: &[&str] = &[
    "\"exit 3\"",
    "\"echo out; echo err >&2\"",
    "\"printf '\\\\377\\\\376'\"",
    "\"kill -9 $$\"",
    "\"yes | head -n 100\"",
    "\"sleep 0.05\"",
    "\"exit 300\"",
    "\"printf 'a\\\\nb\\\\n\\\\n'\"",
    "\"cat\"",
    "\"echo $TOKEN\"",
];

impl<'r> Program<'r> {
    fn new(rng: &'r mut Rng) -> Self {
        Program {
            rng,
            vars: Vec::new(),
            depth: 0,
        }
    }

    fn generate(mut self) -> String {
        let mut out = String::new();
        for _ in 0..1 + self.rng.below(6) {
            out.push_str(&self.statement(true));
            out.push('\n');
        }
        // The last value is what -e prints.
        if self.rng.chance(50) {
            out.push_str(&self.expr());
        }
        out
    }

    /// A statement; `top` at the top level, where functions may be defined.
    fn statement(&mut self, top: bool) -> String {
        match self.rng.below(14) {
            0..=2 => {
                let value = self.expr();
                let name = format!("v{}", self.vars.len());
                let keyword = if self.rng.chance(30) { "const" } else { "let" };
                self.vars.push(name.clone());
                format!("{keyword} {name} = {value};")
            }
            3 if !self.vars.is_empty() => {
                // Assignments, into constants too.
                let name = self.vars[self.rng.below(self.vars.len())].clone();
                let target = match self.rng.below(4) {
                    0 => name,
                    1 => format!("{name}.a"),
                    2 => format!("{name}[0]"),
                    _ => format!("{name}[\"a\"]"),
                };
                let op = self.rng.pick(&["=", "+=", "-=", "*=", "<<=", "/="]);
                let value = self.expr();
                format!("{target} {op} {value};")
            }
            4 => {
                let body = self.block();
                format!("try {{ {body} }} catch (e) {{ print(e); }}")
            }
            5 if top => {
                // A function sees only its parameter.
                let outer = std::mem::replace(&mut self.vars, vec!["x".into()]);
                let body = self.block();
                self.vars = outer;
                let name = format!("f{}", self.rng.below(1000));
                format!("fn {name}(x) {{ {body} x }}\n{name}({});", self.expr())
            }
            6 => {
                let n = self.rng.pick(&["2", "3", "10"]);
                let body = self.block();
                format!("for i in 0..{n} {{ {body} }}")
            }
            7 => {
                // Deeply nested values, built cheaply, then used.
                // (Maps are slow to build in a debug build: they nest less.)
                let (wrap, n) = *self.rng.pick(&[
                    &("[take(d)]", 3000),
                    &("#{d: take(d)}", 500),
                    &("[take(d), 1]", 1000),
                ]);
                let name = format!("v{}", self.vars.len());
                self.vars.push(name.clone());
                format!("let {name} = {{ let d = []; for i in 0..{n} {{ d = {wrap}; }} d }};")
            }
            8 if top => {
                let module = self
                    .rng
                    .pick(&["lib/util", "std/db", "nowhere", "/etc/passwd", ""]);
                format!("import \"{module}\" as m;\nm::twice({});", self.value('x'))
            }
            9 => {
                let on = self.expr();
                let (a, b) = (self.value('x'), self.value('x'));
                format!("switch {on} {{ {a} => 1, 0..10 => 2, _ if {b} => 3, _ => () }};")
            }
            _ => format!("{};", self.expr()),
        }
    }

    /// A statement in a block: what it defines is gone after it.
    fn block(&mut self) -> String {
        let defined = self.vars.len();
        let body = self.statement(false);
        self.vars.truncate(defined);
        body
    }

    fn expr(&mut self) -> String {
        self.depth += 1;
        let expr = if self.depth > 4 {
            self.value('x')
        } else {
            match self.rng.below(11) {
                0..=3 => self.call(HOST),
                4..=6 => self.call(BUILTIN),
                7 => {
                    let op = self.rng.pick(&[
                        "+", "-", "*", "/", "%", "**", "<<", ">>", "&", "|", "^", "==", "<", "??",
                        "in",
                    ]);
                    format!("({} {op} {})", self.expr(), self.expr())
                }
                8 => format!("`{}${{{}}}`", self.rng.pick(&["", "x=", "é"]), self.expr()),
                9 => {
                    // Indexing, slicing and property access with odd indexes.
                    let on = self.expr();
                    let (i, j) = (self.value('i'), self.value('i'));
                    match self.rng.below(5) {
                        0 => format!("{on}[{i}]"),
                        1 => format!("{on}[{i}..{j}]"),
                        2 => format!("{on}[{i}..]"),
                        3 => format!("{on}?.a"),
                        _ => format!("{on}.a"),
                    }
                }
                _ => self.value('x'),
            }
        };
        self.depth -= 1;
        expr
    }

    fn call(&mut self, table: &[&str]) -> String {
        let spec = table[self.rng.below(table.len())];
        let (name, kinds) = spec.split_once(' ').unwrap_or((spec, ""));
        let args: Vec<String> = kinds
            .chars()
            .map(|kind| {
                // Now and then, a value of the wrong kind.
                let kind = if kind != 'd' && self.rng.chance(10) {
                    'x'
                } else {
                    kind
                };
                self.value(kind)
            })
            .collect();
        match name.strip_prefix('.') {
            Some(method) if !args.is_empty() => {
                format!("{}.{method}({})", args[0], args[1..].join(", "))
            }
            _ => format!("{name}({})", args.join(", ")),
        }
    }

    fn value(&mut self, kind: char) -> String {
        let kind = if kind == 'x' {
            *self
                .rng
                .pick(&[&'s', &'i', &'f', &'a', &'m', &'b', &'p', &'C', &'v', &'u'])
        } else {
            kind
        };
        match kind {
            's' => self.rng.pick(STRINGS).to_owned(),
            'i' => self.rng.pick(INTS).to_owned(),
            'f' => self.rng.pick(FLOATS).to_owned(),
            'n' => {
                if self.rng.chance(50) {
                    self.value('i')
                } else {
                    self.value('f')
                }
            }
            'a' => match self.rng.below(4) {
                0 => "[]".into(),
                1 => format!("[{}, {}]", self.value('i'), self.value('s')),
                2 => "[[1, [2, [3]]], #{a: [4]}]".into(),
                _ => format!("[{}]", self.value('x')),
            },
            'm' => match self.rng.below(3) {
                0 => "#{}".into(),
                1 => format!("#{{a: {}, b: {}}}", self.value('i'), self.value('s')),
                _ => "#{a: #{b: #{c: [1, 2]}}, \"odd key\": ()}".into(),
            },
            'b' => self
                .rng
                .pick(&["blob()", "blob(3)", "blob(4, 255)", "\"é\".to_blob()"])
                .to_owned(),
            // A closure over a variable (which makes it shared), now and then.
            'p' if !self.vars.is_empty() && self.rng.chance(20) => {
                let var = self.vars[self.rng.below(self.vars.len())].clone();
                format!("|y| {var}")
            }
            'p' => self
                .rng
                .pick(&[
                    "Fn(\"print\").curry(1)",
                    "Fn(\"to_json\").curry([1, 2])",
                    "|x| x",
                    "|x, y| x",
                    "|x| false",
                    "|x| fail(x)",
                    "|| 1",
                    "Fn(\"print\")",
                    "Fn(\"nonexistent\")",
                    "|x| x.len()",
                ])
                .to_owned(),
            'C' => match self.rng.below(4) {
                0 => format!("cmd({})", self.rng.pick(PROGRAMS)),
                1 => format!(
                    "cmd({}, [{}, {}])",
                    self.rng.pick(PROGRAMS),
                    self.value('s'),
                    self.value('i')
                ),
                2 => format!("sh({})", self.rng.pick(SHELL)),
                _ => format!(
                    "cmd(\"printf\", [\"%s\\n\", {}]).timeout({})",
                    self.value('s'),
                    self.rng.pick(&["5", "0.5", "1e-9"])
                ),
            },
            'P' => format!("progress({})", self.value('i')),
            // Durations: short, or far out of range (a long sleep is only slow).
            'd' => self
                .rng
                .pick(&[
                    "0",
                    "0.01",
                    "-1",
                    "1e20",
                    "9223372036854775807",
                    "(0.0 / 0.0)",
                    "31536001",
                    "(1.0 / 0.0)",
                ])
                .to_owned(),
            'v' if !self.vars.is_empty() => self.vars[self.rng.below(self.vars.len())].clone(),
            'u' => "()".into(),
            _ => self
                .rng
                .pick(&["true", "'c'", "()", "ARGS", "PARAMS"])
                .to_owned(),
        }
    }
}
