//! `std/app` on each kind of app: plain SQL files applied to a real `SQLite` database, and
//! Rails, Django, Alembic, Prisma and Knex through stand-ins of their commands (as the release
//! tests use) that print what the real ones print and keep which migrations ran in a file.

use super::place;
use crate::support::Test;
use crate::support::tools::require;

fn eval(test: Test, flags: &[&str], code: &str) -> Test {
    test.args(flags)
        .args(&["-e", &format!("import \"std/app\" as app;\n{code}")])
}

/// An app of plain `.sql` migrations on a `SQLite` database.
fn sql_app() -> Test {
    Test::new()
        .file(".env", "DATABASE_URL=sqlite:///var/app.db?mode=rwc\n")
        .file("var/.keep", "")
        .file(
            "db/migrations/001_init.sql",
            "-- the first tables\ncreate table users (\n  id integer primary key,\n  email text\n);\ncreate index users_email on users (email);\n",
        )
        .file(
            "db/migrations/002_seed.sql",
            "insert into users (email) values ('a@example.com');\ninsert into users (email) values ('b@example.com')\n",
        )
}

#[test]
fn plain_sql_migrations_are_applied_once_each_in_a_transaction() {
    require!(Sqlite3);
    let listed = eval(
        sql_app(),
        &[],
        "print(app::framework()); print(app::migrations()); app::pending()",
    )
    .stdout(
        r#"
        sql
        [#{"applied": false, "name": "001_init"}, #{"applied": false, "name": "002_seed"}]
        ["001_init", "002_seed"]
        "#,
    )
    .run();
    // A dry run says what it would apply and applies nothing; a read-only run refuses.
    let dry = listed
        .again()
        .args(&["--dry-run", "-e", "import \"std/app\" as app; app::migrate()"])
        .stdout("[\"001_init\", \"002_seed\"]\n")
        .stderr(
            "dry run: would apply the sql migration 001_init\n\
             dry run: would apply the sql migration 002_seed\n\
             dry run: nothing was changed. It would have run:\n  apply the sql migration 001_init\n  apply the sql migration 002_seed\n",
        )
        .run();
    let refused = place("app", "fail(`app::migrate refused under --read-only");
    let read_only = dry
        .again()
        .args(&["--read-only", "-e", "import \"std/app\" as app; app::migrate()"])
        .status(1)
        .stderr_contains(&format!(
            "{refused}: app::migrate refused under --read-only: it would apply 2 sql migrations: [\"001_init\", \"002_seed\"]\n"
        ))
        .run();
    let untouched = read_only
        .again()
        .args(&["-e", "db::query(\"select name from sqlite_master\")"])
        .stdout("[]\n")
        .run();
    let applied = untouched
        .again()
        .args(&["-e", "import \"std/app\" as app; app::migrate()"])
        .stdout("[\"001_init\", \"002_seed\"]\n")
        .stderr(
            "info: app::migrate: applied 001_init (2 statements)\ninfo: app::migrate: applied 002_seed (2 statements)\n",
        )
        .run();
    let again = applied
        .again()
        .args(&[
            "-e",
            "import \"std/app\" as app; print(app::pending()); print(app::migrate()); db::query(\"select email from users order by id\").map(|r| r.email)",
        ])
        .stdout("[]\n[]\n[\"a@example.com\", \"b@example.com\"]\n")
        .stderr("info: app::migrate: no migrations to apply\n")
        .run();
    // A migration that fails leaves nothing of itself, says the database's words, and is
    // applied by the next run once fixed.
    let broken = again
        .again()
        .file(
            "db/migrations/003_broken.sql",
            "alter table users add column name text;\nupdate userz set name = 'x';\n",
        )
        .args(&["-e", "import \"std/app\" as app; app::migrate()"])
        .status(1)
        .stderr_contains("db::exec failed: no such table: userz")
        .run();
    broken
        .again()
        .file(
            "db/migrations/003_broken.sql",
            "alter table users add column name text;\nupdate users set name = 'x';\n",
        )
        .args(&[
            "-e",
            "import \"std/app\" as app; app::migrate(); db::query(\"select name from adminsh_migrations order by name\").map(|r| r.name)",
        ])
        .stdout("[\"001_init\", \"002_seed\", \"003_broken\"]\n")
        .any_stderr()
        .run();
}

/// A stand-in `bin/rails`: `db:migrate:status` as Rails prints it, `db:migrate` applying what
/// `db/migrate/*.rb` has and `tmp/applied` lacks (failing, in Rails' words, on a file holding
/// `raise`), `runner CODE` echoing.
const RAILS: &str = r#"#!/bin/sh
applied=tmp/applied
touch $applied
case "$1" in
db:migrate:status)
  printf '\ndatabase: db/development.sqlite3\n\n Status   Migration ID    Migration Name\n--------------------------------------------------\n'
  for f in db/migrate/*.rb; do
    base=$(basename "$f" .rb); id=${base%%_*}; name=$(echo "${base#*_}" | tr _ ' ')
    if grep -qx "$id" $applied; then s=up; else s=down; fi
    printf '  %4s    %s  %s\n' "$s" "$id" "$name"
  done ;;
db:migrate)
  for f in db/migrate/*.rb; do
    base=$(basename "$f" .rb); id=${base%%_*}
    grep -qx "$id" $applied && continue
    if grep -q raise "$f"; then
      echo "bin/rails aborted!" >&2
      echo "StandardError: An error has occurred, this and all later migrations canceled: boom" >&2
      exit 1
    fi
    echo "== $id: migrating ==="; echo "$id" >> $applied
  done ;;
runner) echo "runner: $2" ;;
*) echo "unknown command $1" >&2; exit 1 ;;
esac
"#;

/// A stand-in `manage.py` for Django: `showmigrations --plan`, `migrate --noinput` and
/// `shell -c CODE`, as Django prints them.
const DJANGO: &str = r#"#!/usr/bin/env python3
"""Django's command-line utility for administrative tasks (a stand-in)."""
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
PLAN = ["contenttypes.0001_initial", "shop.0001_initial", "shop.0002_order_note"]
os.makedirs("tmp", exist_ok=True)
applied = open("tmp/applied").read().split() if os.path.exists("tmp/applied") else []
args = sys.argv[1:]
if args == ["showmigrations", "--plan"]:
    for m in PLAN:
        print(f"[{'X' if m in applied else ' '}]  {m}")
elif args == ["migrate", "--noinput"]:
    print("Operations to perform:\n  Apply all migrations: contenttypes, shop\nRunning migrations:")
    for m in PLAN:
        if m not in applied:
            print(f"  Applying {m}... OK")
            open("tmp/applied", "a").write(m + "\n")
elif args[:2] == ["shell", "-c"]:
    exec(args[2])
else:
    print(f"Unknown command: {args[0]!r}", file=sys.stderr)
    sys.exit(1)
"#;

#[test]
fn rails_and_django_migrations_through_their_own_commands() {
    require!(Python);
    let rails = || {
        Test::new()
            .executable("bin/rails", RAILS)
            .file(
                "db/migrate/20240101000000_create_users.rb",
                "class CreateUsers; end\n",
            )
            .file(
                "db/migrate/20240102000000_add_email_to_users.rb",
                "class AddEmail; end\n",
            )
            .file("tmp/applied", "20240101000000\n")
    };
    eval(
        rails(),
        &[],
        "print(app::framework()); print(app::pending()); print(app::migrate()); print(app::pending()); app::run(\"puts User.count\")",
    )
    .stdout(
        "rails\n[\"20240102000000 add email to users\"]\n== 20240102000000: migrating ===\n[\"20240102000000 add email to users\"]\n[]\nrunner: puts User.count\n",
    )
    .run();
    eval(rails(), &["--dry-run"], "app::migrate()")
        .stdout("[\"20240102000000 add email to users\"]\n")
        .stderr_contains(
            "dry run: would apply the rails migration 20240102000000 add email to users\n",
        )
        .run();
    // A failing migration fails the script with Rails' own words.
    eval(
        rails().file("db/migrate/20240103000000_boom.rb", "raise 'boom'\n"),
        &[],
        "app::migrate()",
    )
    .status(1)
    .any_stdout()
    .stderr_contains(
        "StandardError: An error has occurred, this and all later migrations canceled: boom",
    )
    .stderr_contains("command `bin/rails db:migrate` failed: exit status 1")
    .run();

    let django = || {
        Test::new()
            .file("manage.py", DJANGO)
            .file("tmp/applied", "contenttypes.0001_initial\n")
    };
    eval(
        django(),
        &[],
        "print(app::framework()); print(app::migrations().map(|m| `${m.name} ${m.applied}`)); app::migrate(); print(app::pending()); app::run(\"print(6 * 7)\")",
    )
    .stdout(
        "django\n[\"contenttypes.0001_initial true\", \"shop.0001_initial false\", \"shop.0002_order_note false\"]\nOperations to perform:\n  Apply all migrations: contenttypes, shop\nRunning migrations:\n  Applying shop.0001_initial... OK\n  Applying shop.0002_order_note... OK\n[]\n42\n",
    )
    .run();
    eval(django(), &["--read-only"], "app::migrate()")
        .status(1)
        .stderr_contains("app::migrate refused under --read-only: it would apply 2 django migrations: [\"shop.0001_initial\", \"shop.0002_order_note\"]")
        .run();
    // A manage.py that is not Django's (the example shop's) is no Django app.
    eval(Test::example_shop(), &[], "app::framework()")
        .status(1)
        .stderr_contains("app::framework: no framework found in ")
        .run();
}

#[test]
fn alembic_prisma_and_knex_are_read_from_their_commands() {
    let alembic = r#"#!/bin/sh
case "$1" in
current) echo "ae1027a6acf" ;;
history) printf '%s\n' "27c6a30d7c24 -> 1975ea83b712 (head), add account table" "ae1027a6acf -> 27c6a30d7c24, add email" "<base> -> ae1027a6acf, create users" ;;
esac
"#;
    let prisma = r#"#!/bin/sh
cat <<OUT
Prisma schema loaded from prisma/schema.prisma
Datasource "db": PostgreSQL database "app" at "localhost:5432"

2 migrations found in prisma/migrations

Following migration have not yet been applied:
20240102000000_add_email

To apply migrations in production run prisma migrate deploy.
OUT
exit 1
"#;
    let knex = r#"#!/bin/sh
printf '%s\n' "Using environment: development" "Found 1 Completed Migration file/files." "20240101000000_init.js " "Found 1 Pending Migration file/files." "20240102000000_add_email.js "
"#;
    for (app, framework, listed) in [
        (
            Test::new()
                .file("alembic.ini", "[alembic]\n")
                .executable(".venv/bin/alembic", alembic)
                .file(".venv/pyvenv.cfg", "home = /usr/bin\n"),
            "alembic",
            "[\"ae1027a6acf create users true\", \"27c6a30d7c24 add email false\", \"1975ea83b712 add account table false\"]",
        ),
        (
            Test::new()
                .file("prisma/schema.prisma", "")
                .file("prisma/migrations/20240101000000_init/migration.sql", "")
                .file(
                    "prisma/migrations/20240102000000_add_email/migration.sql",
                    "",
                )
                .executable("node_modules/.bin/prisma", prisma),
            "prisma",
            "[\"20240101000000_init true\", \"20240102000000_add_email false\"]",
        ),
        (
            Test::new()
                .file("knexfile.js", "module.exports = {};\n")
                .executable("node_modules/.bin/knex", knex),
            "knex",
            "[\"20240101000000_init.js true\", \"20240102000000_add_email.js false\"]",
        ),
    ] {
        eval(
            app,
            &[],
            "print(app::framework()); app::migrations().map(|m| `${m.name} ${m.applied}`)",
        )
        .stdout(&format!("{framework}\n{listed}\n"))
        .run();
    }
}

#[test]
fn bad_inputs_are_errors_in_the_module_naming_the_call() {
    for (app, code, needle, message) in [
        (
            Test::new(),
            "app::pending()",
            "fail(`app::framework: no framework",
            "app::framework: no framework found in ",
        ),
        (
            sql_app(),
            "app::run(42)",
            "fail(`app::run takes",
            "app::run takes the code as a string, not i64",
        ),
        (
            sql_app(),
            "app::run(\"1\")",
            "fail(\"app::run: a plain-SQL app",
            "app::run: a plain-SQL app has no runtime to run code in (db::query runs SQL)",
        ),
    ] {
        let done = eval(app, &[], code).status(1).any_stderr().run();
        let first = done.stderr.lines().next().unwrap_or_default();
        let at = place("app", needle);
        assert!(
            first.starts_with(&format!("{at}: {message}")),
            "{code}\n{}",
            done.stderr
        );
        let called = code.split('(').next().unwrap().trim_start_matches("app::");
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
