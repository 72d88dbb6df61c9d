//! Detached runs (`--detach`, `--runs`, `--logs`, `--attach`, `--stop`) with real processes:
//! the run outlives the adminsh that started it, in a session of its own; its output, record
//! and exit code are in its run directory; following, stopping and listing read it; a run
//! killed with SIGKILL shows as lost and its steps resume; questions no one could answer and
//! a run directory that cannot be made stop it before it starts; a disk that fills up loses
//! output, never the run's exit code.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::remote;
use crate::support::processes::{Signal, alive, finish, signal};
use crate::support::sshd::{Client, Sshd, user};
use crate::support::tmpfs::Tmpfs;
use crate::support::tools::require;
use crate::support::wait::{poll, wait_for_text, wait_until};
use crate::support::{BIN, Test, text};

/// A script that prints on both streams, runs a command, waits until the file `go` exists,
/// and exits with the code in `code` (0 if there is none).
const WAITS: &str = r#"
print(`started with ${ARGS.len()} arguments`);
cmd("sh", ["-c", "echo from a command; echo to stderr >&2; echo $$ > command.pid; while [ ! -e go ]; do sleep 0.05; done"]).run();
print("after go");
if exists("code") {
    let code = read_file("code");
    code.trim();
    exit(parse_int(code));
}
"#;

fn app() -> Test {
    Test::new()
        .file(".env", "API_TOKEN=tok-5ecr3t-value\n")
        .script("waits", WAITS)
}

/// `adminsh --detach ARGS...`, which must start a run: its id.
#[track_caller]
pub(crate) fn detach(app: &Test, args: &[&str]) -> String {
    let mut all = vec!["--detach"];
    all.extend(args);
    let output = app.output(&all);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    let id = stdout.trim().to_owned();
    assert!(
        stderr.contains(&format!("adminsh: started run {id} (pid ")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("adminsh --attach {id}")),
        "{stderr}"
    );
    id
}

pub(crate) fn run_dir(app: &Test, id: &str) -> PathBuf {
    app.path().join(".adminsh/state/runs").join(id)
}

