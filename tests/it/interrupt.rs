//! Ctrl-C (SIGINT) and SIGTERM: the running command's whole process group stops, the script
//! stops, and adminsh exits 130 (128 + the signal).

use std::process::Stdio;

use crate::support::Test;
use crate::support::processes::{Signal, alive, child_running, finish, signal};
use crate::support::wait::{wait_for_file, wait_until};

/// Starts a script whose command starts a grandchild, signals adminsh, and checks everything
/// stopped: exit code, message, the grandchild gone, nothing after the command ran.
#[track_caller]
fn interrupt_during_a_command(sent: Signal, expected_status: i32) {
    let t = Test::new().script(
        "slow",
        r#"
        cmd("sh", ["-c", "sleep 100 & echo $! > grandchild.pid; wait"]).run();
        write_file("after.txt", "should not run");
        "#,
    );
    let child = t.spawn(&["slow"]);
    let grandchild: u32 = wait_for_file(&t.path().join("grandchild.pid"))
        .parse()
        .unwrap();
    assert!(alive(grandchild));
    signal(child.id(), sent);
    let output = finish(child, "adminsh to stop");
    assert_eq!(output.status.code(), Some(expected_status));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "adminsh: interrupted\n"
    );
    wait_until("the command's grandchild to stop", || !alive(grandchild));
    assert!(!t.path().join("after.txt").exists());
}

#[test]
fn ctrl_c_stops_the_commands_process_group_and_exits_130() {
    interrupt_during_a_command(Signal::Int, 130);
}

#[test]
fn sigterm_stops_it_too() {
    interrupt_during_a_command(Signal::Term, 143);
}

#[test]
fn a_runaway_loop_is_interruptible() {
    let t = Test::new().script("spin", "write_file(\"started\", \"yes\\n\");\nloop { }\n");
    let child = t
        .command()
        .arg("spin")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_file(&t.path().join("started"));
    signal(child.id(), Signal::Int);
    let output = finish(child, "adminsh to stop the loop");
    assert_eq!(output.status.code(), Some(130));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "adminsh: interrupted\n"
    );
}

#[test]
fn try_catch_cannot_swallow_an_interrupt() {
    let t = Test::new().script(
        "stubborn",
        r#"
        try {
            write_file("started", "yes\n");
            cmd("sleep", ["100"]).run();
        } catch (e) {
            write_file("caught.txt", "caught");
        }
        "#,
    );
    let child = t
        .command()
        .arg("stubborn")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_file(&t.path().join("started"));
    // Inside the `try`, the command has started.
    wait_until("adminsh to start `sleep 100`", || {
        child_running(child.id(), "sleep 100")
    });
    signal(child.id(), Signal::Int);
    let output = finish(child, "adminsh to stop");
    assert_eq!(output.status.code(), Some(130));
    assert!(!t.path().join("caught.txt").exists());
}

/// Every stage of a pipeline runs in a process group of its own, so a 40-stage pipeline is 40
/// groups alive at once: a signal to adminsh reaches every one of them (forwarding once stopped
/// silently at 32 groups). Each stage traps the signal and records that it got it.
fn interrupt_reaches_every_group(sent: Signal, expected_status: i32) {
    const STAGES: usize = 40;
    let t = Test::new().script(
        "pipeline",
        r#"
        let stage = cmd("sh", ["-c", "trap 'echo $$ >> got; exit 0' INT TERM; echo $$ >> started; sleep 100 & wait"]);
        let pipeline = stage;
        for i in 1..40 {
            pipeline = pipeline.pipe(stage);
        }
        pipeline.run();
        write_file("after.txt", "should not run");
        "#,
    );
    let child = t.spawn(&["pipeline"]);
    let pids = |file: &str| -> Vec<i32> {
        let mut pids: Vec<i32> = std::fs::read_to_string(t.path().join(file))
            .unwrap_or_default()
            .lines()
            .map(|l| l.parse().unwrap())
            .collect();
        pids.sort_unstable();
        pids
    };
    wait_until("all 40 stages to start", || pids("started").len() == STAGES);
    signal(child.id(), sent);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(expected_status));
    assert_eq!(
        pids("got"),
        pids("started"),
        "a stage did not get the signal"
    );
    assert!(!t.path().join("after.txt").exists());
}

#[test]
fn ctrl_c_reaches_every_process_group_of_a_40_stage_pipeline() {
    interrupt_reaches_every_group(Signal::Int, 130);
}

#[test]
fn sigterm_reaches_every_process_group_of_a_40_stage_pipeline() {
    interrupt_reaches_every_group(Signal::Term, 143);
}

