//! The README and the manual (`docs/src/`) cannot drift: every example script in them that can
//! run here runs (the others say what they need and are compiled with `--check`), the sample
//! outputs they show (`--help`, `--list`, `--targets`) are what adminsh prints for them, every
//! link between them leads to a file and a heading that exist, and every chapter is in the
//! book's `SUMMARY.md`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::Test;
use crate::support::tools::{Tool, installed, require};

/// One markdown file of the docs: its path from the repository's root, and its text.
struct Doc {
    path: String,
    text: String,
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `README.md`, then every `.md` file under `docs/src/`, in path order.
fn docs() -> Vec<Doc> {
    let mut paths = vec![root().join("README.md")];
    let mut chapters = Vec::new();
    let mut dirs = vec![root().join("docs/src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                chapters.push(path);
            }
        }
    }
    chapters.sort();
    paths.extend(chapters);
    assert!(paths.len() > 10, "the manual has no chapters: {paths:?}");
    paths
        .into_iter()
        .map(|path| Doc {
            text: std::fs::read_to_string(&path).unwrap(),
            path: path
                .strip_prefix(root())
                .unwrap()
                .to_string_lossy()
                .into_owned(),
        })
        .collect()
}

/// The doc that holds `intro`; exactly one must.
fn holding<'a>(docs: &'a [Doc], intro: &str) -> &'a Doc {
    let found: Vec<&Doc> = docs.iter().filter(|d| d.text.contains(intro)).collect();
    assert!(
        found.len() == 1,
        "{intro:?} is in {} docs, not one: {:?}",
        found.len(),
        found.iter().map(|d| &d.path).collect::<Vec<_>>()
    );
    found[0]
}

/// A doc's blocks fenced as `lang`, in order.
fn blocks(text: &str, lang: &str) -> Vec<String> {
    text.split(&format!("```{lang}\n"))
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap().to_owned())
        .collect()
}

