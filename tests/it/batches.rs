//! `batches(items, size, |batch| ...)` and `cmd(...).batches(size, |lines| ...)`: items handed
//! on a batch at a time, resumed after a kill at the batch that was running, stopped by a dry
//! run after three batches, held by a throttle.

use crate::support::Test;

/// Every source and size hands over every item once, in order, in batches of the size (the
/// last one shorter), and says how far it went.
#[test]
fn items_come_in_batches_of_the_size_in_order() {
    let rows: [(&str, &str, &str); 6] = [
        (
            "batches([1, 2, 3, 4, 5, 6, 7], 3, |b| print(b))",
            "[1, 2, 3]\n[4, 5, 6]\n[7]\n7\n",
            "batches: 7 items in 3 batches (",
        ),
        (
            "batches([1, 2], #{size: 5}, |b| print(b))",
            "[1, 2]\n2\n",
            "batches: 2 items in 1 batch (",
        ),
        (
            "batches([], 5, |b| print(b))",
            "0\n",
            "batches: 0 items in 0 batches (",
        ),
        (
            r#"cmd("seq", ["5"]).batches(2, |b| print(b))"#,
            "[\"1\", \"2\"]\n[\"3\", \"4\"]\n[\"5\"]\n5\n",
            "batches `seq 5`: 5 lines in 3 batches (",
        ),
        (
            r#"batches(cmd("printf", ["a\nb\n"]), #{size: 10, name: "letters"}, |b| print(b))"#,
            "[\"a\", \"b\"]\n2\n",
            "batches letters: 2 lines in 1 batch (",
        ),
        (
            r#"cmd("true").batches(2, |b| print(b))"#,
            "0\n",
            "batches `true`: 0 lines in 0 batches (",
        ),
    ];
    for (script, stdout, stderr) in rows {
        Test::new()
            .args(&["-e", script])
            .stdout(stdout)
            .stderr_contains(stderr)
            .run();
    }
}

/// Lines that are not UTF-8 come with U+FFFD in place of the bad bytes, and the run says so
/// once, however many lines have them.
#[test]
fn lines_that_are_not_utf8_are_replaced_and_said_once() {
    let out = Test::new()
        .args(&[
            "-e",
            r#"cmd("printf", ["a\\377\\nb\\377\\nc\\n"]).batches(2, |b| print(b))"#,
        ])
        .stdout("[\"a\u{fffd}\", \"b\u{fffd}\"]\n[\"c\"]\n3\n")
        .any_stderr()
        .run();
    let warning = "printed bytes that are not UTF-8; they were replaced with U+FFFD";
    assert_eq!(out.stderr.matches(warning).count(), 1, "{}", out.stderr);
}

/// A bad size or option is an error at the call, naming what is wrong; an error inside the
/// closure stops the walk and is the script's error.
#[test]
fn bad_sizes_and_failing_batches_are_errors() {
    let rows: [(&str, &str); 5] = [
        (
            "batches([1], 0, |b| 1)",
            "-e:1:1: batches: the size is a number of items from 1 to 100000, not 0",
        ),
        (
            "batches([1], \"2\", |b| 1)",
            "-e:1:1: batches: give a batch size (`500`) or options (`#{size: 500}`), not a string",
        ),
        (
            "batches([1], #{sise: 2}, |b| 1)",
            "-e:1:1: batches: unknown option `sise` (the options are size, throttle, target_seconds, deadline and name)",
        ),
        (
            "batches([1, 2, 3], 1, |b| { if b[0] == 2 { throw \"bad item\" } print(b) })",
            "bad item",
        ),
        (
            r#"cmd("sh", ["-c", "seq 5; exit 3"]).batches(2, |b| print(b))"#,
            "exit status 3",
        ),
    ];
    for (script, says) in rows {
        Test::new()
            .args(&["-e", script])
            .any_stdout()
            .status(1)
            .stderr_contains(says)
            .run();
    }
}

