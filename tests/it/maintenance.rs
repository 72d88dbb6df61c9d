//! Multi-step maintenance: steps that resume, locks, dry-run and read-only, confirmations,
//! progress, and the audit log.

use std::path::Path;
use std::process::Stdio;

use crate::support::processes::{Signal, finish, signal};
use crate::support::tools::require;
use crate::support::wait::{wait_for_path, wait_for_text};
use crate::support::{Test, tmux::Tmux};

const THREE_STEPS: &str = r#"
//! Three steps; the second fails while a file named `fail` exists.
step("one", || cmd("sh", ["-c", "echo one >> log"]).run());
step("two", || {
    if exists("fail") { fail("two failed") }
    cmd("sh", ["-c", "echo two >> log"]).run();
});
step("three", || cmd("sh", ["-c", "echo three >> log"]).run());
"#;

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_default()
}

fn checkpoints(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir.join(".adminsh/state"))
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| {
                    std::path::Path::new(n)
                        .extension()
                        .is_some_and(|e| e == "json")
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_failed_run_resumes_at_the_failed_step() {
    let first = Test::new()
        .script("migrate", THREE_STEPS)
        .file("fail", "")
        .args(&["migrate"])
        .status(1)
        .stderr_contains("step 1: one\nstep 1: one: done in ")
        .stderr_contains("step 2: two\n")
        .stderr_contains("step 2: two: failed after ")
        .stderr_contains("two failed")
        .run();
    assert_eq!(read(first.path(), "log"), "one\n");
    assert_eq!(checkpoints(first.path()).len(), 1);
    std::fs::remove_file(first.path().join("fail")).unwrap();
    let second = first
        .again()
        .args(&["migrate"])
        .stderr_contains("step 1: one: completed in an earlier run (")
        .stderr_contains("), skipped\nstep 2: two\n")
        .stderr_contains("step 3: three: done in ")
        .run();
    assert_eq!(read(second.path(), "log"), "one\ntwo\nthree\n");
    // A run that finished clears its checkpoint: the next run does everything again.
    assert!(checkpoints(second.path()).is_empty());
    let third = second.again().args(&["migrate"]).any_stderr().run();
    assert_eq!(
        read(third.path(), "log"),
        "one\ntwo\nthree\none\ntwo\nthree\n"
    );
}

#[test]
fn checkpoints_are_per_arguments_and_restart_ignores_them() {
    let first = Test::new()
        .script("migrate", THREE_STEPS)
        .file("fail", "")
        .args(&["migrate", "a"])
        .status(1)
        .any_stderr()
        .run();
    std::fs::remove_file(first.path().join("fail")).unwrap();
    // Other arguments: a run of its own, from the start.
    let other = first.again().args(&["migrate", "b"]).any_stderr().run();
    assert_eq!(read(other.path(), "log"), "one\none\ntwo\nthree\n");
    let restarted = other
        .again()
        .args(&["--restart", "migrate", "a"])
        .any_stderr()
        .run();
    assert_eq!(
        read(restarted.path(), "log"),
        "one\none\ntwo\nthree\none\ntwo\nthree\n"
    );
}

/// A checkpoint is the stage's: a run failed against staging leaves nothing a production run
/// of the same script and arguments would skip, and staging's run still resumes.
#[test]
fn checkpoints_are_per_stage() {
    let first = Test::new()
        .script("migrate", THREE_STEPS)
        .file("fail", "")
        .args(&["-s", "staging", "migrate", "a"])
        .status(1)
        .any_stderr()
        .run();
    std::fs::remove_file(first.path().join("fail")).unwrap();
    let production = first
        .again()
        .args(&["-s", "production", "migrate", "a"])
        .any_stderr()
        .run();
    assert_eq!(read(production.path(), "log"), "one\none\ntwo\nthree\n");
    let staging = production
        .again()
        .args(&["-s", "staging", "migrate", "a"])
        .stderr_contains("completed in an earlier run")
        .run();
    assert_eq!(
        read(staging.path(), "log"),
        "one\none\ntwo\nthree\ntwo\nthree\n"
    );
}

#[test]
fn editing_a_completed_step_runs_it_again() {
    let first = Test::new()
        .script("migrate", THREE_STEPS)
        .file("fail", "")
        .args(&["migrate"])
        .status(1)
        .any_stderr()
        .run();
    std::fs::remove_file(first.path().join("fail")).unwrap();
    // Lines added above the steps change nothing; an edit inside step one does.
    let edited = format!(
        "// a comment above\n{}",
        THREE_STEPS.replace("echo one", "echo ONE")
    );
    std::fs::write(first.path().join("scripts/migrate.rhai"), edited).unwrap();
    let second = first
        .again()
        .args(&["migrate"])
        .stderr_contains("step 1: one: the script changed here since the last run: this step and the ones after it run again\n")
        .run();
    assert_eq!(read(second.path(), "log"), "one\nONE\ntwo\nthree\n");
}

#[test]
fn kill_9_during_a_step_leaves_a_checkpoint_to_resume_from() {
    let t = Test::new().script(
        "long",
        r#"
        step("one", || cmd("sh", ["-c", "echo one >> log"]).run());
        step("two", || {
            if !exists("resume") { write_file("started", "yes"); cmd("sleep", ["100"]).run(); }
            cmd("sh", ["-c", "echo two >> log"]).run();
        });
        "#,
    );
    let child = t
        .command()
        .arg("long")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_path(&t.path().join("started"));
    signal(child.id(), Signal::Kill);
    finish(child, "adminsh to die");
    let files = checkpoints(t.path());
    assert_eq!(files.len(), 1);
    let text = read(&t.path().join(".adminsh/state"), &files[0]);
    let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(parsed["steps"][0]["name"], "one");
    assert_eq!(parsed["steps"].as_array().unwrap().len(), 1);
    let t = t
        .file("resume", "")
        .args(&["long"])
        .stderr_contains("step 1: one: completed in an earlier run")
        .run();
    assert_eq!(read(t.path(), "log"), "one\ntwo\n");
}

#[test]
fn a_second_run_of_the_same_script_is_refused_or_waits() {
    let t = Test::new().script(
        "slow",
        "write_file(`started-${ARGS[0]}`, \"\"); while !exists(\"go\") { cmd(\"sleep\", [\"0.05\"]).run(); } print(`done ${ARGS[0]}`);",
    );
    let first = t
        .command()
        .args(["slow", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_path(&t.path().join("started-1"));
    let refused = t.command().args(["slow", "2"]).output().unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("is already running: ")
            && message.contains(&format!("(pid {})", first.id())),
        "{message}"
    );
    assert!(message.contains("pass --wait to wait for it"), "{message}");
    // Its stderr goes to a file, to be read while it waits.
    let waiting_stderr = t.path().join("waiting.stderr");
    let waiting = t
        .command()
        .args(["--wait", "slow", "3"])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&waiting_stderr).unwrap())
        .spawn()
        .unwrap();
    // It says it waits; then it has found the lock taken and not started.
    wait_for_text(&waiting_stderr, "is already running");
    assert!(
        !t.path().join("started-3").exists(),
        "the waiting run started early"
    );
    std::fs::write(t.path().join("go"), "").unwrap();
    let first = finish(first, "the first run to end");
    let waited = finish(waiting, "the waiting run to end");
    assert_eq!(String::from_utf8_lossy(&first.stdout), "done 1\n");
    assert_eq!(String::from_utf8_lossy(&waited.stdout), "done 3\n");
}