/// The indented sample after `intro`, without its four spaces: its lines up to the first that
/// is not indented (blank lines inside it included).
fn sample(docs: &[Doc], intro: &str) -> String {
    let text = &holding(docs, intro).text;
    let start = text.find(intro).unwrap() + intro.len();
    let text = text[start..].trim_start_matches('\n');
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

/// The example shop with its database made and seeded.
fn migrated_shop() -> Test {
    let app = shop();
    let migrated = Command::new(".venv/bin/python")
        .args(["manage.py", "migrate"])
        .env("DATABASE_URL", "sqlite:///var/shop.db")
        .current_dir(app.path())
        .output()
        .unwrap();
    assert!(migrated.status.success(), "{migrated:?}");
    app
}

/// How one example is run, by its first line.
enum Example {
    /// Run as a script in this app, with these arguments; it must exit 0. Where one of the
    /// tools is missing it is skipped as a test needing it is (failing under `CI=true`).
    Runs(fn() -> Test, &'static [&'static str], &'static [Tool]),
    /// Not run here, and why; `adminsh --check` still compiles it, as a whole script.
    Needs(&'static str),
    /// A piece of a larger script (it uses names defined elsewhere, said here): compiled only
    /// loosely, by the unit test that compiles every example of the docs.
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
        "//! Say hello from the release.\nlet r",
        Example::Runs(with_config, &[], &[]),
    ),
    (
        "//! Say hello from the release.\n//!\n",
        Example::Runs(plain, &["--name", "ops", "--shout"], &[]),
    ),
    (
        "//! Backfill orders.total, resumably.",
        Example::Needs(
            "a Django app, a PostgreSQL database with an `orders` table, a terminal for confirm and a webhook (DEPLOY_HOOK_URL)",
        ),
    ),
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
        "step(\"import\", || {\n    batches(csv_file(",
        Example::Needs("a database with a `customers` table and a CSV file var/customers.csv"),
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
        "let rows = db::query(\"select name, id from customers order by id\");",
        Example::Runs(migrated_shop, &[], &[]),
    ),
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

/// The languages a fenced block may be in. Rhai is fenced as `rhai`, never `rust`: the tests
/// find examples by their fence, and mdBook would offer to run a `rust` block on the Rust
/// playground.
const FENCES: &[&str] = &["rhai", "toml", "json", "text"];

#[test]
fn every_fenced_block_is_in_a_language_the_tests_know() {
    for doc in docs() {
        let mut open = false;
        for (number, line) in doc.text.lines().enumerate() {
            let Some(lang) = line.trim_start().strip_prefix("```") else {
                continue;
            };
            if !open {
                assert!(
                    FENCES.contains(&lang.trim()),
                    "{}:{}: a block fenced as {lang:?}: fence it as one of {FENCES:?}",
                    doc.path,
                    number + 1
                );
            }
            open = !open;
        }
        assert!(!open, "{}: a block is never closed", doc.path);
    }
}

#[test]
fn every_example_in_the_docs_that_can_run_here_runs() {
    require!(Python, Sqlite3);
    let docs = docs();
    let mut used = vec![false; EXAMPLES.len()];
    for doc in &docs {
        for block in blocks(&doc.text, "rhai") {
            let Some(at) = EXAMPLES
                .iter()
                .position(|(start, _)| block.starts_with(start))
            else {
                panic!(
                    "an example in {} is neither run nor said to need something here (add it to EXAMPLES):\n{block}",
                    doc.path
                );
            };
            used[at] = true;
            run_example(&doc.path, &block, &EXAMPLES[at].1);
        }
    }
    let stale: Vec<&str> = EXAMPLES
        .iter()
        .zip(&used)
        .filter(|(_, used)| !**used)
        .map(|((start, _), _)| *start)
        .collect();
    assert!(
        stale.is_empty(),
        "EXAMPLES names examples no doc has: {stale:?}"
    );
}

fn run_example(path: &str, block: &str, example: &Example) {
    if let Example::Fragment(what) | Example::Needs(what) = example {
        assert!(!what.is_empty(), "say what this example needs:\n{block}");
    }
    if let Example::Needs(_) = example {
        let checked = plain().script("example", block).output(&["--check"]);
        assert!(
            checked.status.success(),
            "`adminsh --check` refuses an example in {path}:\n{block}\n{}",
            crate::support::text(&checked.stderr)
        );
    } else if let Example::Runs(app, args, tools) = example {
        if !installed(tools) {
            return;
        }
        let done = app()
            .script("example", block)
            .arg("example")
            .args(args)
            .any_stdout()
            .any_stderr()
            .run();
        assert!(
            !done.stderr.contains(".rhai:"),
            "an example in {path} reported an error:\n{block}\n{}",
            done.stderr
        );
    }
}

#[test]
fn the_samples_in_the_docs_are_what_adminsh_prints() {
    let docs = docs();
    let header = docs
        .iter()
        .flat_map(|d| blocks(&d.text, "rhai"))
        .find(|b| b.starts_with("//! Fix negative order totals"))
        .unwrap();
    let report = std::fs::read_to_string(root().join("examples/shop/scripts/report.rhai")).unwrap();
    let app = Test::new()
        .file("adminsh.toml", "name = \"shop\"")
        .script("fix_orders", &header)
        .script("report", &report);
    let scripts = app.path().join("scripts").display().to_string();
    let listed = sample(
        &docs,
        "and `adminsh --list` shows each script's parameters in short:\n",
    )
    .replace("/srv/shop/current/scripts", &scripts);
    app.args(&["--list"])
        .stdout(&listed)
        .run()
        .again()
        .args(&["fix_orders", "--help"])
        .stdout(&sample(&docs, "`adminsh fix_orders --help` prints:\n"))
        .run();
    let intro = "`adminsh --targets` lists them:\n";
    let targets = blocks(&holding(&docs, intro).text, "toml")
        .into_iter()
        .find(|b| b.starts_with("[targets.production]"))
        .unwrap();
    Test::new()
        .file("adminsh.toml", &targets)
        .args(&["--targets"])
        .stdout(&sample(&docs, intro))
        .run();
    let intro = "`adminsh hello --help` prints:\n";
    let hello = blocks(&holding(&docs, intro).text, "rhai")
        .into_iter()
        .find(|b| b.contains("@param name"))
        .unwrap();
    Test::new()
        .script("hello", &hello)
        .args(&["hello", "--help"])
        .stdout(&sample(&docs, intro))
        .run();
}

/// The README says what adminsh is and why, how to install it and start; the rest is the
/// manual's.
#[test]
fn the_readme_stays_short() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(
        lines <= 300,
        "README.md has {lines} lines: move the detail into a chapter of docs/src/"
    );
}

/// The GitHub and mdBook id of a heading: lower case, spaces as `-`, only letters, digits, `-`
/// and `_` kept.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The ids of a doc's headings (outside fenced blocks).
fn anchors(text: &str) -> Vec<String> {
    let mut open = false;
    let mut found = Vec::new();
    for line in text.lines() {
        if line.starts_with("```") {
            open = !open;
        } else if !open && line.starts_with('#') {
            found.push(slug(line.trim_start_matches('#')));
        }
    }
    found
}

