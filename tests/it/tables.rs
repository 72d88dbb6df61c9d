//! `print_table`: an array of maps as aligned columns on stdout (stderr under `--json`, whose
//! document keeps the rows as data in the order shown), a query's rows in the query's column
//! order, secrets masked in every cell, and a clear error for what is not a list of maps.

use crate::support::Test;

/// The app: a secret, and a `SQLite` database made by the test's own script.
fn app() -> Test {
    Test::new().file(
        ".env",
        "API_TOKEN=tok-very-secret\nDATABASE_URL=sqlite:///app.db?mode=rwc\n",
    )
}

#[test]
fn rows_print_as_aligned_columns() {
    let cases = [
        (
            r#"print_table([#{id: 7, email: "a@example.com"}, #{id: 1234, email: ()}])"#,
            "     email     |  id\n---------------+------\n a@example.com |    7\n               | 1234\n(2 rows)\n",
        ),
        (
            r#"print_table([#{id: 1, email: "a"}], ["id", "email", "absent"])"#,
            " id | email | absent\n----+-------+--------\n  1 | a     |\n(1 row)\n",
        ),
        (
            r#"print_table([#{b: 1}, #{a: "two\nlines"}])"#,
            " b |     a\n---+------------\n 1 |\n   | two\\nlines\n(2 rows)\n",
        ),
        (
            r#"print_table([#{c: cmd("echo", ["x y"]), d: days(1)}])"#,
            "     c      |  d\n------------+-----\n echo 'x y' | 24h\n(1 row)\n",
        ),
        ("print_table([])", "(0 rows)\n"),
    ];
    for (code, shown) in cases {
        app().args(&["-e", code]).stdout(shown).run();
    }
}

#[test]
fn secrets_are_masked_in_every_cell_and_secret_columns_hidden() {
    let cases = [
        r#"print_table([#{v: env("API_TOKEN")}])"#,
        r#"print_table([#{v: `Bearer ${env("API_TOKEN")}`}])"#,
        r#"print_table([#{v: [env("API_TOKEN")]}])"#,
        r#"print_table([#{v: #{inner: env("API_TOKEN")}}])"#,
        r#"print_table([#{password: "hunter2-hunter2"}])"#,
    ];
    for code in cases {
        for json in [false, true] {
            let mut args = vec!["-e", code];
            if json {
                args.insert(0, "--json");
            }
            let done = app().args(&args).any_stdout().any_stderr().run();
            let all = format!("{}{}", done.stdout, done.stderr);
            assert!(all.contains("****"), "{code} (json {json}): {all}");
            assert!(
                !all.contains("tok-very-secret") && !all.contains("hunter2-hunter2"),
                "{code} (json {json}): {all}"
            );
        }
    }
}

#[test]
fn a_querys_rows_keep_its_column_order_on_screen_and_in_json() {
    let code = r#"
        import "std/db" as db;
        db::exec("create table t (zeta int, alpha text, mid real)");
        db::exec("insert into t values (1, 'x', 2.5), (20, 'yy', null)");
        print_table(db::query("select zeta, alpha, mid from t order by zeta"));
    "#;
    app()
        .args(&["-e", code])
        .stdout(" zeta | alpha | mid\n------+-------+-----\n    1 | x     | 2.5\n   20 | yy    |\n(2 rows)\n")
        .run();
    let done = app()
        .args(&["--json", "-e", code])
        .any_stdout()
        .stderr_contains(" zeta | alpha | mid\n")
        .run();
    let report: serde_json::Value = serde_json::from_str(done.stdout.trim()).unwrap();
    assert_eq!(
        report["tables"].to_string(),
        r#"[[{"zeta":1,"alpha":"x","mid":2.5},{"zeta":20,"alpha":"yy","mid":null}]]"#
    );
    let done = app()
        .args(&[
            "--json",
            "-e",
            r#"print_table([#{b: 1, a: "x"}], ["b", "a"]); print_table([#{n: 1}])"#,
        ])
        .any_stdout()
        .any_stderr()
        .run();
    let report: serde_json::Value = serde_json::from_str(done.stdout.trim()).unwrap();
    assert_eq!(
        report["tables"].to_string(),
        r#"[[{"b":1,"a":"x"}],[{"n":1}]]"#
    ); // A table per loop turn: the report keeps the first thousand and says so once.
    let done = app()
        .args(&["--json", "-e", "for i in 0..1003 { print_table([#{i: i}]) }"])
        .any_stdout()
        .stderr_contains("warning: --json keeps the first 1000 tables print_table printed; later ones are printed, not kept\n")
        .run();
    assert_eq!(
        done.stderr.matches("warning:").count(),
        1,
        "{}",
        done.stderr
    );
    let report: serde_json::Value = serde_json::from_str(done.stdout.trim()).unwrap();
    let tables = report["tables"].as_array().unwrap();
    assert_eq!(tables.len(), 1000);
    assert_eq!(tables[999].to_string(), r#"[{"i":999}]"#);
}

#[test]
fn what_is_not_a_list_of_maps_is_an_error_naming_it() {
    let cases = [
        (
            "print_table([1, 2])",
            "print_table: row 1 is an int, not a map",
        ),
        (
            r#"print_table([#{a: 1}, "x"])"#,
            "print_table: row 2 is a string, not a map",
        ),
        (
            r#"print_table([#{a: 1}], ["a", 2])"#,
            "print_table: column 2 is an int, not a string",
        ),
        ("print_table(5)", "Function not found: print_table (i64)"),
    ];
    for (code, said) in cases {
        app()
            .args(&["-e", code])
            .status(1)
            .stderr_contains(said)
            .run();
    }
}
