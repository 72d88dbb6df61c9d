//! `std/pg` on a real `PostgreSQL` cluster: sizes, a lock held by a second session and the
//! session waiting for it, cancel and terminate in every mode, vacuum, timeouts, a backup
//! restored into a scratch database, and a streaming replica paused and resumed.

use std::io::Write;
use std::process::Child;

use super::place;
use crate::support::postgres::Cluster;
use crate::support::processes::finish;
use crate::support::tools::require;
use crate::support::wait::{poll, wait_until};
use crate::support::{Test, text};

/// Writes SQL into a psql session's stdin.
fn send(session: &mut Child, sql: &str) {
    let stdin = session.stdin.as_mut().unwrap();
    stdin.write_all(sql.as_bytes()).unwrap();
    stdin.flush().unwrap();
}

/// The pid of the session named `app`, once `condition` holds for it.
#[track_caller]
fn pid_of(cluster: &Cluster, app: &str, condition: &str) -> String {
    let sql = format!(
        "select pid from pg_stat_activity where application_name = '{app}' and {condition}"
    );
    poll(format!("session {app} where {condition}"), || {
        let pid = cluster.psql(&sql).trim().to_owned();
        if pid.is_empty() {
            Err(String::new())
        } else {
            Ok(pid)
        }
    })
}

fn pg_app(cluster: &Cluster) -> Test {
    Test::new().env("DATABASE_URL", cluster.url())
}

/// Runs `code` after `import "std/pg" as pg;` with adminsh's `flags`.
fn pg_eval(cluster: &Cluster, flags: &[&str], code: &str) -> Test {
    pg_app(cluster)
        .args(flags)
        .args(&["-e", &format!("import \"std/pg\" as pg;\n{code}")])
}

