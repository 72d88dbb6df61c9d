//! Pausing and resuming a detached backfill (`--pause`, `--resume`) over a real `SQLite` file:
//! the run finishes the batch it is in, saves its cursor and ends as paused (exit 148);
//! `--runs` and the audit log say so; `--resume` starts the same command line again, secrets
//! included though no record shows them, and the walk goes on after the last batch, every row
//! done once. Here and through a target over a real sshd.

use std::path::Path;

use crate::detach::{detach, ended, meta, row, run_dir};
use crate::remote;
use crate::support::tools::require;
use crate::support::wait::{wait_for_path, wait_until};
use crate::support::{Test, text};

/// Rows in the table the backfill walks.
const ROWS: usize = 1000;

/// A backfill of `items` in batches of 10. The batch starting at id 301 holds while the file
/// `hold` exists, having written `at-301`: a test knows where the walk is without timing it.
/// The API token (secret by its name) is written where the test can check that a resumed run
/// got it as given.
const BACKFILL: &str = r#"//! Marks every item done, a batch at a time.
//!
//! @param api_token: string  The API to tell
import "std/db" as db;
write_file("token.seen", PARAMS.api_token);
step("backfill", || {
    db::batches(#{table: "items", size: 10}, |rows| {
        for r in rows { db::exec("update items set done = done + 1 where id = $1", [r.id]); }
        db::exec("insert into seen (first) values ($1)", [rows[0].id]);
        if rows[0].id == 301 {
            write_file("at-301", "");
            while exists("hold") { sleep(0.02); }
        }
    });
});
print(`done: ${db::scalar("select count(*) from items where done = 1")}`);
"#;

const SECRET: &str = "tok-5ecr3t-value";

/// The app: `items` with [`ROWS`] rows to do, `seen` for the first id of each batch.
pub(crate) fn app() -> Test {
    let app = Test::new()
        .file(".env", "DATABASE_URL=sqlite:///app.db?mode=rwc\n")
        .script("backfill", BACKFILL);
    let create = format!(
        "db::exec(\"create table items (id integer primary key, done integer not null default 0)\"); \
         db::exec(\"create table seen (first integer not null)\"); \
         db::exec(\"with recursive n(i) as (select 1 union all select i + 1 from n where i < {ROWS}) \
         insert into items (id) select i from n\");"
    );
    app.args(&["-e", &create]).any_stdout().run().again()
}

