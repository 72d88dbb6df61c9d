//! `std/db` against real databases: a `SQLite` file through `sqlite3`, and a throwaway
//! `PostgreSQL` cluster through `psql`, with a password that must travel in PGPASSWORD.

use std::path::Path;

use crate::support::tools::require;
use crate::support::{Test, postgres::Cluster};

/// The same script works on both databases.
const SCRIPT: &str = r#"
import "std/db" as db;
db::exec(`create table items (id integer primary key, name text, price integer);
          insert into items (id, name, price) values (1, 'pen', 150), (2, 'it''s; $(rm -rf /)', 999);`);
print(db::query("select id, name, price from items order by id"));
print(db::scalar("select count(*) from items;"));
print(db::scalar("select name from items where id = 42"));
print(db::query("select * from items where price > 100000"));
try { db::scalar("select id, name from items") } catch (e) { print(e) }
try { db::exec("select * from no_such_table") } catch (e) { print("failed: " + e.contains("no_such_table")) }
"#;

const EXPECTED: &str = r#"[#{"id": 1, "name": "pen", "price": 150}, #{"id": 2, "name": "it's; $(rm -rf /)", "price": 999}]
2

[]
db::scalar expects one column, the query returned 2: ["id", "name"]
failed: true
"#;

#[test]
fn sqlite_file() {
    require!(Sqlite3);
    let done = Test::new()
        .file(".env", "DATABASE_URL=sqlite:///var/app.db")
        .file("var/.keep", "")
        .script("db", SCRIPT)
        .args(&["db"])
        .stdout(EXPECTED)
        .any_stderr()
        .run();
    assert!(done.path().join("var/app.db").is_file());
}

#[test]
fn postgres_cluster() {
    require!(Postgres);
    let cluster = Cluster::start();
    let done = Test::new()
        .env("DATABASE_URL", cluster.url())
        .script("db", SCRIPT)
        .args(&["db"])
        .stdout(EXPECTED)
        .any_stderr()
        .run();
    assert!(
        !done.stderr.contains(cluster.password),
        "password leaked: {}",
        done.stderr
    );
    // A wrong password is an error naming the (redacted) command, not a hang or a prompt.
    let wrong = cluster.url().replace("s3cr3t", "wrong");
    let failed = Test::new()
        .env("DATABASE_URL", &wrong)
        .args(&["-e", "import \"std/db\" as db; db::scalar(\"select 1\")"])
        .status(1)
        .stderr_contains("password authentication failed")
        .run();
    assert!(!failed.stderr.contains("wrong-pw"), "{}", failed.stderr);
}

#[test]
fn unknown_database_scheme_is_named() {
    Test::new()
        .file(".env", "DATABASE_URL=mysql://u@h/db")
        .args(&["-e", "import \"std/db\" as db; db::query(\"select 1\")"])
        .status(1)
        .stderr_contains("DATABASE_URL has scheme `mysql`; std/db knows postgres:// and sqlite://")
        .run();
}

/// How a refused statement that is not a query reads (then the keyword and ``"`:"``).
const NOT_A_QUERY: &str = "db::query refused a statement that starts with `";
/// How a statement the database refused as a write reads (then the database's words).
const WRITES: &str = "db::query refused a statement that writes: ";
/// What every such refusal says about why.
const WHY: &str = "so that it can run under --dry-run and --read-only; use db::exec to change data";

