//! `--shards N`: a script run as N workers, each walking its slice of the script's walks (an
//! array's or a range's contiguous share, every Nth line of a command), its output marked with
//! its shard; a failed shard leaves the others to finish, and the same command run again runs
//! only the shards that did not. The database walks split by key are in `db.rs`, against
//! real databases.

use std::collections::BTreeMap;

use crate::support::Test;

/// Pairs of names and values: a shard's expected lines, a worker's environment.
type Pairs = &'static [(&'static str, &'static str)];

/// The lines of stdout by the shard that printed them (`[shard 2/3] ...`).
fn by_shard(stdout: &str) -> BTreeMap<String, Vec<String>> {
    let mut shards: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in stdout.lines() {
        let (label, rest) = line
            .strip_prefix('[')
            .and_then(|l| l.split_once("] "))
            .unwrap_or_else(|| panic!("a line not marked with its shard: {line:?}"));
        shards
            .entry(label.to_owned())
            .or_default()
            .push(rest.to_owned());
    }
    shards
}

/// Every source is split so that the shards together walk every item once: arrays and ranges
/// in contiguous shares, a command's lines dealt out in turn. Each shard knows which it is.
#[test]
fn each_shard_walks_its_share_of_every_source() {
    let rows: [(&str, u32, Pairs); 5] = [
        (
            "batches(1..=10, 2, |b| print(b));",
            3,
            &[
                ("shard 1/3", "[1, 2]\n[3]"),
                ("shard 2/3", "[4, 5]\n[6]"),
                ("shard 3/3", "[7, 8]\n[9, 10]"),
            ],
        ),
        (
            "batches([\"a\", \"b\", \"c\"], 5, |b| print(b));",
            4,
            &[
                ("shard 2/4", "[\"a\"]"),
                ("shard 3/4", "[\"b\"]"),
                ("shard 4/4", "[\"c\"]"),
            ],
        ),
        (
            "cmd(\"seq\", [\"7\"]).batches(2, |b| print(b));",
            3,
            &[
                ("shard 1/3", "[\"1\", \"4\"]\n[\"7\"]"),
                ("shard 2/3", "[\"2\", \"5\"]"),
                ("shard 3/3", "[\"3\", \"6\"]"),
            ],
        ),
        (
            "batches(csv_file(\"ids.csv\"), 2, |b| print(b.map(|r| r.id)));",
            2,
            &[
                ("shard 1/2", "[\"1\", \"3\"]\n[\"5\"]"),
                ("shard 2/2", "[\"2\", \"4\"]"),
            ],
        ),
        (
            "let s = shard(); print(`${s.index} of ${s.count}, run ${s.run.len()}`);",
            2,
            &[
                ("shard 1/2", "0 of 2, run 32"),
                ("shard 2/2", "1 of 2, run 32"),
            ],
        ),
    ];
    for (script, count, expected) in rows {
        let out = Test::new()
            .file("ids.csv", "id\n1\n2\n3\n4\n5\n")
            .script("walk", script)
            .args(&["--shards", &count.to_string(), "walk"])
            .any_stdout()
            .stderr_contains(&format!("in {count} shards: all finished"))
            .run();
        let got = by_shard(&out.stdout);
        let want: BTreeMap<String, Vec<String>> = expected
            .iter()
            .map(|(label, lines)| {
                (
                    (*label).to_owned(),
                    lines.lines().map(str::to_owned).collect(),
                )
            })
            .collect();
        // Each shard's own lines, after the count `batches` returns.
        let got: BTreeMap<String, Vec<String>> = got
            .into_iter()
            .map(|(label, lines)| {
                (
                    label,
                    lines
                        .into_iter()
                        .filter(|l| l.parse::<u64>().is_err())
                        .collect(),
                )
            })
            .filter(|(_, lines): &(String, Vec<String>)| !lines.is_empty())
            .collect();
        assert_eq!(got, want, "{script} in {count} shards");
    }
    // Each shard says which items it takes; a shard with none says so.
    Test::new()
        .script("walk", "batches([\"a\", \"b\", \"c\"], 5, |b| 1);")
        .args(&["--shards", "4", "walk"])
        .stderr_contains("[shard 1/4] batches: shard 1 of 4: none of the 3 items\n")
        .stderr_contains("[shard 3/4] batches: shard 3 of 4: items 2 to 2 of 3\n")
        .run();
    Test::new()
        .args(&["-e", "print(shard() == ())"])
        .stdout("true\n")
        .run();
}

