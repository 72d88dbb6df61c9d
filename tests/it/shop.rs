//! The README's first command: the example shop's fix-up script, on a fresh copy of the app,
//! twice in a row; then its report script, with parameters; and its maintenance window (std/db,
//! std/maintenance, std/notify), with the web process answering 503 while it runs, a failure
//! that leaves maintenance mode off, and the run after it resuming.

use std::path::Path;

use crate::support::Test;
use crate::support::tools::require;

#[test]
fn fix_records_fixes_then_finds_nothing() {
    // The example creates its virtualenv without pip (it needs only the standard library), so
    // Debian's python3-venv is not needed.
    require!(Python, Sqlite3);
    let app = Test::example_shop();
    let first = app
        .args(&["fix_records"])
        .stdout("applied 0001_create_customers_and_orders\napplied 0002_seed_sample_data\napplied 0003_add_customers_email_lower\nfixed 3 emails, 2 negative totals, 2 statuses\n")
        .any_stderr()
        .run();
    assert!(
        first
            .stderr
            .contains("info: no .venv yet: creating the virtualenv"),
        "{}",
        first.stderr
    );
    assert!(first.path().join(".venv/pyvenv.cfg").is_file());
    assert!(!first.path().join(".venv/bin/pip").exists());
    let second = first
        .again()
        .args(&["fix_records"])
        .stdout("no migrations to apply\nnothing to fix\n")
        .any_stderr()
        .run();
    // The report script declares its parameters: checked, converted, defaulted.
    second
        .again()
        .args(&["report", "--since", "2024-01-07", "--min-total", "1000"])
        .stdout("\"paid\": 1\n\"shipped\": 1\n")
        .run()
        .again()
        .args(&["report", "--format", "json"])
        .stdout("{\"cancelled\":1,\"paid\":2,\"pending\":2,\"shipped\":1}\n")
        .run()
        .again()
        .args(&["report", "--since", "2024-02-30"])
        .status(2)
        .stderr("adminsh: report: `--since` expects a date (YYYY-MM-DD), got `2024-02-30`: February 2024 has 29 days\n  (adminsh report --help shows its parameters)\n")
        .run();
}

#[test]
fn every_example_script_answers_help_without_running() {
    // Each script of the example declares what it takes (`@no-params` for none), so `--help`
    // prints its help instead of running the fix-up.
    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/shop/scripts");
    let mut names: Vec<String> = std::fs::read_dir(&scripts)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rhai"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["fix_records", "maintenance_window", "report"]);
    for name in &names {
        let app = Test::example_shop();
        let done = app
            .args(&[name, "--help"])
            .stdout_contains(&format!("\nUsage: adminsh {name}"))
            .run();
        assert!(!done.path().join(".venv").exists(), "{name} --help ran it");
    }
}

/// `python3 -m shop.web` in the app on a free port, killed when dropped.
struct Web(std::process::Child, u16);

impl Web {
    fn start(app: &Path) -> Web {
        let port = crate::support::postgres::free_port();
        let child = std::process::Command::new("python3")
            .args(["-m", "shop.web"])
            .current_dir(app)
            .env("DATABASE_URL", "sqlite:///var/shop.db")
            .env("PORT", port.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        crate::support::wait::wait_for_port(port, String::new);
        Web(child, port)
    }
}

impl Drop for Web {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_maintenance_window_backs_up_migrates_backfills_and_comes_back() {
    require!(Python, Sqlite3);
    let first = Test::example_shop()
        .args(&["maintenance_window"])
        .stdout(
            "applied 0001_create_customers_and_orders\napplied 0002_seed_sample_data\napplied 0003_add_customers_email_lower\nchecked: #{\"bad_emails\": 3, \"bad_status\": 2, \"negative_totals\": 2}\nmaintenance window done: 4 customers backfilled\n",
        )
        .any_stderr()
        .run();
    for line in [
        "info: no database yet: nothing to back up\n",
        "info: maintenance mode on (public/system/maintenance.html)\n",
        "db::batches customers: 4 rows in 2 batches",
        "info: maintenance mode off (public/system/maintenance.html)\n",
    ] {
        assert!(first.stderr.contains(line), "{line:?}:\n{}", first.stderr);
    }
    assert!(!first.path().join("public/system/maintenance.html").exists());
    // The web process answers 503 while the page is there.
    let web = Web::start(first.path());
    let status = |test: Test| {
        test.args(&[
            "-e",
            &format!(
                "import \"std/maintenance\" as m; m::on(); let down = http_get(\"http://127.0.0.1:{0}/orders\", #{{unchecked: true}}).status; m::off(); [down, http_get(\"http://127.0.0.1:{0}/orders\").status]",
                web.1
            ),
        ])
        .stdout("[503, 200]\n")
        .any_stderr()
        .run()
    };
    let checked = status(first.again());
    // The second window has a database to back up, and nothing left to migrate or backfill.
    let second = checked
        .again()
        .args(&["maintenance_window"])
        .stdout("no migrations to apply\nchecked: #{\"bad_emails\": 3, \"bad_status\": 2, \"negative_totals\": 2}\nmaintenance window done: 4 customers backfilled\n")
        .stderr_contains("info: backed up into var/backups/shop-")
        .stderr_contains("db::batches customers: 0 rows in 0 batches")
        .run();
    let backups: Vec<_> = std::fs::read_dir(second.path().join("var/backups"))
        .unwrap()
        .collect();
    assert_eq!(backups.len(), 1);
    drop(web);

    // A backfill that fails leaves maintenance off; fixed, the next run resumes at it.
    let broken = second
        .again()
        .args(&[
            "-e",
            "db::exec(\"UPDATE customers SET email_lower = NULL\");
             db::exec(\"CREATE TRIGGER locked BEFORE UPDATE ON customers WHEN NEW.id = 3 BEGIN SELECT RAISE(ABORT, 'customer 3 is locked'); END\");",
        ])
        .stdout("0\n")
        .run()
        .again()
        .args(&["maintenance_window"])
        .status(1)
        .any_stdout()
        .any_stderr()
        .run();
    assert!(
        broken.stderr.contains("customer 3 is locked")
            && broken
                .stderr
                .contains("info: maintenance mode off (public/system/maintenance.html)\n"),
        "{}",
        broken.stderr
    );
    assert!(
        !broken
            .path()
            .join("public/system/maintenance.html")
            .exists()
    );
    let resumed = broken
        .again()
        .args(&["-e", "db::exec(\"DROP TRIGGER locked\");"])
        .stdout("0\n")
        .run()
        .again()
        .args(&["maintenance_window"])
        .stdout_contains("maintenance window done: 4 customers backfilled\n")
        .any_stderr()
        .run();
    for line in [
        "step 1: backup: completed in an earlier run",
        "step 2: migrate: completed in an earlier run",
        "db::batches customers: resuming after id = 2",
    ] {
        assert!(
            resumed.stderr.contains(line),
            "{line:?}:\n{}",
            resumed.stderr
        );
    }
}
