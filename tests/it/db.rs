//! `std/db` against real databases, in-process: `SQLite` files (with Rails' and Django's URL
//! forms), a throwaway `PostgreSQL` cluster (and one with TLS), and a throwaway `MariaDB`
//! server. Parameters stored verbatim, typed round trips, transactions rolled back on error,
//! `exit`, Ctrl-C and `kill -9`, the dry-run sandbox, read-only mode refused by the server,
//! statements in `--json`, streaming a million rows.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::mariadb;
use crate::support::processes::{Signal, finish, signal};
use crate::support::tools::require;
use crate::support::wait::wait_for_file;
use crate::support::{Test, postgres::Cluster};

/// One database under test and how to look at it from outside adminsh.
enum Db {
    /// The file, relative to the app dir.
    Sqlite(tempfile::TempDir),
    Postgres(Cluster),
    Mariadb(mariadb::Server),
}

impl Db {
    fn sqlite() -> Db {
        let dir = tempfile::Builder::new()
            .prefix("adminsh-sqlite-")
            .tempdir()
            .unwrap();
        Db::Sqlite(dir)
    }

    fn url(&self) -> String {
        match self {
            // The file does not exist until the first test statement makes it.
            Db::Sqlite(dir) => format!("sqlite:///{}/app.db?mode=rwc", dir.path().display()),
            Db::Postgres(cluster) => cluster.url(),
            Db::Mariadb(server) => server.url(),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
            Db::Mariadb(_) => "mariadb",
        }
    }

    /// Runs SQL outside adminsh; its output.
    fn sql(&self, sql: &str) -> String {
        match self {
            Db::Sqlite(dir) => sqlite3(&dir.path().join("app.db"), sql),
            Db::Postgres(cluster) => cluster.psql(sql),
            Db::Mariadb(server) => server.sql(sql),
        }
    }

    /// Everything in the database, to compare before and after.
    fn dump(&self) -> Vec<u8> {
        match self {
            Db::Sqlite(dir) => std::fs::read(dir.path().join("app.db")).unwrap(),
            Db::Postgres(cluster) => cluster.dump().into_bytes(),
            Db::Mariadb(server) => server
                .sql("select table_name, table_rows from information_schema.tables where table_schema = 'app' order by 1; checksum table customers extended")
                .into_bytes(),
        }
    }

    /// An app whose `DATABASE_URL` is this database.
    fn app(&self) -> Test {
        Test::new().env("DATABASE_URL", self.url())
    }

    /// `customers` with two rows.
    fn customers(&self) {
        self.sql(
            "create table customers (id integer primary key, name varchar(50));
             insert into customers (id, name) values (1, 'Ann'), (2, 'O''Brien');",
        );
    }

    fn count(&self, table: &str) -> String {
        self.sql(&format!("select count(*) from {table}"))
            .trim()
            .to_owned()
    }

    /// A statement that runs for a minute unless cancelled.
    fn long_statement(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => {
                "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"
            }
            Db::Postgres(_) => "select pg_sleep(60)",
            Db::Mariadb(_) => "select sleep(60)",
        }
    }

    fn blob_type(&self) -> &'static str {
        match self {
            Db::Postgres(_) => "bytea",
            _ => "blob",
        }
    }
}

fn sqlite3(db: &Path, sql: &str) -> String {
    let output = std::process::Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Every behaviour below, on one database.
fn all_behaviours(db: &Db) {
    same_script(db);
    values_round_trip(db);
    rows_read_and_change_as_maps(db);
    transactions(db);
    interrupted(db, Signal::Int);
    interrupted(db, Signal::Kill);
    for sent in [Signal::Int, Signal::Term] {
        interrupted_statements_that_return_roll_back(db, sent);
    }
    interrupts_at_any_moment_leave_all_or_nothing(db);
    smuggled_statements_change_nothing_in_guarded_modes(db);
    dry_run_sandbox(db);
    read_only(db);
    query_only_reads(db);
    recorded(db);
    exec_many_is_all_or_nothing(db);
    batches_resume_at_the_next_batch_after_a_kill(db);
    batches_survive_kills_at_random_moments(db);
    shards_split_a_table_and_each_row_is_done_once(db);
}

/// `--shards 4` over a table whose keys have gaps: each shard walks its own range of the key,
/// the ranges together every row, each row changed exactly once with `exactly_once`. A shard
/// that fails mid-walk leaves the others to finish; run again, it alone resumes after its
/// last committed batch, and the split is the one the first run made, though rows were added
/// at both ends in between (the first and last shards' ranges are open).
fn shards_split_a_table_and_each_row_is_done_once(db: &Db) {
    db.sql("drop table if exists sharded");
    db.sql("create table sharded (id integer primary key, v integer not null, shard integer)");
    db.app()
        .args(&[
            "-e",
            "let sets = []; for i in 1..=3000 { sets.push([i * 3]); } db::exec_many(\"insert into sharded (id, v) values ($1, 0)\", sets)",
        ])
        .stdout("3000\n")
        .run();
    let script = r#"
        step("backfill", || {
            db::batches(#{table: "sharded", size: 100, exactly_once: true}, |rows| {
                let first = rows[0].id;
                if exists("fail") && shard().index == 1 && first > 3000 { throw "shard 2 stopped"; }
                db::exec("update sharded set v = v + 1, shard = $1 where id >= $2 and id <= $3",
                    [shard().index, first, rows[rows.len() - 1].id]);
            });
        });
    "#;
    let out = db
        .app()
        .script("backfill", script)
        .file("fail", "")
        .args(&["--shards", "4", "backfill"])
        .status(1)
        .stderr_contains("  shard 2/4  failed (exit 1)\n  shard 3/4  finished\n")
        .run();
    assert!(
        out.stderr.contains(
            "[shard 1/4] db::batches sharded: shard 1 of 4: id from the start to below 2252\n"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "[shard 4/4] db::batches sharded: shard 4 of 4: id from 6751 to below the end\n"
        ),
        "{}",
        out.stderr
    );
    // Shard 2 did its first three batches of 100 rows, of 750.
    assert_eq!(db.count("sharded where v = 0"), "450", "{}", db.name());
    // Rows added below the lowest key and above the highest: the first and last shards take them.
    db.sql("insert into sharded (id, v) values (0, 0), (9001, 0)");
    std::fs::remove_file(out.path().join("fail")).unwrap();
    let out = out
        .again()
        .env("DATABASE_URL", db.url())
        .args(&["--shards", "4", "backfill"])
        .stderr_contains("  shard 1/4  finished in an earlier run\n  shard 2/4  finished\n")
        .run();
    assert!(
        out.stderr
            .contains("[shard 2/4] db::batches sharded: resuming after id = "),
        "{}",
        out.stderr
    );
    assert_eq!(
        db.count("sharded where v <> 1 and id not in (0, 9001)"),
        "0",
        "{}",
        db.name()
    );
    // The ranges are the first run's, and each shard kept to its own.
    let ranges = db.sql("select shard, min(id), max(id), count(*) from sharded where id between 1 and 9000 group by shard order by shard");
    let ranges: Vec<String> = ranges
        .lines()
        .map(|l| {
            l.replace('|', " ")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    assert_eq!(
        ranges,
        [
            "0 3 2250 750",
            "1 2253 4500 750",
            "2 4503 6750 750",
            "3 6753 9000 750"
        ],
        "{}",
        db.name()
    );
}

/// A backfill whose work is not idempotent (`v = v + 1`), killed with SIGKILL at random
/// moments and run again each time until it finishes. With `exactly_once` (the cursor
/// committed in each batch's transaction) every row is changed exactly once; without it, at
/// least once, and no row is skipped. The seed of the moments is in every failure message.
/// `ADMINSH_SOAK_KILLS` and `ADMINSH_SOAK_ROWS` make it a soak (50 kills of 100,000 rows).
fn batches_survive_kills_at_random_moments(db: &Db) {
    let knob = |name: &str, default: u64| -> u64 {
        std::env::var(name).ok().map_or(default, |v| {
            v.parse().unwrap_or_else(|_| panic!("{name}={v}: a number"))
        })
    };
    let (most_kills, rows) = (
        knob("ADMINSH_SOAK_KILLS", 8),
        knob("ADMINSH_SOAK_ROWS", 20_000),
    );
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
        | 1;
    let mut state = u64::from(seed);
    let mut next_delay = move || {
        // xorshift: moments spread from 0 to 300 ms after the start, while a whole walk
        // (200 batches of at least 5 ms) takes longer.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        Duration::from_millis(state % 300)
    };
    for exactly_once in [true, false] {
        db.sql("drop table if exists counted");
        db.sql("create table counted (id integer primary key, v integer not null)");
        db.app()
            .args(&[
                "-e",
                &format!("let sets = []; for i in 1..={rows} {{ sets.push([i]); }} db::exec_many(\"insert into counted (id, v) values ($1, 0)\", sets)"),
            ])
            .stdout(&format!("{rows}\n"))
            .run();
        let script = format!(
            r#"
            step("count", || {{
                db::batches(#{{table: "counted", size: 100, exactly_once: {exactly_once}}}, |rows| {{
                    db::exec("update counted set v = v + 1 where id >= $1 and id <= $2", [rows[0].id, rows[rows.len() - 1].id]);
                    sleep(0.005);
                }});
            }});
            "#
        );
        let app = db.app().script("count", &script);
        let mut kills = 0;
        let mut finished = false;
        while kills < most_kills && !finished {
            let mut child = app.spawn(&["count"]);
            std::thread::sleep(next_delay());
            if let Some(status) = child.try_wait().unwrap() {
                assert!(status.success(), "{} seed {seed}: {status}", db.name());
                finished = true;
            } else {
                child.kill().unwrap();
                child.wait().unwrap();
                kills += 1;
            }
        }
        let context = format!(
            "{} seed {seed}, exactly_once {exactly_once}, {kills} kills",
            db.name()
        );
        assert!(
            kills >= most_kills.min(3),
            "{context}: the walk ended before it was killed"
        );
        if !finished {
            let last = app.command_with(&["count"]).output().unwrap();
            assert!(last.status.success(), "{context}: {last:?}");
        }
        assert_eq!(
            db.count("counted where v = 0"),
            "0",
            "{context}: a row was skipped"
        );
        if exactly_once {
            assert_eq!(
                db.count("counted where v <> 1"),
                "0",
                "{context}: a row changed twice"
            );
        }
    }
}

