//! `sleep`, `retry` and `wait_until`: what they return, what they say on stderr, the errors
//! for arguments out of range, and Ctrl-C or SIGTERM ending a wait.

use std::time::{Duration, Instant};

use crate::support::Test;
use crate::support::processes::{Signal, finish, signal};
use crate::support::wait::wait_for_file;

#[test]
fn sleep_waits_that_long() {
    let start = Instant::now();
    Test::new()
        .args(&["-e", "sleep(0.2); sleep(0); sleep(1); 7"])
        .stdout("7\n")
        .run();
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(1200), "{took:?}");
}

#[test]
fn retry_returns_the_value_or_the_last_error_and_reports_attempts() {
    Test::new()
        .args(&[
            "-e",
            "let n = 0; retry(3, 0.05, || { n += 1; if n < 3 { fail(`boom ${n}`) } n * 10 })",
        ])
        .stdout("30\n")
        .stderr(
            "
            warning: retry: attempt 1 of 3 failed: boom 1; trying again in 50ms
            warning: retry: attempt 2 of 3 failed: boom 2; trying again in 100ms
            info: retry: attempt 3 of 3 succeeded
            ",
        )
        .run();
    // The first attempt succeeding says nothing.
    Test::new()
        .args(&["-e", r#"retry(5, 1, || "ok")"#])
        .stdout("ok\n")
        .run();
    let done = Test::new()
        .args(&[
            "-e",
            "let n = 0;\nretry(2, 0, || { n += 1; fail(`boom ${n}`) })",
        ])
        .status(1)
        .any_stderr()
        .run();
    assert!(
        done.stderr.starts_with(
            "warning: retry: attempt 1 of 2 failed: boom 1; trying again in 0ms\n\
             warning: retry: attempt 2 of 2 failed: boom 2; giving up\n\
             -e:2:26: boom 2\n"
        ),
        "{}",
        done.stderr
    );
    // A caught error is the last attempt's; exit() is not retried.
    Test::new()
        .args(&[
            "-e",
            r#"try { retry(2, 0, || cmd("false").run()) } catch (e) { print(e) }"#,
        ])
        .stdout("command `false` failed: exit status 1 (its stderr is above)\n")
        .any_stderr()
        .run();
    Test::new()
        .args(&["-e", "retry(5, 0, || exit(3))"])
        .status(3)
        .run();
}

#[test]
fn wait_until_returns_the_first_value_that_is_not_false() {
    Test::new()
        .args(&[
            "-e",
            "let n = 0; wait_until(5, 0.05, || { n += 1; if n < 3 { fail(\"down\") } if n < 4 { false } else { `up after ${n}` } })",
        ])
        .stdout("up after 4\n")
        .stderr_contains("info: wait_until: not yet; checking every 50ms for up to 5s\n")
        .stderr_contains("info: wait_until: met after ")
        .stderr_contains(" (check 4)\n")
        .run();
    Test::new()
        .args(&["-e", "wait_until(1, || true)"])
        .stdout("true\n")
        .run();
    Test::new()
        .args(&["-e", r#"wait_until(0.2, 0.05, || cmd("false").run() == 0)"#])
        .status(1)
        .stderr_contains("wait_until: not met within 200ms (")
        .stderr_contains(
            " checks); the last check failed: command `false` failed: exit status 1 (its stderr is above)\n",
        )
        .run();
    Test::new()
        .args(&["-e", "wait_until(0.1, 0.05, || ())"])
        .status(1)
        .stderr_contains("wait_until: not met within 100ms (")
        .run();
}

#[test]
fn arguments_out_of_range_are_errors() {
    for (expr, message) in [
        ("sleep(-1)", "sleep must be 0 seconds or more, not -1"),
        ("sleep(-0.5)", "sleep must be 0 seconds or more, not -0.5"),
        (
            "sleep(1e300)",
            "sleep of 1e300 seconds is more than a week (604800 seconds)",
        ),
        (
            "sleep(9223372036854775807)",
            "sleep of 9223372036854775807 seconds is more than a week",
        ),
        ("sleep(0.0/0.0)", "sleep must be 0 seconds or more, not NaN"),
        (
            "retry(1000000000000, 1, || 1)",
            "retry: times must be 1 to 1000, not 1000000000000",
        ),
        ("retry(0, 1, || 1)", "retry: times must be 1 to 1000, not 0"),
        (
            "retry(3, -2, || 1)",
            "retry's backoff must be 0 seconds or more, not -2",
        ),
        (
            r#"retry(3, "2s", || 1)"#,
            "retry's backoff is a number of seconds, not a string",
        ),
        (
            "wait_until(-1, || true)",
            "wait_until's timeout must be 0 seconds or more, not -1",
        ),
        (
            "wait_until(5, 0, || true)",
            "wait_until's interval must be more than 0 seconds",
        ),
        (
            "wait_until(1e12, || true)",
            "wait_until's timeout of 1e12 seconds is more than a week",
        ),
    ] {
        Test::new()
            .args(&["-e", expr])
            .status(1)
            .stderr_contains(&format!("-e:1:1: {message}"))
            .run();
    }
}

/// A wait ends at once on `sent`, with the signal's exit status and nothing after it run.
#[track_caller]
fn a_wait_is_interrupted(script: &str, sent: Signal, status: i32) {
    let t = Test::new().script("waits", script);
    let child = t.spawn(&["waits"]);
    wait_for_file(&t.path().join("started"));
    let start = Instant::now();
    signal(child.id(), sent);
    let output = finish(child, "adminsh to stop");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(output.status.code(), Some(status), "{output:?}");
    assert!(!t.path().join("after").exists());
}

#[test]
fn ctrl_c_and_sigterm_end_every_wait() {
    let scripts = [
        "write_file(\"started\", \"yes\\n\");\nsleep(600);\nwrite_file(\"after\", \"\");\n",
        "write_file(\"started\", \"yes\\n\");\nsleep(600.5);\nwrite_file(\"after\", \"\");\n",
        "write_file(\"started\", \"yes\\n\");\nretry(5, 600, || fail(\"no\"));\nwrite_file(\"after\", \"\");\n",
        "write_file(\"started\", \"yes\\n\");\nwait_until(600, 300, || false);\nwrite_file(\"after\", \"\");\n",
        // Not caught by try, either.
        "write_file(\"started\", \"yes\\n\");\ntry { sleep(600) } catch { }\nwrite_file(\"after\", \"\");\n",
    ];
    for script in scripts {
        a_wait_is_interrupted(script, Signal::Int, 130);
    }
    a_wait_is_interrupted(scripts[0], Signal::Term, 143);
}