fn scalar(app: &Test, sql: &str) -> String {
    let output = app.output(&["-e", &format!("db::scalar(\"{sql}\")")]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    text(&output.stdout).trim().to_owned()
}

/// Every file under `dir`, read, with what it holds.
fn files_under(dir: &Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            let bytes = std::fs::read(&path).unwrap_or_default();
            found.push((
                path.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
    }
    found
}

/// A backfill paused in the middle of a batch finishes that batch and ends as paused; `--runs`,
/// its record and the audit log say so; resumed, it goes on after that batch, and every row is
/// done exactly once. The secret in its arguments reaches the resumed run and no record.
#[test]
fn a_paused_backfill_resumes_after_its_last_batch_and_does_every_row_once() {
    let app = app();
    std::fs::write(app.path().join("hold"), "").unwrap();
    let id = detach(&app, &["backfill", "--api-token", SECRET]);
    let dir = run_dir(&app, &id);
    wait_for_path(&app.path().join("at-301"));
    // The run says how far its walk is (at most every second, so not always the last batch).
    let progress: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("progress.json")).unwrap()).unwrap();
    assert_eq!(progress["walk"], "db::batches items");
    assert_eq!(progress["total"], ROWS);
    assert_eq!(progress["walking"], true);
    let done = progress["done"].as_u64().unwrap();
    assert!(
        (10..=300).contains(&done) && done.is_multiple_of(10),
        "{progress}"
    );
    // Asked to pause in the middle of a batch: --pause waits for the batch to end.
    let pausing = app.spawn(&["--pause", &id]);
    wait_for_path(&dir.join("pause"));
    assert!(
        row(&app, &id).contains("pausing (pid "),
        "{}",
        row(&app, &id)
    );
    std::fs::remove_file(app.path().join("hold")).unwrap();
    let paused = crate::support::processes::finish(pausing, "--pause to see the run pause");
    assert_eq!(paused.status.code(), Some(0));
    let said = text(&paused.stderr);
    assert!(
        said.starts_with(&format!(
            "adminsh: asked run {id} to pause: it finishes the batch it is in (db::batches items: "
        )) && said.ends_with(&format!(
            " rows done so far), saves its cursor and ends...\nadminsh: run {id} paused after \
             310 rows of db::batches items: `adminsh --resume {id}` goes on from there\n"
        )),
        "{said}"
    );
    let record = ended(&app, &id);
    assert_eq!(
        (record["outcome"].as_str(), record["exit_code"].as_i64()),
        (Some("paused"), Some(148))
    );
    assert!(row(&app, &id).contains("paused  148"), "{}", row(&app, &id));
    let attached = app.output(&["--attach", &id]);
    assert_eq!(attached.status.code(), Some(148));
    let log = text(&attached.stdout);
    assert!(
        log.contains("adminsh: paused at the end of batch 31 of db::batches items (310 rows), as ")
            && log.contains(&format!(
                " asked: `adminsh --resume {id}` goes on after it\n"
            )),
        "{log}"
    );
    assert!(log.contains("step 1: backfill: paused after "), "{log}");
    assert_eq!(
        scalar(&app, "select count(*) from items where done = 1"),
        "310"
    );
    let audit = std::fs::read_to_string(app.path().join(".adminsh/audit.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let start = lines.iter().find(|l| l["run"] == id.as_str()).unwrap();
    let finish = lines
        .iter()
        .find(|l| l["event"] == "finish" && l["id"] == start["id"])
        .unwrap();
    assert_eq!(
        (finish["outcome"].as_str(), finish["exit_code"].as_i64()),
        (Some("paused"), Some(148))
    );
    assert_eq!(finish["steps"][0]["outcome"], "paused");
    // The command line it keeps to be resumed is its user's alone.
    let kept = dir.join("resume");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&kept).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    std::fs::remove_file(app.path().join("token.seen")).unwrap();

    let resumed = app.output(&["--resume", &id]);
    let stderr = text(&resumed.stderr);
    assert_eq!(resumed.status.code(), Some(0), "{stderr}");
    let new = text(&resumed.stdout).trim().to_owned();
    assert!(
        stderr.starts_with(&format!(
            "adminsh: resuming run {id}\nadminsh: started run {new} (pid "
        )),
        "{stderr}"
    );
    let record = ended(&app, &new);
    assert_eq!(record["outcome"], "succeeded", "{record}");
    assert_eq!(record["resumes"], id.as_str());
    assert_eq!(meta(&app, &id)["resumed_as"], new.as_str());
    let log = text(&app.output(&["--logs", &new]).stdout);
    assert!(
        log.contains("db::batches items: resuming after id = 310 (where an earlier run stopped)"),
        "{log}"
    );
    assert!(log.contains(&format!("done: {ROWS}\n")), "{log}");
    assert_eq!(
        std::fs::read_to_string(app.path().join("token.seen")).unwrap(),
        SECRET
    );
    // Every row once, every batch once.
    assert_eq!(
        scalar(&app, "select count(*) from items where done = 1"),
        ROWS.to_string()
    );
    assert_eq!(
        scalar(&app, "select count(*) from items where done <> 1"),
        "0"
    );
    assert_eq!(scalar(&app, "select count(*) from seen"), "100");
    assert_eq!(
        scalar(&app, "select count(distinct first) from seen"),
        "100"
    );
    assert!(
        row(&app, &id).contains(&format!("paused, resumed as {new}  148")),
        "{}",
        row(&app, &id)
    );
    let new_row = row(&app, &new);
    let fields: Vec<&str> = new_row.split_whitespace().collect();
    assert_eq!(fields[1..3], ["succeeded", "0"], "{new_row}");
    // Resumed once: a second --resume says where it went.
    let again = app.output(&["--resume", &id]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        text(&again.stderr).contains(&format!("was resumed already, as run {new}")),
        "{}",
        text(&again.stderr)
    );
    // Nothing kept shows the secret: the commands lines kept for resuming went with the runs.
    for (path, content) in files_under(&app.path().join(".adminsh")) {
        assert!(
            !content.contains(SECRET),
            "{path} holds the secret:\n{content}"
        );
    }
    let runs = text(&app.output(&["--runs"]).stdout);
    assert!(!runs.contains(SECRET), "{runs}");
}

/// A run asked to pause while it is not in a walk hears so, and pauses at the end of the
/// first batch it walks; a run over is not paused, and only a paused run is resumed.
#[test]
fn a_run_outside_a_walk_pauses_at_its_next_batch_and_only_a_paused_run_resumes() {
    let app = app().script(
        "later",
        r#"import "std/db" as db;
        step("wait", || { write_file("waiting", ""); while !exists("go") { sleep(0.02); } });
        step("walk", || db::batches(#{table: "items", size: 100}, |rows| {
            for r in rows { db::exec("update items set done = done + 1 where id = $1", [r.id]); }
        }));
        "#,
    );
    let id = detach(&app, &["later"]);
    wait_for_path(&app.path().join("waiting"));
    let asked = app.output(&["--pause", &id]);
    assert_eq!(asked.status.code(), Some(0));
    assert_eq!(
        text(&asked.stderr),
        format!(
            "adminsh: asked run {id} to pause; it is not in a batch walk now, so it pauses at \
             the end of the next batch it walks (`db::batches`, `batches`); a run that walks none \
             goes on to its end (`--stop` stops it)\n"
        )
    );
    let refused = app.output(&["--resume", &id]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stderr).contains("is running: there is nothing to resume"));
    std::fs::write(app.path().join("go"), "").unwrap();
    assert_eq!(ended(&app, &id)["outcome"], "paused");
    assert_eq!(
        scalar(&app, "select count(*) from items where done = 1"),
        "100"
    );
    let new = text(&app.output(&["--resume", &id]).stdout)
        .trim()
        .to_owned();
    assert_eq!(ended(&app, &new)["outcome"], "succeeded");
    let log = text(&app.output(&["--logs", &new]).stdout);
    assert!(
        log.contains("step 1: wait: completed in an earlier run"),
        "{log}"
    );
    assert!(log.contains("resuming after id = 100"), "{log}");
    assert_eq!(
        scalar(&app, "select count(*) from items where done = 1"),
        ROWS.to_string()
    );
    // Over: nothing to pause, nothing to resume.
    let over = app.output(&["--pause", &new]);
    assert_eq!(over.status.code(), Some(0));
    assert!(
        text(&over.stderr).contains("(succeeded, exit 0): nothing to pause"),
        "{}",
        text(&over.stderr)
    );
    let refused = app.output(&["--resume", &new]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr)
            .contains("ended succeeded (exit 0), not paused: only a paused run is resumed"),
        "{}",
        text(&refused.stderr)
    );
}