/// A backfill with `db::batches` in a step, killed with SIGKILL in the middle of a batch:
/// run again, it resumes at the batch that was running (its transaction never committed), so
/// every batch's work committed exactly once, and every row is done. A key of two columns
/// walks every row too.
fn batches_resume_at_the_next_batch_after_a_kill(db: &Db) {
    db.sql(
        "create table items (grp integer not null, id integer primary key, done integer not null default 0);
         create table seen (first integer not null)",
    );
    let values: Vec<String> = (1..=2500).map(|i| format!("({}, {i})", i % 7)).collect();
    db.sql(&format!(
        "insert into items (grp, id) values {}",
        values.join(", ")
    ));
    let backfill = r#"
        step("backfill", || {
            db::batches(#{table: "items", key: "id", size: 100, where: "done = 0"}, |rows| {
                db::exec("insert into seen (first) values ($1)", [rows[0].id]);
                for r in rows { db::exec("update items set done = 1 where id = $1", [r.id]); }
                if rows[0].id == 1201 && env("CRASH") == "yes" {
                    cmd("sh", ["-c", "kill -9 $PPID"]).run();
                }
            });
        });
        print(db::scalar("select count(*) from items where done = 1"));
    "#;
    let app = db.app().script("backfill", backfill);
    app.crash(&["backfill"]);
    // 12 batches committed; the 13th died with its transaction.
    assert_eq!(db.count("seen"), "12", "{}", db.name());
    let again = app
        .env("CRASH", "no")
        .args(&["backfill"])
        .any_stderr()
        .stdout("2500\n")
        .run();
    assert!(
        again
            .stderr
            .contains("db::batches items: resuming after id = 1200 (where an earlier run stopped)"),
        "{}: {}",
        db.name(),
        again.stderr
    );
    assert_eq!(db.count("seen"), "25", "{}", db.name());
    assert_eq!(
        db.sql("select count(distinct first) from seen").trim(),
        "25",
        "{}",
        db.name()
    );
    db.app()
        .args(&[
            "-e",
            r#"let n = 0; db::batches(#{table: "items", key: ["grp", "id"], size: 7, columns: "grp, id"}, |rows| { n += rows.len(); }); n"#,
        ])
        .stdout("2500\n")
        .stderr_contains("db::batches items: 2500 rows in 358 batches (")
        .run();
    // A size that adapts: quick batches double it, up to ten times the size given.
    db.app()
        .args(&[
            "-e",
            r#"let sizes = []; db::batches(#{table: "items", size: 10, target_seconds: 1}, |rows| sizes.push(rows.len())); sizes.extract(0, 6)"#,
        ])
        .stdout("[10, 20, 40, 80, 100, 100]\n")
        .stderr_contains("db::batches items: 2500 rows in ")
        .stderr_contains(", batches of 100 now)\n")
        .run();
    // A dry run walks three batches in the sandbox, changes nothing, and says so.
    let before = db.count("items where done = 1");
    db.app()
        .args(&[
            "--dry-run",
            "-e",
            r#"db::batches(#{table: "items", size: 100}, |rows| { db::exec("update items set done = 2 where id = $1", [rows[0].id]); })"#,
        ])
        .stdout("300\n")
        .stderr_contains("db::batches items: 300 rows in 3 batches (")
        // The total is the database's estimate (InnoDB's may be off by a few percent).
        .stderr_contains("; a dry run stops there, a real run goes on to the end: ~")
        .stderr_contains(" batches of 100, about ")
        .run();
    assert_eq!(db.count("items where done = 2"), "0", "{}", db.name());
    assert_eq!(db.count("items where done = 1"), before, "{}", db.name());
    // A throttle holds the walk while it returns true (here for its first two calls).
    db.app()
        .args(&[
            "-e",
            r#"let calls = 0; let n = 0;
               db::batches(#{table: "items", size: 1000, throttle: || { calls += 1; calls <= 2 }}, |rows| { n += rows.len(); });
               [n, calls]"#,
        ])
        .stdout("[2500, 5]\n")
        .stderr_contains("db::batches items: throttled: waiting while `throttle` is true\ndb::batches items: going on\n")
        .run();
}

/// `db::exec_many` runs every parameter set or none: a set that fails (here the third of
/// 2,500, a duplicate key, or the 2,000th of them, past the first thousand the postgres
/// driver sends at once) leaves no row of the sets before it, and the error names the set.
fn exec_many_is_all_or_nothing(db: &Db) {
    db.sql("create table many (id integer primary key)");
    for bad in [3, 2000] {
        let script = format!(
            "let sets = [];\n\
             for i in 1..=2500 {{ sets.push([if i == {bad} {{ 1 }} else {{ i }}]); }}\n\
             db::exec_many(\"insert into many (id) values ($1)\", sets)"
        );
        let done = db
            .app()
            .args(&["-e", &script])
            .status(1)
            .stderr_contains(&format!("parameter set {bad}: "))
            .run();
        assert_eq!(db.count("many"), "0", "{}: {}", db.name(), done.stderr);
    }
    db.app()
        .args(&[
            "-e",
            "let sets = []; for i in 1..=2500 { sets.push([i]); } db::exec_many(\"insert into many (id) values ($1)\", sets)",
        ])
        .stdout("2500\n")
        .run();
    assert_eq!(db.count("many"), "2500", "{}", db.name());
}

#[test]
fn sqlite() {
    require!(Sqlite3);
    all_behaviours(&Db::sqlite());
}

#[test]
fn postgres() {
    require!(Postgres);
    let db = Db::Postgres(Cluster::start());
    all_behaviours(&db);
    let Db::Postgres(cluster) = &db else {
        unreachable!()
    };
    postgres_types(&db);
    aborted_transactions(&db);
    dry_run_says_what_a_rollback_cannot_undo(&db);
    the_grammar_finds_what_acts_outside_the_transaction(&db);
    a_secret_the_server_sends_back_changed_is_masked(&db);
    a_batch_whose_lock_wait_timed_out_is_tried_again(&db);
    a_signal_during_commit_rolls_back(&db);
    wrong_password(cluster);
}

#[test]
fn mariadb() {
    require!(Mariadb);
    let db = Db::Mariadb(mariadb::Server::start());
    all_behaviours(&db);
    a_secret_the_server_sends_back_changed_is_masked(&db);
    mysql_exec_many_sends_many_rows_a_statement(&db);
}

/// On `MySQL` and `MariaDB` an `INSERT` of one row of placeholders goes as statements of a thousand
/// rows (the server counts 3 inserts for 2,500 sets), with `ON DUPLICATE KEY UPDATE` too, and
/// the same rows land as one by one; a statement that computes a value goes one by one.
fn mysql_exec_many_sends_many_rows_a_statement(db: &Db) {
    db.sql("create table wide (id integer primary key, name varchar(20), n integer not null default 0)");
    let inserts = "db::scalar(\"select variable_value from information_schema.session_status where variable_name = 'COM_INSERT'\").parse_int()";
    let cases = [
        ("insert into wide (id, name) values ($1, $2)", "2500 3"),
        (
            "insert into wide (id, name) values ($1, $2) on duplicate key update n = n + 1",
            "5000 3",
        ),
        (
            "insert into wide (name, id) values ($2, $1) on duplicate key update n = n + values(n) + 1",
            "5000 3",
        ),
        (
            "insert into wide (id, name) values ($1, concat($2, '')) on duplicate key update n = n + 1",
            "5000 2500",
        ),
    ];
    for (sql, expected) in cases {
        let script = format!(
            "let sets = []; for i in 1..=2500 {{ sets.push([i, `name ${{i}}`]); }}\n\
             let before = {inserts};\n\
             let n = db::exec_many(\"{sql}\", sets);\n\
             print(`${{n}} ${{{inserts} - before}}`);"
        );
        db.app()
            .args(&["-e", &script])
            .stdout(&format!("{expected}\n"))
            .run();
    }
    assert_eq!(
        db.sql("select count(*), sum(n), min(name), max(id) from wide")
            .trim(),
        "2500\t7500\tname 1\t2500"
    );
    db.sql("drop table wide");
    // A MyISAM table keeps the rows before a failure: the statement's sets are named, never
    // sent again (which would put them in twice).
    db.sql("create table plain (id integer primary key) engine = MyISAM");
    db.app()
        .args(&["-e", "let sets = []; for i in 1..=2500 { sets.push([if i == 500 { 1 } else { i }]); }\ndb::exec_many(\"insert into plain (id) values ($1)\", sets)"])
        .status(1)
        .stderr_contains("parameter sets 1 to 1000 (one statement): Duplicate entry '1'")
        .run();
    assert_eq!(db.count("plain"), "499");
    db.sql("drop table plain");
    a_deadlocked_statement_of_many_rows_is_not_sent_again(db);
}

/// A statement of many rows that loses a deadlock: `InnoDB` rolls back the whole transaction
/// (it is the lighter one), so its sets are named and not sent again one at a time, which
/// would insert rows outside any transaction. A second session holds the row the statement
/// needs (an uncommitted `1500`) and then waits for a row the script locked first.
fn a_deadlocked_statement_of_many_rows_is_not_sent_again(db: &Db) {
    let Db::Mariadb(server) = db else {
        unreachable!()
    };
    db.sql(
        "create table locks (id integer primary key, v integer not null);
         insert into locks values (1, 0);
         create table dl (id integer primary key);
         create table heavy (id integer primary key, v integer not null default 0);
         insert into heavy (id) select seq from seq_1_to_50000;",
    );
    let t = db.app().script(
        "fill",
        r#"db::transaction(|| {
    db::exec("update locks set v = 1 where id = 1");
    write_file("a_locked", "yes\n");
    while !exists("b_ready") { sleep(0.02); }
    let sets = []; for i in 1..=2500 { sets.push([i]); }
    db::exec_many("insert into dl (id) values ($1)", sets);
});"#,
    );
    let child = t.spawn(&["fill"]);
    wait_for_file(&t.path().join("a_locked"));
    // Heavier than the script's transaction, so that InnoDB picks the script's as the victim.
    let mut other = server.session(
        "begin;
         update heavy set v = v + 1;
         insert into dl values (1500);
         do sleep(2);
         update locks set v = 2 where id = 1;
         commit;",
    );
    crate::support::wait::wait_until("the other session to hold 1500", || {
        if let Some(status) = other.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(other.stderr.as_mut().unwrap(), &mut stderr).unwrap();
            panic!("the other session ended early, {status}: {stderr}");
        }
        db.sql("set session transaction isolation level read uncommitted; select count(*) from dl")
            .trim()
            == "1"
    });
    std::fs::write(t.path().join("b_ready"), "").unwrap();
    let output = finish(child, "adminsh to stop");
    let other = other.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("parameter sets 1001 to 2000 (one statement): Deadlock found"),
        "{stderr}"
    );
    assert!(
        other.status.success(),
        "{}",
        String::from_utf8_lossy(&other.stderr)
    );
    assert_eq!(db.sql("select group_concat(id) from dl").trim(), "1500");
    assert_eq!(db.sql("select v from locks").trim(), "2");
    db.sql("drop table locks; drop table dl; drop table heavy");
}

/// The same script works on every database.
const SCRIPT: &str = r#"
import "std/db" as db;
db::exec("create table items (id integer primary key, name varchar(50), price integer)");
db::exec_many("insert into items (id, name, price) values ($1, $2, $3)",
    [[1, "pen", 150], [2, "it's; $(rm -rf /)", 999]]);
print(db::query("select id, name, price from items order by id"));
print(db::scalar("select count(*) from items"));
print(db::scalar("select name from items where id = $1", [42]));
print(db::query("select * from items where price > $1", [100000]));
print(db::row("select name from items where id = $1", [2]).name);
try { db::scalar("select id, name from items") } catch (e) { print(e) }
try { db::row("select id from items") } catch (e) { print(e) }
try { db::exec("select * from no_such_table") } catch (e) { print("failed: " + e.contains("no_such_table")) }
print(db::exec("update items set price = price + $1 where id > $2", [1, 0]));
"#;

const EXPECTED: &str = r#"[#{"id": 1, "name": "pen", "price": 150}, #{"id": 2, "name": "it's; $(rm -rf /)", "price": 999}]
2

[]
it's; $(rm -rf /)
db::scalar expects one column, the query returned 2: ["id", "name"]
db::row expects exactly one row, the query returned 2
failed: true
2
"#;

fn same_script(db: &Db) {
    db.app()
        .script("db", SCRIPT)
        .args(&["db"])
        .stdout(EXPECTED)
        .run();
    db.sql("drop table items");
}

