//! Ctrl-C (SIGINT) and SIGTERM: the running command's whole process group stops, the script
//! stops, and adminsh exits 130 (128 + the signal).

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::Test;
use crate::support::processes::{alive, wait_for_file, wait_until};

/// Starts a script whose command starts a grandchild, signals adminsh, and checks everything
/// stopped: exit code, message, the grandchild gone, nothing after the command ran.
fn interrupt_during_a_command(signal: i32, expected_status: i32) {
    let t = Test::new().script(
        "slow",
        r#"
        cmd("sh", ["-c", "sleep 100 & echo $! > grandchild.pid; wait"]).run();
        write_file("after.txt", "should not run");
        "#,
    );
    let mut child = t
        .command()
        .arg("slow")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let grandchild: i32 = wait_for_file(&t.path().join("grandchild.pid"))
        .parse()
        .unwrap();
    assert!(alive(grandchild));
    unsafe { libc::kill(child.id() as i32, signal) };
    let start = Instant::now();
    let output = loop {
        if child.try_wait().unwrap().is_some() {
            break child.wait_with_output().unwrap();
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "adminsh did not stop"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(output.status.code(), Some(expected_status));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "adminsh: interrupted\n"
    );
    std::thread::sleep(Duration::from_millis(100));
    assert!(!alive(grandchild), "the command's grandchild survived");
    assert!(!t.path().join("after.txt").exists());
}

#[test]
fn ctrl_c_stops_the_commands_process_group_and_exits_130() {
    interrupt_during_a_command(libc::SIGINT, 130);
}

#[test]
fn sigterm_stops_it_too() {
    interrupt_during_a_command(libc::SIGTERM, 143);
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
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let output = child.wait_with_output().unwrap();
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
    std::thread::sleep(Duration::from_millis(100));
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130));
    assert!(!t.path().join("caught.txt").exists());
}

/// Every stage of a pipeline runs in a process group of its own, so a 40-stage pipeline is 40
/// groups alive at once: a signal to adminsh reaches every one of them (forwarding once stopped
/// silently at 32 groups). Each stage traps the signal and records that it got it.
fn interrupt_reaches_every_group(signal: i32, expected_status: i32) {
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
    let child = t
        .command()
        .arg("pipeline")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pids = |file: &str| -> Vec<i32> {
        let mut pids: Vec<i32> = std::fs::read_to_string(t.path().join(file))
            .unwrap_or_default()
            .lines()
            .map(|l| l.parse().unwrap())
            .collect();
        pids.sort_unstable();
        pids
    };
    wait_until(|| pids("started").len() == STAGES);
    unsafe { libc::kill(child.id() as i32, signal) };
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
    interrupt_reaches_every_group(libc::SIGINT, 130);
}

#[test]
fn sigterm_reaches_every_process_group_of_a_40_stage_pipeline() {
    interrupt_reaches_every_group(libc::SIGTERM, 143);
}