/// The targets of a doc's inline links `[text](target)`, outside fenced blocks and code spans.
fn links(text: &str) -> Vec<String> {
    let mut open = false;
    let mut found = Vec::new();
    for line in text.lines() {
        if line.starts_with("```") {
            open = !open;
            continue;
        }
        if open {
            continue;
        }
        // Code spans may hold `](` that is no link.
        let prose: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        for part in prose.split("](").skip(1) {
            if let Some(end) = part.find(')') {
                found.push(part[..end].to_owned());
            }
        }
    }
    found
}

#[test]
fn the_docs_links_lead_somewhere() {
    let docs = docs();
    let mut broken = Vec::new();
    for doc in &docs {
        let dir = root().join(&doc.path).parent().unwrap().to_path_buf();
        for target in links(&doc.text) {
            if target.starts_with("http://") || target.starts_with("https://") {
                continue;
            }
            let (file, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let path: PathBuf = if file.is_empty() {
                root().join(&doc.path)
            } else {
                dir.join(file)
            };
            if !path.exists() {
                broken.push(format!("{}: {target}: no such file", doc.path));
                continue;
            }
            if !anchor.is_empty() {
                let text = std::fs::read_to_string(&path).unwrap();
                if !anchors(&text).iter().any(|a| a == anchor) {
                    broken.push(format!("{}: {target}: no such heading", doc.path));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// mdBook renders only the chapters `SUMMARY.md` lists: a chapter missing from it would be
/// tested here and read by no one.
#[test]
fn every_chapter_is_in_the_books_summary() {
    let src = root().join("docs/src");
    let summary = std::fs::read_to_string(src.join("SUMMARY.md")).unwrap();
    let listed = links(&summary);
    let missing: Vec<String> = docs()
        .into_iter()
        .filter_map(|d| {
            let chapter = d.path.strip_prefix("docs/src/")?.to_owned();
            (chapter != "SUMMARY.md" && !listed.contains(&chapter)).then_some(chapter)
        })
        .collect();
    assert!(
        missing.is_empty(),
        "chapters missing from docs/src/SUMMARY.md: {missing:?}"
    );
    let book = std::fs::read_to_string(root().join("docs/book.toml")).unwrap();
    assert!(book.contains("src = \"src\""), "{book}");
    assert!(
        src.join("shipping.md").is_file(),
        "the shipping chapter is gone"
    );
}

/// The quickstart's third step, run as it says over a real sshd on 127.0.0.1: its `hello`
/// script in a release named `myapp` at revision 4f2c9e1 whose stage is production, its
/// database URL's password masked. The first line names where it ran (the release's path and
/// the host differ here from the README's); the others are the README's, word for word.
#[test]
fn the_quickstarts_run_on_a_server_prints_what_the_readme_shows() {
    require!(Ssh, Sshd);
    let docs = docs();
    let intro = "    $ adminsh -t production hello --name ops\n";
    let readme = holding(&docs, intro);
    let shown: Vec<&str> = readme.text[readme.text.find(intro).unwrap() + intro.len()..]
        .lines()
        .take_while(|l| l.starts_with("    "))
        .map(|l| &l[4..])
        .collect();
    let hello = blocks(&readme.text, "rhai")
        .into_iter()
        .find(|b| b.contains("@param name"))
        .unwrap();
    let client = crate::support::sshd::Client::new();
    let sshd = client.sshd(&[]);
    let remote = Test::new()
        .file("adminsh.toml", "name = \"myapp\"\nstage = \"production\"\n")
        .file("REVISION", "4f2c9e1\n")
        .file(
            ".env",
            "DATABASE_URL=postgres://app:s3cr3t-pw@db-prod.internal/myapp\n",
        )
        .script("hello", &hello);
    let out = Test::new()
        .file(
            "adminsh.toml",
            &crate::remote::target("production", &client, sshd.port, &remote, ""),
        )
        .args(&["-t", "production", "hello", "--name", "ops"])
        .any_stdout()
        .any_stderr()
        .run();
    let said: Vec<String> = out
        .stderr
        .lines()
        .chain(out.stdout.lines())
        .map(str::to_owned)
        .collect();
    assert_eq!(
        said.len(),
        shown.len(),
        "{said:?} against the README's {shown:?}"
    );
    let first = shown[0].split_once(" at ").map(|(head, _)| head).unwrap();
    assert!(
        said[0].starts_with(&format!("{first} at ")) && said[0].ends_with(", stage production"),
        "{said:?} against the README's {shown:?}"
    );
    assert_eq!(said[1..], shown[1..], "{}", out.stderr);
}