/// In a step, a run killed inside its third batch, run again, skips the two batches that
/// finished and starts again at the third: each item is done at least once, the finished
/// ones once. For a command, its first lines are skipped as it prints them again; a command
/// that fails leaves its last, partial batch for the next run.
#[test]
fn a_killed_walk_resumes_at_the_batch_that_was_running() {
    for source in ["range(1, 31)", r#"cmd("seq", ["30"])"#] {
        let script = format!(
            r#"
            step("walk", || {{
                batches({source}, 10, |b| {{
                    append_file("done.txt", `${{b[0]}}` + "\n");
                    if `${{b[0]}}` == "21" && env("CRASH") == "yes" {{ cmd("sh", ["-c", "kill -9 $PPID"]).run(); }}
                }});
            }});
            "#
        );
        let app = Test::new().script("walk", &script);
        app.crash(&["walk"]);
        let again = app
            .env("CRASH", "no")
            .args(&["walk"])
            .stderr_contains("resuming after 20 ")
            .run();
        let done = std::fs::read_to_string(again.path().join("done.txt")).unwrap();
        assert_eq!(done, "1\n11\n21\n21\n", "{source}");
    }
    let failing = Test::new()
        .script(
            "walk",
            r#"step("walk", || cmd("sh", ["-c", "seq 5; test -f ok || exit 3"]).batches(2, |b| append_file("done.txt", `${b}` + "\n")));"#,
        )
        .args(&["walk"])
        .status(1)
        .stderr_contains("exit status 3")
        .run();
    let done = std::fs::read_to_string(failing.path().join("done.txt")).unwrap();
    assert_eq!(done, "[\"1\", \"2\"]\n[\"3\", \"4\"]\n");
    std::fs::write(failing.path().join("ok"), "").unwrap();
    let fixed = failing
        .again()
        .args(&["walk"])
        .stderr_contains("resuming after 4 lines")
        .run();
    let done = std::fs::read_to_string(fixed.path().join("done.txt")).unwrap();
    assert_eq!(done, "[\"1\", \"2\"]\n[\"3\", \"4\"]\n[\"5\"]\n");
}

/// A dry run walks three batches and says it stopped there; a throttle holds the walk while
/// it returns true.
#[test]
fn a_dry_run_walks_three_batches_and_a_throttle_holds_the_walk() {
    Test::new()
        .args(&[
            "--dry-run",
            "-e",
            "batches(range(0, 100), 10, |b| print(b[0]))",
        ])
        .stdout("0\n10\n20\n30\n")
        .stderr_contains("batches: 30 items in 3 batches (")
        .stderr_contains("; a dry run stops there, a real run goes on to the end: ~100 items in ~10 batches of 10, about ")
        .run();
    Test::new()
        .args(&[
            "-e",
            "let calls = 0; let n = batches(range(0, 25), #{size: 10, throttle: || { calls += 1; calls == 2 }}, |b| 1); [n, calls]",
        ])
        .stdout("[25, 4]\n")
        .stderr_contains("batches: throttled: waiting while `throttle` is true\nbatches: going on\n")
        .run();
}

/// With `target_seconds`, the size adapts toward batches taking that long: quick batches
/// double it up to ten times the size given, slow ones halve it down to a tenth; the summary
/// says where it ended.
#[test]
fn a_batch_size_adapts_toward_the_target_duration() {
    Test::new()
        .args(&[
            "-e",
            "let sizes = []; batches(range(0, 400), #{size: 10, target_seconds: 1}, |b| sizes.push(b.len())); sizes",
        ])
        .stdout("[10, 20, 40, 80, 100, 100, 50]\n")
        .stderr_contains("batches: 400 items in 7 batches (")
        .stderr_contains(" items/s, batches of 100 now)\n")
        .run();
    Test::new()
        .args(&[
            "-e",
            "let sizes = []; batches(range(0, 100), #{size: 40, target_seconds: 0.05}, |b| { sizes.push(b.len()); sleep(0.1); }); sizes",
        ])
        .stdout("[40, 20, 10, 5, 4, 4, 4, 4, 4, 4, 1]\n")
        .stderr_contains(" items/s, batches of 4 now)\n")
        .run();
}

/// `--json` reports each walk: its name, items, batches, the total it knew, its duration, and
/// whether a dry run stopped it.
#[test]
fn the_json_report_lists_each_walk() {
    for (mode, items, batches, stopped) in
        [(&[][..], 5, 3, false), (&["--dry-run"][..], 5, 3, false)]
    {
        let out = Test::new()
            .args(&[mode, &["--json", "-e", "batches([1, 2, 3, 4, 5], 2, |b| 1); cmd(\"seq\", [\"7\"]).read_only().batches(#{size: 1, name: \"seq\"}, |b| 1)"]].concat())
            .any_stdout()
            .any_stderr()
            .run();
        let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        let walks = report["walks"].as_array().unwrap();
        assert_eq!(walks.len(), 2, "{mode:?}: {report}");
        let first = &walks[0];
        assert_eq!(first["name"], "batches", "{mode:?}: {report}");
        assert_eq!(first["unit"], "items");
        assert_eq!(first["items"], items);
        assert_eq!(first["batches"], batches);
        assert_eq!(first["total"], 5);
        assert_eq!(first["stopped_by_dry_run"], stopped);
        assert!(first["duration_ms"].is_u64(), "{report}");
        let second = &walks[1];
        assert_eq!(second["name"], "batches seq");
        assert_eq!(second["unit"], "lines");
        let (lines, stopped) = if mode.is_empty() {
            (7, false)
        } else {
            (3, true)
        };
        assert_eq!(second["items"], lines, "{mode:?}: {report}");
        assert_eq!(second["stopped_by_dry_run"], stopped, "{mode:?}: {report}");
        assert!(second.get("total").is_none(), "{report}");
    }
}