/// Statements given to `db::query`, and what comes back on `SQLite` and on `PostgreSQL`: `rows N`,
/// or text the error holds. Whatever comes back, the database must be unchanged afterwards.
const CASES: &[(&str, &str, &str)] = &[
    (
        "select id, name from customers order by id",
        "rows 2",
        "rows 2",
    ),
    (
        "select 'it''s; fine' as v; -- one statement, then a comment",
        "rows 1",
        "rows 1",
    ),
    (
        "select 1 as one -- a comment, no newline",
        "rows 1",
        "rows 1",
    ),
    ("table customers", "`table`", "rows 2"),
    ("pragma table_info(customers)", "rows 2", "`pragma`"),
    ("delete from customers returning id", "`delete`", "`delete`"),
    ("drop table customers", "`drop`", "`drop`"),
    ("update customers set name = 'x'", "`update`", "`update`"),
    (
        "insert into customers (id, name) values (9, 'z') returning id",
        "`insert`",
        "`insert`",
    ),
    (
        "with gone as (delete from customers returning id) select * from gone",
        "db::query failed: near \"delete\": syntax error",
        "writes: its WITH holds an insert, update or delete",
    ),
    (
        "with one as (select 1) delete from customers",
        "writes: attempt to write a readonly database",
        "db::query failed: WITH query \"adminsh_rows\" does not have a RETURNING clause",
    ),
    (
        "select * from customers for update",
        "db::query failed: near \"update\": syntax error",
        "writes: cannot execute SELECT FOR UPDATE in a read-only transaction",
    ),
    (
        "select nextval('counter')",
        "db::query failed: no such function: nextval",
        "writes: cannot execute nextval() in a read-only transaction",
    ),
    // Runs, but in a transaction that is rolled back: the large object is not kept.
    (
        "select lo_import('/etc/passwd') > 0 as imported",
        "db::query failed: no such function: lo_import",
        "rows 1",
    ),
    ("copy customers to stdout", "`copy`", "`copy`"),
    ("vacuum", "`vacuum`", "`vacuum`"),
    (
        "create temp table scratch (id integer)",
        "`create`",
        "`create`",
    ),
    (
        "attach database 'other.db' as other",
        "`attach`",
        "`attach`",
    ),
    (
        "select writefile('written.txt', 'x')",
        "writes: cannot use the writefile() function in safe mode",
        "db::query failed: function writefile(unknown, unknown) does not exist",
    ),
    (
        "pragma user_version = 5",
        "writes: attempt to write a readonly database",
        "`pragma`",
    ),
    (
        "pragma journal_mode = wal",
        "writes: attempt to write a readonly database",
        "`pragma`",
    ),
    (
        "pragma query_only = off",
        "db::query refused a statement that names query_only",
        "`pragma`",
    ),
    (
        "select 1; delete from customers",
        "more than one statement: a second one starts at line 1, column 11",
        "more than one statement: a second one starts at line 1, column 11",
    ),
    (
        "select 1 as one;\n  set default_transaction_read_only = off;\n  delete from customers;",
        "more than one statement: a second one starts at line 2, column 3",
        "more than one statement: a second one starts at line 2, column 3",
    ),
    // Out of the wrapping `with adminsh_rows as (...)`, into statements of its own.
    (
        "select 1) select 1; set default_transaction_read_only = off; delete from customers; with x as (select 1",
        "more than one statement: a second one starts at line 1, column 21",
        "more than one statement: a second one starts at line 1, column 21",
    ),
    // Quotes and comments as each database reads them: a `;` inside is not the end.
    (
        "select $$;$$ as semicolon",
        "more than one statement",
        "rows 1",
    ),
    (
        "select $_$;$_$ as semicolon",
        "more than one statement",
        "rows 1",
    ),
    (
        "select 1$a$ ' $a$; delete from customers; select ''",
        "it ends inside a quoted string",
        "more than one statement: a second one starts at line 1, column 20",
    ),
    (
        r#"select "a;b" from (select 1 as "a;b") t"#,
        "rows 1",
        "rows 1",
    ),
    (
        "select 1 as one /* nested /* ; */ still a comment ; */",
        "more than one statement",
        "rows 1",
    ),
    (
        r"select U&'\0041;' as a",
        "db::query failed: no such column: U",
        "rows 1",
    ),
    (
        "select 'a' as a -- a comment ends here on PostgreSQL\r; delete from customers",
        "rows 1",
        "more than one statement",
    ),
    (
        r"select E'\';' as quote",
        "more than one statement",
        "rows 1",
    ),
    (
        "select 'unfinished; delete from customers",
        "db::query refused the SQL: it ends inside a quoted string",
        "db::query refused the SQL: it ends inside a quoted string",
    ),
    (
        "select 1 /* unfinished; delete from customers",
        "it ends inside a /* comment",
        "it ends inside a /* comment",
    ),
    // Commands of the clients themselves, not SQL.
    (
        r"select 1 \! touch pwned",
        "db::query failed: unrecognized token: \"\\\"",
        "db::query failed: syntax error at or near \"\\\"",
    ),
    (
        "select 1 as one\ngo\n.shell touch pwned",
        "db::query refused line 3: it starts with `.`, which sqlite3 takes as one of its own commands",
        "db::query failed: syntax error at or near \"go\"",
    ),
    (
        "select 1 as one\0; delete",
        "refused SQL that holds a NUL character",
        "refused SQL that holds a NUL character",
    ),
    (
        "",
        "refused SQL that does not start with a keyword",
        "refused SQL that does not start with a keyword",
    ),
];