/// A shard that fails leaves the others to finish; the summary says which did what, and the
/// same command run again runs only the shard that did not finish, resuming its walk.
#[test]
fn a_failed_shard_alone_runs_again_and_resumes() {
    let script = r#"
        step("walk", || {
            batches(1..=12, 2, |b| {
                if exists("fail") && b.contains(11) { throw "batch with 11 failed"; }
                print(b);
            });
        });
    "#;
    let app = Test::new().script("walk", script).file("fail", "");
    let out = app
        .args(&["--shards", "3", "walk"])
        .status(1)
        .any_stdout()
        .stderr_contains("adminsh: scripts/walk.rhai in 3 shards: 1 did not finish\n  shard 1/3  finished\n  shard 2/3  finished\n  shard 3/3  failed (exit 1)\n")
        .run();
    assert!(
        out.stderr
            .contains("[shard 3/3] scripts/walk.rhai:3:47: batch with 11 failed"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("run the same command again"),
        "{}",
        out.stderr
    );
    assert_eq!(by_shard(&out.stdout)["shard 3/3"], ["[9, 10]"]);
    // Another number of shards would split the walk anew: refused while this run is unfinished.
    let out = out
        .again()
        .args(&["--shards", "2", "walk"])
        .status(2)
        .stderr_contains("an unfinished run of this script with these arguments in 3 shards (2 of them finished) is kept in ")
        .stderr_contains(": run it again with --shards 3 to finish it, or pass --restart to start anew in 2 shards\n")
        .run();
    let app = out.again();
    std::fs::remove_file(app.path().join("fail")).unwrap();
    let out = app
        .args(&["--shards", "3", "walk"])
        .any_stdout()
        .stderr_contains("in 3 shards: all finished\n  shard 1/3  finished in an earlier run\n  shard 2/3  finished in an earlier run\n  shard 3/3  finished\n")
        .run();
    let shards = by_shard(&out.stdout);
    assert_eq!(shards.keys().collect::<Vec<_>>(), ["shard 3/3"]);
    assert_eq!(shards["shard 3/3"], ["[11, 12]"]);
    assert!(
        out.stderr
            .contains("[shard 3/3] batches: resuming after 2 items"),
        "{}",
        out.stderr
    );
    // Finished: the next run is a new one, every shard from its start.
    let out = out
        .again()
        .args(&["--shards", "3", "walk"])
        .any_stdout()
        .stderr_contains("all finished\n  shard 1/3  finished\n")
        .run();
    assert_eq!(by_shard(&out.stdout).len(), 3);
}

/// `--parallel P` runs P shards at a time: with one at a time, the shards' output never
/// interleaves.
#[test]
fn parallel_bounds_how_many_shards_run_at_once() {
    let out = Test::new()
        .script("walk", "batches(1..=6, 1, |b| { print(b); sleep(0.02); });")
        .args(&["--shards", "3", "--parallel", "1", "walk"])
        .any_stdout()
        .stderr_contains("all finished")
        .run();
    let labels: Vec<&str> = out
        .stdout
        .lines()
        .map(|l| l.split("] ").next().unwrap())
        .collect();
    let mut sorted = labels.clone();
    sorted.sort_unstable();
    assert_eq!(labels, sorted, "{}", out.stdout);
}

/// What `--shards` needs, and a worker's environment that does not fit, are errors that name
/// the flag or the variable.
#[test]
fn bad_shard_requests_name_what_is_wrong() {
    let rows: [(&[&str], Pairs, &str); 7] = [
        (
            &["--shards", "2", "asks"],
            &[],
            "each shard of a sharded run has no terminal to answer questions, and this code asks them:\n  scripts/asks.rhai:1: confirm()\npass --yes",
        ),
        (
            &["--shards", "2", "-e", "1"],
            &[],
            "the argument '--shards <N>' cannot be used with '--eval <CODE>'",
        ),
        (&["--shards", "0", "walk"], &[], "0 is not in 1..=1024"),
        (
            &["--shards", "2"],
            &[],
            "--shards N runs a script as N workers: name the script",
        ),
        (
            &["--parallel", "2", "walk"],
            &[],
            "--parallel N runs N hosts at once with -t, or N shards at once with --shards",
        ),
        (
            &["walk"],
            &[
                ("ADMINSH_SHARDS", "2"),
                ("ADMINSH_SHARD_INDEX", "2"),
                ("ADMINSH_SHARD_RUN", "r"),
            ],
            "ADMINSH_SHARD_INDEX=\"2\": a shard's index from 0 to 1",
        ),
        (
            &["walk"],
            &[("ADMINSH_SHARDS", "2"), ("ADMINSH_SHARD_INDEX", "0")],
            "ADMINSH_SHARD_RUN: the sharded run's id",
        ),
    ];
    for (args, env, message) in rows {
        let mut test = Test::new()
            .script("walk", "print(1)")
            .script("asks", "if confirm(\"go?\") { print(1) }")
            .args(args)
            .status(2)
            .stderr_contains(message);
        for (key, value) in env {
            test = test.env(key, *value);
        }
        test.run();
    }
}

/// A shard that leaves a process running with its output still open ends all the same: its
/// output is waited for a few seconds after it exits, not for as long as that process lives.
#[test]
fn a_process_a_shard_left_running_does_not_hold_the_run() {
    let app = Test::new().script(
        "walk",
        r#"batches(1..=2, 1, |b| print(b)); cmd("sh", ["-c", "sleep 613 &"]).run();"#,
    );
    let child = app.spawn(&["--shards", "2", "walk"]);
    let out = crate::support::processes::finish(child, "the sharded run to end");
    let _ = std::process::Command::new("pkill")
        .args(["-f", "sleep 613"])
        .status();
    let stderr = crate::support::text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("in 2 shards: all finished"), "{stderr}");
}