/// A walk that takes more than 10 seconds says how far it is every 10 seconds, with the share
/// done and the time left against its known total; a quicker one says only its summary.
#[test]
fn a_long_walk_says_how_far_it_is() {
    let out = Test::new()
        .args(&["-e", "batches(range(0, 6), 1, |b| sleep(2.1))"])
        .stdout("6\n")
        .any_stderr()
        .run();
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.stderr);
    // Around 10.5 s, after the fifth item: `batches: 5 items, 0 items/s, 83% of ~6, about 2s left`.
    assert!(
        lines[0].starts_with("batches: ")
            && lines[0].contains(" items, ")
            && lines[0].contains(" items/s, ")
            && lines[0].contains("% of ~6, about ")
            && lines[0].ends_with(" left"),
        "{}",
        out.stderr
    );
    // Six items in about 12.6 s: less than half an item a second.
    assert!(
        lines[1].starts_with("batches: 6 items in 6 batches (")
            && lines[1].ends_with("s, 0 items/s)"),
        "{}",
        out.stderr
    );
    let quick = Test::new()
        .args(&["-e", "batches(range(0, 60), 7, |b| 1)"])
        .stdout("60\n")
        .any_stderr()
        .run();
    assert_eq!(quick.stderr.lines().count(), 1, "{}", quick.stderr);
    assert!(
        quick.stderr.starts_with("batches: 60 items in 9 batches ("),
        "{}",
        quick.stderr
    );
}

/// Two walks over the same kind of source in one step keep their cursors apart: the second
/// walks all its items, and after a kill in the second, the run again skips the first's
/// finished batches and resumes the second at its own.
#[test]
fn two_walks_in_one_step_keep_their_own_cursors() {
    let script = r#"
        step("two", || {
            batches([1, 2, 3], 2, |b| append_file("done.txt", `${b}` + "\n"));
            batches([4, 5, 6], 2, |b| {
                append_file("done.txt", `${b}` + "\n");
                if b[0] == 6 && env("CRASH") == "yes" { cmd("sh", ["-c", "kill -9 $PPID"]).run(); }
            });
        });
    "#;
    let app = Test::new().script("two", script);
    app.crash(&["two"]);
    let done = std::fs::read_to_string(app.path().join("done.txt")).unwrap();
    assert_eq!(done, "[1, 2]\n[3]\n[4, 5]\n[6]\n");
    let again = app
        .env("CRASH", "no")
        .args(&["two"])
        .stderr_contains("batches: resuming after 3 items")
        .stderr_contains("batches: resuming after 2 items")
        .run();
    let done = std::fs::read_to_string(again.path().join("done.txt")).unwrap();
    assert_eq!(done, "[1, 2]\n[3]\n[4, 5]\n[6]\n[6]\n");
}

