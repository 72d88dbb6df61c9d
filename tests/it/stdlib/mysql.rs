//! `std/mysql` on a real `MariaDB` server: sizes, the processlist with a second session's
//! query running, kill in every mode, a replica asked of a server that is none, and a
//! `mysqldump` backup verified, rotated and loaded into a scratch database.

use super::place;
use crate::support::mariadb::Server;
use crate::support::processes::finish;
use crate::support::tools::require;
use crate::support::wait::poll;
use crate::support::{Test, text};

fn eval(server: &Server, flags: &[&str], code: &str) -> Test {
    Test::new()
        .env("DATABASE_URL", server.url())
        .args(flags)
        .args(&["-e", &format!("import \"std/mysql\" as mysql;\n{code}")])
}

/// The id of the thread running a query that contains `marker`, once it runs.
#[track_caller]
fn thread_running(server: &Server, marker: &str) -> String {
    poll(format!("a thread running {marker}"), || {
        let id = server.sql(&format!(
            "select id from information_schema.processlist where info like '%''{marker}''%' and info not like '%processlist%'"
        ));
        let id = id.trim().to_owned();
        if id.is_empty() {
            Err(String::new())
        } else {
            Ok(id)
        }
    })
}

#[test]
fn sizes_processlist_and_kill() {
    require!(Mariadb);
    let server = Server::start();
    server.sql(
        "create table orders (id int primary key auto_increment, note varchar(200), key (note));
         insert into orders (note) select concat(repeat('x', 150), seq) from seq_1_to_3000;
         create table notes (id int primary key);
         analyze table orders, notes;",
    );
    eval(
        &server,
        &[],
        "let t = mysql::table_sizes();
         print(t.map(|r| r.table));
         print([t[0].engine, t[0].bytes > t[1].bytes, t[0].total.ends_with(\"kB\") || t[0].total.ends_with(\"MB\")]);
         mysql::table_sizes(1).len()",
    )
    .stdout("[\"orders\", \"notes\"]\n[\"InnoDB\", true, true]\n1\n")
    .run();

    let sleeper = server.session("select sleep(600), 'sleeper'");
    let id = thread_running(&server, "sleeper");
    eval(
        &server,
        &[],
        "print(mysql::processlist().filter(|t| t.command == \"Query\").map(|t| [t.user, t.query]));
         print(mysql::active_sessions());
         mysql::long_running(0).map(|t| t.id)",
    )
    .stdout(&format!(
        "[[\"root\", \"select sleep(600), 'sleeper'\"]]\n1\n[{id}]\n"
    ))
    .run();
    let what = format!("kill query {id} (root, Query for ");
    let refused = place("mysql", "fail(`${who} refused under --read-only");
    eval(
        &server,
        &["--read-only"],
        &format!("mysql::kill_query({id})"),
    )
    .status(1)
    .stderr_contains(&format!(
        "{refused}: mysql::kill_query refused under --read-only: it would {what}"
    ))
    .run();
    eval(&server, &["--dry-run"], &format!("mysql::kill_query({id})"))
        .stdout("false\n")
        .stderr_contains(&format!("dry run: would {what}"))
        .run();
    eval(&server, &[], &format!("mysql::kill_query({id})"))
        .status(1)
        .stderr_contains("needs an answer, but stdin is not a terminal: pass --yes to answer yes")
        .run();
    assert_eq!(
        thread_running(&server, "sleeper"),
        id,
        "the query still runs"
    );
    eval(&server, &["--yes"], &format!("mysql::kill_query({id})"))
        .stdout("true\n")
        .any_stderr()
        .run();
    let sleeper = finish(sleeper, "the killed query's client");
    assert!(
        text(&sleeper.stderr).contains("Query execution was interrupted"),
        "{}",
        text(&sleeper.stderr)
    );

    // Killing the connection ends the client with the server's words.
    let waiter = server.session("select sleep(601), 'waiter'");
    let id = thread_running(&server, "waiter");
    eval(&server, &["--yes"], &format!("mysql::kill({id})"))
        .stdout("true\n")
        .stderr_contains(&format!("info: kill connection {id} (root, Query for "))
        .run();
    let waiter = finish(waiter, "the killed connection's client");
    assert!(!waiter.status.success());
    assert!(
        text(&waiter.stderr).contains("Lost connection") || text(&waiter.stderr).contains("killed"),
        "{}",
        text(&waiter.stderr)
    );

    let count = "fail(`${who}: ${what} is a count";
    for (code, needle, message) in [
        (
            "mysql::table_sizes(0)",
            count,
            "mysql::table_sizes: limit is a count of 1 or more, not 0".to_owned(),
        ),
        (
            "mysql::long_running(-5)",
            "fail(`${who} takes seconds",
            "mysql::long_running takes seconds (a number of 0 or more), not -5".to_owned(),
        ),
        (
            "mysql::kill(\"12\")",
            "fail(`${who} takes a thread id",
            "mysql::kill takes a thread id (an int), not string".to_owned(),
        ),
        (
            "mysql::kill_query(999999)",
            "fail(`${who}: no thread",
            "mysql::kill_query: no thread has id 999999".to_owned(),
        ),
        (
            "mysql::kill(db::scalar(\"select connection_id()\"))",
            "fail(`${who}: thread ${id} is this",
            "is this script's own connection".to_owned(),
        ),
        (
            "mysql::replica_lag(\"DATABASE_URL\")",
            "fail(\"mysql::replica_lag: that server",
            "mysql::replica_lag: that server is not a replica (SHOW REPLICA STATUS is empty)"
                .to_owned(),
        ),
        (
            "mysql::replica_lag(7)",
            "fail(`mysql::replica_lag takes",
            "mysql::replica_lag takes a db::connect handle, a config key or a URL, not i64"
                .to_owned(),
        ),
        (
            "mysql::backup(#{keep: 0})",
            count,
            "mysql::backup: keep is a count of 1 or more, not 0".to_owned(),
        ),
        (
            "mysql::backup(#{dir: \"b\", kep: 2})",
            "fail(who + \": unknown option",
            "mysql::backup: unknown option `kep` (it knows dir, keep, name, url, args)".to_owned(),
        ),
        (
            "mysql::backup(#{url: \"postgres://x@h/db\"})",
            "fail(`mysql::backup: the database is",
            "mysql::backup: the database is postgres://, not mysql://".to_owned(),
        ),
    ] {
        let done = eval(&server, &[], code).status(1).any_stderr().run();
        let first = done.stderr.lines().next().unwrap_or_default();
        let at = place("mysql", needle);
        assert!(
            first.starts_with(&format!("{at}: ")) && first.ends_with(&message),
            "{code}: expected {at}: ...{message}\n{}",
            done.stderr
        );
        let called = code
            .split('(')
            .next()
            .unwrap()
            .trim_start_matches("mysql::");
        assert!(
            done.stderr
                .lines()
                .last()
                .unwrap_or_default()
                .starts_with(&format!("  in `{called}`, called at -e:2:")),
            "{code}: the last frame is the caller's line\n{}",
            done.stderr
        );
    }
}

#[test]
fn backup_is_verified_rotated_and_loads() {
    require!(Mariadb);
    let server = Server::start();
    server.sql(
        "create table orders (id int primary key auto_increment, total decimal(10,2), placed date, note text);
         insert into orders (total, placed, note) select seq * 1.5, '2026-01-01' + interval seq day, concat('it''s ', seq) from seq_1_to_500;
         create view big_orders as select * from orders where total > 100;",
    );
    let app = || {
        Test::new()
            .env("DATABASE_URL", server.url())
            .file("backups/app-20200101-000000.sql", "old")
            .file("backups/app-20200102-000000.sql", "newer")
            .file("backups/app-notes.sql", "not a backup of ours")
    };
    let target = format!(
        "back up mysql2://app@127.0.0.1:{}/app into backups/app-",
        server.port
    );
    app()
        .args(&[
            "--dry-run",
            "-e",
            "import \"std/mysql\" as mysql; mysql::backup(#{keep: 2}).file",
        ])
        .any_stdout()
        .stderr_contains(&format!("dry run: would {target}"))
        .run();
    app()
        .args(&[
            "--read-only",
            "-e",
            "import \"std/mysql\" as mysql; mysql::backup(#{keep: 2})",
        ])
        .status(1)
        .stderr_contains(&format!(
            "mysql::backup refused under --read-only: it would {target}"
        ))
        .run();
    let done = app()
        .args(&[
            "--json",
            "-e",
            "import \"std/mysql\" as mysql; let b = mysql::backup(#{keep: 2}); print(b.removed); print(b.tables); b.file",
        ])
        .any_stdout()
        .any_stderr()
        .run();
    let report: serde_json::Value = serde_json::from_str(&done.stdout).unwrap();
    let file = report["value"].as_str().unwrap().to_owned();
    assert!(
        done.stderr
            .ends_with("; 1 older removed\n[\"backups/app-20200101-000000.sql\"]\n1\n"),
        "{}",
        done.stderr
    );
    let mut names: Vec<String> = std::fs::read_dir(done.dir.path().join("backups"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let name = file.strip_prefix("backups/").unwrap();
    assert_eq!(names, ["app-20200102-000000.sql", name, "app-notes.sql"]);
    // The password travels in MYSQL_PWD, never on the command line.
    assert_eq!(
        report["commands"][0]["argv"],
        serde_json::json!([
            "mysqldump",
            "--single-transaction",
            format!("--result-file={file}"),
            "--host=127.0.0.1",
            format!("--port={}", server.port),
            "--user=app",
            "app"
        ])
    );
    // Loaded into a scratch database, it is the database it was taken from.
    server.sql("create database scratch");
    server.load("scratch", &done.dir.path().join(&file));
    assert_eq!(server.dump_of("scratch"), server.dump_of("app"));

    // A dump cut short fails its verification.
    let whole = std::fs::read_to_string(done.dir.path().join(&file)).unwrap();
    Test::new()
        .file("cut.sql", &whole[..whole.len() / 2])
        .args(&["-e", "import \"std/mysql\" as mysql; mysql::verify_backup(\"cut.sql\")"])
        .status(1)
        .stderr_contains("mysql::verify_backup: cut.sql is not a complete mysqldump (no `-- Dump completed` at its end)")
        .run();
}