/// Each shard's audit start line names its shard and the sharded run it is one of.
#[test]
fn each_shards_audit_line_names_its_shard_and_run() {
    let out = Test::new()
        .script("walk", "batches(1..=2, 1, |b| 1);")
        .args(&["--shards", "2", "walk"])
        .any_stdout()
        .stderr_contains("all finished")
        .run();
    let audit = std::fs::read_to_string(out.path().join(".adminsh/audit.jsonl")).unwrap();
    let starts: Vec<serde_json::Value> = audit
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|l| l["event"] == "start")
        .collect();
    let mut shards: Vec<&str> = starts
        .iter()
        .map(|s| s["shard"].as_str().unwrap())
        .collect();
    shards.sort_unstable();
    assert_eq!(shards, ["1/2", "2/2"], "{audit}");
    let run = starts[0]["sharded_run"].as_str().unwrap();
    assert_eq!(run.len(), 32, "{audit}");
    assert_eq!(starts[1]["sharded_run"], run, "{audit}");
}

/// A shard's commands that still write a moment after it exits (here a second later) are
/// relayed, marked with the shard, while the run waits its few seconds for them.
#[test]
fn output_a_shard_leaves_behind_is_relayed_for_a_few_seconds() {
    let app = Test::new().script(
        "walk",
        // The pipe is held past the run's few seconds, then let go of without a trace.
        r#"cmd("sh", ["-c", "(sleep 1; echo late; exec sleep 8) &"]).run();"#,
    );
    let child = app.spawn(&["--shards", "2", "walk"]);
    let out = crate::support::processes::finish(child, "the sharded run to end");
    let (stdout, stderr) = (
        crate::support::text(&out.stdout),
        crate::support::text(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let shards = by_shard(&stdout);
    for label in ["shard 1/2", "shard 2/2"] {
        assert_eq!(
            shards.get(label).map(Vec::as_slice),
            Some(&["late".to_owned()][..]),
            "{stdout}"
        );
    }
}

/// SIGTERM sent to the coordinator alone (as a deploy or `kill` sends it) reaches every shard
/// running, and the run ends as interrupted rather than waiting for them.
#[test]
fn a_sigterm_to_the_sharded_run_stops_its_shards() {
    use crate::support::processes::{Signal, finish, signal};
    use crate::support::wait::wait_until;
    let app = Test::new().script(
        "walk",
        r#"write_file(`started-${shard().index}`, ""); batches(1..=1000, 1, |b| sleep(0.05));"#,
    );
    let child = app.spawn(&["--shards", "2", "walk"]);
    wait_until("both shards to start", || {
        (0..2).all(|i| app.path().join(format!("started-{i}")).exists())
    });
    signal(child.id(), Signal::Term);
    let out = finish(child, "the sharded run to end after SIGTERM");
    let stderr = crate::support::text(&out.stderr);
    assert_eq!(out.status.code(), Some(143), "{stderr}");
    assert!(
        stderr.contains("in 2 shards: interrupted\n  shard 1/2  interrupted (exit 143)\n  shard 2/2  interrupted (exit 143)\n"),
        "{stderr}"
    );
}

/// A dry run keeps no record of its shards: a failed one says nothing of running it again,
/// and the next run, dry or not, runs every shard.
#[test]
fn a_dry_run_of_shards_keeps_no_record() {
    let app = Test::new()
        .script(
            "walk",
            r#"batches(1..=4, 1, |b| { if exists("fail") && shard().index == 1 { throw "no" } print(b); });"#,
        )
        .file("fail", "");
    let out = app
        .args(&["--dry-run", "--shards", "2", "walk"])
        .status(1)
        .any_stdout()
        .stderr_contains(
            "in 2 shards: 1 did not finish\n  shard 1/2  finished\n  shard 2/2  failed (exit 1)\n",
        )
        .run();
    assert!(
        !out.stderr.contains("run the same command again"),
        "{}",
        out.stderr
    );
    let app = out.again();
    std::fs::remove_file(app.path().join("fail")).unwrap();
    let out = app
        .args(&["--shards", "2", "walk"])
        .any_stdout()
        .stderr_contains(
            "in 2 shards: all finished\n  shard 1/2  finished\n  shard 2/2  finished\n",
        )
        .run();
    assert_eq!(by_shard(&out.stdout).len(), 2);
}

/// A detached sharded run whose shard fails ends as failed, and says to run the same command
/// again rather than to resume it.
#[test]
fn a_detached_sharded_run_that_fails_is_not_paused() {
    use crate::detach::{detach, ended};
    let app = Test::new().script(
        "walk",
        r#"batches(1..=4, 1, |b| { if shard().index == 1 { throw "no" } print(b); });"#,
    );
    let id = detach(&app, &["--shards", "2", "walk"]);
    let record = ended(&app, &id);
    let log = crate::support::text(&app.output(&["--logs", &id]).stdout);
    assert_eq!(record["exit_code"].as_i64(), Some(1), "{log}");
    assert!(log.contains("in 2 shards: 1 did not finish\n"), "{log}");
    assert!(
        log.contains(
            "adminsh: run the same command again to go on with the shards that did not finish"
        ),
        "{log}"
    );
    assert!(!log.contains("adminsh: paused"), "{log}");
}

/// Each shard says which share of a walk it takes, and a dry run's estimate of the whole walk
/// is of that share: a range's items, a command's every Nth line, a CSV file's every Nth record.
#[test]
fn each_shard_says_its_share_and_a_dry_run_estimates_it() {
    let out = Test::new()
        .script("walk", "batches(1..=10, 1, |b| ());")
        .args(&["--dry-run", "--shards", "2", "walk"])
        .any_stdout()
        .stderr_contains("in 2 shards: all finished")
        .run();
    for said in [
        "[shard 1/2] batches: shard 1 of 2: items 1 to 5 of 10\n",
        "[shard 2/2] batches: shard 2 of 2: items 6 to 10 of 10\n",
    ] {
        assert!(out.stderr.contains(said), "{said:?} in {}", out.stderr);
    }
    // Each shard's estimate is of its own share, the second's as the first's.
    for shard in ["[shard 1/2] ", "[shard 2/2] "] {
        assert!(
            out.stderr.lines().any(|l| l.starts_with(&format!("{shard}batches: 3 items in 3 batches ("))
                && l.contains("; a dry run stops there, a real run goes on to the end: ~5 items in ~5 batches of 1")),
            "{shard} in {}",
            out.stderr
        );
    }
    let out = Test::new()
        .file("ids.csv", "id\n1\n2\n3\n")
        .script(
            "walk",
            r#"cmd("seq", ["3"]).batches(5, |b| ()); batches(csv_file("ids.csv"), 5, |b| ());"#,
        )
        .args(&["--shards", "3", "walk"])
        .any_stdout()
        .stderr_contains("in 3 shards: all finished")
        .run();
    for said in [
        "[shard 2/3] batches `seq 3`: shard 2 of 3: every 3rd line from line 2\n",
        "[shard 3/3] batches ids.csv: shard 3 of 3: every 3rd record from record 3\n",
    ] {
        assert!(out.stderr.contains(said), "{said:?} in {}", out.stderr);
    }
}
