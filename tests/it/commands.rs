//! The command host API: building, running, capturing, failing.

use crate::support::Test;
use crate::support::tools::require;

#[test]
fn run_streams_output_and_returns_the_status() {
    Test::new()
        .args(&[
            "-e",
            r#"let s = cmd("sh", ["-c", "echo out; echo err >&2"]).run(); print(`status ${s}`);"#,
        ])
        .stdout("out\nstatus 0\n")
        .stderr("err\n")
        .run();
    Test::new()
        .args(&["-e", r#"cmd("sh", ["-c", "exit 3"]).unchecked().run()"#])
        .stdout("3\n")
        .run();
}

#[test]
fn read_lines_output() {
    Test::new()
        .args(&[
            "-e",
            r#"
            let r = cmd("printf", ["a\nb\n\n"]).read();
            let l = cmd("printf", ["x\r\ny\nz"]).lines();
            let o = cmd("sh", ["-c", "echo o; echo e >&2; exit 2"]).unchecked().output();
            print(to_json([r, l, o]));
            "#,
        ])
        .stdout("[\"a\\nb\",[\"x\",\"y\",\"z\"],{\"status\":2,\"stderr\":\"e\\n\",\"stdout\":\"o\\n\"}]\n")
        .run();
}

#[test]
fn each_line_streams_and_can_stop_early() {
    Test::new()
        .args(&[
            "-e",
            r#"
            let seen = [];
            cmd("seq", ["5"]).each_line(|line| seen.push(line));
            print(seen);
            let n = 0;
            cmd("seq", ["1000000"]).each_line(|line| { n += 1; n < 3 });
            print(n);
            "#,
        ])
        .stdout("[\"1\", \"2\", \"3\", \"4\", \"5\"]\n3\n")
        .run();
}

#[test]
fn builder_methods_return_new_commands() {
    Test::new()
        .file("sub/marker", "")
        .args(&[
            "-e",
            r#"
            let base = cmd("sh", ["-c"]);
            let a = base.arg("echo $X $Y; pwd; cat").env("X", "1").env("Y", 2).env_remove("Y").dir("sub").stdin("piped in");
            print(a.read());
            print(base);
            print(cmd("echo").args(["a", 1, true]).read());
            print(cmd("printf", ["b\na\n"]).pipe(cmd("sort")).pipe(cmd("tr", ["a-z", "A-Z"])).read());
            print(sh("echo one | tr o O").read());
            "#,
        ])
        .stdout_contains("1\n")
        .stdout_contains("/sub\npiped in\nsh -c\na 1 true\nA\nB\nOne\n")
        .stdout_contains("1\n/")
        .run();
}

#[test]
fn arguments_are_never_reinterpreted_by_a_shell() {
    let t = Test::new().args(&[
        "-e",
        r#"print(cmd("printf", ["%s|", "$(touch pwned)", "a b", "*", "; ls", "`id`"]).read())"#,
    ]);
    let done = t.stdout("$(touch pwned)|a b|*|; ls|`id`|\n").run();
    assert!(!done.path().join("pwned").exists());
}

#[test]
fn commands_run_in_the_release_root_with_its_config() {
    Test::new()
        .file(".env", "FROM_DOTENV=yes")
        .current_dir("scripts")
        .args(&[
            "-e",
            r#"cmd("sh", ["-c", "pwd; echo $FROM_DOTENV"]).lines()"#,
        ])
        .any_stdout()
        .run();
    let t = Test::new()
        .file(".env", "FROM_DOTENV=yes")
        .current_dir("scripts")
        .args(&[
            "-e",
            r#"cmd("sh", ["-c", "pwd -P; echo $PWD; echo $FROM_DOTENV"]).read()"#,
        ]);
    let root = t.path().canonicalize().unwrap().display().to_string();
    t.stdout(&format!("{root}\n{root}\nyes\n")).run();
}

#[test]
fn node_modules_bin_is_on_path() {
    Test::new()
        .executable(
            "node_modules/.bin/tool",
            "#!/bin/sh\necho \"node tool $1\"\n",
        )
        .args(&["-e", r#"cmd("tool", ["x"]).read()"#])
        .stdout("node tool x\n")
        .run();
}

#[test]
fn a_real_virtualenv_is_used_and_one_created_mid_script_too() {
    require!(Python);
    // Without pip: the venv's own python is what is under test, and pip takes seconds.
    let t = Test::new().args(&[
        "-e",
        r#"
        let before = cmd("sh", ["-c", "echo ${VIRTUAL_ENV:-none}"]).read();
        cmd("python3", ["-m", "venv", "--without-pip", ".venv"]).run();
        let prefix = cmd("python", ["-c", "import sys; print(sys.prefix == sys.base_prefix, sys.prefix)"]).read();
        print(before);
        print(prefix);
        print(cmd("sh", ["-c", "echo $VIRTUAL_ENV"]).read());
        print(release().isolation);
        "#,
    ]);
    let venv = t
        .path()
        .canonicalize()
        .unwrap()
        .join(".venv")
        .display()
        .to_string();
    t.stdout(&format!(
        "none\nFalse {venv}\n{venv}\n[\"python virtualenv {venv}\"]\n"
    ))
    .run();
}

#[test]
fn failures_name_the_command_status_and_stderr_tail() {
    Test::new()
        .args(&[
            "-e",
            r#"
            try {
                cmd("sh", ["-c", "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo line$i >&2; done; exit 4"]).read();
            } catch (e) {
                print(e);
            }
            "#,
        ])
        .stdout(
            "
            command `sh -c 'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo line$i >&2; done; exit 4'` failed: exit status 4
            its stderr:
              | line1
              | line2
              | line3
              | line4
              | line5
              | line6
              | line7
              | line8
              | line9
              | line10
              | line11
              | line12
            ",
        )
        .any_stderr()
        .run();
    Test::new()
        .args(&["-e", "\n\ncmd(\"sh\", [\"-c\", \"kill -9 $$\"]).run()"])
        .status(1)
        .stderr(
            "
            -e:3:33: command `sh -c 'kill -9 $$'` failed: killed by signal 9 (SIGKILL) (its stderr is above)
             3 | cmd(\"sh\", [\"-c\", \"kill -9 $$\"]).run()
               |                                 ^
            ",
        )
        .run();
}

#[test]
fn command_not_found_is_a_catchable_error() {
    Test::new()
        .args(&["-e", r#"try { cmd("no-such-program", ["x"]).run() } catch (e) { print(e) }"#])
        .stdout("command not found: `no-such-program` (in `no-such-program x`); it is not on the release's PATH\n")
        .run();
    Test::new()
        .args(&["-e", r#"cmd("./bin/missing").run()"#])
        .status(1)
        .stderr_contains("cannot run `./bin/missing`: No such file or directory")
        .run();
}

#[test]
fn timeouts_stop_the_command() {
    Test::new()
        .args(&[
            "-e",
            r#"try { cmd("sleep", ["30"]).timeout(0.2).run() } catch (e) { print(e) } print(cmd("echo", ["after"]).timeout(5).read());"#,
        ])
        .stdout("command `sleep 30` timed out after 0.2s and was stopped\nafter\n")
        .run();
    Test::new()
        .args(&["-e", r#"cmd("true").timeout(-1)"#])
        .status(1)
        .stderr_contains("timeout must be a positive number of seconds, not -1")
        .run();
}

#[test]
fn output_that_is_not_utf8_is_replaced_with_a_warning_and_kept_in_read_bytes() {
    Test::new()
        .args(&[
            "-e",
            r#"
            let text = cmd("printf", ["a\\377b"]).read();
            let bytes = cmd("printf", ["a\\377b"]).read_bytes();
            print(text);
            print(bytes);
            "#,
        ])
        .stdout("a\u{fffd}b\n[61ff62]\n")
        .stderr("warning: `printf 'a\\377b'` printed bytes that are not UTF-8; they were replaced with U+FFFD (use .read_bytes() for the exact bytes)\n")
        .run();
    Test::new()
        .args(&[
            "-e",
            r#"cmd("printf", ["ok\\377\\n"]).each_line(|l| print(l.len()))"#,
        ])
        .stdout("3\n0\n")
        .any_stderr()
        .run();
}

#[test]
fn bad_argument_types_are_named() {
    Test::new()
        .args(&["-e", r#"cmd("echo", ["a", #{b: 1}])"#])
        .status(1)
        .stderr_contains("argument 2 must be a string or a number, not a map")
        .run();
}

#[test]
fn programs_see_the_name_they_were_given_as_argv0() {
    Test::new()
        .args(&["-e", r#"cmd("sh", ["-c", "echo $0"]).read()"#])
        .stdout("sh\n")
        .run();
}

/// `each_line` splits in linear time (a 128 MiB line once took 35 s): a 32 MiB line arrives
/// whole, and a line past the 64 MiB limit is a clear error after the lines before it.
#[test]
fn each_line_takes_a_long_line_whole_up_to_a_limit() {
    Test::new()
        .args(&[
            "-e",
            r#"
            let seen = [];
            cmd("sh", ["-c", "echo first; head -c 33554432 /dev/zero | tr '\\0' x; echo; echo last"])
                .each_line(|line| seen.push([line.len(), line.sub_string(0, 3), line.sub_string(-3)]));
            print(seen);
            "#,
        ])
        .stdout("[[5, \"fir\", \"rst\"], [33554432, \"xxx\", \"xxx\"], [4, \"las\", \"ast\"]]\n")
        .run();
    Test::new()
        .args(&[
            "-e",
            r#"
            let seen = [];
            try {
                cmd("sh", ["-c", "echo first; head -c 67108865 /dev/zero | tr '\\0' x; echo; echo last"])
                    .each_line(|line| seen.push(line));
            } catch (e) {
                print(seen);
                print(e);
            }
            "#,
        ])
        .stdout("[\"first\"]\ncommand `sh -c 'echo first; head -c 67108865 /dev/zero | tr '\\''\\0'\\'' x; echo; echo last'` printed a line longer than 64 MiB, the most each_line takes; it was stopped (.read() and .read_bytes() take output of any shape)\n")
        .run();
}

#[test]
fn a_failure_quotes_the_first_and_the_last_lines_of_stderr() {
    // As Ruby and Python print an exception: the message first, the backtrace after it.
    let script = r#"cmd("sh", ["-c", "echo 'boom (RuntimeError)' >&2; for i in $(seq 1 30); do echo \"  from frame $i\" >&2; done; exit 1"]).read()"#;
    let lines: Vec<String> = std::iter::once("  | boom (RuntimeError)".to_owned())
        .chain((1..=9).map(|i| format!("  |   from frame {i}")))
        .chain(std::iter::once("  | … 11 more lines …".to_owned()))
        .chain((21..=30).map(|i| format!("  |   from frame {i}")))
        .collect();
    let quoted = format!(
        "the first and last lines of its stderr:\n{}\n",
        lines.join("\n")
    );
    Test::new()
        .args(&[
            "-e",
            &format!("try {{ {script} }} catch (e) {{ print(e) }}"),
        ])
        .stdout_contains(&quoted)
        .any_stderr()
        .run();
    // --json's error says it too.
    let done = Test::new()
        .args(&["--json", "-e", script])
        .status(1)
        .any_stdout()
        .any_stderr()
        .run();
    let report: serde_json::Value = serde_json::from_str(done.stdout.trim()).unwrap();
    let error = report["error"].as_str().unwrap();
    assert!(error.contains("  | boom (RuntimeError)\n"), "{error}");
    assert!(error.contains("  | … 11 more lines …\n"), "{error}");
}

/// A closure a host loop calls once per line, row or item sees what the script sees where the
/// closure was written: the variables it captured (and changes them), the script's functions,
/// the module's own functions when written inside a module, and a named
/// function's pointer; an error inside it names the closure's line. Each shape runs through
/// `each_line`, `db::each` and `each_progress`, which share one way of calling.
#[test]
fn closures_called_per_line_see_the_scope_they_were_written_in() {
    let module = "fn twice(x) { x * 2 }\n\
                  fn sum(source) { let n = 0; source.call(|l| { n += twice(parse_int(l)); }); n }\n";
    let loops = [
        "|f| cmd(\"seq\", [\"3\"]).each_line(f)",
        "|f| db::each(\"select 1 as v union all select 2 union all select 3\", [], |r| f.call(`${r.v}`))",
        "|f| each_progress([\"1\", \"2\", \"3\"], f)",
    ];
    let shapes: [(&str, &str); 5] = [
        (
            "let n = 0; source.call(|l| { n += parse_int(l); }); print(n);",
            "6\n",
        ),
        (
            "fn sq(x) { x * x } let n = 0; source.call(|l| { n += sq(parse_int(l)); }); print(n);",
            "14\n",
        ),
        ("print(m::sum(source));", "12\n"),
        (
            "const OFFSET = 100; let seen = []; source.call(|l| seen.push(OFFSET + parse_int(l))); print(seen);",
            "[101, 102, 103]\n",
        ),
        (
            "let seen = []; source.call(|l| { let inner = 0; cmd(\"seq\", [l]).each_line(|x| inner += 1); seen.push(inner); }); print(seen);",
            "[1, 2, 3]\n",
        ),
    ];
    for source in loops {
        for (body, expected) in shapes {
            let script = format!(
                "import \"m\" as m;\nimport \"std/db\" as db;\nlet source = {source};\n{body}\n"
            );
            Test::new()
                .env("DATABASE_URL", "sqlite:///app.db?mode=rwc")
                .script("m", module)
                .script("job", &script)
                .args(&["job"])
                .stdout(expected)
                .any_stderr()
                .run();
        }
        let failing = format!(
            "import \"std/db\" as db;\nlet source = {source};\nsource.call(|l| {{\n    if l == \"2\" {{ throw `bad line ${{l}}`; }}\n}});\nprint(\"not reached\");\n"
        );
        Test::new()
            .env("DATABASE_URL", "sqlite:///app.db?mode=rwc")
            .script("job", &failing)
            .args(&["job"])
            .status(1)
            .stderr_contains("bad line 2")
            .stderr_contains("job.rhai:4:")
            .run();
    }
}
