//! The README cannot drift: every example script in it that can run here runs (the others say
//! what they need), and the sample outputs it shows (`--help`, `--list`, `--targets`) are what
//! adminsh prints for them.

use std::path::Path;
use std::process::Command;

use crate::support::Test;
use crate::support::tools::{Tool, installed, require};

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

/// The README's blocks fenced as `lang`, in order.
fn blocks(readme: &str, lang: &str) -> Vec<String> {
    readme
        .split(&format!("```{lang}\n"))
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap().to_owned())
        .collect()
}

/// The indented sample after `intro` in the README, without its four spaces: its lines up to
/// the first that is not indented (blank lines inside it included).
fn sample(readme: &str, intro: &str) -> String {
    let start = readme.find(intro).unwrap_or_else(|| panic!("no {intro:?}")) + intro.len();
    let text = readme[start..].trim_start_matches('\n');
    let lines: Vec<&str> = text
        .lines()
        .take_while(|l| l.is_empty() || l.starts_with("    "))
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .collect();
    lines.join("\n").trim_end().to_owned() + "\n"
}

/// A copy of the example shop, its virtualenv made, its database not yet.
fn shop() -> Test {
    let app = Test::example_shop();
    let made = Command::new("python3")
        .args(["-m", "venv", "--without-pip", ".venv"])
        .current_dir(app.path())
        .status()
        .unwrap();
    assert!(made.success());
    app
}