/// `batches(csv_file(path), size, ...)` reads a CSV file a record at a time as the walk goes:
/// each record a map by the header (an array with `header: false`), a byte-order mark and
/// quoted fields read as spreadsheets write them; a killed run resumes after the records of
/// the batches that finished. Bad files are errors naming the file (and its line).
#[test]
fn csv_files_are_walked_a_record_at_a_time() {
    let csv = "\u{feff}id,name\n1,Ann\n2,\"O'Brien, Jr.\"\n3,\"two\nlines\"\n4,Dee\n";
    let rows: [(&str, &str); 3] = [
        (
            r#"batches(csv_file("data/people.csv"), 3, |b| print(b.map(|r| `${r.id}:${r.name}`)))"#,
            "[\"1:Ann\", \"2:O'Brien, Jr.\", \"3:two\\nlines\"]\n[\"4:Dee\"]\n4\n",
        ),
        (
            r#"batches(csv_file("data/people.csv", #{header: false}), 2, |b| print(b))"#,
            "[[\"id\", \"name\"], [\"1\", \"Ann\"]]\n[[\"2\", \"O'Brien, Jr.\"], [\"3\", \"two\\nlines\"]]\n[[\"4\", \"Dee\"]]\n5\n",
        ),
        (
            r#"batches(csv_file("data/semi.csv", #{delimiter: ";"}), 10, |b| print(b))"#,
            "[#{\"a\": \"1\", \"b\": \"2\"}]\n1\n",
        ),
    ];
    for (script, stdout) in rows {
        Test::new()
            .file("data/people.csv", csv)
            .file("data/semi.csv", "a;b\n1;2\n")
            .args(&["-e", script])
            .stdout(stdout)
            .stderr_contains("records in ")
            .run();
    }
    let bad: [(&str, &str, &str); 4] = [
        (
            "nothing.csv",
            "",
            "csv_file: cannot read `nothing.csv`: no such file or directory",
        ),
        (
            "data",
            "",
            "csv_file: cannot read `data`: it is not a regular file",
        ),
        (
            "uneven.csv",
            "a,b\n1,2\n3\n",
            "csv_file `uneven.csv:3`: CSV error: record 2 (line: 3, byte: 8): found record with 1 fields, but the previous record has 2 fields",
        ),
        (
            "twice.csv",
            "a,a\n1,2\n",
            "csv_file `twice.csv`: the header names column `a` twice (columns 1 and 2)",
        ),
    ];
    for (file, text, message) in bad {
        let mut test = Test::new().file("data/x", "");
        if !text.is_empty() {
            test = test.file(file, text);
        }
        test.args(&[
            "-e",
            &format!("batches(csv_file(\"{file}\"), 2, |b| print(b))"),
        ])
        .status(1)
        .any_stdout()
        .stderr_contains(message)
        .run();
    }
    // Bad bytes: replaced, and said once.
    let out = Test::new()
        .file("x.csv", "a\n\u{1}\n")
        .args(&["-e", "1"])
        .any_stdout()
        .run();
    std::fs::write(out.path().join("x.csv"), b"a\nb\xff\nc\xfe\n").unwrap();
    let out = out
        .again()
        .args(&[
            "-e",
            r#"batches(csv_file("x.csv"), 5, |b| print(b.map(|r| r.a)))"#,
        ])
        .stdout("[\"b\u{fffd}\", \"c\u{fffd}\"]\n2\n")
        .any_stderr()
        .run();
    assert_eq!(out.stderr.matches("not UTF-8").count(), 1, "{}", out.stderr);
}

/// A walk over a CSV file in a step, killed mid-walk, resumes after the records of the
/// batches that finished.
#[test]
fn a_csv_walk_killed_mid_walk_resumes_after_its_last_batch() {
    let mut csv = String::from("id\n");
    for i in 1..=40 {
        csv.push_str(&format!("{i}\n"));
    }
    let script = r#"
        step("import", || {
            batches(csv_file("ids.csv"), 10, |b| {
                append_file("seen.txt", `${b[0].id}` + "\n");
                if b[0].id == "21" && env("CRASH") == "yes" { cmd("sh", ["-c", "kill -9 $PPID"]).run(); }
            });
        });
    "#;
    let app = Test::new().file("ids.csv", &csv).script("import", script);
    app.crash(&["import"]);
    let out = app
        .env("CRASH", "no")
        .args(&["import"])
        .any_stdout()
        .stderr_contains(
            "batches ids.csv: resuming after 20 records (where an earlier run stopped)",
        )
        .run();
    let seen = std::fs::read_to_string(out.path().join("seen.txt")).unwrap();
    assert_eq!(seen, "1\n11\n21\n21\n31\n");
}

/// `deadline`: a walk past its time stops at the end of the batch it is in, its cursor saved,
/// and the run ends as paused (148); the same command run again goes on after that batch. A
/// value that is not a time is an error naming the option.
#[test]
fn a_walk_past_its_deadline_stops_as_paused_and_goes_on_when_run_again() {
    let script = r#"
        let stop_at = if env("STOP") == "now" { now() } else { now() + hours(1) };
        step("walk", || {
            batches(1..=6, #{size: 2, deadline: stop_at}, |b| print(b));
        });
    "#;
    let out = Test::new()
        .script("walk", script)
        .env("STOP", "now")
        .args(&["walk"])
        .status(148)
        .stdout("[1, 2]\n")
        .stderr_contains("paused at the end of batch 1 of batches (2 items), as its `deadline` (")
        .stderr_contains(") asked: running the same command again goes on after it")
        .run();
    out.again()
        .env("STOP", "later")
        .args(&["walk"])
        .stdout("[3, 4]\n[5, 6]\n")
        .stderr_contains("batches: resuming after 2 items")
        .run();
    for (walk, options) in [
        ("batches", "batches([1], #{deadline: 5}, |b| 1)"),
        (
            "db::batches",
            "db::batches(#{table: \"t\", deadline: \"06:00\"}, |r| 1)",
        ),
    ] {
        Test::new()
            .env("DATABASE_URL", "sqlite:///app.db?mode=rwc")
            .args(&["-e", options])
            .status(1)
            .stderr_contains(&format!("{walk}: `deadline` is a time (`now() + hours(2)`, `parse_time(\"2026-12-08T06:00:00Z\")`), not "))
            .run();
    }
}