/// Through a target over a real sshd: paused there, listed as paused, resumed there.
#[test]
fn pause_and_resume_work_through_a_target() {
    require!(Ssh, Sshd);
    let (client, sshd, _) = remote::setup();
    let remote = app()
        .file("adminsh.toml", "name = \"shop\"\n")
        .file("REVISION", "4f2c9e1\n");
    let app = remote::local(&client, &sshd, &remote, "");
    std::fs::write(remote.path().join("hold"), "").unwrap();
    let started = app.output(&[
        "-t",
        "production",
        "--detach",
        "backfill",
        "--api-token",
        SECRET,
    ]);
    assert_eq!(started.status.code(), Some(0), "{}", text(&started.stderr));
    let id = text(&started.stdout).trim().to_owned();
    assert!(
        text(&started.stderr).contains(&format!("adminsh -t production --pause {id}")),
        "{}",
        text(&started.stderr)
    );
    wait_for_path(&remote.path().join("at-301"));
    let pausing = app.spawn(&["-t", "production", "--pause", &id]);
    wait_for_path(&run_dir(&remote, &id).join("pause"));
    std::fs::remove_file(remote.path().join("hold")).unwrap();
    let paused = crate::support::processes::finish(pausing, "--pause through the target");
    assert_eq!(paused.status.code(), Some(0));
    assert!(
        text(&paused.stderr).ends_with(&format!(
            "adminsh: run {id} paused after 310 rows of db::batches items: `adminsh -t production --resume {id}` goes on from there\n"
        )),
        "{}",
        text(&paused.stderr)
    );
    let runs = text(&app.output(&["-t", "production", "--runs"]).stdout);
    assert!(runs.contains(&format!("{id}  paused  148 ")), "{runs}");
    let resumed = app.output(&["-t", "production", "--resume", &id]);
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed.stderr));
    let new = text(&resumed.stdout).trim().to_owned();
    assert!(text(&resumed.stderr).contains(&format!("adminsh -t production --attach {new}")));
    let attached = app.output(&["-t", "production", "--attach", &new]);
    assert_eq!(attached.status.code(), Some(0));
    assert!(text(&attached.stdout).contains(&format!("done: {ROWS}\n")));
    wait_until("the resumed run's record", || {
        ended(&remote, &new)["outcome"] == "succeeded"
    });
    assert_eq!(
        scalar(&remote, "select count(*) from items where done = 1"),
        ROWS.to_string()
    );
    assert_eq!(scalar(&remote, "select count(*) from seen"), "100");
}

