//! Native line operations on a command's output: counting, grep, head, tail and columns, the
//! same answers as a line-by-line reading would give, in constant memory, and the errors.

use crate::support::Test;

#[track_caller]
fn prints(expr: &str, expected: &str) {
    Test::new()
        .file(
            "log/app.log",
            "2026-11-26 INFO order=17 ok\n2026-11-26 ERROR order=18 failed\r\n\n2026-11-27 error order=19 timeout\n2026-11-27 INFO order=20 ok",
        )
        .args(&["-e", expr])
        .stdout(&format!("{expected}\n"))
        .run();
}

#[test]
fn count_grep_head_tail_columns() {
    let log = r#"cmd("cat", ["log/app.log"])"#;
    for (expr, expected) in [
        (format!("{log}.count_lines()"), "5"),
        (r#"cmd("seq", [100000]).count_lines()"#.into(), "100000"),
        (r#"sh("printf ''").count_lines()"#.into(), "0"),
        (r#"sh("printf 'a\n\nb'").count_lines()"#.into(), "3"),
        (format!(r#"{log}.grep_count("ERROR")"#), "1"),
        (format!(r#"{log}.grep_count("(?i)error")"#), "2"),
        (format!(r#"{log}.grep_count(regex("error", "i"))"#), "2"),
        (format!(r#"{log}.grep_count("^$")"#), "1"),
        (format!(r#"{log}.grep_count("failed$")"#), "1"),
        (format!(r#"{log}.grep_count("ok$")"#), "2"),
        (format!(r#"{log}.grep_count("\\Aorder")"#), "0"),
        (format!(r#"{log}.grep_count("\\A2026-11-27")"#), "2"),
        (format!(r#"{log}.grep_count("ok\\s+2026")"#), "0"),
        (format!(r#"{log}.grep_count("")"#), "5"),
        (
            format!(r#"{log}.grep("order=(1[89])")"#),
            r#"["2026-11-26 ERROR order=18 failed", "2026-11-27 error order=19 timeout"]"#,
        ),
        (
            format!(r#"{log}.grep("order=\\d+ ok$").map(|l| re_find(l, "\\d+$|order=\\d+"))"#),
            r#"["order=17", "order=20"]"#,
        ),
        (format!("{log}.head(2).len()"), "2"),
        (format!("{log}.head(0)"), "[]"),
        (format!("{log}.head(100).len()"), "5"),
        (
            r#"cmd("seq", [1000000]).head(3)"#.into(),
            r#"["1", "2", "3"]"#,
        ),
        (r#"cmd("yes").head(2)"#.into(), r#"["y", "y"]"#),
        (
            r#"cmd("seq", [1000000]).tail(3)"#.into(),
            r#"["999998", "999999", "1000000"]"#,
        ),
        (
            format!("{log}.tail(2)"),
            r#"["2026-11-27 error order=19 timeout", "2026-11-27 INFO order=20 ok"]"#,
        ),
        (format!("{log}.tail(0)"), "[]"),
        (r#"cmd("seq", [3]).tail(10)"#.into(), r#"["1", "2", "3"]"#),
        (
            format!("{log}.columns()[1]"),
            r#"["2026-11-26", "ERROR", "order=18", "failed"]"#,
        ),
        (
            r#"sh("printf 'a,b,,c\nd'").columns(",")"#.into(),
            r#"[["a", "b", "", "c"], ["d"]]"#,
        ),
        (
            r#"sh("printf '  PID  TTY\n    1  ?\n'").columns().map(|r| r[0])"#.into(),
            r#"["PID", "1"]"#,
        ),
        (
            r#"sh("printf 'a::b\n'").columns("::")"#.into(),
            r#"[["a", "b"]]"#,
        ),
    ] {
        prints(&expr, expected);
    }
}

#[test]
fn block_search_agrees_with_a_line_by_line_reading() {
    // Lines crossing every read boundary, patterns of every kind: grep_count and the count
    // a closure over each_line gives must be equal.
    let script = r#"
        let patterns = ["7", "7.*7$", "^1", "^$", "0$", "(?i)^\\d{3}$", "[^0-9]", "\\b99\\b",
                        "^(1|22)+", "\\A5", "9\\z", "1\\s*2", "x?"];
        for p in patterns {
            let rx = regex(p);
            let n = 0;
            cmd("seq", [30000]).each_line(|l| { if l.re_match(rx) { n += 1; } });
            let native = cmd("seq", [30000]).grep_count(p);
            if native != n { fail(`${p}: grep_count ${native}, each_line ${n}`); }
            if cmd("seq", [30000]).grep(p).len() != n { fail(`${p}: grep`); }
        }
        "ok"
    "#;
    Test::new().args(&["-e", script]).stdout("ok\n").run();
}

#[test]
fn failures_and_bad_arguments_are_errors() {
    for (expr, message) in [
        (
            r#"cmd("false").count_lines()"#,
            "command `false` failed: exit status 1",
        ),
        (
            r#"sh("echo x; exit 3").grep_count("x")"#,
            "command `sh -c 'echo x; exit 3'` failed: exit status 3",
        ),
        (
            r#"cmd("seq", [10]).grep_count("(")"#,
            "bad regex: unclosed group, at character 1:",
        ),
        (
            r#"cmd("seq", [10]).grep(5)"#,
            "a pattern is a string or a regex(...), not an int",
        ),
        (
            r#"cmd("seq", [10]).head(-1)"#,
            "head takes a number of lines, 0 or more, not -1",
        ),
        (
            r#"cmd("seq", [10]).tail(-5)"#,
            "tail takes a number of lines, 0 or more, not -5",
        ),
        (
            r#"cmd("seq", [10]).columns("")"#,
            "columns: the delimiter is empty (columns() with no argument splits on whitespace)",
        ),
        (r#"cmd("no-such-program").count_lines()"#, "no-such-program"),
    ] {
        Test::new()
            .args(&["-e", expr])
            .status(1)
            .stderr_contains(message)
            .run();
    }
    // A command stopped by head is not a failure; an unchecked one says nothing either way.
    prints(r#"sh("seq 100000; exit 4").head(1)"#, r#"["1"]"#);
    prints(r#"sh("echo a; exit 4").unchecked().count_lines()"#, "1");
    // Under --dry-run a command that is not read-only does not run: nothing to count.
    Test::new()
        .args(&["--dry-run", "-e", r#"cmd("seq", [5]).count_lines()"#])
        .stdout("0\n")
        .any_stderr()
        .run();
    Test::new()
        .args(&[
            "--dry-run",
            "-e",
            r#"cmd("seq", [5]).read_only().count_lines()"#,
        ])
        .stdout("5\n")
        .any_stderr()
        .run();
}

#[test]
fn constant_memory_over_a_big_output() {
    // 5 million lines (about 39 MB) counted and tailed: the peak RSS stays far below the
    // output's size.
    let done = Test::new()
        .args(&[
            "-e",
            r#"
            let c = cmd("seq", [5000000]);
            print([c.count_lines(), c.grep_count("7.*7$"), c.tail(2)]);
            let status = read_file("/proc/self/status");
            print(parse_int(re_captures(status, "VmHWM:\\s+(\\d+) kB")["1"]));
            "#,
        ])
        .any_stdout()
        .run();
    let mut lines = done.stdout.lines();
    assert_eq!(
        lines.next(),
        Some(r#"[5000000, 204755, ["4999999", "5000000"]]"#)
    );
    let peak_kib: u64 = lines.next().unwrap().parse().unwrap();
    // Against the same binary doing nothing: the work adds far less than the 39 MB it read,
    // however large the binary itself (a debug build maps more than a release one).
    let idle = Test::new()
        .args(&[
            "-e",
            r#"parse_int(re_captures(read_file("/proc/self/status"), "VmHWM:\\s+(\\d+) kB")["1"])"#,
        ])
        .any_stdout()
        .run();
    let idle_kib: u64 = idle.stdout.trim().parse().unwrap();
    assert!(
        peak_kib < idle_kib + 12 * 1024,
        "peak RSS {peak_kib} KiB, {idle_kib} KiB doing nothing"
    );
}