/// How one README example is run, by its first line.
enum Example {
    /// Run as a script in this app, with these arguments; it must exit 0. Where one of the
    /// tools is missing it is skipped as a test needing it is (failing under `CI=true`).
    Runs(fn() -> Test, &'static [&'static str], &'static [Tool]),
    /// Not run here, and why; `adminsh --check` still compiles it, as a whole script.
    Needs(&'static str),
    /// A piece of a larger script (it uses names defined elsewhere, said here): compiled only
    /// loosely, by the unit test that compiles every README example.
    Fragment(&'static str),
}

fn plain() -> Test {
    Test::new()
}

fn with_config() -> Test {
    Test::new()
        .file(
            ".env",
            "DATABASE_URL=postgres://app:secret@db.internal/shop\nALERT_HOOK=https://hooks.example.com/services/T1/B2/k3y\n",
        )
        .file("config/settings.json", "{\"a\": 1}")
        .file("db/migrate/001_init.sql", "")
        .file("tmp/.keep", "")
}

/// The files the file operations and the regular expressions work on.
fn with_files() -> Test {
    let app = Test::new()
        .file(
            "config/database.yml",
            "production:\n  adapter: postgresql\n",
        )
        .file("tmp/cache/index.html", "<p>cached</p>")
        .file("tmp/pids/server.pid", "4242\n")
        .file(
            "log/production.log",
            "I, order_id=41 paid\nE, order_id=42 gateway Timeout after 30s\n",
        )
        .file("app.log", "info: started\nerror: disk full\nERROR: again\n")
        .file("dump/orders.sql", "-- a dump\n");
    let packed = Command::new("tar")
        .args(["czf", "dump.tar.gz", "dump"])
        .current_dir(app.path())
        .status()
        .unwrap();
    assert!(packed.success());
    app
}

const EXAMPLES: &[(&str, Example)] = &[
    (
        "//! Normalise customer emails.",
        Example::Runs(shop, &[], &[]),
    ),
    (
        "//! Fix negative order totals and bad order statuses.",
        Example::Runs(plain, &["--since", "2026-11-01", "--verbose"], &[]),
    ),
    (
        "//! Move orders to the new schema.",
        Example::Needs("PostgreSQL (pg_dump) and a Django app"),
    ),
    (
        "import \"std/db\" as db;\n\nlet p = progress(3);",
        Example::Needs("a terminal for confirm and ask, and PostgreSQL (psql)"),
    ),
    (
        "cmd(\"python\", [\"manage.py\", \"migrate\", \"--noinput\"]).run();",
        Example::Needs("a Django app, a Rails app, git and PostgreSQL: a tour of the command API"),
    ),
    (
        "let errors = cmd(\"cat\", [\"log/production.log\"]).grep_count(",
        Example::Needs(
            "systemd's journal, a git checkout and PostgreSQL (psql): a tour of the line operations",
        ),
    ),
    (
        "//! Fills users.email_lower, a batch at a time.",
        Example::Needs("a PostgreSQL database with a `users` table of emails"),
    ),
    (
        "step(\"notify\", || {",
        Example::Needs("a webhook to call at hooks.example.com"),
    ),
    (
        "mkdir(\"log/archive\");",
        Example::Runs(with_files, &[], &[Tool::Postgres]),
    ),
    (
        "for line in read_file(\"log/production.log\")",
        Example::Runs(with_files, &[], &[]),
    ),
    (
        "sleep(2);",
        Example::Needs("an app serving http://localhost:8000 and a PostgreSQL server (pg_isready)"),
    ),
    (
        "import \"std/db\" as db;\nlet cutoff = now() - days(30);",
        Example::Fragment(
            "a database with `sessions`, a Django app (clearsessions) and the `row` of a larger script",
        ),
    ),
    (
        "import \"std/db\" as db;\nlet rows = parse_csv(",
        Example::Fragment(
            "a database with `users`, and the `token` and `manifest` of a larger script",
        ),
    ),
    (
        "import \"std/db\" as db;\nprint_table(",
        Example::Fragment("a database with `users`, and the `orders` of a larger script"),
    ),
    (
        "let health = http_get(",
        Example::Fragment(
            "servers on the network: the app's, Slack's and an internal API; the `n` of a larger script",
        ),
    ),
    ("try {", Example::Runs(shop, &[], &[])),
    (
        "let url = env(\"DATABASE_URL\");",
        Example::Runs(with_config, &[], &[]),
    ),
    (
        "if bad.is_empty() {",
        Example::Fragment("the variables `bad` and `count` of a larger script"),
    ),
    (
        "write_file(\"tmp/report.json\", to_json(#{fixed: 12}, true));",
        Example::Runs(with_config, &[], &[]),
    ),
    (
        "info(\"backfilling orders\");",
        Example::Runs(plain, &[], &[]),
    ),
    (
        "import \"std/pg\" as pg;\nprint_table(pg::table_sizes(10));",
        Example::Needs("a PostgreSQL primary with a replica (REPLICA_URL) and an `orders` table"),
    ),
    (
        "import \"std/notify\" as notify;",
        Example::Needs("Slack and internal webhooks (SLACK_WEBHOOK_URL, DEPLOY_HOOK_URL)"),
    ),
    (
        "import \"std/maintenance\" as maintenance;",
        Example::Needs("a Rails app with bundler, a maintenance page, and the Heroku CLI"),
    ),
    (
        "import \"std/app\" as app;",
        Example::Needs("a Django app with a `User` model"),
    ),
    (
        "import \"std/mysql\" as mysql;",
        Example::Needs("a MySQL primary with a replica (REPLICA_URL)"),
    ),
    (
        "import \"std/db\" as db;\nlet late",
        Example::Needs("a database with `customers.created_at`, which the example shop has not"),
    ),
];

#[test]
fn every_readme_example_that_can_run_here_runs() {
    require!(Python, Sqlite3);
    let readme = readme();
    for block in blocks(&readme, "rust") {
        let Some((_, example)) = EXAMPLES.iter().find(|(start, _)| block.starts_with(start)) else {
            panic!("a README example is neither run nor said to need something here:\n{block}");
        };
        if let Example::Fragment(what) | Example::Needs(what) = example {
            assert!(!what.is_empty(), "say what this example needs:\n{block}");
        }
        if let Example::Needs(_) = example {
            let checked = plain().script("example", &block).output(&["--check"]);
            assert!(
                checked.status.success(),
                "`adminsh --check` refuses a README example:\n{block}\n{}",
                crate::support::text(&checked.stderr)
            );
        } else if let Example::Runs(app, args, tools) = example {
            if !installed(tools) {
                continue;
            }
            let done = app()
                .script("example", &block)
                .arg("example")
                .args(args)
                .any_stdout()
                .any_stderr()
                .run();
            assert!(
                !done.stderr.contains(".rhai:"),
                "the example reported an error:\n{block}\n{}",
                done.stderr
            );
        }
    }
}

#[test]
fn readme_samples_are_what_adminsh_prints() {
    let readme = readme();
    let header = blocks(&readme, "rust")
        .into_iter()
        .find(|b| b.starts_with("//! Fix negative order totals"))
        .unwrap();
    let report = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/shop/scripts/report.rhai"),
    )
    .unwrap();
    let app = Test::new()
        .file("adminsh.toml", "name = \"shop\"")
        .script("fix_orders", &header)
        .script("report", &report);
    let scripts = app.path().join("scripts").display().to_string();
    let listed = sample(
        &readme,
        "and `adminsh --list` shows each script's parameters in short:\n",
    )
    .replace("/srv/shop/current/scripts", &scripts);
    app.args(&["--list"])
        .stdout(&listed)
        .run()
        .again()
        .args(&["fix_orders", "--help"])
        .stdout(&sample(&readme, "`adminsh fix_orders --help` prints:\n"))
        .run();
    let targets = blocks(&readme, "toml")
        .into_iter()
        .find(|b| b.starts_with("[targets.production]"))
        .unwrap();
    Test::new()
        .file("adminsh.toml", &targets)
        .args(&["--targets"])
        .stdout(&sample(&readme, "`adminsh --targets` lists them:\n"))
        .run();
}