/// A run waiting for the lock (`--wait`) that is interrupted ends as interrupted: 130 for
/// Ctrl-C, 143 for SIGTERM, never 1, and the script never starts.
#[test]
fn a_signal_while_waiting_for_the_lock_exits_with_the_signals_code() {
    let t = Test::new().script(
        "slow",
        "write_file(`started-${ARGS[0]}`, \"\"); while !exists(\"go\") { cmd(\"sleep\", [\"0.05\"]).run(); }",
    );
    let first = t
        .command()
        .args(["slow", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_path(&t.path().join("started-1"));
    for (i, (sent, code)) in [(Signal::Int, 130), (Signal::Term, 143)]
        .into_iter()
        .enumerate()
    {
        let stderr = t.path().join(format!("waiting-{i}.stderr"));
        let waiting = t
            .command()
            .args(["--wait", "slow", "waiting"])
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        wait_for_text(&stderr, "is already running");
        signal(waiting.id(), sent);
        let ended = finish(waiting, "the waiting run to stop");
        assert_eq!(ended.status.code(), Some(code), "{sent:?}");
        let said = std::fs::read_to_string(&stderr).unwrap();
        assert!(said.ends_with("adminsh: interrupted\n"), "{said}");
        assert!(!t.path().join("started-waiting").exists());
    }
    std::fs::write(t.path().join("go"), "").unwrap();
    finish(first, "the first run to end");
}

/// Two processes take the same lock: the second says who holds it and waits, and does not run
/// its section until the first has left its own.
#[test]
fn lock_serialises_a_section_between_processes() {
    let t = Test::new();
    let first = t.spawn(&[
        "-e",
        r#"lock("reindex", || { write_file("first-in", "yes\n"); while !exists("go") { sleep(0.02) } write_file("first-out", "yes\n"); 1 })"#,
    ]);
    wait_for_path(&t.path().join("first-in"));
    let second_stderr = t.path().join("second.stderr");
    let second = t
        .command_with(&[
            "-e",
            r#"lock("reindex", || { write_file("second-in", if exists("first-out") { "after\n" } else { "during\n" }); 2 })"#,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&second_stderr).unwrap())
        .spawn()
        .unwrap();
    wait_for_text(&second_stderr, "lock `reindex` is held by ");
    assert!(
        !t.path().join("second-in").exists(),
        "the second process ran its section while the first held the lock"
    );
    std::fs::write(t.path().join("go"), "").unwrap();
    let first = finish(first, "the first holder to finish");
    let second = finish(second, "the second to take the lock after it");
    assert_eq!(
        (
            first.status.code(),
            String::from_utf8_lossy(&first.stdout).as_ref()
        ),
        (Some(0), "1\n")
    );
    assert_eq!(
        (
            second.status.code(),
            String::from_utf8_lossy(&second.stdout).as_ref()
        ),
        (Some(0), "2\n")
    );
    assert_eq!(
        std::fs::read_to_string(t.path().join("second-in")).unwrap(),
        "after\n"
    );
}

/// A `lock` inside a `lock` of the same name runs at once (re-entrant within one process):
/// before, the second `flock` waited for this very process forever.
#[test]
fn lock_is_reentrant_within_one_process() {
    let rows = [
        ("nested", r#"lock("x", || lock("x", || 42))"#, "42\n"),
        (
            "through a function, three deep",
            r#"fn f() { lock("x", || lock("x", || "deep")) } lock("x", || f())"#,
            "deep\n",
        ),
        (
            "another name inside",
            r#"lock("x", || lock("y", || "xy"))"#,
            "xy\n",
        ),
        (
            "released after an inner error",
            r#"try { lock("x", || lock("x", || fail("boom"))) } catch { } lock("x", || "again")"#,
            "again\n",
        ),
    ];
    for (what, code, stdout) in rows {
        let t = Test::new();
        let child = t.spawn(&["-e", code]);
        let output = finish(child, what);
        assert_eq!(
            (
                output.status.code(),
                String::from_utf8_lossy(&output.stdout).as_ref(),
                String::from_utf8_lossy(&output.stderr).as_ref()
            ),
            (Some(0), stdout, ""),
            "{what}"
        );
    }
}

#[test]
fn dry_run_changes_nothing_but_runs_read_only_queries() {
    let done = Test::new()
        .script(
            "change",
            r#"
            let n = cmd("sh", ["-c", "echo 3"]).read_only().read();
            step("touch", || cmd("touch", ["made"]).run());
            write_file("written.txt", "x");
            print(`found ${n}`);
            "#,
        )
        .args(&["--dry-run", "change"])
        .stdout("found 3\n")
        .stderr_contains("dry run: would run `touch made`\n")
        .stderr_contains("dry run: would write written.txt (1 bytes)\n")
        .stderr_contains("dry run: nothing was changed. It would have run:\n  step touch: touch made\n  write written.txt\n")
        .run();
    assert!(!done.path().join("made").exists());
    assert!(!done.path().join("written.txt").exists());
    assert!(checkpoints(done.path()).is_empty());
}

#[test]
fn read_only_refuses_changes_with_an_error() {
    Test::new()
        .args(&[
            "--read-only",
            "-e",
            r#"print(cmd("echo", ["q"]).read_only().read()); cmd("touch", ["x"]).run()"#,
        ])
        .status(1)
        .stdout("q\n")
        .stderr_contains("refused in read-only mode: `touch x` is not marked .read_only()")
        .run();
    // Whichever way read-only mode comes, what would make `x` is refused and `x` never appears.
    let ways: [(&[&str], Option<&str>); 3] = [
        (&["--read-only"], None),
        (&["-s", "production"], None),
        (&[], Some("production")),
    ];
    let changes = [
        (
            r#"cmd("touch", ["x"]).run()"#,
            "`touch x` is not marked .read_only()",
        ),
        (r#"write_file("x", "y")"#, "write_file(\"x\")"),
        (r#"append_file("x", "y")"#, "append_file(\"x\")"),
        (r#"mkdir("x")"#, "mkdir(\"x\")"),
        (r#"sh("echo y > x").run()"#, "is not marked .read_only()"),
    ];
    for (flags, stage) in ways {
        for (code, refused) in changes {
            let mut args = flags.to_vec();
            args.extend(["-e", code]);
            let mut t = Test::new()
                .file("adminsh.toml", "read_only_stages = [\"production\"]")
                .args(&args)
                .status(1)
                .stderr_contains("refused in read-only mode")
                .stderr_contains(refused);
            if let Some(stage) = stage {
                t = t.env("ADMINSH_STAGE", stage);
            }
            let done = t.run();
            assert!(
                !done.path().join("x").exists(),
                "{flags:?} {stage:?}: `{code}` made x"
            );
        }
    }
}

#[test]
fn confirm_without_a_terminal_fails_fast_with_the_hint() {
    Test::new()
        .args(&["-e", r#"confirm("Delete 12 rows?")"#])
        .stdin("y\n")
        .status(1)
        .stderr_contains("confirm(\"Delete 12 rows?\") needs an answer, but stdin is not a terminal: pass --yes to answer yes")
        .run();
    Test::new()
        .args(&[
            "--yes",
            "-e",
            r#"[confirm("Delete 12 rows?"), ask("Batch size", "100")]"#,
        ])
        .stdout("[true, \"100\"]\n")
        .any_stderr()
        .run();
}

/// Counts and totals up to the largest a script can give: the percentage never overflows (it
/// used to, multiplying the count by 100), work beyond the total shows as 100%.
#[test]
fn progress_with_huge_counts_and_totals() {
    let max = i64::MAX;
    let rows = [
        (
            format!("let p = progress({max}); p.inc({max}); p.finish();"),
            format!("progress: {max}/{max} (100%)\n"),
        ),
        (
            format!(
                "let p = progress({max}); p.inc({}); p.finish();",
                max / 2 + 1
            ),
            format!("progress: {half}/{max} (50%)\n", half = max / 2 + 1),
        ),
        (
            format!("let p = progress(10); p.inc({max}); p.inc({max}); p.inc({max}); p.finish();"),
            format!(
                "progress: {max}/10 (100%)\nprogress: {}/10 (100%)\n",
                u64::MAX
            ),
        ),
        (
            "let p = progress(0); p.inc(5); p.finish();".to_owned(),
            "progress: 5/0 (100%)\n".to_owned(),
        ),
        (
            "let p = progress(-5); p.inc(-3); p.finish();".to_owned(),
            "progress: 0/0 (100%)\n".to_owned(),
        ),
    ];
    for (code, stderr) in rows {
        Test::new().args(&["-e", &code]).stderr(&stderr).run();
    }
}

#[test]
fn progress_on_a_pipe_prints_plain_lines() {
    // Each line once: `finish` repeats nothing, and says where a bar that stopped short ended.
    let cases = [
        (
            r#"let p = progress(4); p.message("rows"); for i in 0..4 { p.inc(); } p.finish();"#,
            "progress: 1/4 (25%) rows\nprogress: 2/4 (50%) rows\nprogress: 3/4 (75%) rows\nprogress: 4/4 (100%) rows\n",
        ),
        (
            "each_progress([1, 2], |x| x);",
            "progress: 1/2 (50%)\nprogress: 2/2 (100%)\n",
        ),
        (
            "let p = progress(10); p.inc(3); p.finish(); p.finish();",
            "progress: 3/10 (30%)\n",
        ),
        (
            "let p = progress(20); p.inc(2); p.inc(1); p.finish();",
            "progress: 2/20 (10%)\nprogress: 3/20 (15%)\n",
        ),
        (
            r#"let p = progress(2); p.inc(2); p.message("done"); p.finish();"#,
            "progress: 2/2 (100%)\nprogress: 2/2 (100%) done\n",
        ),
        ("let p = progress(0); p.finish();", "progress: 0/0 (100%)\n"),
    ];
    for (code, stderr) in cases {
        Test::new().args(&["-e", code]).stderr(stderr).run();
    }
}

#[test]
fn without_user_in_the_environment_the_account_name_is_used() {
    // Cron, CI and containers often set neither $USER nor $LOGNAME (the tests set neither).
    let account = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    let account = String::from_utf8(account.stdout).unwrap();
    let done = Test::new()
        .script("hi", "print(1);")
        .args(&["hi"])
        .stdout("1\n")
        .run();
    let lines = audit_lines(done.path());
    assert_eq!(lines[0]["user"], account.trim(), "{lines:?}");
    // `$USER` still wins.
    let done = Test::new()
        .env("USER", "deployer")
        .script("hi", "print(1);")
        .args(&["hi"])
        .stdout("1\n")
        .run();
    assert_eq!(audit_lines(done.path())[0]["user"], "deployer");
}

#[track_caller]
fn audit_lines(dir: &Path) -> Vec<serde_json::Value> {
    read(dir, ".adminsh/audit.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn audit_records_start_and_finish_without_secrets() {
    let ok = Test::new()
        .file(".env", "API_TOKEN=tok-very-secret\n")
        .script(
            "hello",
            "cmd(\"echo\", [env(\"API_TOKEN\")]).read(); cmd(\"sleep\", [\"0.25\"]).run(); exit(3);",
        )
        .args(&["--reason", "ticket 42", "hello", "tok-very-secret"])
        .status(3)
        .run();
    let lines = audit_lines(ok.path());
    assert_eq!(lines.len(), 2, "{lines:?}");
    let (start, finish) = (&lines[0], &lines[1]);
    assert_eq!(start["event"], "start");
    assert_eq!(start["kind"], "script");
    assert_eq!(start["reason"], "ticket 42");
    assert_eq!(start["args"], serde_json::json!(["****"]));
    assert_eq!(start["script_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(finish["event"], "finish");
    assert_eq!(finish["id"], start["id"]);
    assert_eq!(finish["exit_code"], 3);
    assert_eq!(
        finish["commands"][0]["argv"],
        serde_json::json!([["echo", "****"]])
    );
    assert_eq!(finish["commands"][0]["status"], 0);
    // Durations are at least what was slept: a lower bound no machine can beat.
    let millis = |value: &serde_json::Value| value.as_u64().unwrap();
    assert!(
        millis(&finish["commands"][1]["duration_ms"]) >= 250,
        "{finish}"
    );
    assert!(millis(&finish["duration_ms"]) >= 250, "{finish}");
    let text = read(ok.path(), ".adminsh/audit.jsonl");
    assert!(!text.contains("tok-very-secret"), "{text}");

    let failed = ok
        .again()
        .args(&["-e", "fail(\"boom\")"])
        .status(1)
        .any_stderr()
        .run();
    let lines = audit_lines(failed.path());
    assert_eq!(lines[3]["outcome"], "failure");
    assert!(lines[3]["error"].as_str().unwrap().contains("boom"));
}

#[test]
fn audit_of_an_interrupted_and_a_killed_run() {
    let t = Test::new().script(
        "wait",
        "write_file(\"started\", \"\"); cmd(\"sleep\", [\"100\"]).run();",
    );
    for (sent, finishes) in [(Signal::Int, true), (Signal::Kill, false)] {
        let _ = std::fs::remove_file(t.path().join("started"));
        let child = t
            .command()
            .arg("wait")
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for_path(&t.path().join("started"));
        signal(child.id(), sent);
        finish(child, "adminsh to stop");
        let lines = audit_lines(t.path());
        let last = lines.last().unwrap();
        if finishes {
            assert_eq!(last["event"], "finish");
            assert_eq!(last["outcome"], "interrupted");
            assert_eq!(last["exit_code"], 130);
        } else {
            assert_eq!(
                last["event"], "start",
                "a killed run leaves its start line only"
            );
        }
    }
}

#[test]
fn a_required_reason_is_asked_for_and_the_audit_shown() {
    let t = Test::new().file("adminsh.toml", "require_reason = [\"production\"]");
    let refused = t
        .args(&["-s", "production", "-e", "1"])
        .status(2)
        .stderr("adminsh: stage production requires a reason for every admin process: pass --reason \"...\"\n")
        .run();
    let ran = refused
        .again()
        .args(&["-s", "production", "--reason", "INC-7", "-e", "1"])
        .stdout("1\n")
        .run();
    let shown = ran
        .again()
        .args(&["--audit"])
        .stdout_contains("INC-7")
        .stdout_contains("production")
        .stdout_contains("success")
        .run();
    // A blank reason is none; without a terminal the question is not asked, so text piped
    // into adminsh is not taken for an answer; a stage the manifest does not name is not asked.
    let blank = shown
        .again()
        .args(&["-s", "production", "--reason", "  ", "-e", "1"])
        .status(2)
        .stderr("adminsh: stage production requires a reason for every admin process: pass --reason \"...\"\n")
        .run();
    let piped = blank
        .again()
        .args(&["-s", "production", "-e", "1"])
        .stdin("INC-8\n")
        .status(2)
        .stderr("adminsh: stage production requires a reason for every admin process: pass --reason \"...\"\n")
        .run();
    piped
        .again()
        .args(&["-s", "staging", "-e", "1"])
        .stdout("1\n")
        .run();
    // `*` names every stage.
    Test::new()
        .file("adminsh.toml", "require_reason = [\"*\"]")
        .args(&["-s", "staging", "-e", "1"])
        .status(2)
        .stderr("adminsh: stage staging requires a reason for every admin process: pass --reason \"...\"\n")
        .run();
}

#[test]
fn an_audit_log_that_cannot_be_written_stops_everything_when_required() {
    Test::new()
        .file(
            "adminsh.toml",
            "audit_log = \"/proc/adminsh-cannot-write/audit.jsonl\"\naudit_required = true",
        )
        .args(&["-e", "write_file(\"ran\", \"\")"])
        .status(1)
        .stderr_contains("cannot create /proc/adminsh-cannot-write")
        .run()
        .path()
        .join("ran")
        .exists()
        .then(|| panic!("the script ran without its audit log"));
}

#[test]
fn progress_on_a_terminal_draws_in_place() {
    require!(Tmux);
    let t = Test::new();
    let tty = Tmux::start(
        t.path(),
        &[
            "-e",
            r#"let p = progress(4); p.message("rows"); for i in 0..4 { p.inc(); } p.finish(); "ok""#,
        ],
        &[],
    );
    let screen = tty.wait_for("[exited 0]");
    assert!(
        screen.contains("[==============================] 4/4 rows\nok\n"),
        "{screen}"
    );
    assert!(!screen.contains("progress:"), "{screen}");
}

#[test]
fn confirm_and_ask_at_a_terminal() {
    require!(Tmux);
    let t = Test::new().script(
        "ask",
        r#"let sure = confirm("Delete 12 rows?"); let size = ask("Batch size", "100"); print(`answers: ${sure} ${size}`);"#,
    );
    let tty = Tmux::start(t.path(), &["ask"], &[]);
    tty.wait_for("Delete 12 rows? [y/N]");
    tty.line("y");
    tty.wait_for("Batch size [100]:");
    tty.line("");
    tty.wait_for("answers: true 100");
    tty.wait_for("[exited 0]");
}

#[test]
fn a_script_knows_how_it_runs() {
    let cases: [(&[&str], &str, &str); 5] = [
        (&[], "", "false false false"),
        (&["--dry-run"], "", "true false false"),
        (&["--read-only"], "", "false true false"),
        (&["--yes"], "", "false false true"),
        (
            &["-s", "production"],
            "read_only_stages = [\"production\"]",
            "false true false",
        ),
    ];
    for (flags, manifest, want) in cases {
        Test::new()
            .file("adminsh.toml", manifest)
            .args(flags)
            .args(&[
                "-e",
                "let m = mode(); `${m.dry_run} ${m.read_only} ${m.yes}`",
            ])
            .stdout(&format!("{want}\n"))
            .any_stderr()
            .run();
    }
    // So a dry run can say what it would have done rather than "fixed 0".
    Test::new()
        .args(&[
            "--dry-run",
            "-e",
            r#"let fixed = cmd("echo", ["3"]).read(); if mode().dry_run { "would fix some" } else { `fixed ${fixed}` }"#,
        ])
        .stdout("would fix some\n")
        .any_stderr()
        .run();
}

/// The `--json` document of a run refused before it started: one line on stdout, parsed.
#[track_caller]
fn refusal(stdout: &str) -> serde_json::Value {
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one document on stdout: {stdout}");
    serde_json::from_str(lines[0]).unwrap()
}

#[test]
fn json_reports_every_refusal_with_its_exit_code() {
    let cases: [(&str, &[&str], i32, &str); 6] = [
        (
            "",
            &["--env-file", "missing.env"],
            1,
            "cannot read missing.env",
        ),
        ("requird = [\"X\"]", &[], 1, "unknown field `requird`"),
        (
            "required = [\"DATABASE_URL\"]",
            &[],
            1,
            "required config key is not set: DATABASE_URL",
        ),
        (
            "",
            &["-C", "/no/such/dir"],
            2,
            "-C /no/such/dir: no such directory",
        ),
        (
            "require_reason = [\"*\"]",
            &[],
            2,
            "requires a reason for every admin process",
        ),
        (
            "audit_required = true\naudit_log = \"/proc/no/such/audit.jsonl\"",
            &[],
            1,
            "the audit log is required",
        ),
    ];
    for (manifest, flags, code, error) in cases {
        for run in [&["hi", "a"][..], &["-e", "1"][..]] {
            let done = Test::new()
                .file("adminsh.toml", manifest)
                .script("hi", "print(1);")
                .arg("--json")
                .args(flags)
                .args(run)
                .status(code)
                .any_stdout()
                .stderr_contains(error)
                .run();
            let document = refusal(&done.stdout);
            assert_eq!(document["exit_code"], code, "{document}");
            assert!(
                document["error"].as_str().unwrap().contains(error),
                "{document}"
            );
            assert_eq!(document["value"], serde_json::Value::Null);
        }
    }
}

#[test]
fn json_reports_a_lock_held_by_another_run() {
    let t = Test::new().script(
        "slow",
        "write_file(\"started\", \"\"); while !exists(\"go\") { cmd(\"sleep\", [\"0.05\"]).run(); }",
    );
    let first = t
        .command()
        .arg("slow")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_path(&t.path().join("started"));
    let refused = t.command().args(["--json", "slow", "x"]).output().unwrap();
    std::fs::write(t.path().join("go"), "").unwrap();
    finish(first, "the first run to end");
    assert_eq!(refused.status.code(), Some(1));
    let document = refusal(&String::from_utf8_lossy(&refused.stdout));
    assert_eq!(document["exit_code"], 1);
    assert_eq!(document["args"], serde_json::json!(["x"]));
    let error = document["error"].as_str().unwrap();
    assert!(error.contains("is already running: "), "{error}");
}

/// A refusal after the parameters are bound (a missing reason) masks what a secret parameter
/// brought, wherever else the value shows up in the arguments.
#[test]
fn json_refusals_mask_a_secret_parameter_in_every_argument() {
    let done = Test::new()
        .file("adminsh.toml", "require_reason = [\"*\"]")
        .script(
            "rotate",
            "//! Rotates a password.\n//! @param new-password: string  The new password\n//! @param note: string  A note\nprint(1);",
        )
        .args(&[
            "--json",
            "rotate",
            "--new-password",
            "hunter2-x9",
            "--note",
            "was hunter2-x9",
        ])
        .status(2)
        .any_stdout()
        .stderr_contains("requires a reason for every admin process")
        .run();
    let document = refusal(&done.stdout);
    assert_eq!(
        document["args"],
        serde_json::json!(["--new-password", "****", "--note", "was ****"]),
        "{document}"
    );
    assert!(!done.stdout.contains("hunter2"), "{}", done.stdout);
}