pub(crate) fn meta(app: &Test, id: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(run_dir(app, id).join("meta.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The run's pid, once it runs.
#[track_caller]
fn pid_of(app: &Test, id: &str) -> u32 {
    poll(format_args!("run {id} to record its pid"), || {
        let meta = meta(app, id);
        meta["pid"]
            .as_u64()
            .map(|pid| u32::try_from(pid).unwrap())
            .ok_or_else(|| meta.to_string())
    })
}

/// Waits for the run's end record and returns its record.
#[track_caller]
pub(crate) fn ended(app: &Test, id: &str) -> serde_json::Value {
    poll(format_args!("run {id} to end"), || {
        let meta = meta(app, id);
        if meta["exit_code"].is_null() {
            Err(meta.to_string())
        } else {
            Ok(meta)
        }
    })
}

/// The session and process group of a process, from /proc/PID/stat.
fn session_and_group(pid: u32) -> (u32, u32) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    (fields[3].parse().unwrap(), fields[2].parse().unwrap())
}

fn go(app: &Test) {
    std::fs::write(app.path().join("go"), "").unwrap();
}

/// Everything `--runs` says about one run: its row.
#[track_caller]
pub(crate) fn row(app: &Test, id: &str) -> String {
    let output = app.output(&["--runs"]);
    assert_eq!(output.status.code(), Some(0));
    let table = text(&output.stdout);
    assert!(table.starts_with("ID "), "{table}");
    table
        .lines()
        .find(|l| l.starts_with(id))
        .unwrap_or_else(|| panic!("no row for {id} in\n{table}"))
        .to_owned()
}

#[test]
fn a_detached_run_returns_at_once_and_its_directory_says_everything() {
    let app = app();
    std::fs::write(app.path().join("code"), "3").unwrap();
    let id = detach(&app, &["waits", "plain", "tok-5ecr3t-value"]);
    assert!(id.starts_with("waits-"), "{id}");
    let pid = pid_of(&app, &id);
    // adminsh returned while the run waits: a session and process group of its own, no
    // terminal, stdin /dev/null.
    assert!(alive(pid));
    assert_eq!(session_and_group(pid), (pid, pid));
    assert_eq!(
        std::fs::read_link(format!("/proc/{pid}/fd/0")).unwrap(),
        Path::new("/dev/null")
    );
    wait_for_text(&run_dir(&app, &id).join("output.log"), "to stderr");
    assert!(row(&app, &id).contains(&format!("running (pid {pid})")));
    go(&app);
    let output = app.output(&["--attach", &id]);
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(
        text(&output.stdout),
        "started with 2 arguments\nfrom a command\nto stderr\nafter go\n"
    );
    assert_eq!(text(&output.stderr), "");
    let meta = ended(&app, &id);
    assert_eq!(meta["exit_code"], 3);
    assert_eq!(meta["outcome"], "failed");
    assert_eq!(meta["script"], "scripts/waits.rhai");
    assert_eq!(meta["args"], serde_json::json!(["plain", "****"]));
    assert_eq!(meta["pid"], pid);
    for key in ["user", "host", "root", "stage", "started", "ended"] {
        assert!(meta[key].is_string(), "{key} in {meta}");
    }
    let row = row(&app, &id);
    assert!(row.contains("failed  3"), "{row}");
    assert!(row.contains("scripts/waits.rhai plain ****"), "{row}");
    // The logs as they were; the secret in the arguments was never written in clear.
    let logs = app.output(&["--logs", &id]);
    assert_eq!(text(&logs.stdout), text(&output.stdout));
    let record = std::fs::read_to_string(run_dir(&app, &id).join("meta.json")).unwrap();
    assert!(!record.contains("5ecr3t"), "{record}");
    // The audit log has the run's lines like any run's, marked with its id.
    let audit = std::fs::read_to_string(app.path().join(".adminsh/audit.jsonl")).unwrap();
    let start: serde_json::Value = serde_json::from_str(audit.lines().next().unwrap()).unwrap();
    assert_eq!(start["run"], id.as_str());
    assert!(!audit.contains("5ecr3t"));
    assert!(audit.lines().nth(1).unwrap().contains("\"exit_code\":3"));
}

#[test]
fn eval_runs_detached_too_and_a_finished_run_is_attached_to_at_once() {
    let app = app();
    let id = detach(&app, &["-e", "print(`hi ${ARGS[0]}`); exit(4)", "there"]);
    assert!(id.starts_with("eval-"), "{id}");
    ended(&app, &id);
    let output = app.output(&["--attach", &id]);
    assert_eq!(output.status.code(), Some(4));
    assert_eq!(text(&output.stdout), "hi there\n");
    assert_eq!(meta(&app, &id)["code"], "print(`hi ${ARGS[0]}`); exit(4)");
}

#[test]
fn stop_stops_it_as_ctrl_c_would_and_a_second_stop_says_it_is_over() {
    let app = app();
    let id = detach(&app, &["waits"]);
    let command = command_pid(&app);
    let output = app.output(&["--stop", &id]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("as Ctrl-C would"), "{stderr}");
    assert!(
        stderr.ends_with(&format!(
            "adminsh: run {id} stopped: interrupted, exit 130\n"
        )),
        "{stderr}"
    );
    wait_until("the run's command to stop", || !alive(command));
    let meta = meta(&app, &id);
    assert_eq!(
        (meta["exit_code"].as_i64(), meta["outcome"].as_str()),
        (Some(130), Some("interrupted"))
    );
    let logs = text(&app.output(&["--logs", &id]).stdout);
    assert!(logs.ends_with("adminsh: interrupted\n"), "{logs}");
    assert!(!logs.contains("after go"));
    let again = app.output(&["--stop", &id]);
    assert_eq!(again.status.code(), Some(0));
    let said = text(&again.stderr);
    assert!(
        said.contains(&format!("adminsh: run {id} already ended at ")),
        "{said}"
    );
    assert!(
        said.ends_with("(interrupted, exit 130): nothing to stop\n"),
        "{said}"
    );
    assert!(row(&app, &id).contains("interrupted  130"));
}

#[test]
fn ctrl_c_while_attached_leaves_the_run_running_and_two_can_follow_at_once() {
    let app = app();
    let id = detach(&app, &["waits"]);
    let output = run_dir(&app, &id).join("output.log");
    wait_for_text(&output, "to stderr");
    let mut first = app.spawn(&["--attach", &id]);
    let mut second = app.spawn(&["--attach", &id]);
    // Both are following (each has printed what was there) before one is interrupted.
    for follower in [&mut first, &mut second] {
        let mut out = BufReader::new(follower.stdout.take().unwrap());
        let mut line = String::new();
        while line != "to stderr\n" {
            line.clear();
            out.read_line(&mut line).unwrap();
        }
        follower.stdout = Some(out.into_inner());
    }
    signal(first.id(), Signal::Int);
    let interrupted = finish(first, "--attach to stop following");
    assert_eq!(interrupted.status.code(), Some(130));
    assert_eq!(
        text(&interrupted.stderr),
        format!(
            "adminsh: stopped following run {id}; it is still running: `adminsh --attach {id}` \
             follows it again, `adminsh --stop {id}` stops it\n"
        )
    );
    assert!(row(&app, &id).contains("running"));
    go(&app);
    let followed = finish(second, "the other --attach to see the end");
    assert_eq!(followed.status.code(), Some(0));
    assert_eq!(text(&followed.stdout), "after go\n");
    assert_eq!(ended(&app, &id)["outcome"], "succeeded");
}

#[test]
fn a_run_killed_with_sigkill_shows_as_lost_and_its_steps_resume() {
    let app = Test::new().script(
        "steps",
        r#"
        step("one", || cmd("sh", ["-c", "echo one >> done.txt"]).run());
        step("two", || {
            cmd("sh", ["-c", "echo $$ > command.pid; echo two >> started.txt; while [ ! -e go ]; do sleep 0.05; done"]).run();
        });
        print("all done");
        "#,
    );
    let id = detach(&app, &["steps"]);
    let pid = pid_of(&app, &id);
    wait_for_text(&app.path().join("started.txt"), "two");
    signal(pid, Signal::Kill);
    wait_until("the run to be gone", || !alive(pid));
    let row = row(&app, &id);
    assert!(row.contains(" lost "), "{row}");
    let attached = app.output(&["--attach", &id]);
    assert_eq!(attached.status.code(), Some(1));
    let said = text(&attached.stderr);
    assert!(
        said.contains(&format!(
            "run {id} was lost: its process (pid {pid}) ended without recording how"
        )),
        "{said}"
    );
    // Its command still runs, and a re-run would resume beside it: said, with the way out.
    assert!(
        said.contains(" it started still run")
            && said.contains(&format!("`--stop {id}` stops "))
            && said.contains("before the script runs again"),
        "{said}"
    );
    // Its command lives on, orphaned, in the run's session: `--stop` ends it, and then there
    // is nothing left to stop.
    let command = command_pid(&app);
    assert!(alive(command));
    let stopped = app.output(&["--stop", &id]);
    assert_eq!(stopped.status.code(), Some(0));
    let said = text(&stopped.stderr);
    assert!(
        said.starts_with(&format!("adminsh: run {id} was lost, but "))
            && said.contains(&format!("{command}"))
            && said.contains(" still ran: stopped "),
        "{said}"
    );
    wait_until("the orphaned command to be gone", || !alive(command));
    let stopped = app.output(&["--stop", &id]);
    assert_eq!(stopped.status.code(), Some(0));
    assert!(text(&stopped.stderr).starts_with("adminsh: nothing to stop: run "));
    // The lock went with the process; the checkpoint stayed: a re-run resumes at step two.
    go(&app);
    app.command()
        .arg("steps")
        .stdin(Stdio::null())
        .output()
        .map(|o| {
            assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
            assert!(text(&o.stderr).contains("step 1: one: completed in an earlier run"));
            assert_eq!(text(&o.stdout), "all done\n");
        })
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(app.path().join("done.txt")).unwrap(),
        "one\n"
    );
}

#[test]
fn questions_no_one_could_answer_are_refused_before_it_detaches() {
    let app = Test::new()
        .script("lib/ui", "fn sure() { confirm(\"really?\") }\n")
        .script(
            "asks",
            "import \"lib/ui\" as ui;\n// ask() in a comment is no question\nif ui::sure() {\n    print(ask(\"how many?\", \"3\"));\n}\n",
        );
    let output = app.output(&["--detach", "asks"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        text(&output.stderr),
        "adminsh: a detached run has no terminal to answer questions, and this code asks them:\n  \
         scripts/lib/ui.rhai:1: confirm()\n  scripts/asks.rhai:4: ask()\n\
         pass --yes to answer yes to confirm() and take ask()'s defaults, or run it attached\n"
    );
    assert!(!app.path().join(".adminsh/state/runs").exists());
    let id = detach(&app, &["--yes", "asks"]);
    ended(&app, &id);
    let logs = text(&app.output(&["--logs", &id]).stdout);
    assert!(logs.ends_with("3\n"), "{logs}");
}

#[test]
fn what_stops_a_run_before_it_starts_is_said_there_and_leaves_no_run() {
    let app = app().script(
        "typed",
        "//! Typed.\n//! @param count: int  how many\nprint(PARAMS.count);\n",
    );
    let runs = app.path().join(".adminsh/state/runs");
    // Parameters are checked here.
    let output = app.output(&["--detach", "typed", "x"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    // `--help` is answered here.
    let output = app.output(&["--detach", "typed", "--help"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(text(&output.stdout).contains("how many"));
    // The script's lock, held by a run in the foreground: the detached process says so.
    let foreground = app.spawn(&["waits"]);
    crate::support::wait::wait_for_path(&app.path().join("command.pid"));
    let output = app.output(&["--detach", "waits"]);
    assert_eq!(output.status.code(), Some(1));
    let said = text(&output.stderr);
    assert!(
        said.starts_with("adminsh: scripts/waits.rhai is already running: "),
        "{said}"
    );
    assert!(said.ends_with("; pass --wait to wait for it\n"), "{said}");
    assert_eq!(text(&output.stdout), "");
    assert_eq!(std::fs::read_dir(&runs).unwrap().count(), 0);
    // With --wait, the run has started once it waits for the lock: --detach returns.
    let output = app.output(&["--detach", "--wait", "waits"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let said = text(&output.stderr);
    assert!(
        said.contains("; waiting\nadminsh: started run waits-"),
        "{said}"
    );
    let id = text(&output.stdout).trim().to_owned();
    go(&app);
    finish(foreground, "the foreground run");
    assert_eq!(ended(&app, &id)["outcome"], "succeeded");
    // A console cannot run detached; --json has nothing to report.
    let output = app.output(&["--detach"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("--detach runs a script or -e CODE"));
    assert_eq!(
        app.output(&["--detach", "--json", "waits"]).status.code(),
        Some(2)
    );
}

#[test]
fn a_run_directory_that_cannot_be_made_is_an_error_before_anything_runs() {
    let app = app().file(
        ".adminsh/state/runs",
        "a file where the run directories go\n",
    );
    let output = app.output(&["--detach", "waits"]);
    assert_eq!(output.status.code(), Some(1));
    let said = text(&output.stderr);
    assert!(
        said.starts_with("adminsh: cannot create the run directory "),
        "{said}"
    );
    assert!(!app.path().join("command.pid").exists());
}

/// A run that writes more than its disk holds; with an argument, after the file `go` exists.
const NOISY: &str = r#"
print("started");
if ARGS.len() > 0 { while !exists("go") { sleep(0.05); } }
for i in 0..20000 { print(`line ${i} of a run that fills its disk`); }
exit(3);
"#;

/// The disk under the run directory fills up, by the run's own output or by something else
/// while it runs: the output that did not fit is lost and counted, and the run still ends,
/// records its exit code and shows as failed.
#[test]
fn a_disk_that_fills_up_loses_output_never_the_runs_end() {
    require!(Tmpfs);
    for filled_by in ["the run", "another file"] {
        let disk = Tmpfs::mount("256k");
        let (app, state) = on_disk(&disk);
        let id = if filled_by == "the run" {
            detach(&app, &["noisy"])
        } else {
            let id = detach(&app, &["noisy", "wait"]);
            let run = state.join("runs").join(&id);
            wait_for_text(&run.join("output.log"), "started");
            disk.fill();
            go(&app);
            id
        };
        let run = state.join("runs").join(&id);
        let meta: serde_json::Value = poll(format_args!("{filled_by}: run {id} to end"), || {
            let text = std::fs::read_to_string(run.join("meta.json")).map_err(|e| e.to_string())?;
            let meta: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
            if meta["exit_code"].is_null() {
                Err(text)
            } else {
                Ok(meta)
            }
        });
        assert_eq!(meta["exit_code"], 3, "{filled_by}: {meta}");
        assert_eq!(meta["outcome"], "failed", "{filled_by}: {meta}");
        assert!(
            meta["output_lost"].as_u64().unwrap_or(0) > 0,
            "{filled_by}: {meta}"
        );
        assert!(
            meta["output_error"]
                .as_str()
                .unwrap()
                .contains("No space left on device"),
            "{filled_by}: {meta}"
        );
        assert!(!run.join("reserve").exists(), "{filled_by}");
        let listed = app.output(&["--runs"]);
        let row = text(&listed.stdout)
            .lines()
            .find(|line| line.starts_with(&id))
            .map(str::to_owned);
        assert!(
            row.as_deref()
                .is_some_and(|row| row.contains("failed") && row.contains(" 3 ")),
            "{filled_by}: {row:?}"
        );
        let logs = app.output(&["--logs", &id]);
        let (out, err) = (text(&logs.stdout), text(&logs.stderr));
        assert!(out.starts_with("started\n"), "{filled_by}: {out}");
        assert!(
            err.contains("could not be written") && err.contains("No space left on device"),
            "{filled_by}: {err}"
        );
    }
    // Full before it starts: said there, and no run is left behind.
    let disk = Tmpfs::mount("256k");
    let (app, state) = on_disk(&disk);
    std::fs::create_dir_all(state.join("runs")).unwrap();
    disk.fill();
    let refused = app.output(&["--detach", "noisy"]);
    let said = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{said}");
    assert!(said.contains("No space left on device"), "{said}");
    assert_eq!(std::fs::read_dir(state.join("runs")).unwrap().count(), 0);
}

/// The app with its state directory on `disk`, and that directory.
fn on_disk(disk: &Tmpfs) -> (Test, PathBuf) {
    let state = disk.path().join("state");
    let app = app()
        .file(
            "adminsh.toml",
            &format!(
                "name = \"shop\"\nstate_dir = {:?}\n",
                state.display().to_string()
            ),
        )
        .script("noisy", NOISY);
    (app, state)
}

#[test]
fn unknown_ids_are_usage_errors_naming_close_ones_and_a_prefix_is_enough() {
    let app = app();
    let output = app.output(&["--logs", "nope"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).starts_with("adminsh: no run `nope`: there are no detached runs in "),
        "{}",
        text(&output.stderr)
    );
    let id = detach(&app, &["-e", "print(1)"]);
    ended(&app, &id);
    let typo = id.replacen("eval", "evla", 1);
    let output = app.output(&["--attach", &typo]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).ends_with(&format!("\n  did you mean `{id}`?\n")),
        "{}",
        text(&output.stderr)
    );
    let output = app.output(&["--logs", "eval-"]);
    assert_eq!(text(&output.stdout), "1\n");
    assert_eq!(app.output(&["--runs", "x"]).status.code(), Some(2));
    let empty = Test::new();
    let output = empty.output(&["--runs"]);
    assert!(text(&output.stdout).starts_with("no detached runs yet in "));
}

#[test]
fn the_log_is_rotated_at_its_cap_and_keeps_the_newest_output() {
    let app = Test::new()
        .file("adminsh.toml", "run_log_limit = 2000\n")
        .script(
            "chatty",
            &format!(
                "for i in 0..200 {{ print(`line ${{i}} {}`); }}\n",
                "x".repeat(60)
            ),
        );
    let id = detach(&app, &["chatty"]);
    assert_eq!(ended(&app, &id)["outcome"], "succeeded");
    let dir = run_dir(&app, &id);
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    let (older, newer) = (read("output.log.1"), read("output.log"));
    let line = |i: usize| format!("line {i} {}\n", "x".repeat(60));
    // Each file holds whole lines and at most the cap; the older one was rotated only when
    // the next line would not fit in it.
    assert!(newer.len() <= 2000, "output.log: {} bytes", newer.len());
    assert!(
        older.len() <= 2000 && older.len() + line(199).len() > 2000,
        "output.log.1: {} bytes",
        older.len()
    );
    // Together they are the run's last lines, whole and in order, up to the very last.
    let all: String = (0..200).map(line).collect();
    let kept = format!("{older}{newer}");
    assert!(
        all.ends_with(&kept) && kept.starts_with("line ") && all.len() > kept.len(),
        "the two logs are not the run's last whole lines:\n{kept}"
    );
    let logs = text(&app.output(&["--logs", &id]).stdout);
    assert!(
        logs.ends_with(&format!("line 199 {}\n", "x".repeat(60))),
        "{logs}"
    );
    assert!(!logs.starts_with("line 0 "));
    let attached = text(&app.output(&["--attach", &id]).stdout);
    assert_eq!(attached, logs);
}

// Through a target (`-t`), over a real sshd on 127.0.0.1 (see remote.rs).

/// The remote release with `waits`, and the local app whose target `production` reaches it.
fn remote_app() -> (Client, Sshd, Test, Test) {
    let (client, sshd, remote) = remote::setup();
    let remote = remote.script("waits", WAITS);
    let app = remote::local(&client, &sshd, &remote, "");
    (client, sshd, remote, app)
}

#[test]
fn a_detached_run_on_a_target_outlives_the_connection_and_is_followed_through_it() {
    require!(Ssh, Sshd);
    let (_client, _sshd, remote, app) = remote_app();
    std::fs::write(remote.path().join("code"), "3").unwrap();
    // --detach returns once the run has started, and the ssh connection closes with it.
    let output = app.output(&["-t", "production", "--detach", "waits", "a"]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let id = stdout.trim().to_owned();
    let announce = remote::announce("production", &remote, "development");
    assert!(
        stderr.starts_with(&format!("{announce}adminsh: started run {id} (pid ")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "\n  adminsh -t production --attach {id}  # follow"
        )),
        "{stderr}"
    );
    let pid = pid_of(&remote, &id);
    assert_eq!(session_and_group(pid).0, pid);
    wait_for_text(&run_dir(&remote, &id).join("output.log"), "to stderr");
    assert!(
        alive(pid),
        "the run ended with the connection that started it"
    );
    let runs = text(&app.output(&["-t", "production", "--runs"]).stdout);
    assert!(runs.contains(&format!("running (pid {pid})")), "{runs}");
    // Following it, then the connection cut (Ctrl-C here ends the ssh client): the run goes on.
    let mut following = app.spawn(&["-t", "production", "--attach", &id]);
    let mut out = BufReader::new(following.stdout.take().unwrap());
    let mut line = String::new();
    while line != "to stderr\n" {
        line.clear();
        out.read_line(&mut line).unwrap();
    }
    following.stdout = Some(out.into_inner());
    signal(following.id(), Signal::Int);
    let cut = finish(following, "--attach through ssh to stop following");
    assert_eq!(cut.status.code(), Some(130));
    assert!(
        text(&cut.stderr).ends_with(&format!(
            "adminsh: stopped following run {id}; it is still running: `adminsh -t production \
             --attach {id}` follows it again, `adminsh -t production --stop {id}` stops it\n"
        )),
        "{}",
        text(&cut.stderr)
    );
    assert!(alive(pid));
    go(&remote);
    assert_eq!(ended(&remote, &id)["exit_code"], 3);
    // Its log and exit code are there, through the target as here.
    let expected = "started with 1 arguments\nfrom a command\nto stderr\nafter go\n";
    let logs = app.output(&["-t", "production", "--logs", &id]);
    assert_eq!(text(&logs.stdout), expected);
    let attached = app.output(&["-t", "production", "--attach", &id]);
    assert_eq!(attached.status.code(), Some(3));
    assert_eq!(text(&attached.stdout), expected);
    assert_eq!(text(&attached.stderr), announce);
    let runs = text(&app.output(&["-t", "production", "--runs"]).stdout);
    assert!(runs.contains(&format!("{id}  failed  3 ")), "{runs}");
}

#[test]
fn stop_works_through_a_target() {
    require!(Ssh, Sshd);
    let (_client, _sshd, remote, app) = remote_app();
    let output = app.output(&["-t", "production", "--detach", "waits"]);
    let id = text(&output.stdout).trim().to_owned();
    let command: u32 = crate::support::wait::wait_for_file(&remote.path().join("command.pid"))
        .parse()
        .unwrap();
    let stopped = app.output(&["-t", "production", "--stop", &id]);
    assert_eq!(stopped.status.code(), Some(0));
    assert!(
        text(&stopped.stderr).ends_with(&format!(
            "adminsh: run {id} stopped: interrupted, exit 130\n"
        )),
        "{}",
        text(&stopped.stderr)
    );
    wait_until("the run's command to stop", || !alive(command));
    let unknown = app.output(&["-t", "production", "--logs", "waitz"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(text(&unknown.stderr).contains(&format!("did you mean `{id}`?")));
}

#[test]
fn an_adminsh_on_the_target_from_before_detached_runs_is_named_as_such() {
    require!(Ssh, Sshd);
    let (client, sshd, remote) = remote::setup();
    // What an adminsh without --detach answers: its start line, then clap's refusal.
    let remote = remote.executable(
        "old-adminsh",
        "#!/bin/sh\necho 'adminsh-remote: started' >&2\necho \"error: unexpected argument '--detach' found\" >&2\nexit 2\n",
    );
    let manifest = remote::target("production", &client, sshd.port, &remote, "").replace(
        &format!("adminsh = \"{BIN}\""),
        &format!(
            "adminsh = \"{}\"",
            remote.path().join("old-adminsh").display()
        ),
    );
    let app = Test::new().file("adminsh.toml", &manifest);
    let output = app.output(&["-t", "production", "--detach", "hello"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        text(&output.stderr),
        format!(
            "error: unexpected argument '--detach' found\nadminsh: the adminsh on target \
             `production` ({}@127.0.0.1:{}) does not know `--detach`: it is older than this one; \
             update it there\n",
            user(),
            sshd.port
        )
    );
}

#[test]
fn a_run_that_does_not_stop_within_the_grace_is_killed_and_recorded_as_such() {
    let app = app();
    let id = detach(&app, &["waits"]);
    let pid = pid_of(&app, &id);
    wait_for_text(&run_dir(&app, &id).join("output.log"), "to stderr");
    // Stopped, the run's adminsh cannot act on SIGINT; SIGKILL still ends it.
    signal_stop(pid);
    let command = command_pid(&app);
    let output = app.output(&["--stop", &id]);
    assert_eq!(output.status.code(), Some(0));
    let said = text(&output.stderr);
    assert!(
        said.contains(&format!(
            "adminsh: run {id} is still running after 10s: killing it\n"
        )),
        "{said}"
    );
    // Its command leads a group of its own that only the stopped adminsh could have signalled:
    // found in the run's session and killed too.
    assert!(
        said.contains(&format!("adminsh: run {id} left ")) && said.contains(&format!("{command}")),
        "{said}"
    );
    assert!(!alive(command));
    assert!(
        said.ends_with(&format!("adminsh: run {id} stopped: killed, exit 137\n")),
        "{said}"
    );
    assert!(!alive(pid));
    let meta = meta(&app, &id);
    assert_eq!(
        (meta["exit_code"].as_i64(), meta["outcome"].as_str()),
        (Some(137), Some("killed"))
    );
    assert!(row(&app, &id).contains("killed  137"));
    let attached = app.output(&["--attach", &id]);
    assert_eq!(attached.status.code(), Some(137));
}

/// The pid of the run's command, which wrote it to `command.pid`.
#[track_caller]
fn command_pid(app: &Test) -> u32 {
    crate::support::wait::wait_for_file(&app.path().join("command.pid"))
        .parse()
        .unwrap()
}

/// SIGSTOP: the process stops until SIGCONT, signals other than SIGKILL pending.
fn signal_stop(pid: u32) {
    let pid = libc::pid_t::try_from(pid).unwrap();
    assert!(pid > 1);
    // SAFETY: kill(2) with plain integers, on a run this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0);
}

/// A detached run's files keep its secrets as the audit log does, masked by value and by
/// name, and are its user's alone: the directories 0700, the files 0600.
#[test]
fn a_runs_files_mask_secret_arguments_and_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let app = Test::new().script("args", "print(ARGS.len());\n");
    let secrets = ["hunter2-pass-value", "tok-5ecr3t-value", "n3w-pass-value"];
    let id = detach(
        &app,
        &[
            "args",
            "--password=hunter2-pass-value",
            "--api-token",
            "tok-5ecr3t-value",
            "--new-password",
            "n3w-pass-value",
            "plain",
        ],
    );
    assert_eq!(ended(&app, &id)["outcome"], "succeeded");
    let dir = run_dir(&app, &id);
    let meta = std::fs::read_to_string(dir.join("meta.json")).unwrap();
    let runs = text(&app.output(&["--runs"]).stdout);
    for secret in secrets {
        assert!(!meta.contains(secret), "meta.json keeps {secret}:\n{meta}");
        assert!(!runs.contains(secret), "--runs shows {secret}:\n{runs}");
    }
    assert!(meta.contains("\"plain\""), "{meta}");
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(dir.parent().unwrap()), 0o700);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
}

/// How a forged run directory tries to get `--stop` to signal a stranger.
#[derive(Clone, Copy, Debug)]
enum Forgery {
    /// `lock` a symlink to a file the stranger holds; `meta.json` names the stranger.
    LockLinkedToTheStrangers,
    /// `lock` the run's own file, held by a helper; the stranger leads a session of its own.
    LockHeldByAnother,
    /// As above, but the stranger does not lead a session (only a process group).
    NotASessionLeader,
    /// The stranger leads a session and holds the run's lock, but started before the run
    /// (its record's start moved into the future).
    StartedBeforeTheRun,
}

/// A forged run directory never gets a process signalled that `--stop` cannot prove is the
/// run's adminsh: the leader of its own session, started no earlier than the run, holding the
/// run's lock file (never through a link). Each row forges one of these; the stranger lives.
#[test]
fn stop_never_signals_a_process_a_forged_run_names() {
    use std::os::unix::process::CommandExt;
    let rows = [
        (
            Forgery::LockLinkedToTheStrangers,
            "does not hold the run's lock",
        ),
        (Forgery::LockHeldByAnother, "does not hold the run's lock"),
        (
            Forgery::NotASessionLeader,
            "does not lead a session of its own",
        ),
        (Forgery::StartedBeforeTheRun, "started before the run"),
    ];
    for (forgery, why) in rows {
        let app = Test::new().script("args", "print(ARGS.len());\n");
        let id = detach(&app, &["args"]);
        assert_eq!(ended(&app, &id)["outcome"], "succeeded");
        let dir = run_dir(&app, &id);
        let lock = dir.join("lock");
        let outside = app.path().join("held");
        let held = match forgery {
            Forgery::LockLinkedToTheStrangers => &outside,
            _ => &lock,
        };
        // The stranger holds `held` (flock, then its sleep); the helper, when there is one.
        let (stranger_holds, helper_holds) = match forgery {
            Forgery::LockLinkedToTheStrangers | Forgery::StartedBeforeTheRun => (true, false),
            Forgery::LockHeldByAnother | Forgery::NotASessionLeader => (false, true),
        };
        let spawn = |holds: bool, session: bool| {
            let mut command = if holds {
                let mut c = std::process::Command::new("flock");
                c.arg(held).args(["sleep", "600"]);
                c
            } else {
                let mut c = std::process::Command::new("sleep");
                c.arg("600");
                c
            };
            if session {
                // SAFETY: setsid in the child before exec, nothing else.
                unsafe {
                    command.pre_exec(|| {
                        libc::setsid();
                        Ok(())
                    });
                }
            } else {
                command.process_group(0);
            }
            command.spawn().unwrap()
        };
        let session = !matches!(forgery, Forgery::NotASessionLeader);
        let stranger = spawn(stranger_holds, session);
        let helper = helper_holds.then(|| spawn(true, false));
        crate::support::wait::wait_until("the lock to be held", || {
            std::fs::File::open(held).is_ok_and(|f| {
                matches!(f.try_lock_shared(), Err(std::fs::TryLockError::WouldBlock))
            })
        });
        let mut meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap();
        meta["pid"] = serde_json::json!(stranger.id());
        for key in ["ended", "exit_code", "outcome"] {
            meta[key] = serde_json::Value::Null;
        }
        if matches!(forgery, Forgery::StartedBeforeTheRun) {
            meta["started"] = serde_json::json!("2099-01-01T00:00:00Z");
        }
        std::fs::write(dir.join("meta.json"), meta.to_string()).unwrap();
        if matches!(forgery, Forgery::LockLinkedToTheStrangers) {
            std::fs::remove_file(&lock).unwrap();
            std::os::unix::fs::symlink(&outside, &lock).unwrap();
        }
        let stopped = app.output(&["--stop", &id]);
        let stderr = text(&stopped.stderr);
        let pid = stranger.id();
        let is_alive = alive(pid);
        // The stranger and its sleep, and the helper: whole groups, so nothing holds a pipe.
        for mut child in [Some(stranger), helper].into_iter().flatten() {
            crate::support::processes::signal_group(child.id(), Signal::Kill);
            let _ = child.wait();
        }
        assert!(
            is_alive,
            "{forgery:?}: --stop signalled the stranger: {stderr}"
        );
        // A lock that is a link is not the run's lock at all: the run shows as lost.
        if !matches!(forgery, Forgery::LockLinkedToTheStrangers) {
            assert_eq!(stopped.status.code(), Some(1), "{forgery:?}: {stderr}");
            assert!(
                stderr.contains(&format!(
                    "not stopped, its process cannot be proven to be the run: process {pid} {why}"
                )),
                "{forgery:?}: {stderr}"
            );
        }
    }
}