/// A detached sharded backfill (`--detach --shards 2`) is one run: both shards' walks add up
/// in its progress, `--pause` pauses both at the end of their batches and the run ends as
/// paused; `--resume` starts the same command line again, each shard resuming after its own
/// last batch, and every row is done exactly once.
#[test]
fn a_sharded_run_pauses_and_resumes_as_one() {
    let app = app().script(
        "sharded",
        r#"
        // The pause between batches is the throttle's, outside the batch's transaction: the
        // shards take turns at SQLite's one writer.
        step("backfill", || {
            db::batches(#{table: "items", size: 10, throttle: || { sleep(0.05); false }}, |rows| {
                for r in rows { db::exec("update items set done = done + 1 where id = $1", [r.id]); }
                db::exec("insert into seen (first) values ($1)", [rows[0].id]);
            });
        });
        "#,
    );
    let id = detach(&app, &["--shards", "2", "sharded"]);
    let dir = run_dir(&app, &id);
    wait_until("both shards to say how far they are", || {
        (0..2).all(|i| dir.join(format!("progress-shard-{i}.json")).exists())
    });
    // --runs adds up the shards' walks: rows done of the table's 1000.
    let listed = row(&app, &id);
    let walked = listed
        .split(", ")
        .nth(1)
        .and_then(|rows| rows.strip_suffix(" rows"))
        .and_then(|n| n.parse::<usize>().ok());
    assert!(
        listed.contains("running (pid ")
            && walked.is_some_and(|n| n > 0 && n < ROWS)
            && listed.contains("%  "),
        "{listed}"
    );
    let pausing = app.output(&["--pause", &id]);
    assert_eq!(pausing.status.code(), Some(0), "{}", text(&pausing.stderr));
    let record = ended(&app, &id);
    assert_eq!(
        (record["outcome"].as_str(), record["exit_code"].as_i64()),
        (Some("paused"), Some(148)),
        "{}",
        text(&app.output(&["--logs", &id]).stdout)
    );
    let done: usize = scalar(&app, "select count(*) from items where done = 1")
        .parse()
        .unwrap();
    assert!(done > 0 && done < ROWS, "{done} rows done before the pause");
    let log = text(&app.output(&["--logs", &id]).stdout);
    for shard in ["[shard 1/2] ", "[shard 2/2] "] {
        assert!(
            log.lines().any(|l| l.starts_with(shard) && l.contains("adminsh: paused at the end of batch ")),
            "{shard} in {log}"
        );
    }
    assert!(log.contains("in 2 shards: 2 paused\n"), "{log}");
    assert!(
        log.contains(&format!(
            "adminsh: paused: `adminsh --resume {id}` goes on with the shards that did not finish\n"
        )),
        "{log}"
    );

    let resumed = app.output(&["--resume", &id]);
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed.stderr));
    let new = text(&resumed.stdout).trim().to_owned();
    let record = ended(&app, &new);
    let log = text(&app.output(&["--logs", &new]).stdout);
    assert_eq!(record["outcome"], "succeeded", "{log}");
    for shard in ["[shard 1/2] ", "[shard 2/2] "] {
        assert!(
            log.lines()
                .any(|l| l.starts_with(shard)
                    && l.contains("db::batches items: resuming after id = ")),
            "{shard} in {log}"
        );
    }
    assert_eq!(
        scalar(&app, "select count(*) from items where done <> 1"),
        "0"
    );
    assert_eq!(scalar(&app, "select count(*) from seen"), "100");
    assert_eq!(
        scalar(&app, "select count(distinct first) from seen"),
        "100"
    );
}
