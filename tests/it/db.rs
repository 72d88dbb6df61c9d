//! `std/db` against real databases: a SQLite file through `sqlite3`, and a throwaway
//! PostgreSQL cluster through `psql`, with a password that must travel in PGPASSWORD.

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
