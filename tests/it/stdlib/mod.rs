//! The stdlib's Rhai modules as a user meets them: `--stdlib` and the console's `:help
//! std/NAME`, errors that point into the module's own file and then at the caller; and each
//! module against the real thing, in a file of its own.

mod app;
mod maintenance;
mod mysql;
mod notify;
mod pg;

use crate::support::Test;

/// Where `needle` starts in `stdlib/<module>.rhai`, as an error shows it: `std/pg.rhai:41:9`.
#[track_caller]
pub(super) fn place(module: &str, needle: &str) -> String {
    let path = format!("{}/stdlib/{module}.rhai", env!("CARGO_MANIFEST_DIR"));
    let source = std::fs::read_to_string(path).unwrap();
    let (number, line) = source
        .lines()
        .enumerate()
        .find(|(_, line)| line.contains(needle))
        .unwrap_or_else(|| panic!("std/{module} has no line with {needle:?}"));
    let column = line[..line.find(needle).unwrap()].chars().count() + 1;
    format!("std/{module}.rhai:{}:{column}", number + 1)
}

#[test]
fn errors_point_into_the_module_then_at_the_callers() {
    let check = place("pg", "fail(`${who}: ${what} is a count");
    let done = Test::new()
        .script(
            "sizes",
            r#"
            import "std/pg" as pg;
            fn largest(n) {
                pg::table_sizes(n)
            }
            largest(0);
            "#,
        )
        .args(&["sizes"])
        .status(1)
        .any_stderr()
        .run();
    let lines: Vec<&str> = done.stderr.lines().collect();
    assert_eq!(
        lines[0],
        format!("{check}: pg::table_sizes: limit is a count of 1 or more, not 0"),
        "{}",
        done.stderr
    );
    assert!(lines[1].trim_start().contains("| ") && lines[2].ends_with('^'));
    let in_module = place("pg", "check_count(\"pg::table_sizes\"");
    assert_eq!(
        &lines[3..],
        [
            format!("  in `check_count`, called at {in_module}").as_str(),
            "  in `table_sizes`, called at scripts/sizes.rhai:3:9",
            "  in `largest`, called at scripts/sizes.rhai:5:1",
        ],
        "{}",
        done.stderr
    );
}

#[test]
fn the_manuals_error_in_a_module_is_what_adminsh_prints() {
    let chapter =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/src/modules.md"))
            .unwrap();
    let intro = "then at the line that called it:\n\n";
    let start = chapter.find(intro).unwrap() + intro.len();
    let mut sample = String::new();
    for line in chapter[start..]
        .lines()
        .take_while(|l| l.starts_with("    "))
    {
        sample.push_str(&line[4..]);
        sample.push('\n');
    }
    Test::new()
        .script(
            "nightly",
            r#"
            import "std/pg" as pg;
            if true {
                pg::backup(#{kep: 1});
            }
            "#,
        )
        .args(&["nightly"])
        .status(1)
        .stderr(&sample)
        .run();
}

#[test]
fn the_stdlib_is_listed_and_each_module_documented() {
    let listing = Test::new().args(&["--stdlib"]).any_stdout().run().stdout;
    for line in [
        "std/pg: PostgreSQL on call: sizes, locks, long queries, backups, replicas and timeouts.",
        "  pg::backup(options) ",
        "  pg::print_blocking() ",
        "std/db is built in",
    ] {
        assert!(
            listing.contains(line),
            "--stdlib lacks {line:?}:\n{listing}"
        );
    }
    let pg = Test::new()
        .args(&["--stdlib", "pg"])
        .any_stdout()
        .run()
        .stdout;
    assert!(
        pg.starts_with("std/pg (import \"std/pg\" as pg;)\n\nPostgreSQL on call:"),
        "{pg}"
    );
    assert!(
        pg.contains(
            "\npg::terminate(pid)\n    Ends session `pid`: its transaction is rolled back and its locks released.\n\n"
        ),
        "{pg}"
    );
    assert!(
        pg.contains("    ```\n    pg::vacuum_analyze([\"orders\", \"order_items\"]);\n    ```\n"),
        "{pg}"
    );
    for name in ["std/pg", "std/pg.rhai", "pg::"] {
        Test::new().args(&["--stdlib", name]).stdout(&pg).run();
    }
    // The console shows the same text.
    Test::new().stdin(":help std/pg\n").stdout(&pg).run();
    Test::new()
        .stdin(":help std/db\n")
        .stdout_contains("db::query(sql: String, params: Array) -> Array")
        .run();
    for (args, stdin, status, stderr) in [
        (
            &["--stdlib", "pgx"][..],
            "",
            2,
            "adminsh: --stdlib pgx: no such stdlib module (there are app, maintenance, mysql, notify, pg; std/db's functions are in the console's :help)\n",
        ),
        (
            &[][..],
            ":help std/nope\n",
            1,
            "no stdlib module `std/nope`: there are std/db, std/app, std/maintenance, std/mysql, std/notify, std/pg (:help alone lists every function)\n",
        ),
    ] {
        let mut test = Test::new().args(args).status(status).stderr(stderr);
        if !stdin.is_empty() {
            test = test.stdin(stdin);
        }
        test.run();
    }
}