/// Every host function that can wait stops on SIGINT (130) and SIGTERM (143): a glob over the
/// whole filesystem (with `**` repeated, which the glob crate walked exponentially), reading a
/// FIFO no one writes, writing or appending to one no one reads, waiting for a lock another process holds.
#[test]
fn host_functions_that_wait_stop_on_ctrl_c_and_sigterm() {
    type Setup = fn(&Test) -> Option<std::process::Child>;
    let rows: [(&str, Setup, &str); 5] = [
        ("glob", |_| None, "glob(\"/**/**/**/*\")"),
        (
            "read_file of a FIFO",
            |t| {
                crate::attack_files::mkfifo(&t.path().join("pipe"));
                None
            },
            "read_file(\"pipe\")",
        ),
        (
            "write_file into a FIFO",
            |t| {
                crate::attack_files::mkfifo(&t.path().join("pipe"));
                None
            },
            "write_file(\"pipe\", \"x\")",
        ),
        (
            "append_file into a FIFO",
            |t| {
                crate::attack_files::mkfifo(&t.path().join("pipe"));
                None
            },
            "append_file(\"pipe\", \"x\")",
        ),
        (
            "lock held by another process",
            |t| {
                let holder = t
                    .command()
                    .args([
                        "-e",
                        "lock(\"x\", || { write_file(\"held\", \"yes\\n\"); cmd(\"sleep\", [\"100\"]).run(); })",
                    ])
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap();
                wait_for_file(&t.path().join("held"));
                Some(holder)
            },
            "lock(\"x\", || ())",
        ),
    ];
    for (what, setup, call) in rows {
        for (sent, status) in [(Signal::Int, 130), (Signal::Term, 143)] {
            let t = Test::new();
            let holder = setup(&t);
            let script = format!(
                "write_file(\"started\", \"yes\\n\");\n{call};\nwrite_file(\"after.txt\", \"\");\n"
            );
            let child = t.spawn(&["-e", &script]);
            wait_for_file(&t.path().join("started"));
            signal(child.id(), sent);
            let output = finish(child, what);
            if let Some(holder) = holder {
                signal(holder.id(), Signal::Term);
                finish(holder, "the lock holder");
            }
            assert_eq!(output.status.code(), Some(status), "{what}, {sent:?}");
            // The lock says once who holds it before the wait.
            let stderr = String::from_utf8_lossy(&output.stderr);
            let told = stderr.strip_suffix("adminsh: interrupted\n");
            assert!(
                told.is_some_and(|t| t.is_empty() || t.starts_with("lock `x` is held by ")),
                "{what}: {stderr}"
            );
            assert!(!t.path().join("after.txt").exists(), "{what}");
        }
    }
}

/// A command that ignores SIGINT and SIGTERM does not keep adminsh waiting after Ctrl-C or
/// SIGTERM: it gets its grace, then is killed, whatever way the script runs it (a wait with no
/// deadline used to block until the command ended by itself, an hour here).
#[test]
fn a_command_that_ignores_the_signal_is_killed_after_its_grace() {
    let stubborn = r#""trap '' INT TERM HUP; echo started > started; sleep 3600""#;
    let forms = [
        format!(r#"cmd("sh", ["-c", {stubborn}]).run()"#),
        format!(r#"cmd("sh", ["-c", {stubborn}]).read()"#),
        format!(r#"cmd("sh", ["-c", {stubborn}]).output()"#),
        format!(r#"cmd("sh", ["-c", {stubborn}]).lines()"#),
        format!(r#"cmd("sh", ["-c", {stubborn}]).each_line(|l| true)"#),
        format!("sh({stubborn}).run()"),
        format!(r#"cmd("sh", ["-c", {stubborn}]).pipe(cmd("cat")).read()"#),
        format!(r#"cmd("sh", ["-c", {stubborn}]).unchecked().run()"#),
    ];
    for code in &forms {
        for (sent, status) in [(Signal::Int, 130), (Signal::Term, 143)] {
            let t = Test::new();
            let child = t.spawn(&["-e", &format!("{code};\nwrite_file(\"after.txt\", \"\");")]);
            wait_for_file(&t.path().join("started"));
            signal(child.id(), sent);
            // `finish` gives up (and fails the test) long before the command's hour.
            let output = finish(child, code);
            assert_eq!(output.status.code(), Some(status), "{code}, {sent:?}");
            assert!(!t.path().join("after.txt").exists(), "{code}");
        }
    }
}
