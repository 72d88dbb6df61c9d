//! Script errors as the user sees them: position, code frame, the calls that led there.

use crate::support::Test;

#[test]
fn syntax_error_shows_path_line_column_and_frame() {
    Test::new()
        .script("broken", "let a = 1;\nlet b = (a + ;\n")
        .args(&["broken"])
        .status(1)
        .stderr(
            "
            scripts/broken.rhai:2:14: Syntax error: Unexpected ';'
             2 | let b = (a + ;
               |              ^
            ",
        )
        .run();
}

#[test]
fn errors_inside_functions_and_modules_show_the_call_chain() {
    Test::new()
        .script("lib/helpers", "fn explode(x) {\n    fail(`bad ${x}`);\n}\n")
        .script(
            "main",
            "import \"lib/helpers\" as h;\nfn outer() { h::explode(42) }\n\nouter();\n",
        )
        .args(&["main"])
        .status(1)
        .stderr(
            "
            scripts/lib/helpers.rhai:2:5: bad 42
             2 |     fail(`bad ${x}`);
               |     ^
              in `explode`, called at scripts/main.rhai:2:17
              in `outer`, called at scripts/main.rhai:4:1
            ",
        )
        .run();
}

#[test]
fn a_syntax_error_in_an_imported_module_points_into_that_module() {
    Test::new()
        .script("lib/broken", "fn f() {\n  let = 1;\n}\n")
        .script("main", "import \"lib/broken\" as b;\n")
        .args(&["main"])
        .status(1)
        .stderr_contains("scripts/lib/broken.rhai:2:7: Syntax error")
        .stderr_contains("in module `lib/broken`, imported at scripts/main.rhai:1:8")
        .run();
}

#[test]
fn uncaught_throw_of_a_value() {
    Test::new()
        .args(&["-e", "throw #{code: 3}"])
        .status(1)
        .stderr("-e:1:1: uncaught exception: #{\"code\": 3}\n 1 | throw #{code: 3}\n   | ^\n")
        .run();
}

#[test]
fn a_missing_module_is_named() {
    Test::new()
        .script("main", "import \"nowhere\" as n;\n")
        .args(&["main"])
        .status(1)
        .stderr_contains("scripts/main.rhai:1:8: Module not found: nowhere")
        .run();
}

#[test]
fn error_paths_are_relative_to_where_adminsh_was_started() {
    Test::new()
        .script("broken", "let = 1;\n")
        .current_dir("scripts")
        .args(&["broken"])
        .status(1)
        .stderr("broken.rhai:1:5: Syntax error: Expecting name of a variable\n 1 | let = 1;\n   |     ^\n")
        .run();
    let app = Test::new().script("broken", "let = 1;\n");
    let outside = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(crate::support::BIN)
        .arg("-C")
        .arg(app.path())
        .arg("broken")
        .current_dir(outside.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let expected = format!(
        "{}/scripts/broken.rhai:1:5: Syntax error",
        app.path().canonicalize().unwrap().display()
    );
    assert!(stderr.starts_with(&expected), "{stderr}");
}

#[test]
fn call_chains_name_steps_and_closures_by_where_they_were_written() {
    let cases = [
        (
            "//! @no-params\nfn helper(n) {\n    let f = |x| x / n;\n    f.call(1)\n}\nstep(\"backfill\", || {\n    helper(0)\n});\n",
            "step 1: backfill\nstep 1: backfill: failed after",
            "
            scripts/s.rhai:3:19: Division by zero: 1 / 0
             3 |     let f = |x| x / n;
               |                   ^
              in the closure at scripts/s.rhai:3:13, called at scripts/s.rhai:4:7
              in `helper`, called at scripts/s.rhai:7:5
              in step \"backfill\", called at scripts/s.rhai:6:1
            ",
        ),
        (
            "let g = |x| {\n    fail(`bad ${x}`)\n};\n[1].map(g);\n",
            "",
            "
            scripts/s.rhai:2:5: bad 1
             2 |     fail(`bad ${x}`)
               |     ^
              in the closure at scripts/s.rhai:1:9, called at scripts/s.rhai:4:5
              in `map`, called at scripts/s.rhai:4:5
            ",
        ),
        (
            "step(\"one\", || 1);\nstep(\"two\", || step(\"inner\", || fail(\"no\")));\n",
            "step 1: one",
            "
            scripts/s.rhai:2:33: no
             2 | step(\"two\", || step(\"inner\", || fail(\"no\")));
               |                                 ^
              in step \"inner\", called at scripts/s.rhai:2:16
              in step \"two\", called at scripts/s.rhai:2:1
            ",
        ),
    ];
    for (script, steps, error) in cases {
        let done = Test::new()
            .script("s", script)
            .args(&["s"])
            .status(1)
            .any_stderr()
            .run();
        assert!(done.stderr.starts_with(steps), "{}", done.stderr);
        let rendered = crate::support::unindent(error);
        assert!(
            done.stderr.ends_with(&rendered),
            "--- expected the error\n{rendered}\n--- in\n{}",
            done.stderr
        );
    }
}

#[test]
fn common_rhai_mistakes_get_a_hint() {
    let cases = [
        (
            "let count = |x| x + 1; count(2)",
            "-e:1:24: Function not found: count (i64); `count` holds a closure: call it as `count.call(2)`",
        ),
        (
            "fn twice(f, x) { f(f(x)) } twice(|x| x, 1)",
            "-e:1:20: Function not found: f (i64); `f` is a parameter, not a function: if it holds a closure, call it as `f.call(x)`",
        ),
        (
            // `db::` needs no import (it is always there), so the error is the database's.
            "db::query(\"select 1\")",
            "-e:1:5: DATABASE_URL is not set (in .env, an env file or the environment); std/db connects to it on first use (db::connect(url) reaches any other)",
        ),
        (
            "cmdd(\"ls\")",
            "-e:1:1: Function not found: cmdd (string); did you mean `cmd`?",
        ),
        (
            "cmd(\"ls\").rnu()",
            "-e:1:11: Function not found: rnu (Cmd); did you mean `run`?",
        ),
        (
            "fn backfill() {} backfil()",
            "-e:1:18: Function not found: backfil (); did you mean `backfill`?",
        ),
    ];
    for (code, first_line) in cases {
        let done = Test::new().args(&["-e", code]).status(1).any_stderr().run();
        assert_eq!(
            done.stderr.lines().next(),
            Some(first_line),
            "{}",
            done.stderr
        );
    }
    // The console knows the closures of earlier inputs.
    Test::new()
        .stdin("let count = |x| x\ncount(1)\n")
        .status(1)
        .stderr_contains(
            "<stdin>:2:1: Function not found: count (i64); `count` holds a closure: call it as `count.call(1)`",
        )
        .run();
}
