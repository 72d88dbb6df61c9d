//! A full disk under the audit log: a record that cannot be written whole is not written at
//! all (the log stays as it was, every line a whole JSON record), `audit_required` refuses to
//! run without a start line, and `--audit` shows the readable records of a damaged log and
//! flags its damaged lines. The disk fills three ways: `/dev/full`, a file size limit
//! (`RLIMIT_FSIZE`, a short write exactly as a full disk makes one), and a real 64 KiB tmpfs
//! (where adminsh runs as root and may mount one).

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Stdio;

use crate::support::Test;
use crate::support::tmpfs::Tmpfs;
use crate::support::tools::require;

const SCRIPT: &str = r#"
//! Runs enough commands to make a long finish line.
for i in 0..40 { cmd("true", [`argument-${i}`]).run(); }
write_file(`ran-${ARGS[0]}`, "1");
"#;

fn app(audit_log: &Path, required: bool) -> Test {
    Test::new()
        .file(
            "adminsh.toml",
            &format!(
                "name = \"shop\"\naudit_log = \"{}\"\naudit_required = {required}\n",
                audit_log.display()
            ),
        )
        .script("job", SCRIPT)
}

/// Every line of the log parsed as JSON; panics naming a line that is not.
#[track_caller]
fn all_json(log: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "a cut line: {text:?}"
    );
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}")))
        .collect()
}

/// Runs `job NAME` in `t`'s app with an optional file size limit; returns the output.
fn run_job(t: &Test, name: &str, limit: Option<u64>) -> std::process::Output {
    let mut command = t.command_with(&["job", name]);
    command.stdin(Stdio::null());
    if let Some(limit) = limit {
        // SAFETY: between fork and exec only async-signal-safe calls: signal and setrlimit.
        unsafe {
            command.pre_exec(move || {
                // A write past the limit is then cut short with EFBIG, like one on a full disk.
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                let rlimit = libc::rlimit {
                    rlim_cur: limit,
                    rlim_max: limit,
                };
                if libc::setrlimit(libc::RLIMIT_FSIZE, &raw const rlimit) == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            });
        }
    }
    command.output().unwrap()
}

#[test]
fn an_unwritable_log_refuses_a_required_audit_and_warns_otherwise() {
    let full = Path::new("/dev/full");
    let t = app(full, true);
    let out = run_job(&t, "a", None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the audit log is required"), "{stderr}");
    assert!(!t.path().join("ran-a").exists(), "it ran without its audit");
    let t = app(full, false);
    let out = run_job(&t, "b", None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("this run is not audited"), "{stderr}");
    assert!(t.path().join("ran-b").exists());
}

#[test]
fn a_short_write_is_taken_back_and_the_log_stays_readable() {
    let t = app(Path::new(".adminsh/audit.jsonl"), true);
    let log = t.path().join(".adminsh/audit.jsonl");
    assert_eq!(run_job(&t, "first", None).status.code(), Some(0));
    let before = all_json(&log);
    assert_eq!(before.len(), 2);
    let size = std::fs::metadata(&log).unwrap().len();
    // Room for the next start line (some 400 bytes) but not its finish line (over 2 KiB).
    let out = run_job(&t, "second", Some(size + 1000));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("cannot write the audit log"), "{stderr}");
    assert!(stderr.contains("the line was taken back"), "{stderr}");
    let after = all_json(&log);
    assert_eq!(after.len(), 3, "{after:?}");
    assert_eq!(after[2]["event"], "start");
    // No room even for a start line: a required audit refuses to run, and the log is as it was.
    let size = std::fs::metadata(&log).unwrap().len();
    let out = run_job(&t, "third", Some(size + 10));
    assert_eq!(out.status.code(), Some(1));
    assert!(!t.path().join("ran-third").exists());
    assert_eq!(std::fs::metadata(&log).unwrap().len(), size);
    all_json(&log);
    // The next run, with room again, goes on a line of its own.
    assert_eq!(run_job(&t, "fourth", None).status.code(), Some(0));
    assert_eq!(all_json(&log).len(), 5);
    Test::new()
        .file("adminsh.toml", "")
        .args(&["-C", t.path().to_str().unwrap(), "--audit"])
        .stdout_contains("job first")
        .stdout_contains("job second  no finish (killed?)")
        .stdout_contains("job fourth  success")
        .run();
}

#[test]
fn audit_shows_the_readable_records_of_a_damaged_log_and_flags_the_rest() {
    let t = app(Path::new(".adminsh/audit.jsonl"), false);
    let log = t.path().join(".adminsh/audit.jsonl");
    assert_eq!(run_job(&t, "one", None).status.code(), Some(0));
    // A line cut short by an older adminsh on a full disk, with no newline after it.
    let mut text = std::fs::read_to_string(&log).unwrap();
    text.push_str(r#"{"event":"start","id":"cut-short","time":"2026-"#);
    std::fs::write(&log, text).unwrap();
    assert_eq!(run_job(&t, "two", None).status.code(), Some(0));
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(
        lines[2].ends_with("\"2026-"),
        "the next record was glued on: {text}"
    );
    for (i, line) in lines.iter().enumerate().filter(|(i, _)| *i != 2) {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("{i}: {e}"));
    }
    let listed = t
        .command_with(&["--audit"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&listed.stdout),
        String::from_utf8_lossy(&listed.stderr),
    );
    assert_eq!(listed.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("job one  success"), "{stdout}");
    assert!(stdout.contains("job two  success"), "{stdout}");
    assert!(
        stderr.contains("audit.jsonl:3: a damaged line, not a whole record")
            && stderr.contains(r#"skipped: {"event":"start","id":"cut-short""#),
        "{stderr}"
    );
}

/// A real full disk: a 64 KiB tmpfs, filled up around the log. Needs root (or
/// `CAP_SYS_ADMIN`); elsewhere it says so and returns.
#[test]
fn a_full_tmpfs_never_leaves_a_cut_line() {
    require!(Tmpfs);
    let disk = Tmpfs::mount("64k");
    let log = disk.path().join("audit.jsonl");
    let t = app(&log, true);
    assert_eq!(run_job(&t, "0", None).status.code(), Some(0));
    // Fill the rest of the disk: the log can grow only into its last page.
    disk.fill();
    let (mut ran, mut refused, mut taken_back) = (0, 0, 0);
    for n in 1..=20 {
        let out = run_job(&t, &n.to_string(), None);
        let lines = all_json(&log);
        if String::from_utf8_lossy(&out.stderr).contains("the line was taken back") {
            taken_back += 1;
        }
        match out.status.code() {
            Some(0) => ran += 1,
            Some(1) => {
                refused += 1;
                assert!(!t.path().join(format!("ran-{n}")).exists());
            }
            other => panic!("exit {other:?}: {}", String::from_utf8_lossy(&out.stderr)),
        }
        assert!(lines.len() >= 2);
    }
    println!(
        "tmpfs: {ran} runs completed, {refused} refused, {taken_back} short writes taken back"
    );
    assert!(
        ran > 0 && refused > 0 && taken_back > 0,
        "ran {ran}, refused {refused}"
    );
}
