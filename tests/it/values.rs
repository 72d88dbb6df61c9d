//! Values of the host API as people read them, wherever they are shown: `-e`, `print`,
//! `debug`, the console and `--json` show a command as its command line (secrets masked), a
//! progress bar as how far it is and a closure as where it was written; never a Rust type path
//! or Rhai's `anon$…` name.

use crate::support::Test;

#[test]
fn host_values_print_as_what_they_are() {
    let cases = [
        (r#"cmd("echo", ["x"])"#, "echo x"),
        (
            r#"cmd("echo", ["a b"]).pipe(cmd("wc", ["-l"]))"#,
            "echo 'a b' | wc -l",
        ),
        (r#"cmd("echo", [env("API_TOKEN")])"#, "echo ****"),
        ("progress(3)", "progress 0/3"),
        (
            r#"let p = progress(40); p.inc(1); p.message("rows"); p"#,
            "progress 1/40 rows",
        ),
        ("|x| x + 1", "closure |x| at -e:1:1"),
        ("let n = 1; |x, y| x + y + n", "closure |x, y| at -e:1:12"),
        (r#"Fn("cmd")"#, "Fn(cmd)"),
        (
            r#"[cmd("echo"), || 1]"#,
            "[cmd(echo), closure || at -e:1:15]",
        ),
        (
            r#"#{c: cmd("echo", [env("API_TOKEN")]), p: progress(2)}"#,
            r#"#{"c": cmd(echo ****), "p": progress(0/2)}"#,
        ),
        (
            r#"print(cmd("ls")); print(progress(1)); print(|| 1); ()"#,
            "ls\nprogress 0/1\nclosure || at -e:1:45",
        ),
        (
            r#"type_of(cmd("ls")) + " " + type_of(progress(1))"#,
            "Cmd Progress",
        ),
    ];
    for (code, shown) in cases {
        Test::new()
            .file(".env", "API_TOKEN=tok-very-secret\n")
            .args(&["-e", code])
            .stdout(&format!("{shown}\n"))
            .run();
    }
}

#[test]
fn debug_the_console_and_json_show_them_alike() {
    Test::new()
        .args(&[
            "-e",
            r#"debug(cmd("ls")); debug(progress(2)); debug(|x| x)"#,
        ])
        .stderr("-e:1: cmd(ls)\n-e:1: progress(0/2)\n-e:1: closure |x| at -e:1:45\n")
        .run();
    // A script's debug line names it as its errors do: relative to where adminsh started.
    Test::new()
        .script("dbg", "debug(\"x\");\nfail(\"y\");\n")
        .args(&["dbg"])
        .status(1)
        .stderr("scripts/dbg.rhai:1: \"x\"\nscripts/dbg.rhai:2:1: y\n 2 | fail(\"y\");\n   | ^\n")
        .run();
    Test::new()
        .stdin(
            r#"
            let c = cmd("echo", ["x"])
            [c, |x| x, progress(3)]
            "#,
        )
        .stdout("=> [cmd(echo x), closure |x| at <stdin>:2:5, progress(0/3)]\n")
        .run();
    Test::new()
        .args(&[
            "--json",
            "-e",
            r#"[cmd("echo", ["x"]), |x| x, progress(1)]"#,
        ])
        .stdout_contains(r#""value":["echo x","closure |x| at -e:1:22","progress 0/1"]"#)
        .run();
}
