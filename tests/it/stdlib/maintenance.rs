//! `std/maintenance` as a user relies on it: the mode turned off again however the work ends
//! (returning, failing, `exit(n)`, Ctrl-C, SIGTERM), with a file or with commands, Laravel's
//! file found by itself, and dry and read-only runs that change nothing.

use super::place;
use crate::support::Test;
use crate::support::processes::{Signal, finish, running_in, signal};
use crate::support::wait::wait_until;

const PAGE: &str = "public/system/maintenance.html";

fn eval(test: Test, flags: &[&str], code: &str) -> Test {
    test.args(flags).args(&[
        "-e",
        &format!("import \"std/maintenance\" as maintenance;\n{code}"),
    ])
}

#[test]
fn maintenance_ends_however_the_work_ends() {
    let on = format!("info: maintenance mode on ({PAGE})\n");
    let off = format!("info: maintenance mode off ({PAGE})\n");
    for (work, status, stdout, said) in [
        (
            r#"print(maintenance::is_on()); print(read_file("public/system/maintenance.html").contains("Down for maintenance")); 42"#,
            0,
            "true\ntrue\n42\n",
            "",
        ),
        (r#"fail("the migration broke")"#, 1, "", "-e:2:"),
        ("exit(4)", 4, "", ""),
        (r#"cmd("false").run()"#, 1, "", "command `false` failed"),
    ] {
        let done = eval(
            Test::new(),
            &[],
            &format!("maintenance::with_maintenance(|| {{ {work} }})"),
        )
        .status(status)
        .stdout(stdout)
        .any_stderr()
        .run();
        assert!(
            done.stderr.starts_with(&format!("{on}{off}")) && done.stderr.contains(said),
            "{work}:\n{}",
            done.stderr
        );
        assert!(!done.dir.path().join(PAGE).exists(), "{work} left the page");
        assert!(done.dir.path().join("public/system").is_dir());
    }
    // on, off and is_on on their own.
    eval(
        Test::new(),
        &[],
        "print(maintenance::is_on()); maintenance::on(); print(maintenance::is_on()); maintenance::off(); maintenance::is_on()",
    )
    .stdout("false\ntrue\nfalse\n")
    .stderr(&format!("{on}{off}"))
    .run();
}

#[test]
fn ctrl_c_and_sigterm_interrupt_the_work_and_turn_maintenance_off() {
    for (sig, code) in [(Signal::Int, 130), (Signal::Term, 143)] {
        let t = Test::new();
        // The cleanup runs commands of its own after the interruption: they run to the end.
        let child = eval(
            t,
            &[],
            r#"maintenance::with_maintenance(#{on: cmd("touch", ["down"]), off: cmd("sh", ["-c", "sleep 0.3; rm down; touch cleaned"])}, || {
                   cmd("sleep", ["600"]).run();
               })"#,
        );
        let app = child.path().to_owned();
        let running = child.spawn(&[]);
        wait_until("the work to start", || running_in(&app, "sleep 600"));
        assert!(app.join("down").exists());
        signal(running.id(), sig);
        let output = finish(running, "adminsh interrupted in maintenance");
        assert_eq!(output.status.code(), Some(code), "{sig:?}");
        assert!(!app.join("down").exists(), "{sig:?} left maintenance on");
        assert!(
            app.join("cleaned").exists(),
            "{sig:?} cut the cleanup short"
        );
        let stderr = crate::support::text(&output.stderr);
        assert!(
            stderr.contains("info: maintenance mode off (touch down / sh -c 'sleep 0.3; rm down; touch cleaned')\n"),
            "{stderr}"
        );
        drop(child);
    }
    // With a file too.
    let t = Test::new();
    let child = eval(
        t,
        &[],
        r#"maintenance::with_maintenance(|| cmd("sleep", ["601"]).run())"#,
    );
    let app = child.path().to_owned();
    let running = child.spawn(&[]);
    wait_until("the work to start", || running_in(&app, "sleep 601"));
    assert!(app.join(PAGE).exists());
    signal(running.id(), Signal::Int);
    let output = finish(running, "adminsh interrupted in maintenance");
    assert_eq!(output.status.code(), Some(130));
    assert!(!app.join(PAGE).exists());
    drop(child);
}