/// Runs every case through `db::query` and prints what each gave.
const CASES_SCRIPT: &str = r#"
import "std/db" as db;
let outcomes = [];
for sql in parse_json(read_file("cases.json")) {
    try {
        outcomes.push(`rows ${db::query(sql).len()}`);
    } catch (e) {
        outcomes.push(`${e}`);
    }
}
print(to_json(outcomes));
"#;

/// The ways a run is read-only or dry, and the plain run: `db::query` is read-only in all.
const MODES: &[&[&str]] = &[
    &["check"],
    &["--read-only", "check"],
    &["--dry-run", "check"],
    &["-s", "replica", "check"],
];

/// Variables set for a run of adminsh.
type Env<'a> = Vec<(&'a str, String)>;

/// An app whose `check` script runs the cases; `replica` is a read-only stage.
fn cases_app() -> Test {
    let sqls: Vec<&str> = CASES.iter().map(|(sql, _, _)| *sql).collect();
    Test::new()
        .file("adminsh.toml", "read_only_stages = [\"replica\"]\n")
        .file("cases.json", &serde_json::to_string(&sqls).unwrap())
        .script("check", CASES_SCRIPT)
}

/// Runs the cases in every mode, checking each outcome and that `unchanged` still holds.
fn run_cases(
    mut app: Test,
    postgres: bool,
    env: &[(&str, String)],
    unchanged: &dyn Fn(&Path),
) -> Test {
    let mut modes: Vec<(Vec<&str>, Env)> =
        MODES.iter().map(|m| (m.to_vec(), env.to_vec())).collect();
    if postgres {
        // A URL whose own options turn read-only off: the explicit read-only transaction holds.
        let url = &env[0].1;
        let off = format!("{url}?options=-c%20default_transaction_read_only%3Doff");
        modes.push((vec!["check"], vec![("DATABASE_URL", off)]));
    }
    for (args, env) in modes {
        for (key, value) in &env {
            app = app.env(key, value);
        }
        let done = app.args(&args).any_stderr().any_stdout().run();
        // First the promise itself, then what each statement said.
        unchanged(done.path());
        let outcomes: Vec<String> = serde_json::from_str(done.stdout.trim())
            .unwrap_or_else(|e| panic!("{args:?}: {e}\n{}\n{}", done.stdout, done.stderr));
        assert_eq!(outcomes.len(), CASES.len(), "{args:?}");
        for ((sql, on_sqlite, on_postgres), outcome) in CASES.iter().zip(&outcomes) {
            let expected = if postgres { on_postgres } else { on_sqlite };
            assert!(
                outcome.contains(expected),
                "{args:?} db::query({sql:?}):\n  expected {expected:?}\n  got {outcome:?}"
            );
            if expected.starts_with('`') {
                assert!(outcome.starts_with(NOT_A_QUERY), "{sql:?}: {outcome}");
            }
            if expected.starts_with("writes: ") {
                assert!(outcome.starts_with(WRITES), "{sql:?}: {outcome}");
            }
            if expected.starts_with('`') || expected.starts_with("writes: ") {
                assert!(outcome.contains(WHY), "{sql:?}: {outcome}");
            }
        }
        if args.contains(&"--dry-run") {
            assert!(
                done.stderr.contains("dry run: nothing was changed"),
                "{}",
                done.stderr
            );
        }
        app = done.again();
    }
    app
}

