//! A reader that goes away never loses a run: adminsh's stdout and stderr into a pipe whose
//! reader exits after one line (`adminsh x 2>&1 | head -1`) or at once, for every mode. The
//! run goes on to its end, its steps all run, the audit log gets its finish line, and adminsh
//! exits with the run's own code (not 134, an abort, nor 141, SIGPIPE).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::Test;
use crate::support::processes::{Signal, signal};
use crate::support::wait::wait_for_path;

const STEPS: &str = r#"
//! Three steps, each saying a lot and writing a file.
for n in 1..=3 {
    step(`step ${n}`, || {
        for i in 0..200 { print(`step ${n}: line ${i}`); info(`step ${n}: note ${i}`); }
        write_file(`done-${n}`, "yes");
    });
}
if exists("fail") { exit(3) }
"#;

/// How the reader goes away.
#[derive(Clone, Copy, Debug)]
enum Reader {
    /// `2>&1 | head -1`: stdout and stderr into one pipe, closed after the first line.
    HeadOne,
    /// Both into pipes closed before adminsh writes anything.
    Gone,
}

/// Runs `command` with its outputs going to a reader that goes away as `reader` says; returns
/// its exit code (`None` for a signal).
fn run_into(mut command: Command, reader: Reader, stdin: Option<&str>) -> Option<i32> {
    let (read_end, write_end) = std::io::pipe().unwrap();
    command
        .stdout(write_end.try_clone().unwrap())
        .stderr(write_end)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    let mut child = command.spawn().unwrap();
    // The parent's copies of the write end go with the command.
    drop(command);
    if let (Some(mut pipe), Some(text)) = (child.stdin.take(), stdin) {
        use std::io::Write;
        let _ = pipe.write_all(text.as_bytes());
    }
    match reader {
        Reader::HeadOne => {
            let mut first = String::new();
            let _ = BufReader::new(read_end).read_line(&mut first);
        }
        Reader::Gone => drop(read_end),
    }
    child.wait().unwrap().code()
}

/// The audit log's lines, each checked to be a whole JSON record.
fn audit(dir: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(dir.join(".adminsh/audit.jsonl")).unwrap_or_default();
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

/// The run's last audit record is a finish line for its start line, with `code`.
#[track_caller]
fn assert_finished(dir: &Path, code: i32) -> serde_json::Value {
    let lines = audit(dir);
    assert!(lines.len() >= 2, "{lines:?}");
    let (start, finish) = (&lines[lines.len() - 2], &lines[lines.len() - 1]);
    assert_eq!(start["event"], "start", "{lines:?}");
    assert_eq!(finish["event"], "finish", "{lines:?}");
    assert_eq!(start["id"], finish["id"]);
    assert_eq!(finish["exit_code"], code, "{finish}");
    finish.clone()
}

fn app() -> Test {
    Test::new()
        .file(
            "adminsh.toml",
            "name = \"shop\"\n[targets.production]\nssh = \"deploy@app1\"\ndir = \"/srv/shop\"\n",
        )
        .file(".env", "PORT=1\nAPI_TOKEN=tok-very-secret\n")
        .script("steps3", STEPS)
}

const EVAL: &str = "for i in 0..500 { print(i) } write_file(\"e.txt\", \"1\"); 7";

/// One mode run into a reader that goes away.
struct Case {
    args: &'static [&'static str],
    stdin: Option<&'static str>,
    /// Files the run writes.
    files: &'static [&'static str],
    /// It writes audit records, whose finish line names the outputs a reader gone from the
    /// start lost: each one the run writes to.
    lost: Option<&'static [&'static str]>,
}

const fn case(
    args: &'static [&'static str],
    files: &'static [&'static str],
    lost: Option<&'static [&'static str]>,
) -> Case {
    Case {
        args,
        stdin: None,
        files,
        lost,
    }
}

#[test]
fn a_closed_reader_never_stops_a_run_in_any_mode() {
    let steps = &["done-1", "done-2", "done-3"];
    // Prints on stdout and steps on stderr; with --json the prints and steps on stderr, the
    // report on stdout; -e and the console only print.
    let both: Option<&[&str]> = Some(&["stdout", "stderr"]);
    let stdout: Option<&[&str]> = Some(&["stdout"]);
    let cases = [
        case(&["steps3"], steps, both),
        case(&["--json", "steps3"], steps, both),
        case(&["--dry-run", "steps3"], &[], both),
        case(&["-e", EVAL], &["e.txt"], stdout),
        case(&["--env"], &[], None),
        case(&["--env", "--json"], &[], None),
        case(&["--audit"], &[], None),
        case(&["--check"], &[], None),
        case(&["--list"], &[], None),
        case(&["--targets"], &[], None),
        case(&["--completions", "bash"], &[], None),
        case(&["--help"], &[], None),
        Case {
            stdin: Some("for i in 0..500 { print(i) }\nwrite_file(\"c.txt\", \"1\");\n[1, 2]\n"),
            ..case(&[], &["c.txt"], stdout)
        },
    ];
    let mut completed = 0;
    for reader in [Reader::HeadOne, Reader::Gone] {
        for case in &cases {
            let t = app();
            let what = format!("{:?} with {reader:?}", case.args);
            let got = run_into(t.command_with(case.args), reader, case.stdin);
            assert_eq!(got, Some(0), "{what}: exit code");
            for file in case.files {
                assert!(
                    t.path().join(file).exists(),
                    "{what}: {file} was not written"
                );
            }
            if let Some(lost) = case.lost {
                let finish = assert_finished(t.path(), 0);
                if matches!(reader, Reader::Gone) {
                    assert_eq!(
                        finish["lost_output"],
                        serde_json::json!(lost),
                        "{what}: {finish}"
                    );
                }
            }
            completed += 1;
        }
    }
    println!(
        "closed pipes: {completed} of {} runs completed",
        2 * cases.len()
    );
    assert_eq!(completed, 2 * cases.len());
}

#[test]
fn a_failing_run_into_a_closed_reader_exits_with_its_own_code() {
    for reader in [Reader::HeadOne, Reader::Gone] {
        let t = app().file("fail", "");
        let got = run_into(t.command_with(&["steps3"]), reader, None);
        assert_eq!(got, Some(3), "{reader:?}");
        for n in 1..=3 {
            assert!(t.path().join(format!("done-{n}")).exists());
        }
        assert_finished(t.path(), 3);
    }
}

/// The target's side of a remote run whose connection went (Ctrl-C at the client): SIGHUP
/// with stdout and stderr gone. It says "interrupted" to no one and records the end.
#[test]
fn an_interrupted_run_with_no_reader_records_its_end() {
    let t = app().script(
        "wait",
        "write_file(\"started\", \"1\");\ncmd(\"sleep\", [\"30\"]).run();\n",
    );
    let mut command = t.command_with(&["wait"]);
    command.stdin(Stdio::null());
    let (read_end, write_end) = std::io::pipe().unwrap();
    command
        .stdout(write_end.try_clone().unwrap())
        .stderr(write_end);
    let mut child = command.spawn().unwrap();
    drop(command);
    drop(read_end);
    wait_for_path(&t.path().join("started"));
    signal(child.id(), Signal::Hangup);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(129));
    let finish = assert_finished(t.path(), 129);
    assert_eq!(finish["outcome"], "interrupted");
}