#[test]
fn sizes_sessions_and_the_blocking_lock_tree() {
    require!(Postgres);
    let cluster = Cluster::start();
    cluster.psql(
        "create table orders (id serial primary key, total int, note text);
         insert into orders (total, note) select g, repeat('x', 200) || g from generate_series(1, 2000) g;
         create index orders_note on orders (note);
         create table notes (id int primary key);
         analyze;",
    );
    pg_eval(
        &cluster,
        &[],
        "let t = pg::table_sizes();
         print(t.map(|r| r.table));
         print([t[0].rows, t[0].bytes > t[1].bytes, t[0].total.ends_with(\"kB\")]);
         print(pg::table_sizes(1).len());
         print(pg::index_sizes().map(|i| `${i.index} on ${i.table}: ${i.scans}`));",
    )
    .stdout(
        r#"
        ["orders", "notes"]
        [2000, true, true]
        1
        ["orders_note on orders: 0", "orders_pkey on orders: 0", "notes_pkey on notes: 0"]
        "#,
    )
    .run();

    // A lock held by a session idle in its transaction, a second session waiting for it.
    let mut blocker = cluster.session("blocker");
    send(
        &mut blocker,
        "begin;\nupdate orders set total = 0 where id = 1;\n",
    );
    let b = pid_of(&cluster, "blocker", "state = 'idle in transaction'");
    let mut waiter = cluster.session("waiter");
    send(&mut waiter, "update orders set total = 1 where id = 1;\n");
    let w = pid_of(&cluster, "waiter", "wait_event_type = 'Lock'");
    let shown = pg_eval(&cluster, &[], "pg::print_blocking()")
        .any_stdout()
        .run()
        .stdout;
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(lines.len(), 3, "{shown}");
    assert!(
        lines[0].starts_with(&format!("pid {b} blocks 1, in a transaction for "))
            && lines[0].ends_with(
                "s (idle in transaction, postgres, blocker): update orders set total = 0 where id = 1;"
            ),
        "{shown}"
    );
    assert!(
        lines[1].starts_with(&format!("  pid {w} waits "))
            && lines[1].ends_with(
                "s (active, postgres, waiter): update orders set total = 1 where id = 1;"
            ),
        "{shown}"
    );
    assert_eq!(lines[2], "1", "the sessions waiting: {shown}");
    pg_eval(
        &cluster,
        &[],
        "print(pg::blocking().map(|s| [s.depth, s.app, s.blocked_by.len()]));
         print(pg::idle_in_transaction(0).map(|s| s.app));
         print(pg::long_running(0).map(|q| [q.app, q.waiting_on]));
         print(pg::long_running(3600));
         print(pg::active_sessions());",
    )
    .stdout(
        r#"
        [[0, "blocker", 0], [1, "waiter", 1]]
        ["blocker"]
        [["waiter", "Lock:transactionid"]]
        []
        1
        "#,
    )
    .run();
    // lock_timeout makes a statement give up instead of queueing behind the lock.
    pg_eval(
        &cluster,
        &[],
        "pg::set_timeouts(#{lock_timeout: \"200ms\"});
         db::exec(\"update orders set total = 2 where id = 1\");",
    )
    .status(1)
    .stderr_contains("db::exec failed: canceling statement due to lock timeout (SQLSTATE 55P03)")
    .run();

    // Terminating the blocker: refused, said, unanswered, then done.
    let what = format!(
        "terminate pid {b} (idle in transaction, postgres: update orders set total = 0 where id = 1;)"
    );
    let terminate = format!("pg::terminate({b})");
    let refusal = place("pg", "fail(`${who} refused under --read-only");
    let confirm = place("pg", "confirm(`${what}?`)");
    for (flags, status, stdout, stderr) in [
        (
            &["--read-only"][..],
            1,
            "",
            format!("{refusal}: pg::terminate refused under --read-only: it would {what}\n"),
        ),
        (
            &["--dry-run"][..],
            0,
            "false\n",
            format!("dry run: would {what}\n"),
        ),
        (
            &[][..],
            1,
            "",
            format!(
                "{confirm}: confirm(\"{what}?\") needs an answer, but stdin is not a terminal: pass --yes to answer yes\n"
            ),
        ),
    ] {
        let done = pg_eval(&cluster, flags, &terminate)
            .status(status)
            .stdout(stdout)
            .any_stderr()
            .run();
        assert!(
            done.stderr.starts_with(&stderr),
            "{flags:?}: {}",
            done.stderr
        );
        assert_eq!(
            cluster.psql(&format!(
                "select count(*) from pg_stat_activity where pid = {b}"
            )),
            "1\n",
            "{flags:?} left the blocker"
        );
    }
    pg_eval(&cluster, &["--yes"], &terminate)
        .stdout("true\n")
        .stderr(&format!("info: {what}? yes (--yes)\n"))
        .run();
    // The waiter's update goes through; the blocker's was rolled back.
    pid_of(&cluster, "waiter", "state = 'idle'");
    drop(waiter.stdin.take());
    assert!(finish(waiter, "psql waiter").status.success());
    // psql learns its connection is gone when it next sends something.
    send(&mut blocker, "select 1;\n");
    drop(blocker.stdin.take());
    let blocker = finish(blocker, "psql blocker");
    assert!(
        text(&blocker.stderr).contains("terminating connection due to administrator command"),
        "{}",
        text(&blocker.stderr)
    );
    assert_eq!(cluster.psql("select total from orders where id = 1"), "1\n");
    pg_eval(&cluster, &[], "pg::print_blocking()")
        .stdout("no session waits for a lock\n0\n")
        .run();

    // Cancelling a query leaves its session.
    let mut sleeper = cluster.session("sleeper");
    send(&mut sleeper, "select pg_sleep(600);\n");
    let s = pid_of(&cluster, "sleeper", "state = 'active'");
    pg_eval(&cluster, &["--yes"], &format!("pg::cancel({s})"))
        .stdout("true\n")
        .any_stderr()
        .run();
    pid_of(&cluster, "sleeper", "state = 'idle'");
    drop(sleeper.stdin.take());
    let sleeper = finish(sleeper, "psql sleeper");
    assert!(
        text(&sleeper.stderr).contains("canceling statement due to user request"),
        "{}",
        text(&sleeper.stderr)
    );
}

#[test]
fn vacuum_analyze_and_timeouts() {
    require!(Postgres);
    let cluster = Cluster::start();
    cluster.psql("create table orders (id int primary key); create table \"Line Items\" (id int);");
    let vacuumed = || {
        cluster.psql(
            "select relname, last_vacuum is not null, last_analyze is not null
             from pg_stat_user_tables order by relname",
        )
    };
    let before = vacuumed();
    assert_eq!(before, "Line Items|f|f\norders|f|f\n");
    let call = r#"pg::vacuum_analyze(["orders", "\"Line Items\""])"#;
    pg_eval(&cluster, &["--read-only"], call)
        .status(1)
        .stderr_contains(
            "pg::vacuum_analyze refused under --read-only: it would vacuum (analyze) [\"orders\", \"\\\"Line Items\\\"\"]",
        )
        .run();
    pg_eval(&cluster, &["--dry-run"], call)
        .stdout("[]\n")
        .stderr_contains("dry run: would vacuum (analyze) orders\ndry run: would vacuum (analyze) \"Line Items\"\n")
        .run();
    assert_eq!(vacuumed(), before);
    let done = pg_eval(&cluster, &[], call)
        .stdout("[\"orders\", \"\\\"Line Items\\\"\"]\n")
        .any_stderr()
        .run();
    assert!(
        done.stderr.starts_with("info: pg::vacuum_analyze orders: ")
            && done
                .stderr
                .contains("\ninfo: pg::vacuum_analyze \"Line Items\": "),
        "{}",
        done.stderr
    );
    wait_until("the vacuums in pg_stat_user_tables", || {
        vacuumed() == "Line Items|t|t\norders|t|t\n"
    });
    pg_eval(
        &cluster,
        &[],
        "let before = pg::set_timeouts(#{lock_timeout: \"3s\", statement_timeout: 60});
         print(before);
         print(pg::timeouts());
         pg::set_timeouts(before);
         pg::timeouts()",
    )
    .stdout(
        r#"
        #{"lock_timeout": "0", "statement_timeout": "0"}
        #{"idle_in_transaction_session_timeout": "0", "lock_timeout": "3s", "statement_timeout": "1min"}
        #{"idle_in_transaction_session_timeout": "0", "lock_timeout": "0", "statement_timeout": "0"}
        "#,
    )
    .run();
}

#[test]
fn bad_inputs_are_errors_in_the_module_naming_the_call() {
    require!(Postgres);
    let cluster = Cluster::start();
    let count = "fail(`${who}: ${what} is a count";
    let seconds = "fail(`${who} takes seconds";
    let options = "fail(who + \": unknown option";
    let map = "fail(`${who} takes a map of options";
    let vacuum = "fail(`pg::vacuum_analyze takes a table name";
    let set = "exec(\"select set_config";
    for (code, needle, message) in [
        (
            "pg::table_sizes(0)",
            count,
            "pg::table_sizes: limit is a count of 1 or more, not 0",
        ),
        (
            "pg::index_sizes(\"10\")",
            count,
            "pg::index_sizes: limit is a count of 1 or more, not \"10\"",
        ),
        (
            "pg::long_running(-1)",
            seconds,
            "pg::long_running takes seconds (a number of 0 or more), not -1",
        ),
        (
            "pg::idle_in_transaction(())",
            seconds,
            "pg::idle_in_transaction takes seconds (a number of 0 or more), not ()",
        ),
        (
            "pg::terminate(\"42\")",
            "fail(`${who} takes a pid",
            "pg::terminate takes a pid (an int), not \"42\"",
        ),
        (
            "pg::cancel(999999)",
            "fail(`${who}: no session has pid",
            "pg::cancel: no session has pid 999999",
        ),
        (
            "pg::terminate(db::scalar(\"select pg_backend_pid()\"))",
            "fail(`${who}: pid ${pid} is this",
            "is this script's own connection",
        ),
        (
            "pg::vacuum_analyze([])",
            vacuum,
            "pg::vacuum_analyze takes a table name or an array of them, not []",
        ),
        (
            "pg::vacuum_analyze(42)",
            vacuum,
            "pg::vacuum_analyze takes a table name or an array of them, not 42",
        ),
        (
            "pg::vacuum_analyze([\"pg_class\", 1])",
            "fail(`pg::vacuum_analyze: a table name",
            "pg::vacuum_analyze: a table name is a string, not 1",
        ),
        (
            "pg::vacuum_analyze(\"nope\")",
            "fail(`pg::vacuum_analyze: no table",
            "pg::vacuum_analyze: no table nope",
        ),
        (
            "pg::backup(5)",
            map,
            "pg::backup takes a map of options, not 5",
        ),
        (
            "pg::backup(#{kep: 1})",
            options,
            "pg::backup: unknown option `kep` (it knows dir, keep, name, url, args)",
        ),
        (
            "pg::backup(#{keep: 0})",
            count,
            "pg::backup: keep is a count of 1 or more, not 0",
        ),
        (
            "pg::backup(#{name: \"../x\"})",
            "fail(`pg::backup: name",
            "pg::backup: name \"../x\" is not a file name (letters, digits, _ . -)",
        ),
        (
            "pg::set_timeouts(#{lock: 1})",
            options,
            "pg::set_timeouts: unknown option `lock` (it knows statement_timeout, lock_timeout, idle_in_transaction_session_timeout)",
        ),
        (
            "pg::set_timeouts(#{lock_timeout: [1]})",
            "fail(`pg::set_timeouts: ${key} is a string",
            "pg::set_timeouts: lock_timeout is a string (\"5s\") or an int of seconds, not [1]",
        ),
        (
            "pg::set_timeouts(#{lock_timeout: \"soon\"})",
            set,
            "db::exec failed: invalid value for parameter \"lock_timeout\": \"soon\" (SQLSTATE 22023)",
        ),
        (
            "pg::replica_lag(42)",
            "fail(`pg::replica_lag takes",
            "pg::replica_lag takes a db::connect handle, a config key or a URL, not 42",
        ),
        (
            "pg::replica_lag(\"DATABASE_URL\")",
            "fail(\"pg::replica_lag: that server",
            "pg::replica_lag: that server is not a replica (pg_is_in_recovery() is false)",
        ),
        (
            "pg::wait_for_replica(\"DATABASE_URL\", \"5\", 1)",
            seconds,
            "pg::wait_for_replica takes seconds (a number of 0 or more), not \"5\"",
        ),
    ] {
        let done = pg_eval(&cluster, &[], code).status(1).any_stderr().run();
        let first = done.stderr.lines().next().unwrap_or_default();
        let at = place("pg", needle);
        assert!(
            first.starts_with(&format!("{at}: ")) && first.ends_with(message),
            "{code}: expected {at}: ...{message}\n{}",
            done.stderr
        );
        let last = done.stderr.lines().last().unwrap_or_default();
        let called = code.split('(').next().unwrap().trim_start_matches("pg::");
        assert!(
            last.starts_with(&format!("  in `{called}`, called at -e:2:")),
            "{code}: the last frame is the caller's line\n{}",
            done.stderr
        );
    }
}

#[test]
fn backup_is_verified_rotated_and_restores() {
    require!(Postgres);
    let cluster = Cluster::start();
    cluster.psql(
        "create table orders (id serial primary key, total numeric(10, 2), placed date);
         insert into orders (total, placed) select g * 1.5, date '2026-01-01' + g from generate_series(1, 500) g;
         create view big_orders as select * from orders where total > 100;",
    );
    let app = || {
        pg_app(&cluster)
            .file("backups/postgres-20200101-000000.dump", "old")
            .file("backups/postgres-20200102-000000.dump", "newer")
            .file("backups/postgres-notes.dump", "not a backup of ours")
            .file("backups/other.txt", "")
    };
    let listed = |dir: &std::path::Path| {
        let mut names: Vec<String> = std::fs::read_dir(dir.join("backups"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let before = [
        "other.txt",
        "postgres-20200101-000000.dump",
        "postgres-20200102-000000.dump",
        "postgres-notes.dump",
    ];
    let target = format!(
        "back up postgres://postgres@127.0.0.1:{}/postgres into backups/postgres-",
        cluster.port
    );
    let dry = app()
        .args(&[
            "--dry-run",
            "-e",
            "import \"std/pg\" as pg; pg::backup(#{keep: 2}).file",
        ])
        .any_stdout()
        .stderr_contains(&format!("dry run: would {target}"))
        .stderr_contains(".dump (pg_dump -Fc), verify it and keep the newest 2\n")
        .run();
    assert_eq!(listed(dry.dir.path()), before);
    let read_only = app()
        .args(&[
            "--read-only",
            "-e",
            "import \"std/pg\" as pg; pg::backup(#{keep: 2})",
        ])
        .status(1)
        .stderr_contains(&format!(
            "pg::backup refused under --read-only: it would {target}"
        ))
        .run();
    assert_eq!(listed(read_only.dir.path()), before);

    let done = app()
        .args(&[
            "--json",
            "-e",
            "import \"std/pg\" as pg;
             let b = pg::backup(#{keep: 2});
             print(b.removed);
             print(b.entries > 3);
             print(b.bytes > 1000);
             b.file",
        ])
        .any_stdout()
        .any_stderr()
        .run();
    let report: serde_json::Value = serde_json::from_str(&done.stdout).unwrap();
    let file = report["value"].as_str().unwrap().to_owned();
    assert!(
        done.stderr
            .starts_with("info: pg::backup: backups/postgres-")
            && done.stderr.contains(" entries, verified, in ")
            && done.stderr.ends_with(
                "; 1 older removed\n[\"backups/postgres-20200101-000000.dump\"]\ntrue\ntrue\n"
            ),
        "{}",
        done.stderr
    );
    let name = file.strip_prefix("backups/").unwrap();
    assert_eq!(
        listed(done.dir.path()),
        [
            "other.txt",
            "postgres-20200102-000000.dump",
            name,
            "postgres-notes.dump"
        ]
    );
    // The password travels in PGPASSWORD, never on the command line.
    let dump_argv = report["commands"][0]["argv"].to_string();
    assert_eq!(
        dump_argv,
        format!(
            r#"["pg_dump","--format=custom","--no-password","--file={file}","--dbname=postgres://postgres@127.0.0.1:{}/postgres"]"#,
            cluster.port
        )
    );
    assert!(!done.stdout.contains("s3cr3t"));

    // Restored into a scratch database, it is the database it was taken from.
    cluster.psql("create database scratch");
    let restored = std::process::Command::new("pg_restore")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &cluster.port.to_string(),
            "-U",
            "postgres",
        ])
        .args(["-d", "scratch"])
        .arg(done.dir.path().join(&file))
        .env("PGPASSWORD", cluster.password)
        .output()
        .unwrap();
    assert!(restored.status.success(), "{}", text(&restored.stderr));
    assert_eq!(cluster.dump_of("scratch"), cluster.dump());

    // A file pg_restore cannot read fails its verification, with pg_restore's words.
    pg_app(&cluster)
        .file("backups/broken.dump", "PGDMP but not really")
        .args(&[
            "-e",
            "import \"std/pg\" as pg; pg::verify_backup(\"backups/broken.dump\")",
        ])
        .status(1)
        .stderr_contains("command `pg_restore --list backups/broken.dump` failed: exit status 1")
        .stderr_contains("pg_restore: error: ")
        .run();
}

#[test]
fn replica_lag_on_a_real_replica() {
    require!(Postgres);
    let primary = Cluster::start();
    let replica = primary.replica();
    primary.psql("create table ticks (id serial primary key, at timestamptz default now())");
    wait_until("the replica to stream", || {
        primary.psql("select count(*) from pg_stat_replication where state = 'streaming'") == "1\n"
    });
    let app = || pg_app(&primary).env("REPLICA_URL", replica.url());
    let eval = |code: &str| app().args(&["-e", &format!("import \"std/pg\" as pg;\n{code}")]);
    // A transaction replayed, so the replica has a replay time to measure from.
    primary.psql("insert into ticks default values");
    wait_until("the replica to replay the insert", || {
        replica.psql("select count(*) from ticks") == "1\n"
    });
    eval(
        "print(pg::replicas().map(|r| [r.state, r.sync_state, r.bytes_behind >= 0]));
         let lag = pg::replica_lag(\"REPLICA_URL\");
         print([type_of(lag), lag < 60.0]);
         let handle = db::connect(\"REPLICA_URL\");
         pg::replica_lag(handle) < 60.0",
    )
    .stdout("[[\"streaming\", \"async\", true]]\n[\"f64\", true]\ntrue\n")
    .run();

    // Replay paused while the primary writes: the replica falls behind, and the wait says so.
    replica.psql("select pg_wal_replay_pause()");
    primary.psql("insert into ticks default values");
    wait_until("WAL received but not replayed", || {
        replica.psql("select pg_last_wal_receive_lsn() <> pg_last_wal_replay_lsn()") == "t\n"
    });
    let behind = eval("pg::wait_for_replica(\"REPLICA_URL\", 0, 1.5)")
        .status(1)
        .any_stderr()
        .run();
    assert!(
        behind.stderr.contains("wait_until") && behind.stderr.contains("the replica is "),
        "{}",
        behind.stderr
    );
    replica.psql("select pg_wal_replay_resume()");
    eval("pg::wait_for_replica(\"REPLICA_URL\", 0, 30)")
        .stdout("0.0\n")
        .any_stderr()
        .run();
}