/// `db::exec` is not read-only: a dry run says it would run it and does not, `--read-only`
/// refuses it, and a plain run changes the data (so the modes are what kept it unchanged).
fn exec_is_not_read_only(
    app: Test,
    client: &str,
    env: &[(&str, String)],
    unchanged: &dyn Fn(&Path),
    count: &dyn Fn() -> String,
) {
    let exec = r#"import "std/db" as db; db::exec("delete from customers")"#;
    let with_env = |mut t: Test| {
        for (key, value) in env {
            t = t.env(key, value);
        }
        t
    };
    let done = with_env(app)
        .args(&["--dry-run", "-e", exec])
        .stderr_contains(&format!("dry run: would run `{client}"))
        .stderr_contains("dry run: nothing was changed")
        .any_stdout()
        .run();
    unchanged(done.path());
    let done = with_env(done.again())
        .args(&["--read-only", "-e", exec])
        .status(1)
        .stderr_contains(&format!("refused in read-only mode: `{client}"))
        .run();
    unchanged(done.path());
    assert_eq!(count(), "2\n");
    let done = with_env(done.again())
        .args(&["-e", exec])
        .any_stdout()
        .any_stderr()
        .run();
    assert_eq!(count(), "0\n");
    drop(done);
}

/// The app dir's files, but for adminsh's own state (the audit log).
fn listing(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let name = path.strip_prefix(dir).unwrap().display().to_string();
            if name == ".adminsh" {
                continue;
            }
            if path.is_dir() {
                todo.push(path);
            }
            found.push(name);
        }
    }
    found.sort();
    found
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

#[test]
fn sqlite_query_changes_nothing_in_any_mode() {
    require!(Sqlite3);
    let app = cases_app()
        .file(".env", "DATABASE_URL=sqlite:///var/app.db")
        .file("var/.keep", "");
    let db = app.path().join("var/app.db");
    sqlite3(
        &db,
        "create table customers (id integer primary key, name text);
         insert into customers (id, name) values (1, 'Ann'), (2, 'O''Brien');",
    );
    let bytes = std::fs::read(&db).unwrap();
    let files = listing(app.path());
    let unchanged = |dir: &Path| {
        assert!(
            std::fs::read(dir.join("var/app.db")).unwrap() == bytes,
            "app.db changed"
        );
        assert_eq!(listing(dir), files);
    };
    let app = run_cases(app, false, &[], &unchanged);
    let count = || sqlite3(&db, "select count(*) from customers");
    exec_is_not_read_only(app, "sqlite3", &[], &unchanged, &count);
}

#[test]
fn postgres_query_changes_nothing_in_any_mode() {
    require!(Postgres);
    let cluster = Cluster::start();
    cluster.psql(
        "create table customers (id serial primary key, name text);
         insert into customers (name) values ('Ann'), ('O''Brien');
         create sequence counter;",
    );
    let before = cluster.dump();
    let app = cases_app();
    let files = listing(app.path());
    let unchanged = |dir: &Path| {
        let now = cluster.dump();
        let changed = before.lines().zip(now.lines()).find(|(was, is)| was != is);
        assert!(now == before, "the database changed: {changed:?}");
        assert_eq!(listing(dir), files);
    };
    let env = [("DATABASE_URL", cluster.url())];
    let app = run_cases(app, true, &env, &unchanged);
    let count = || cluster.psql("select count(*) from customers");
    exec_is_not_read_only(app, "psql", &env, &unchanged, &count);
}

/// A `SQLite` file in WAL mode (Rails' default) reads read-only too, and its data is unchanged.
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
            r#"import "std/db" as db; db::scalar("select count(*) from customers")"#,
        ])
        .stdout("2\n")
        .run();
    assert!(std::fs::read(&db).unwrap() == bytes, "app.db changed");
    assert_eq!(sqlite3(&db, "pragma journal_mode"), "wal\n");
    drop(done);
}
