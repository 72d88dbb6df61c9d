//! Ctrl-C (SIGINT) and SIGTERM: the running command's whole process group stops, the script
//! stops, and adminsh exits 130 (128 + the signal).

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::Test;
use crate::support::processes::{alive, wait_for_exit, wait_for_file};

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

/// Every host function that can wait stops on SIGINT (130) and SIGTERM (143): a glob over the
/// whole filesystem (with `**` repeated, which the glob crate walked exponentially), reading a
/// FIFO no one writes, writing one no one reads, waiting for a lock another process holds.
#[test]
fn host_functions_that_wait_stop_on_ctrl_c_and_sigterm() {
    type Setup = fn(&Test) -> Option<std::process::Child>;
    let rows: [(&str, Setup, &str); 4] = [
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
        for (signal, status) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
            let t = Test::new();
            let holder = setup(&t);
            let script = format!(
                "write_file(\"started\", \"yes\\n\");\n{call};\nwrite_file(\"after.txt\", \"\");\n"
            );
            let child = t
                .command()
                .args(["-e", &script])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            wait_for_file(&t.path().join("started"));
            unsafe { libc::kill(child.id() as i32, signal) };
            let output = wait_for_exit(child, what);
            if let Some(holder) = holder {
                unsafe { libc::kill(holder.id() as i32, libc::SIGTERM) };
                wait_for_exit(holder, "the lock holder");
            }
            assert_eq!(
                output.status.code(),
                Some(status),
                "{what}, signal {signal}"
            );
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
