//! The README's first command: the example shop's fix-up script, on a fresh copy of the app,
//! twice in a row; then its report script, with parameters.

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
        .stdout("applied 0001_create_customers_and_orders\napplied 0002_seed_sample_data\nfixed 3 emails, 2 negative totals, 2 statuses\n")
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
    assert_eq!(names, ["fix_records", "report"]);
    for name in &names {
        let app = Test::example_shop();
        let done = app
            .args(&[name, "--help"])
            .stdout_contains(&format!("\nUsage: adminsh {name}"))
            .run();
        assert!(!done.path().join(".venv").exists(), "{name} --help ran it");
    }
}