#[test]
fn laravel_apps_use_their_own_file() {
    let done = eval(
        Test::new().file("artisan", "<?php\n"),
        &[],
        r#"maintenance::on(); let down = parse_json(read_file("storage/framework/down")); print([down.status, down.retry]); maintenance::is_on()"#,
    )
    .stdout("[503, 60]\ntrue\n")
    .stderr("info: maintenance mode on (storage/framework/down)\n")
    .run();
    assert!(done.dir.path().join("storage/framework/down").is_file());
}

#[test]
fn dry_and_read_only_runs_change_nothing() {
    let done = eval(
        Test::new(),
        &["--dry-run"],
        r#"maintenance::with_maintenance(|| print("the work"))"#,
    )
    .stdout("the work\n")
    .stderr(&format!(
        "dry run: would turn maintenance mode on ({PAGE})\n\
         dry run: would turn maintenance mode off ({PAGE})\n\
         dry run: nothing was changed. It would have run:\n  turn maintenance mode on ({PAGE})\n  turn maintenance mode off ({PAGE})\n"
    ))
    .run();
    assert!(!done.dir.path().join("public").exists());
    let refused = place("maintenance", "fail(`${who} refused under --read-only");
    eval(
        Test::new(),
        &["--read-only"],
        r#"maintenance::with_maintenance(|| print("the work"))"#,
    )
    .status(1)
    .stderr_contains(&format!(
        "{refused}: maintenance::on refused under --read-only: it would turn maintenance mode on ({PAGE})\n"
    ))
    .run();
}

#[test]
fn bad_inputs_are_errors_in_the_module_naming_the_call() {
    let options = "fail(who + \": unknown option";
    let commands = "fail(`${who}: on and off are both";
    for (code, needle, message) in [
        (
            "maintenance::on(5)",
            "fail(`${who} takes a map",
            "maintenance::on takes a map of options, not i64",
        ),
        (
            "maintenance::off(#{fil: \"x\"})",
            options,
            "maintenance::off: unknown option `fil` (it knows file, content, on, off)",
        ),
        (
            "maintenance::on(#{on: cmd(\"true\")})",
            commands,
            "maintenance::on: on and off are both commands (cmd(...))",
        ),
        (
            "maintenance::on(#{on: \"heroku maintenance:on\", off: cmd(\"true\")})",
            commands,
            "maintenance::on: on and off are both commands (cmd(...))",
        ),
        (
            "maintenance::on(#{file: \"x\", on: cmd(\"true\"), off: cmd(\"true\")})",
            "fail(`${who}: either a file",
            "maintenance::on: either a file or on and off commands, not both",
        ),
        (
            "maintenance::on(#{file: 42})",
            "fail(`${who}: the file is",
            "maintenance::on: the file is a path, not i64",
        ),
        (
            "maintenance::on(#{content: 42})",
            "fail(`${who}: the content",
            "maintenance::on: the content is a string, not i64",
        ),
        (
            "maintenance::is_on(#{on: cmd(\"true\"), off: cmd(\"true\")})",
            "fail(\"maintenance::is_on: cannot tell",
            "maintenance::is_on: cannot tell with commands; only a file says it",
        ),
        (
            "maintenance::with_maintenance(42)",
            "fail(`maintenance::with_maintenance: the work",
            "maintenance::with_maintenance: the work is a closure, not i64",
        ),
    ] {
        let done = eval(Test::new(), &[], code).status(1).any_stderr().run();
        let first = done.stderr.lines().next().unwrap_or_default();
        let at = place("maintenance", needle);
        assert_eq!(first, format!("{at}: {message}"), "{code}\n{}", done.stderr);
        let called = code
            .split('(')
            .next()
            .unwrap()
            .trim_start_matches("maintenance::");
        assert!(
            done.stderr
                .lines()
                .last()
                .unwrap_or_default()
                .starts_with(&format!("  in `{called}`, called at -e:2:")),
            "{code}: the last frame is the caller's line\n{}",
            done.stderr
        );
        assert!(!done.dir.path().join("public").exists(), "{code}");
    }
}