/// Injection attempts stored verbatim; NULL, unicode and bytes as they went in.
fn values_round_trip(db: &Db) {
    let script = r#"
        db::exec(`create table vals (id integer primary key, t text, b BLOB, n integer, f float)`);
        let evil = "x'); drop table vals; -- \\ $1 ?";
        let text = "Zoë — 日本語 🚀 \t\n";
        let bytes = blob(256);
        for i in 0..256 { bytes[i] = i; }
        db::exec("insert into vals (id, t, b, n, f) values ($1, $2, $3, $4, $5)", [1, evil, bytes, (), 0.5]);
        db::exec("insert into vals (id, t) values ($2, $1)", [text, 2]);
        let r = db::row("select t, b, n, f from vals where id = $1", [1]);
        print([r.t == evil, r.b == bytes, r.n == (), r.f == 0.5]);
        print(db::scalar("select t from vals where id = $1", [2]) == text);
        print(db::scalar("select count(*) from vals where t = $1", [evil]));
        db::scalar("select count(*) from vals")
    "#
    .replace("BLOB", db.blob_type());
    db.app()
        .args(&["-e", &script])
        .stdout("[true, true, true, true]\ntrue\n1\n2\n")
        .run();
    assert_eq!(db.count("vals"), "2");
    db.sql("drop table vals");
    // What no database can hold is named as a script sees it, with its place in the list.
    for (param, kind) in [("|| 1", "a function"), (r#"cmd("true")"#, "a command")] {
        db.app()
            .args(&["-e", &format!("db::query(\"select $1\", [{param}])")])
            .status(1)
            .stderr_contains(&format!("{kind} cannot be a parameter"))
            .run();
    }
}

/// A query's row reads, changes, compares, prints and serialises as a map would, in the
/// query's column order; a column it lacks is an error naming the columns it has.
fn rows_read_and_change_as_maps(db: &Db) {
    db.customers();
    let json = match db {
        Db::Postgres(_) => "jsonb",
        Db::Mariadb(_) => "json",
        Db::Sqlite(_) => "text",
    };
    db.sql(&format!(
        "create table docs (id integer primary key, body {json})"
    ));
    let cases = [
        ("r.name", "Ann"),
        (r#"r["id"]"#, "1"),
        ("type_of(r)", "Row"),
        (
            r#"["name" in r, "nope" in r, r.contains("id")]"#,
            "[true, false, true]",
        ),
        ("r.keys()", r#"["name", "id"]"#),
        ("r.values()", r#"["Ann", 1]"#),
        ("[r.len(), r.is_empty()]", "[2, false]"),
        (r#"r.get("nope") == ()"#, "true"),
        ("r", r#"#{"id": 1, "name": "Ann"}"#),
        ("`${r}`", r#"#{"id": 1, "name": "Ann"}"#),
        (
            r#"[r == #{id: 1, name: "Ann"}, #{id: 1, name: "Ann"} == r, r == rows[1], r != rows[1]]"#,
            "[true, true, false, true]",
        ),
        ("to_json(r)", r#"{"id":1,"name":"Ann"}"#),
        (
            "rows.to_json()",
            r#"[{"id":1,"name":"Ann"},{"id":2,"name":"O'Brien"}]"#,
        ),
        ("to_csv(rows)", "name,id\nAnn,1\nO'Brien,2\n"),
        (
            r#"{ let c = r; c.name = "Bo"; c.note = 3; [c.keys(), c.note, r.name] }"#,
            r#"[["name", "id", "note"], 3, "Ann"]"#,
        ),
        (
            r#"{ let c = r; c += #{name: "Cy", x: 1}; [c.name, c.x, c.remove("x"), c.keys()] }"#,
            r#"["Cy", 1, 1, ["name", "id"]]"#,
        ),
        (
            "{ let c = r + #{id: 9}; [type_of(c), c.id, r.id] }",
            r#"["Row", 9, 1]"#,
        ),
        ("type_of(r.to_map())", "map"),
        (
            "rows.filter(|x| x.id > 1).map(|x| x.name)",
            r#"["O'Brien"]"#,
        ),
        (
            r#"db::scalar("select count(*) from customers where id = $1", [rows[1].id])"#,
            "1",
        ),
        (
            r#"{ db::exec("insert into docs (id, body) values (1, $1)", [r]); let b = db::scalar("select body from docs"); if type_of(b) == "string" { b = parse_json(b) } b == r }"#,
            "true",
        ),
    ];
    let mut script = String::from(
        r#"let rows = db::query("select name, id from customers order by id"); let r = rows[0];"#,
    );
    let mut expected = String::new();
    for (expression, shown) in cases {
        script.push_str(&format!("\nprint({expression});"));
        expected.push_str(&shown.replace("\\n", "\n"));
        expected.push('\n');
    }
    db.app().args(&["-e", &script]).stdout(&expected).run();
    db.app()
        .args(&[
            "-e",
            r#"let r = db::row("select name, id from customers where id = 1"); r.naem"#,
        ])
        .status(1)
        .stderr_contains("the row has no column `naem`; did you mean `name`? its columns: name, id")
        .run();
    db.sql("drop table customers");
    db.sql("drop table docs");
}

/// Committed when the closure returns; rolled back on an error, on `exit(3)`; nested ones are
/// savepoints.
fn transactions(db: &Db) {
    db.sql("create table t (id integer primary key)");
    let app = || db.app();
    app()
        .args(&["-e", r#"db::transaction(|| { db::exec("insert into t (id) values ($1)", [1]); fail("boom") })"#])
        .status(1)
        .stderr_contains("boom")
        .run();
    assert_eq!(db.count("t"), "0", "{}: rolled back on error", db.name());
    app()
        .args(&[
            "-e",
            r#"db::transaction(|| { db::exec("insert into t (id) values ($1)", [1]); exit(3) })"#,
        ])
        .status(3)
        .run();
    assert_eq!(db.count("t"), "0", "{}: rolled back on exit(3)", db.name());
    let nested = r#"
        db::transaction(|| {
            db::exec("insert into t (id) values ($1)", [1]);
            try {
                db::transaction(|| { db::exec("insert into t (id) values ($1)", [2]); fail("inner") });
            } catch (e) {
                print("inner rolled back");
            }
            db::exec("insert into t (id) values ($1)", [3]);
            print(db::query("select id from t order by id"));
        });
    "#;
    app()
        .args(&["-e", nested])
        .stdout("inner rolled back\n[#{\"id\": 1}, #{\"id\": 3}]\n")
        .run();
    assert_eq!(db.count("t"), "2");
    db.sql("drop table t");
}

/// Ctrl-C cancels the running statement on the server (well before it would end), rolls back
/// and exits 130; `kill -9` leaves nothing committed either.
fn interrupted(db: &Db, sent: Signal) {
    db.sql("create table t (id integer primary key)");
    let t = db.app().script(
        "slow",
        &format!(
            r#"
            db::transaction(|| {{
                db::exec("insert into t (id) values ($1)", [1]);
                write_file("inserted", "yes\n");
                db::scalar("{}");
            }});
            write_file("after", "should not run");
            "#,
            db.long_statement()
        ),
    );
    let child = t.spawn(&["slow"]);
    wait_for_file(&t.path().join("inserted"));
    // The statement is running by now (and if not yet, Ctrl-C stops the script before it).
    std::thread::sleep(Duration::from_millis(300));
    let sent_at = Instant::now();
    signal(child.id(), sent);
    let output = finish(child, "adminsh to stop");
    let stderr = String::from_utf8_lossy(&output.stderr);
    if let Signal::Int = sent {
        assert_eq!(output.status.code(), Some(130), "{}: {stderr}", db.name());
        assert_eq!(stderr, "adminsh: interrupted\n", "{}", db.name());
        assert!(
            sent_at.elapsed() < Duration::from_secs(10),
            "{}: the statement was not cancelled",
            db.name()
        );
    }
    assert!(!t.path().join("after").exists());
    // PostgreSQL ends the killed client's transaction when it sees the socket close.
    crate::support::wait::wait_until("the killed transaction to end", || db.count("t") == "0");
    db.sql("drop table t");
}

/// Ctrl-C or SIGTERM at a moment drawn at random over a transaction's whole life (connecting,
/// its statements, the COMMIT, what follows): the transaction is all or nothing, and a run told
/// it committed has committed it. `ADMINSH_SIGNAL_RUNS` runs (default 6, 16 under `CI`), from
/// `ADMINSH_FUZZ_SEED` (default: new from the clock); a failure names the seed and the moment.
fn interrupts_at_any_moment_leave_all_or_nothing(db: &Db) {
    use crate::fuzz::{Rng, env_number};
    const ROWS: usize = 300;
    db.sql("create table signalled (id integer primary key)");
    let app = db.app().script(
        "fill",
        &format!(
            r#"db::transaction(|| {{ for i in 1..={ROWS} {{ db::exec("insert into signalled (id) values ($1)", [i]); }} }});
print("committed");"#
        ),
    );
    let started = Instant::now();
    let first = finish(app.spawn(&["fill"]), "a run left alone");
    let whole = started.elapsed();
    assert!(first.status.success(), "{}: {first:?}", db.name());
    assert_eq!(db.count("signalled"), ROWS.to_string(), "{}", db.name());
    let ci = crate::support::tools::in_ci();
    let runs: u64 = env_number("ADMINSH_SIGNAL_RUNS").unwrap_or(if ci { 16 } else { 6 });
    let seed = crate::fuzz::seed();
    for run in 0..runs {
        db.sql("delete from signalled");
        let mut rng = Rng::new(seed, run);
        // From the start to a little past the end of a run that is not interrupted.
        let moment = whole.mul_f64(rng.below(1200) as f64 / 1000.0);
        let sent = if rng.chance(50) {
            Signal::Int
        } else {
            Signal::Term
        };
        let child = app.spawn(&["fill"]);
        std::thread::sleep(moment);
        signal(child.id(), sent);
        let output = finish(child, "adminsh to stop");
        let what = format!(
            "{} seed {seed} run {run}: {sent:?} after {moment:?} (a whole run {whole:?})",
            db.name()
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        // A signal in the first milliseconds, before adminsh has set its handlers (and before
        // it has done anything), ends it as the signal's default does.
        let killed_at_start = {
            use std::os::unix::process::ExitStatusExt;
            matches!(output.status.signal(), Some(libc::SIGINT | libc::SIGTERM))
        };
        assert!(
            (matches!(output.status.code(), Some(0 | 130 | 143)) || killed_at_start)
                && !stderr.contains("panicked"),
            "{what}: {:?}\n{stderr}",
            output.status
        );
        let count = db.count("signalled");
        assert!(
            count == "0" || count == ROWS.to_string(),
            "{what}: {count} rows: a part of the transaction committed\n{stderr}"
        );
        if String::from_utf8_lossy(&output.stdout).contains("committed") {
            assert_eq!(
                count,
                ROWS.to_string(),
                "{what}: said committed, and is not"
            );
        }
        if output.status.code() == Some(0) {
            assert_eq!(count, ROWS.to_string(), "{what}: exit 0 without the rows");
        }
        if killed_at_start {
            assert!(
                count == "0" && output.stdout.is_empty(),
                "{what}: ended by the signal, though it had begun"
            );
        }
    }
    db.sql("drop table signalled");
}

/// Statements that a cancel does not fail: `MySQL`'s `SLEEP` returns 1, a `PostgreSQL` block can
/// catch `query_canceled`. Ctrl-C (or SIGTERM) while one runs as the last statement of a
/// transaction still rolls the transaction back and ends the run as interrupted, at the top
/// level and in a nested transaction, whatever the statement returned.
fn interrupted_statements_that_return_roll_back(db: &Db, sent: Signal) {
    db.customers();
    let returning = match db {
        Db::Postgres(_) => vec![
            "do $$ begin perform pg_sleep(60); exception when query_canceled then null; end $$",
            "select pg_sleep(60)",
        ],
        Db::Mariadb(_) => vec!["select sleep(60)", "do sleep(60)"],
        Db::Sqlite(_) => vec![db.long_statement()],
    };
    let shapes = [
        "db::transaction(|| { db::exec(\"delete from customers where id = 1\"); write_file(\"deleted\", \"yes\\n\"); db::exec(LONG); });",
        "db::transaction(|| { db::exec(\"delete from customers where id = 1\"); db::transaction(|| { write_file(\"deleted\", \"yes\\n\"); db::exec(LONG); }); });",
        "db::transaction(|| { db::exec(\"delete from customers where id = 1\"); write_file(\"deleted\", \"yes\\n\"); try { db::exec(LONG) } catch { } });",
        // Between statements, in the script's own code, of a transaction and of a nested one.
        "db::transaction(|| { db::exec(\"delete from customers where id = 1\"); write_file(\"deleted\", \"yes\\n\"); while true { sleep(0.02) } });",
        "db::transaction(|| { db::exec(\"delete from customers where id = 1\"); db::transaction(|| { write_file(\"deleted\", \"yes\\n\"); while true { sleep(0.02) } }); });",
    ];
    for long in returning {
        for shape in shapes {
            let script = shape.replace("LONG", &format!("{long:?}"));
            let t = db.app().script("fix", &script);
            let child = t.spawn(&["fix"]);
            wait_for_file(&t.path().join("deleted"));
            // The long statement is running by now; if not yet, the signal comes before it.
            std::thread::sleep(Duration::from_millis(300));
            signal(child.id(), sent);
            let output = finish(child, "adminsh to stop");
            let what = format!("{} {sent:?} {script}", db.name());
            let stderr = String::from_utf8_lossy(&output.stderr);
            let code = match sent {
                Signal::Term => 143,
                _ => 130,
            };
            assert_eq!(output.status.code(), Some(code), "{what}: {stderr}");
            assert_eq!(db.count("customers"), "2", "{what}: the delete committed");
        }
    }
    db.sql("drop table customers");
}

/// `dblink_exec`, which deletes through a second connection where no rollback reaches, called
/// in shapes our lexer does not read (a name in `U&"..."` escapes, a `do` block's body, a
/// string read with `standard_conforming_strings` off): each shape deletes the row when run
/// unguarded, so it is a real call, and under `--dry-run` and `--read-only` `PostgreSQL`'s own
/// grammar finds the call and adminsh refuses the statement before the server sees it.
fn the_grammar_finds_what_acts_outside_the_transaction(db: &Db) {
    db.sql("create extension if not exists dblink");
    let delete = |id: u32| format!("'{}', 'delete from customers where id = {id}'", db.url());
    let shapes = [
        format!("select U&\"\\0064blink_exec\"({})", delete(1)),
        format!(
            "select * from (select 1) s, lateral U&\"\\0064blink_exec\"({}) d",
            delete(1)
        ),
        format!(
            "do $$ begin perform U&\"\\0064blink_exec\"({}); end $$",
            delete(1)
        ),
        format!(
            "do $$ declare r text; begin r := U&\"\\0064blink_exec\"({}); end $$",
            delete(1)
        ),
        format!(
            "do $$ begin execute 'select dbl' || 'ink_exec(' || quote_literal('{}') || ', ''delete from customers where id = 1'')'; end $$",
            db.url()
        ),
    ];
    // Read with standard_conforming_strings off, as a role's or database's setting may have
    // it, the backslash escapes the quote and the call is outside the string.
    let off = format!("select 'it\\'s', dblink_exec({})", delete(1));
    for (shape, strings_off) in shapes.iter().map(|s| (s, false)).chain([(&off, true)]) {
        if strings_off {
            db.sql("alter role postgres set standard_conforming_strings = off");
        }
        for mode in ["--dry-run", "--read-only"] {
            db.customers();
            let out = db
                .app()
                .args(&[mode, "-e", &format!("db::exec({})", rhai_string(shape))])
                .status(1)
                .stderr_contains("db::exec refused ")
                .run();
            assert!(
                out.stderr.contains("acts outside the transaction")
                    || out.stderr.contains("built at run time"),
                "{mode} {shape}: {}",
                out.stderr
            );
            assert_eq!(db.count("customers"), "2", "{mode} {shape}");
            db.sql("drop table customers");
        }
        db.customers();
        db.app()
            .args(&["-e", &format!("db::exec({})", rhai_string(shape))])
            .any_stdout()
            .any_stderr()
            .run();
        assert_eq!(db.count("customers"), "1", "unguarded, {shape} deletes");
        db.sql("drop table customers");
        if strings_off {
            db.sql("alter role postgres reset standard_conforming_strings");
        }
    }
    // A function created in a dry run, then called: its body is read when it is created.
    let created = format!(
        "db::exec({}); db::exec(\"select smuggle()\")",
        rhai_string(&format!(
            "create function smuggle() returns void language plpgsql as $$ begin perform U&\"\\0064blink_exec\"({}); end $$",
            delete(1)
        ))
    );
    db.customers();
    for mode in ["--dry-run", "--read-only"] {
        db.app()
            .args(&[mode, "-e", &created])
            .status(1)
            .stderr_contains("db::exec refused `dblink_exec` acts outside the transaction")
            .run();
        assert_eq!(db.count("customers"), "2", "{mode}: a created function");
    }
    db.app().args(&["-e", &created]).any_stdout().run();
    assert_eq!(
        db.count("customers"),
        "1",
        "unguarded, the created function deletes"
    );
    db.sql("drop table customers; drop function smuggle()");
    db.sql("drop extension dblink");
}

/// Ctrl-C or SIGTERM while the COMMIT itself runs (a deferred constraint trigger makes it
/// take a minute): adminsh cancels the COMMIT, the server rolls the transaction back, and the
/// run ends interrupted, the row still there. The same for a statement autocommitted outside
/// a transaction, whose commit is the end of the statement.
fn a_signal_during_commit_rolls_back(db: &Db) {
    db.customers();
    db.sql(
        "create function slow_commit() returns trigger language plpgsql as $$
           begin perform pg_sleep(60); return null; end $$;
         create constraint trigger slow_commit after delete on customers
           deferrable initially deferred for each row execute function slow_commit();",
    );
    let shapes = [
        "db::transaction(|| { db::exec(\"delete from customers where id = 1\"); write_file(\"deleted\", \"yes\\n\"); });",
        "write_file(\"deleted\", \"yes\\n\"); db::exec(\"delete from customers where id = 1\");",
    ];
    for sent in [Signal::Int, Signal::Term] {
        for script in shapes {
            let t = db.app().script("fix", script);
            let child = t.spawn(&["fix"]);
            wait_for_file(&t.path().join("deleted"));
            std::thread::sleep(Duration::from_millis(500));
            assert_eq!(
                db.sql("select count(*) from pg_stat_activity where wait_event = 'PgSleep'")
                    .trim(),
                "1",
                "the COMMIT's trigger is not sleeping: {script}"
            );
            signal(child.id(), sent);
            let output = finish(child, "adminsh to stop");
            let what = format!("{sent:?} {script}");
            let stderr = String::from_utf8_lossy(&output.stderr);
            let code = if matches!(sent, Signal::Term) {
                143
            } else {
                130
            };
            assert_eq!(output.status.code(), Some(code), "{what}: {stderr}");
            assert_eq!(db.count("customers"), "2", "{what}: the delete committed");
        }
    }
    db.sql("drop table customers; drop function slow_commit()");
}

/// `PostgreSQL` sequences move in a dry run and stay moved after its rollback: the summary says
/// which, from what to what, instead of "nothing was changed" alone.
/// A secret inserted twice under a unique key comes back in the server's error changed:
/// postgres's `Key (lower(name))=(...)` lower-cases it, mariadb's `Duplicate entry '...'`
/// keeps its first 64 characters. Neither the error on stderr nor `--json` nor the audit log
/// shows 12 characters of it in a row, in any case.
fn a_secret_the_server_sends_back_changed_is_masked(db: &Db) {
    let secret = "Tok-Zq8mWv3RkP0sLx7N-bT2yH5cJ9fD4gA6eQ1uV8iO3pK7wS0zX2nM5rB9tY4hL6jC1aE3";
    let table = match db {
        Db::Postgres(_) => {
            "create table accounts (name text); \
                            create unique index on accounts (lower(name))"
        }
        _ => "create table accounts (name varchar(200) unique)",
    };
    db.sql(table);
    let app = db
        .app()
        .env("API_TOKEN", secret)
        .args(&[
            "--json",
            "-e",
            r#"for i in 0..2 { db::exec("insert into accounts (name) values ($1)", [env("API_TOKEN")]) }"#,
        ])
        .status(1)
        .any_stdout()
        .any_stderr();
    let done = app.run();
    let audit = std::fs::read_to_string(done.path().join(".adminsh/audit.jsonl")).unwrap();
    let shown = format!("{}{}{audit}", done.stdout, done.stderr).to_lowercase();
    assert!(
        shown.contains("duplicate") && shown.contains("****"),
        "{}: {shown}",
        db.name()
    );
    let lower = secret.to_lowercase();
    let leak = (0..=lower.len() - 12)
        .map(|at| &lower[at..at + 12])
        .find(|piece| shown.contains(piece));
    assert!(leak.is_none(), "{}: shows {leak:?}: {shown}", db.name());
}

/// A batch of `db::batches` whose lock wait timed out (another session holds the table for
/// 2 s; this one gives up waiting after 200 ms) is rolled back and tried again after a
/// backoff, and the walk then finishes.
fn a_batch_whose_lock_wait_timed_out_is_tried_again(db: &Db) {
    db.sql(
        "create table locked (id integer primary key, done integer not null default 0);
            insert into locked (id) select generate_series(1, 300)",
    );
    let holder = db.app();
    let held = holder.path().join("held");
    let holding = holder.spawn(&[
        "-e",
        r#"db::transaction(|| {
               db::exec("lock table locked in access exclusive mode");
               write_file("held", "yes\n");
               sleep(2);
           })"#,
    ]);
    wait_for_file(&held);
    let done = Test::new()
        .env("DATABASE_URL", format!("{}?options=-c%20lock_timeout%3D200", db.url()))
        .args(&[
            "-e",
            r#"db::batches(#{table: "locked", size: 100}, |rows| {
                   db::exec("update locked set done = 1 where id = any($1)", [rows.map(|r| r.id)]);
               })"#,
        ])
        .stdout("300\n")
        .stderr_contains("db::batches locked: the batch failed (a lock wait timed out); trying it again in 0.25s (1 of 5)")
        .run();
    assert!(
        done.stderr
            .contains("db::batches locked: 300 rows in 3 batches ("),
        "{}",
        done.stderr
    );
    finish(holding, "the lock holder");
    assert_eq!(db.count("locked where done = 1"), "300");
}

fn dry_run_says_what_a_rollback_cannot_undo(db: &Db) {
    db.sql("create table numbered (id serial primary key, v text); select setval('numbered_id_seq', 5)");
    let done = db
        .app()
        .args(&[
            "--dry-run",
            "-e",
            r#"db::exec("insert into numbered (v) values ($1), ($2)", ["a", "b"])"#,
        ])
        .stdout("2\n")
        .any_stderr()
        .run();
    assert!(
        done.stderr.contains(
            "dry run: nothing was changed but what a rollback cannot undo:\n  sequence public.numbered_id_seq on PostgreSQL at "
        ) && done.stderr.contains(" moved from 5 to 7 (a rollback does not undo it)\nIt would have run:\n  "),
        "{}",
        done.stderr
    );
    assert_eq!(db.count("numbered"), "0");
    db.app()
        .args(&["--dry-run", "-e", r#"db::exec("delete from numbered")"#])
        .stdout("0\n")
        .stderr_contains("dry run: nothing was changed. It would have run:\n  delete 0 rows")
        .run();
    // A data-modifying WITH: the server counts the rows it returns, so the count is unknown.
    db.sql("insert into numbered (v) values ('a'), ('b'), ('c')");
    db.app()
        .args(&["--dry-run", "-e", r#"db::exec("with d as (delete from numbered returning 1) select count(*) from d")"#])
        .any_stdout()
        .stderr_contains("dry run: would run `with d as (delete from numbered returning 1) select count(*) from d` (rows changed: unknown; the database counts the rows a data-modifying WITH returns, not those it changes)")
        .run();
    assert_eq!(db.count("numbered"), "3");
    // Settings that change how values read leave the fence standing.
    for mode in ["--dry-run", "--read-only"] {
        db.app()
            .args(&[
                mode,
                "-e",
                r#"db::exec("set timezone = 'Pacific/Auckland'"); db::exec("set datestyle = 'German'"); db::exec("set extra_float_digits = 3"); db::scalar("select count(*) from numbered")"#,
            ])
            .stdout("3\n")
            .any_stderr()
            .run();
    }
    db.sql("drop table numbered");
}

/// The smuggling shapes, mutated: blanks, comments (executable ones too), odd whitespace and
/// case put between and around their words, a second statement tacked on. Each mutant runs
/// under both guarded modes and must change nothing. `ADMINSH_SQL_MUTANTS` mutants a database
/// (default 12, 40 under `CI`), from `ADMINSH_FUZZ_SEED` (default: new from the clock); a
/// failure names the seed and the mutant.
fn mutated_smuggling(db: &Db, shapes: &[Vec<&str>]) {
    use crate::fuzz::{Rng, env_number};
    const BLANKS: &[&str] = &[
        " ",
        "\t",
        "\n",
        "\r",
        "\u{c}",
        "\u{b}",
        "/**/",
        "/* x */",
        "/* /* */ */",
        "-- x\n",
        "--\r",
        "--\t\n",
        "# x\n",
        "/*! */",
        "/*!50000 */",
        "/*M! */",
        "\u{a0}",
        "\u{2028}",
        "(",
        ";",
        "\\",
    ];
    const TAILS: &[&str] = &[
        "; commit",
        " -- x",
        ";",
        "\r\ncommit",
        " /*! commit */",
        "\ncommit",
    ];
    let ci = crate::support::tools::in_ci();
    let mutants: u64 = env_number("ADMINSH_SQL_MUTANTS").unwrap_or(if ci { 40 } else { 12 });
    let seed = crate::fuzz::seed();
    let corpus: Vec<&str> = shapes.iter().flatten().copied().collect();
    for run in 0..mutants {
        let mut rng = Rng::new(seed, run);
        let mut mutant = String::new();
        for word in corpus[rng.below(corpus.len())].split(' ') {
            if rng.chance(50) {
                mutant.push_str(rng.pick(BLANKS));
            }
            if rng.chance(30) {
                mutant.push_str(&word.to_uppercase());
            } else {
                mutant.push_str(word);
            }
            mutant.push(' ');
        }
        if rng.chance(30) {
            mutant.push_str(rng.pick(TAILS));
        }
        let mode = if rng.chance(50) {
            "--dry-run"
        } else {
            "--read-only"
        };
        let before = db.dump();
        let code = format!(
            "try {{ db::exec(\"delete from customers where id = 1\") }} catch {{}}\n\
             try {{ db::exec({}) }} catch {{}}\n\
             try {{ db::exec(\"delete from customers where id = 2\") }} catch {{}}\n",
            rhai_string(&mutant)
        );
        let output = db
            .app()
            .args(&[mode, "-e", &code])
            .command()
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let what = format!("{} {mode} seed {seed} mutant {run}: {mutant:?}", db.name());
        assert!(
            matches!(output.status.code(), Some(0 | 1)) && !stderr.contains("panicked"),
            "{what}: {:?}\n{stderr}",
            output.status
        );
        assert!(
            db.dump() == before,
            "{what} changed the database:\n{stderr}"
        );
    }
}

/// A string as a Rhai string literal: control and non-ASCII characters escaped, so a test's
/// SQL reaches adminsh byte for byte.
fn rhai_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// SQL shaped to slip past a lexer (comment styles, `\r`, form feeds and other whitespace,
/// executable comments, case) or to end or loosen the transaction from inside (functions,
/// session settings): under `--dry-run` and `--read-only` none of it changes a row. Each shape
/// runs between two deletes, every statement in its own `try`, and the database must be as it
/// was, byte for byte or row for row.
fn smuggled_statements_change_nothing_in_guarded_modes(db: &Db) {
    db.customers();
    let mut shapes: Vec<Vec<&str>> = [
        "commit",
        "COMMIT",
        "end",
        "rollback",
        "/* */--\rcommit",
        "--x\rcommit",
        "-- x\ncommit",
        "/* /* */ */ commit",
        "\u{c}commit",
        "\u{b}commit",
        " \t\n\u{a0}commit",
        "begin",
        "savepoint s",
        "release s",
    ]
    .into_iter()
    .map(|s| vec![s])
    .collect();
    match db {
        Db::Postgres(_) => shapes.extend([
            vec!["select set_config('default_transaction_read_only', 'off', false)"],
            vec!["select set_config($$transaction_read_only$$, 'off', true)"],
            vec!["do $$ begin perform set_config('default_transaction_read_only', 'off', false); end $$"],
            vec!["set default_transaction_read_only = off"],
            vec!["--\rset default_transaction_read_only = off"],
            vec!["set transaction read write"],
            vec!["reset all"],
            vec!["abort"],
            vec!["prepare t as commit", "execute t"],
        ]),
        Db::Mariadb(_) => shapes.extend([
            vec!["/*!40000 set session transaction read write */"],
            vec!["/*! commit */"],
            vec!["/*M! commit */"],
            vec!["/*!50000 create table smuggled (a int) */"],
            vec!["select 1 /*!, (select 1) */"],
            vec!["#x\ncommit"],
            vec!["--\tx\ncommit"],
            vec!["--\u{b}x\ncommit"],
            vec!["set autocommit = 1"],
            vec!["set session transaction read write"],
            vec!["set session tx_read_only = 0"],
            vec!["create table smuggled (a int)"],
            vec!["lock tables customers write"],
            vec!["xa start 'x'"],
            vec!["prepare s from 'commit'", "execute s"],
            vec!["do release_all_locks()"],
        ]),
        Db::Sqlite(_) => shapes.extend([
            vec!["pragma query_only = off"],
            vec!["attach database 'other.db' as o"],
        ]),
    }
    for mode in ["--dry-run", "--read-only"] {
        for shape in &shapes {
            let before = db.dump();
            let mut code =
                String::from("try { db::exec(\"delete from customers where id = 1\") } catch {}\n");
            for statement in shape {
                code.push_str(&format!(
                    "try {{ db::exec({}) }} catch {{}}\n",
                    rhai_string(statement)
                ));
            }
            code.push_str("try { db::exec(\"delete from customers where id = 2\") } catch {}\n");
            let done = db
                .app()
                .args(&[mode, "-e", &code])
                .any_stdout()
                .any_stderr()
                .status(0);
            let output = done
                .command()
                .stdin(std::process::Stdio::null())
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                matches!(output.status.code(), Some(0 | 1)) && !stderr.contains("panicked"),
                "{} {mode} {shape:?}: {:?}\n{stderr}",
                db.name(),
                output.status
            );
            assert!(
                db.dump() == before,
                "{} {mode} {shape:?} changed the database:\n{stderr}",
                db.name()
            );
            assert_eq!(db.count("customers"), "2", "{} {mode} {shape:?}", db.name());
        }
    }
    mutated_smuggling(db, &shapes);
    let outside = match db {
        Db::Postgres(_) => Some((
            "select pg_terminate_backend(pg_backend_pid())",
            "pg_terminate_backend",
        )),
        Db::Mariadb(_) => Some(("select load_file('/etc/hostname')", "load_file")),
        Db::Sqlite(_) => None,
    };
    if let Db::Mariadb(_) = db {
        // Outside the guarded modes an executable comment is MySQL's to run, as a dump has them.
        db.app()
            .args(&["-e", r#"db::scalar("/*!40000 select 5 */")"#])
            .stdout("5\n")
            .run();
    }
    if let Some((sql, name)) = outside {
        for mode in ["--dry-run", "--read-only"] {
            db.app()
                .args(&[mode, "-e", &format!("db::scalar({})", rhai_string(sql))])
                .status(1)
                .stderr_contains(&format!(
                    "db::scalar refused `{name}` acts outside the transaction"
                ))
                .run();
        }
    }
    db.sql("drop table customers");
}

/// `--dry-run`: every statement runs in one transaction rolled back at the end; the script
/// sees its own writes, the summary says what each statement would have changed, and the
/// database is as it was, byte for byte.
fn dry_run_sandbox(db: &Db) {
    db.customers();
    let before = db.dump();
    let script = r#"
        print(db::exec("update customers set name = upper(name) where id > $1", [0]));
        print(db::scalar("select name from customers where id = $1", [1]));
        db::exec("delete from customers where id = $1", [2]);
        print(db::scalar("select count(*) from customers"));
        try { db::exec("select * from no_such_table") } catch (e) { print("failed") }
        print(db::scalar("select count(*) from customers"));
    "#;
    let done = db
        .app()
        .args(&["--dry-run", "-e", script])
        .stdout("2\nANN\n1\nfailed\n1\n")
        .stderr_contains("dry run: would update 2 rows: `update customers set name = upper(name) where id > $1` with [0]")
        .stderr_contains("dry run: would delete 1 row: `delete from customers where id = $1` with [2]")
        .stderr_contains("dry run: nothing was changed. It would have run:\n  update 2 rows: ")
        .run();
    assert!(
        db.dump() == before,
        "{}: the dry run changed the database",
        db.name()
    );
    drop(done);
    db.sql("drop table customers");
}

/// `--read-only`: the server refuses writes (the session is read-only), and the script cannot
/// switch that off.
fn read_only(db: &Db) {
    db.customers();
    let refusal = match db {
        Db::Sqlite(_) => "attempt to write a readonly database",
        Db::Postgres(_) => "cannot execute DELETE in a read-only transaction (SQLSTATE 25006)",
        Db::Mariadb(_) => "Cannot execute statement in a READ ONLY transaction (error 1792",
    };
    db.app()
        .args(&["--read-only", "-e", r#"db::exec("delete from customers")"#])
        .status(1)
        .stderr_contains(&format!("db::exec refused in read-only mode: {refusal}"))
        .run();
    let escape = match db {
        Db::Sqlite(_) => "pragma query_only = 0",
        Db::Postgres(_) => "set default_transaction_read_only = off",
        Db::Mariadb(_) => "set session transaction read write",
    };
    db.app()
        .args(&["--read-only", "-e", &format!(r#"db::exec("{escape}")"#)])
        .status(1)
        .stderr_contains("db::exec refused a statement that changes the session's transaction mode")
        .run();
    db.app()
        .args(&[
            "--read-only",
            "-e",
            r#"db::scalar("select count(*) from customers")"#,
        ])
        .stdout("2\n")
        .run();
    assert_eq!(db.count("customers"), "2");
    db.sql("drop table customers");
}

/// `db::query` never writes, in any mode: the database refuses what would.
// The table of cases reads best whole.
#[allow(clippy::too_many_lines)]
fn query_only_reads(db: &Db) {
    db.customers();
    let before = db.dump();
    let (sqlite, postgres, mariadb) = (0, 1, 2);
    let which = match db {
        Db::Sqlite(_) => sqlite,
        Db::Postgres(_) => postgres,
        Db::Mariadb(_) => mariadb,
    };
    let writes = "db::query refused a statement that writes: ";
    let cases: &[(&str, [&str; 3])] = &[
        ("select id, name from customers order by id", ["rows 2"; 3]),
        ("delete from customers", [writes; 3]),
        ("update customers set name = 'x'", [writes; 3]),
        (
            "insert into customers (id, name) values (9, 'z')",
            [writes; 3],
        ),
        // MySQL in a guarded mode refuses it before the server can.
        (
            "drop table customers",
            [writes, writes, "db::query refused "],
        ),
        (
            "with gone as (delete from customers returning id) select * from gone",
            ["db::query failed", writes, "db::query "],
        ),
        (
            "select 1; delete from customers",
            [
                "more than one statement",
                "cannot insert multiple commands",
                "db::query ",
            ],
        ),
        ("commit", ["db::query refused `commit`"; 3]),
        (
            "set transaction read write",
            ["db::query refused a statement that changes"; 3],
        ),
        (
            "attach database 'other.db' as other",
            [writes, "db::query failed", "db::query "],
        ),
        (
            "pragma user_version = 5",
            [writes, "db::query failed", "db::query "],
        ),
        (
            "select * from customers where id = ?",
            [
                "write $1 where the SQL has `?`",
                "db::query failed",
                "write $1",
            ],
        ),
        (
            "select $1 as one",
            ["uses 1 parameter ($1..$1), 0 were given"; 3],
        ),
    ];
    let sqls: Vec<&str> = cases.iter().map(|(sql, _)| *sql).collect();
    let app = db
        .app()
        .file("adminsh.toml", "read_only_stages = [\"replica\"]\n")
        .file("cases.json", &serde_json::to_string(&sqls).unwrap())
        .script(
            "check",
            r#"
            let outcomes = [];
            for sql in parse_json(read_file("cases.json")) {
                try { outcomes.push(`rows ${db::query(sql).len()}`); } catch (e) { outcomes.push(`${e}`); }
            }
            print(to_json(outcomes));
            "#,
        );
    let mut app = app;
    for args in [
        &["check"][..],
        &["--read-only", "check"],
        &["--dry-run", "check"],
        &["-s", "replica", "check"],
    ] {
        let done = app
            .env("DATABASE_URL", db.url())
            .args(args)
            .any_stdout()
            .any_stderr()
            .run();
        assert!(
            db.dump() == before,
            "{} {args:?}: the database changed",
            db.name()
        );
        let outcomes: Vec<String> = serde_json::from_str(done.stdout.trim())
            .unwrap_or_else(|e| panic!("{args:?}: {e}\n{}\n{}", done.stdout, done.stderr));
        for ((sql, expected), outcome) in cases.iter().zip(&outcomes) {
            let expected = expected[which];
            assert!(
                outcome.contains(expected),
                "{} {args:?} db::query({sql:?}):\n  expected {expected:?}\n  got {outcome:?}",
                db.name()
            );
        }
        app = done.again();
    }
    db.sql("drop table customers");
}

/// Each statement is in `--json` and the audit log: SQL, parameters (secrets masked), rows.
fn recorded(db: &Db) {
    db.sql("create table t (id integer primary key, token varchar(50))");
    let done = db
        .app()
        .env("API_TOKEN", "tok-s3cr3t-123")
        .args(&[
            "--json",
            "-e",
            r#"db::exec("insert into t (id, token) values ($1, $2)", [1, env("API_TOKEN")])"#,
        ])
        .any_stdout()
        .run();
    let report: serde_json::Value = serde_json::from_str(done.stdout.trim()).unwrap();
    let statement = &report["commands"][0];
    assert_eq!(
        statement["sql"], "insert into t (id, token) values ($1, $2)",
        "{report}"
    );
    assert_eq!(statement["rows"], 1, "{report}");
    assert_eq!(statement["params"][0], "1", "{report}");
    assert!(!done.stdout.contains("tok-s3cr3t-123"), "{}", done.stdout);
    let audit = std::fs::read_to_string(done.path().join(".adminsh/audit.jsonl")).unwrap();
    assert!(
        audit.contains("insert into t (id, token) values ($1, $2)"),
        "{audit}"
    );
    assert!(!audit.contains("tok-s3cr3t-123"), "{audit}");
    assert!(!audit.contains("s3cr3t-pw"), "{audit}");
    db.sql("drop table t");
}

/// `PostgreSQL`'s own types: numeric exactly, json as data, arrays both ways, timestamps.
fn postgres_types(db: &Db) {
    let script = r#"
        let r = db::row(`select 12345678901234567890.0001::numeric as n, '{"a": [1, 2]}'::jsonb as j,
                         array[1, 2, 3] as a, '2026-11-26 14:53:36.5+00'::timestamptz as ts,
                         '2026-11-26'::date as d, 't'::boolean as b, 'a1b2c3d4-0000-4000-8000-000000000001'::uuid as u`);
        print(r.n); print(r.j.a); print(r.a); print(r.ts); print(r.d); print(r.b); print(r.u);
        print(db::scalar("select count(*) from generate_series(1, 10) g where g = any($1)", [[2, 3, 99]]));
        print(db::scalar("select $1::jsonb ->> 'k'", [#{k: "v"}]));
        db::query("select 1 as b, 2 as a")
    "#;
    db.app()
        .args(&["--json", "-e", script])
        .stdout_contains(r#""value":[{"b":1,"a":2}]"#)
        .any_stderr()
        .run();
    db.app()
        .args(&["-e", script])
        .stdout(
            "12345678901234567890.0001\n[1, 2]\n[1, 2, 3]\n2026-11-26T14:53:36.5Z\n2026-11-26\ntrue\n\
             a1b2c3d4-0000-4000-8000-000000000001\n2\nv\n[#{\"a\": 2, \"b\": 1}]\n",
        )
        .run();
}

/// `PostgreSQL` aborts a transaction at its first failed statement: a `db::transaction` whose
/// body caught such an error rolls back and says so; a failed read (in its own savepoint)
/// leaves the transaction usable.
fn aborted_transactions(db: &Db) {
    let script = r#"
        db::transaction(|| {
            try { db::query("select * from nope") } catch (e) { print("read failed") }
            db::exec("create temp table x (i integer)");
            print("still usable");
        });
        try {
            db::transaction(|| {
                try { db::exec("select * from nope") } catch (e) { print("exec failed") }
                try { db::query("select 1") } catch (e) { print("read failed") }
            });
        } catch (e) {
            print(e);
        }
    "#;
    db.app()
        .args(&["-e", script])
        .stdout(
            "read failed\nstill usable\nexec failed\nread failed\ndb::transaction failed: rolled back \
             instead of committing: a statement in it failed, and PostgreSQL aborts a transaction \
             at its first error (catch the error in a nested db::transaction to go on after it)\n",
        )
        .run();
}

/// A wrong password is one line naming the server, not the password.
fn wrong_password(cluster: &Cluster) {
    let wrong = cluster.url().replace("s3cr3t-pw", "wrong-pw");
    let failed = Test::new()
        .env("DATABASE_URL", &wrong)
        .args(&["-e", r#"db::scalar("select 1")"#])
        .status(1)
        .stderr_contains(&format!(
            "DATABASE_URL: cannot connect to PostgreSQL at 127.0.0.1:{}: password authentication failed",
            cluster.port
        ))
        .run();
    assert!(!failed.stderr.contains("wrong-pw"), "{}", failed.stderr);
}

/// A server that takes the connection and never answers: a clear error within the timeout.
#[test]
fn unreachable_database_is_one_message_within_the_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let started = Instant::now();
    let done = Test::new()
        .env(
            "DATABASE_URL",
            format!("postgres://app:hunter2@127.0.0.1:{port}/app?connect_timeout=1"),
        )
        .args(&["-e", r#"db::scalar("select 1")"#])
        .status(1)
        .stderr_contains(&format!(
            "DATABASE_URL: cannot connect to PostgreSQL at 127.0.0.1:{port}: "
        ))
        .run();
    assert!(started.elapsed() < Duration::from_secs(8));
    assert!(!done.stderr.contains("hunter2"), "{}", done.stderr);
    // One line of message, then the script's line and the caret.
    assert_eq!(done.stderr.lines().count(), 3, "{}", done.stderr);
    assert!(
        done.stderr.starts_with("-e:1:5: DATABASE_URL: "),
        "{}",
        done.stderr
    );
    drop(listener);
    // A closed port, for each server backend: the driver's words, not its type names.
    let closed = crate::support::postgres::free_port();
    for (scheme, name) in [
        ("postgres", "PostgreSQL"),
        ("mysql", "MySQL"),
        ("mysql2", "MySQL"),
    ] {
        let done = Test::new()
            .env(
                "DATABASE_URL",
                format!("{scheme}://app:hunter2@127.0.0.1:{closed}/app"),
            )
            .args(&["-e", r#"db::scalar("select 1")"#])
            .status(1)
            .stderr_contains(&format!(
                "DATABASE_URL: cannot connect to {name} at 127.0.0.1:{closed}: "
            ))
            .stderr_contains("Connection refused")
            .run();
        let said = &done.stderr;
        assert!(
            !said.contains("hunter2") && !said.contains("Error {"),
            "{said}"
        );
        assert_eq!(said.lines().count(), 3, "{said}");
    }
    Test::new()
        .file(".env", "DATABASE_URL=redis://localhost/0")
        .args(&["-e", "import \"std/db\" as db; db::query(\"select 1\")"])
        .status(1)
        .stderr_contains("the database URL has scheme `redis`; std/db knows postgres://, mysql:// (mysql2://) and sqlite:/sqlite3:")
        .run();
}

/// Rails' `sqlite3:db/...` and Django's `sqlite:///db/...` are the same file in the release.
#[test]
fn sqlite_urls_of_rails_and_django_share_a_file() {
    require!(Sqlite3);
    let done = Test::new()
        .file("db/.keep", "")
        .file(".env", "DATABASE_URL=sqlite3:db/development.sqlite3?mode=rwc")
        .args(&["-e", r#"db::exec("create table t (v text)"); db::exec("insert into t values ($1)", ["rails"])"#])
        .stdout("1\n")
        .run();
    assert!(done.path().join("db/development.sqlite3").is_file());
    let absolute = done
        .path()
        .join("db/development.sqlite3")
        .display()
        .to_string();
    let done = done
        .again()
        .file(".env", "DATABASE_URL=sqlite:///db/development.sqlite3")
        .args(&["-e", r#"db::exec("insert into t values ($1)", ["django"]); db::scalar("select group_concat(v) from t")"#])
        .stdout("rails,django\n")
        .run();
    done.again()
        .env("DATABASE_URL", format!("sqlite3:{absolute}"))
        .args(&["-e", r#"db::scalar("select count(*) from t")"#])
        .stdout("2\n")
        .run();
}

/// A database where the table of `exactly_once` cursors cannot be made (here an index holds
/// its name) fails the walk, sharded or not, with the database's word after a few tries,
/// rather than trying again for ever.
#[test]
fn sqlite_a_cursor_table_that_cannot_be_made_fails_the_walk() {
    let script = r#"
        step("walk", || {
            db::batches(#{table: "t", size: 10, exactly_once: true}, |rows| print(rows.len()));
        });
    "#;
    let app = Test::new()
        .file(".env", "DATABASE_URL=sqlite:///app.db?mode=rwc")
        .script("walk", script)
        .args(&["-e", r#"db::exec("create table t (id integer primary key)"); db::exec("insert into t (id) values (1), (2)"); db::exec("create index adminsh_batches on t (id)")"#])
        .stdout("0\n")
        .run();
    let app = app
        .again()
        .args(&["walk"])
        .status(1)
        .stderr_contains("there is already an index named adminsh_batches")
        .run();
    app.again()
        .args(&["--shards", "2", "walk"])
        .status(1)
        .any_stdout()
        .stderr_contains("in 2 shards: 2 did not finish\n")
        .stderr_contains("[shard 2/2] ")
        .stderr_contains("there is already an index named adminsh_batches")
        .run();
}

/// Each shard of a table walk says its range of the key: a table empty when it was split is
/// the first shard's alone (rows added later are its), one shard takes every key; a dry run's
/// estimate is of the shard's share of the table; `--read-only` splits without writing the
/// split down.
#[test]
fn sqlite_shards_say_their_key_ranges_and_a_dry_run_estimates_a_share() {
    let script = r#"db::batches(#{table: env("TABLE"), size: 10}, |rows| db::query("select 1"));"#;
    let app = Test::new()
        .file(".env", "DATABASE_URL=sqlite:///app.db?mode=rwc")
        .script("walk", script)
        .args(&["-e", r#"db::exec("create table e (id integer primary key)"); db::exec("create table t (id integer primary key)"); let sets = []; for i in 1..=100 { sets.push([i]); } db::exec_many("insert into t (id) values ($1)", sets)"#])
        .stdout("100\n")
        .run();
    let app = app
        .again()
        .env("TABLE", "e")
        .args(&["--shards", "2", "walk"])
        .any_stdout()
        .stderr_contains("in 2 shards: all finished")
        .stderr_contains("[shard 1/2] db::batches e: shard 1 of 2: every id\n")
        .stderr_contains("[shard 2/2] db::batches e: shard 2 of 2: id from 0 to below 0\n")
        .run();
    let app = app
        .again()
        .env("TABLE", "t")
        .args(&["--shards", "1", "walk"])
        .any_stdout()
        .stderr_contains("[shard 1/1] db::batches t: shard 1 of 1: every id\n")
        .run();
    let app = app
        .again()
        .env("TABLE", "t")
        .args(&["--dry-run", "--shards", "2", "walk"])
        .any_stdout()
        .stderr_contains("[shard 2/2] db::batches t: shard 2 of 2: id from 51 to below the end\n")
        .stderr_contains(
            "a dry run stops there, a real run goes on to the end: ~50 rows in ~5 batches of 10",
        )
        .run();
    app.again()
        .env("TABLE", "t")
        .args(&["--read-only", "--shards", "2", "walk"])
        .any_stdout()
        .stderr_contains("in 2 shards: all finished")
        .stderr_contains("[shard 1/2] db::batches t: shard 1 of 2: id from the start to below 51\n")
        .run();
}

/// A dry run never creates the file a real run would; `--read-only` says there is none.
#[test]
fn sqlite_dry_run_and_read_only_create_no_file() {
    let done = Test::new()
        .file(".env", "DATABASE_URL=sqlite:///app.db?mode=rwc")
        .args(&["--dry-run", "-e", r#"db::exec("create table t (id integer)"); db::exec("insert into t values (1)"); db::scalar("select count(*) from t")"#])
        .stdout("1\n")
        .any_stderr()
        .run();
    assert!(!done.path().join("app.db").exists());
    done.again()
        .file(".env", "DATABASE_URL=sqlite:///app.db")
        .args(&["--read-only", "-e", r#"db::scalar("select 1")"#])
        .status(1)
        .stderr_contains("there is no SQLite database at ")
        .run();
}

/// TLS as libpq's sslmode says: `require` encrypts, `verify-full` checks the certificate
/// against the CA given, and refuses one another CA signed.
#[test]
fn postgres_over_tls() {
    require!(Postgres, Openssl);
    let cluster = Cluster::start_tls();
    let ssl = r#"db::scalar("select ssl from pg_stat_ssl where pid = pg_backend_pid()")"#;
    let url = |query: &str| format!("{}?{query}", cluster.url());
    Test::new()
        .env("DATABASE_URL", url("sslmode=require"))
        .args(&["-e", ssl])
        .stdout("true\n")
        .run();
    let ca = cluster.file("ca.crt").display().to_string();
    let by_name =
        url(&format!("sslmode=verify-full&sslrootcert={ca}")).replace("127.0.0.1", "localhost");
    Test::new()
        .env("DATABASE_URL", by_name)
        .args(&["-e", ssl])
        .stdout("true\n")
        .run();
    Test::new()
        .env(
            "DATABASE_URL",
            url(&format!("sslmode=verify-ca&sslrootcert={ca}")),
        )
        .args(&["-e", ssl])
        .stdout("true\n")
        .run();
    let other = cluster.file("other-ca.crt").display().to_string();
    Test::new()
        .env(
            "DATABASE_URL",
            url(&format!("sslmode=verify-full&sslrootcert={other}")),
        )
        .args(&["-e", ssl])
        .status(1)
        .stderr_contains("DATABASE_URL: cannot connect to PostgreSQL at 127.0.0.1:")
        .stderr_contains("certificate")
        .run();
    // The server takes TLS only: a plain connection is turned away.
    Test::new()
        .env("DATABASE_URL", url("sslmode=disable"))
        .args(&["-e", ssl])
        .status(1)
        .stderr_contains("no encryption")
        .run();
}

/// `db::each` walks a million rows (a cursor on `PostgreSQL`, stepping on `SQLite`) without
/// holding them: the process's peak memory stays far below what the rows would take.
#[test]
fn each_streams_a_million_rows_in_flat_memory() {
    require!(Postgres);
    let cluster = Cluster::start();
    let script = r#"
        let n = 0;
        let sum = 0;
        db::each("select g, repeat('x', 100) as pad from generate_series(1, 1000000) g", |row| {
            n += 1;
            sum += row.g;
        });
        let status = read_file("/proc/self/status");
        let peak = status.split("\n").filter(|l| l.starts_with("VmHWM:"))[0];
        print(n);
        print(sum);
        peak
    "#;
    let done = Test::new()
        .env("DATABASE_URL", cluster.url())
        .args(&["-e", script])
        .any_stdout()
        .run();
    let mut lines = done.stdout.lines();
    assert_eq!(lines.next(), Some("1000000"));
    assert_eq!(lines.next(), Some("500000500000"));
    let peak_kb: u64 = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    // The rows alone are over 100 MB; a debug build of adminsh holding none of them is a
    // fraction of that.
    assert!(peak_kb < 60_000, "peak RSS {peak_kb} kB");
}

/// The console prints a query's rows as a table, in the query's column order; `--sandbox`
/// opens it on a database whose changes are rolled back when it ends.
#[test]
fn the_console_shows_rows_as_a_table() {
    require!(Sqlite3);
    let db = Db::sqlite();
    db.customers();
    db.app()
        .stdin(r#"db::query("select name, id from customers order by id")"#)
        .stdout_contains("  name   | id\n---------+----\n Ann     |  1\n O'Brien |  2\n(2 rows)\n")
        .any_stderr()
        .run();
    let before = db.dump();
    db.app()
        .arg("--sandbox")
        .stdin(
            "db::exec(\"delete from customers\")\ndb::scalar(\"select count(*) from customers\")\n",
        )
        .stdout("=> 2\n=> 0\n")
        .stderr_contains("dry run: would delete 2 rows: `delete from customers`")
        .run();
    assert!(db.dump() == before, "the sandbox changed the database");
}

/// `db::statement_timeout` cancels a statement that runs longer, with an error saying so.
#[test]
fn a_statement_timeout_cancels_the_statement() {
    let db = Db::sqlite();
    let script = format!(
        r#"db::statement_timeout(0.3); try {{ db::scalar("{}") }} catch (e) {{ print(e) }}; db::scalar("select 7")"#,
        db.long_statement()
    );
    let started = Instant::now();
    db.app()
        .args(&["-e", &script])
        .stdout("db::scalar failed: cancelled after 0.3s (db::statement_timeout): interrupted (SQLITE_INTERRUPT)\n7\n")
        .run();
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// A `SQLite` file in WAL mode (Rails' default) reads under `--read-only`, its data unchanged.
#[test]
fn sqlite_wal_file_reads_read_only() {
    require!(Sqlite3);
    let app = Test::new()
        .file(".env", "DATABASE_URL=sqlite:///var/app.db")
        .file("var/.keep", "");
    let db = app.path().join("var/app.db");
    sqlite3(
        &db,
        "pragma journal_mode = wal; create table customers (id integer primary key);
         insert into customers (id) values (1), (2);",
    );
    let bytes = std::fs::read(&db).unwrap();
    let done = app
        .args(&[
            "--read-only",
            "-e",
            r#"db::scalar("select count(*) from customers")"#,
        ])
        .stdout("2\n")
        .run();
    assert!(std::fs::read(&db).unwrap() == bytes, "app.db changed");
    assert_eq!(sqlite3(&db, "pragma journal_mode"), "wal\n");
    drop(done);
}

/// `MySQL` over TLS, as Rails writes it (`mysql2://...?ssl-mode=...&sslca=...`): `REQUIRED`
/// encrypts, `VERIFY_IDENTITY` checks the certificate and refuses one another CA signed.
#[test]
fn mariadb_over_tls() {
    require!(Mariadb, Openssl);
    let server = mariadb::Server::start_tls();
    let cipher = r#"db::scalar("select variable_value from information_schema.session_status where variable_name = $1", ["SSL_CIPHER"]) != """#;
    let url = |query: &str| format!("{}?{query}", server.url());
    let ca = server.file("ca.crt").display().to_string();
    for query in [
        "ssl-mode=REQUIRED".to_owned(),
        format!("ssl-mode=VERIFY_IDENTITY&sslca={ca}"),
    ] {
        Test::new()
            .env("DATABASE_URL", url(&query))
            .args(&["-e", cipher])
            .stdout("true\n")
            .run();
    }
    let other = server.file("other-ca.crt").display().to_string();
    Test::new()
        .env(
            "DATABASE_URL",
            url(&format!("ssl-mode=VERIFY_IDENTITY&sslca={other}")),
        )
        .args(&["-e", cipher])
        .status(1)
        .stderr_contains(&format!(
            "DATABASE_URL: cannot connect to MySQL at 127.0.0.1:{}: ",
            server.port
        ))
        // Refused for the certificate, not for any other reason.
        .stderr_contains("UnknownIssuer")
        .run();
    // The server takes TLS only: a plain connection is turned away.
    Test::new()
        .env("DATABASE_URL", url("ssl-mode=DISABLED"))
        .args(&["-e", cipher])
        .status(1)
        .stderr_contains("cannot connect to MySQL")
        .run();
}

/// Past a thousand statements, the record counts the rest in one last entry.
#[test]
fn past_a_thousand_statements_the_rest_are_counted() {
    let db = Db::sqlite();
    let done = db
        .app()
        .args(&[
            "--json",
            "-e",
            r#"db::exec("create table t (i integer)"); db::transaction(|| { for i in 0..1004 { db::exec("insert into t values ($1)", [i]); } });"#,
        ])
        .any_stdout()
        .run();
    let report: serde_json::Value = serde_json::from_str(done.stdout.trim()).unwrap();
    let commands = report["commands"].as_array().unwrap();
    assert_eq!(commands.len(), 1001);
    assert_eq!(commands[999]["params"][0], "998");
    assert_eq!(commands[1000]["sql"], "(5 more statements not listed)");
}

/// Every `db` function's error names the place in the script that called it, with the source
/// line and a caret, whether called through `db::` or on a handle, at the top level or inside
/// a function or a closure.
#[test]
fn every_db_error_names_its_place_in_the_script() {
    let db = Db::sqlite();
    db.customers();
    let url = db.url();
    let cases = [
        (r#"db::exec("delete from nope")"#, 5),
        (r#"db::exec("delete from nope where id = $1", [1])"#, 5),
        (r#"db::query("select * from nope")"#, 5),
        (r#"db::query("select * from nope where id = $1", [1])"#, 5),
        (r#"db::scalar("select x from nope")"#, 5),
        (r#"db::row("select * from customers")"#, 5),
        (r#"db::each("select * from nope", |r| true)"#, 5),
        (r#"db::exec_many("insert into nope values ($1)", [[1]])"#, 5),
        ("db::statement_timeout(-1)", 5),
        (r#"db::connect("postgres://")"#, 5),
        (r#"l.exec("delete from nope")"#, 3),
        (r#"l.query("select * from nope")"#, 3),
        (r#"l.scalar("select x from nope")"#, 3),
        (r#"l.row("select * from nope")"#, 3),
        (r#"l.each("select * from nope", |r| true)"#, 3),
        (r#"l.exec_many("insert into nope values ($1)", [[1]])"#, 3),
        ("l.statement_timeout(-1)", 3),
    ];
    for (call, column) in cases {
        let script = format!("let l = db::connect(\"{url}\");\nfn f(l) {{\n  {call};\n}}\nf(l);\n");
        let finished = db
            .app()
            .script("fix", &script)
            .args(&["fix"])
            .status(1)
            .any_stderr()
            .run();
        let place = format!("scripts/fix.rhai:3:{}: ", column + 2);
        let frame = format!(" 3 |   {call};\n");
        assert!(
            finished.stderr.starts_with(&place) && finished.stderr.contains(&frame),
            "{call}: expected {place:?} and the line, got:\n{}",
            finished.stderr
        );
        assert!(
            finished
                .stderr
                .contains("in `f`, called at scripts/fix.rhai:5:1"),
            "{call}:\n{}",
            finished.stderr
        );
    }
}

/// A statement timeout adminsh cannot keep is an error naming the bounds, never a crash.
#[test]
fn statement_timeouts_out_of_range_are_errors() {
    let db = Db::sqlite();
    let cases = [
        (
            "1e20",
            "db::statement_timeout(100000000000000000000): at most 31536000 seconds (365 days); 0 means no limit",
        ),
        (
            "31536001",
            "db::statement_timeout(31536001): at most 31536000 seconds (365 days); 0 means no limit",
        ),
        (
            "-1",
            "db::statement_timeout(-1): seconds is 0 (no limit) or more",
        ),
        (
            "-0.5",
            "db::statement_timeout(-0.5): seconds is 0 (no limit) or more",
        ),
        (
            "1.0/0.0",
            "db::statement_timeout(inf): seconds is 0 (no limit) or more",
        ),
    ];
    for (seconds, message) in cases {
        let code = format!("db::statement_timeout({seconds})");
        db.app()
            .args(&["-e", &code])
            .status(1)
            .stderr_contains(message)
            .run();
    }
    db.app()
        .args(&["-e", "db::statement_timeout(31536000); db::statement_timeout(0); print(db::scalar(\"select 1\"))"])
        .stdout("1\n")
        .run();
}

/// A `SQLite` URL whose file is missing is refused in every mode, naming the path, and no file
/// appears; `?mode=rwc` asks for it to be made. URLs with a host, which the ecosystems read
/// differently, are refused with the forms to use.
#[test]
fn sqlite_never_invents_a_database_the_url_did_not_ask_for() {
    let missing = [
        ("sqlite:///var/shop.db", "var/shop.db"),
        ("sqlite:///shop.db", "shop.db"),
        ("sqlite3:var/shop.db", "var/shop.db"),
        ("sqlite3:var/shop.db?timeout=5000", "var/shop.db"),
        ("sqlite:///var/shop.db?mode=rw", "var/shop.db"),
    ];
    for (url, file) in missing {
        for mode in [&[][..], &["--dry-run"], &["--yes"]] {
            let mut args = mode.to_vec();
            args.extend(["-e", r#"db::exec("create table t (id integer)")"#]);
            let done = Test::new()
                .file("var/.keep", "")
                .env("DATABASE_URL", url)
                .args(&args)
                .status(1)
                .stderr_contains("there is no SQLite database at ")
                .stderr_contains(&format!("/{file}; check the URL's path, or add ?mode=rwc"))
                .run();
            assert!(
                !done.path().join(file).exists(),
                "{url} {mode:?} made {file}"
            );
        }
    }
    let done = Test::new()
        .file("var/.keep", "")
        .env("DATABASE_URL", "sqlite:///var/shop.db?mode=rwc")
        .args(&[
            "-e",
            r#"db::exec("create table t (id integer)"); db::exec("insert into t values (1)")"#,
        ])
        .stdout("1\n")
        .run();
    assert!(done.path().join("var/shop.db").is_file());
    for url in [
        "sqlite://db.internal/app.db",
        "sqlite://localhost/app.db",
        "sqlite3://db.internal/srv/app.db",
        "sqlite://db.internal/app.db?mode=rwc",
    ] {
        let scheme = url.split(':').next().unwrap();
        let done = Test::new()
            .env("DATABASE_URL", url)
            .args(&["-e", r#"db::exec("create table t (id integer)")"#])
            .status(1)
            .stderr_contains("names a host, and SQLite opens files, not servers: write ")
            .stderr_contains(&format!(
                "{scheme}:///relative/path (from the release root) or {scheme}:////absolute/path"
            ))
            .run();
        assert!(!done.path().join("app.db").exists(), "{url}");
    }
}

/// Under `--dry-run` and `--read-only`, no statement reaches the `SQLite` file or another one,
/// whatever its text: `SQLite` judges each statement (its authorizer), and a dry run works on a
/// copy in memory of the file opened read-only. Each shape ends with the file's bytes unchanged
/// and no other file in the app.
#[test]
fn sqlite_guarded_modes_keep_the_file_whatever_the_sql_says() {
    require!(Sqlite3);
    let shapes = [
        "pragma journal_mode = off; pragma cache_size = 1; delete from big",
        "pragma journal_mode = delete",
        "pragma synchronous = off; delete from big",
        "pragma writable_schema = on",
        "pragma query_only = off; delete from big",
        "pragma query_only = 0; delete from big",
        "attach database 'other.db' as o; create table o.t (x int)",
        "attach 'file:other.db?mode=rwc' as o",
        "vacuum into 'copy.db'",
        "vacuum",
        "commit; delete from big",
        "/* */--\rcommit\ndelete from big",
        "end; delete from big",
        "rollback; delete from big",
        "savepoint x; delete from big; release x",
        "begin immediate; delete from big; commit",
        "delete from big",
        "drop table big",
        "create table other (x int); insert into other values (1)",
        "update big set v = 'x'; pragma wal_checkpoint(truncate)",
    ];
    for mode in ["--dry-run", "--read-only"] {
        for shape in shapes {
            let t = Test::new().file(".env", "DATABASE_URL=sqlite:///app.db");
            sqlite3(
                &t.path().join("app.db"),
                "create table big (id integer primary key, v text);
                 with recursive c(x) as (select 1 union all select x + 1 from c limit 20000)
                 insert into big select x, printf('row %d', x) from c;",
            );
            let before = std::fs::read(t.path().join("app.db")).unwrap();
            let mut files: Vec<String> = list(t.path());
            let code = shape.split("; ").fold(String::new(), |code, s| {
                code + &format!("try {{ db::exec({s:?}) }} catch (e) {{ print(e) }}\n")
            });
            let done = t
                .args(&[mode, "-e", &code])
                .any_stdout()
                .any_stderr()
                .status(0)
                .run();
            let after = std::fs::read(done.path().join("app.db")).unwrap();
            assert!(before == after, "{mode} `{shape}` changed app.db");
            files.sort();
            assert_eq!(list(done.path()), files, "{mode} `{shape}` made a file");
            assert_eq!(
                sqlite3(
                    &done.path().join("app.db"),
                    "pragma integrity_check; select count(*) from big"
                ),
                "ok\n20000\n",
                "{mode} `{shape}`"
            );
        }
    }
}

/// The names in an app's directory, sorted, but adminsh's own state (the audit log).
fn list(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != ".adminsh")
        .collect();
    names.sort();
    names
}

/// A handle's transaction hands the handle to a closure that takes one (Rhai lends the handle
/// to the method called on it, so the closure cannot use it by name); the transaction commits
/// when the closure returns and rolls back when it fails; one that uses the handle by name is
/// told how to write it.
#[test]
fn a_transaction_hands_its_handle_to_the_closure() {
    let db = Db::sqlite();
    db.customers();
    let url = db.url();
    let script = format!(
        r#"let l = db::connect("{url}");
l.transaction(|tx| {{ tx.exec("delete from customers where id = 1"); tx.exec("insert into customers (id, name) values (3, 'Cy')"); }});
print(l.scalar("select group_concat(id) from customers"));
try {{ l.transaction(|tx| {{ tx.exec("delete from customers"); fail("undo") }}) }} catch (e) {{ print(e) }}
print(l.scalar("select count(*) from customers"));
db::transaction(|tx| tx.exec("insert into customers (id, name) values (4, 'Di')"));
l.transaction(|| print("no parameter"));
print(db::scalar("select group_concat(id) from customers"));
try {{ transaction(l, || {{ l.exec("delete from customers"); fail("called as a function") }}) }} catch (e) {{ print(e) }}
transaction(l, || l.exec("delete from customers where id = 4"));
print(db::scalar("select group_concat(id) from customers"));
"#
    );
    db.app()
        .script("fix", &script)
        .args(&["fix"])
        .stdout("2,3\nundo\n2\nno parameter\n2,3,4\ncalled as a function\n2,3\n")
        .run();
    assert_eq!(db.count("customers"), "2");
    db.app()
        .args(&[
            "-e",
            &format!(
                r#"let l = db::connect("{url}"); l.transaction(|| l.exec("delete from customers"))"#
            ),
        ])
        .status(1)
        .stderr_contains(
            "take the handle as the closure's parameter, `l.transaction(|tx| tx.exec(...))`, \
             or call it as a function, `transaction(l, || l.exec(...))`",
        )
        .run();
    // Rhai gives the data race no place: adminsh finds the call in the script.
    let lent = "let l = db::connect(\"DATABASE_URL\");\nprint(1);\n  l.transaction(|| {\n    l.exec(\"delete from customers\")\n  });\n";
    db.app()
        .script("lent", lent)
        .args(&["lent"])
        .status(1)
        .stdout("1\n")
        .stderr_contains(
            "scripts/lent.rhai:3:5: Data race detected on argument #1 of function 'transaction'; \
             the closure uses the handle",
        )
        .stderr_contains("\n 3 |   l.transaction(|| {\n   |     ^\n")
        .run();
    assert_eq!(db.count("customers"), "2");
}
