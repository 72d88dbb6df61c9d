//! The command line: modes, script lookup, arguments, exit codes.

use crate::support::Test;

#[test]
fn version_and_help() {
    Test::new()
        .args(&["--version"])
        .stdout(&format!("adminsh {}\n", env!("CARGO_PKG_VERSION")))
        .run();
    let help = Test::new().args(&["--help"]).any_stdout().run().stdout;
    for part in [
        "Usage: adminsh",
        "--eval <CODE>",
        "Modes:",
        "--list",
        "--check",
        "--env",
        "--completions",
        "130 interrupted",
    ] {
        assert!(help.contains(part), "--help lacks {part:?}:\n{help}");
    }
}

#[test]
fn completions_for_an_unknown_shell_are_a_usage_error() {
    // What each shell's script contains and answers: params.rs.
    Test::new()
        .args(&["--completions", "tcsh"])
        .status(2)
        .stderr_contains("invalid value 'tcsh'")
        .run();
}

#[test]
fn list_shows_scripts_with_summaries_and_hides_modules() {
    let t = Test::new()
        .file("adminsh.toml", "name = \"shop\"")
        .script(
            "fix_records",
            "//! Fix the bad records.\n//! More detail.\nprint(1);",
        )
        .script(
            "db/backfill",
            "#!/usr/bin/env adminsh\n//! Backfill a column.\n",
        )
        .script("no_doc", "print(1);")
        .script("lib/helpers", "//! A module.\nfn f() {}")
        .script("_private", "//! Hidden.\n")
        .args(&["--list"]);
    let scripts = t.path().join("scripts").display().to_string();
    t.stdout(&format!(
        "Scripts of shop in {scripts}:\n    db/backfill  # Backfill a column.\n    fix_records  # Fix the bad records.\n    no_doc\n"
    ))
    .run();
}

#[test]
fn check_reports_every_broken_script() {
    Test::new()
        .script("good", "let x = 1;")
        .script("bad_syntax", "let x = ;\n")
        .script("bad_var", "print(y);\n")
        .args(&["--check"])
        .status(1)
        .stderr(
            "
            scripts/bad_syntax.rhai:1:9: Syntax error: Unexpected ';'
             1 | let x = ;
               |         ^
            scripts/bad_var.rhai:1:7: Syntax error: Undefined variable: y
             1 | print(y);
               |       ^
            2 of 3 scripts failed to compile
            ",
        )
        .run();
    Test::new()
        .script("good", "let x = ARGS;")
        .args(&["--check"])
        .stdout("1 script ok\n")
        .run();
}

#[test]
fn scripts_by_name_by_path_and_with_extension() {
    for how in ["hello", "hello.rhai", "scripts/hello.rhai"] {
        Test::new()
            .script("hello", "print(`hello ${ARGS}`);")
            .args(&[how, "a", "b"])
            .stdout("hello [\"a\", \"b\"]\n")
            .run();
    }
}

#[test]
fn unknown_script_suggests_close_names() {
    let t = Test::new()
        .script("fix_records", "")
        .script("fix_orders", "")
        .script("report", "")
        .args(&["fix_record"]);
    let dir = t.path().join("scripts").display().to_string();
    t.status(2)
        .stderr(&format!(
            "adminsh: no script `fix_record`: it is neither a file nor a script in {dir}\n  did you mean `fix_records`?\n"
        ))
        .run();
    Test::new()
        .script("fix_records", "")
        .script("fix_orders", "")
        .args(&["fix"])
        .status(2)
        .stderr_contains("did you mean one of: fix_orders, fix_records?")
        .run();
    Test::new()
        .script("report", "")
        .args(&["zzz"])
        .status(2)
        .stderr_contains("(adminsh --list shows them)")
        .run();
}

/// Outside an app, a script that is not found is said to be looked for in the wrong place:
/// no release root was found, where adminsh looked for one (the current directory and every
/// directory above it) and for what, and how to point at the app with `-C`.
#[test]
fn outside_an_app_an_unknown_script_says_no_root_was_found_and_how_to_name_one() {
    let markers = "adminsh.toml, Procfile, .git, Gemfile, config.ru, manage.py, \
                   pyproject.toml, package.json or go.mod";
    // (what is run, from which directory of a temp dir holding no marker: `/` is the root)
    let cases = [
        ("fix_records", "/"),
        ("fix_records", "deep/er/still"),
        ("fix_records.rhai", "deep"),
        ("./no/such/path.rhai", "deep/er"),
        ("/no/such/path.rhai", "/"),
    ];
    for (script, cwd) in cases {
        let t = Test::bare()
            .current_dir(cwd)
            .args(&[script, "--since", "x"]);
        let here = t.path().join(cwd);
        let looked: Vec<String> = here
            .ancestors()
            .map(|dir| format!("    {}\n", dir.display()))
            .collect();
        let looked = looked.concat();
        let scripts = here.join("scripts");
        t.status(2)
            .stderr(&format!(
                "adminsh: no script `{script}`: it is neither a file nor a script in {}\n  \
                 no release root was found: none of these directories holds {markers}:\n\
                 {looked}  run adminsh inside your app, or point at its root: adminsh -C DIR {script}\n",
                scripts.display()
            ))
            .run();
    }
    // Inside an app, the message stays about the scripts it has.
    Test::new()
        .script("report", "")
        .current_dir("deep")
        .args(&["fix_records"])
        .status(2)
        .stderr_contains("(adminsh --list shows them)")
        .run();
}

#[test]
fn arguments_reach_the_script_untouched() {
    let tricky = [
        "--flag",
        "-e",
        "a b",
        "$(touch pwned)",
        "x; rm -rf /",
        "'\"",
        "ünï",
        "",
        "--help",
    ];
    let t = Test::new()
        .script("args", "for a in ARGS { print(`<${a}>`); }")
        .arg("args");
    let t = tricky.iter().fold(t, super::support::Test::arg);
    let expected: String = tricky.iter().flat_map(|a| ["<", a, ">\n"]).collect();
    let done = t.stdout(&expected).run();
    assert!(!done.path().join("pwned").exists());
}

#[test]
fn eval_prints_the_value() {
    Test::new().args(&["-e", "1 + 2"]).stdout("3\n").run();
    Test::new().args(&["-e", "\"text\""]).stdout("text\n").run();
    Test::new().args(&["-e", "let x = 1;"]).stdout("").run();
    Test::new()
        .args(&["-e", "[1, \"a\"]"])
        .stdout("[1, \"a\"]\n")
        .run();
    Test::new()
        .args(&["-e", "ARGS", "x", "--y"])
        .stdout("[\"x\", \"--y\"]\n")
        .run();
}

#[test]
fn piped_console_runs_stdin_as_a_script() {
    Test::new()
        .stdin("let x = 2;\nprint(x * 3);\n")
        .stdout("6\n")
        .run();
    Test::new()
        .stdin("print(1);\nfail(\"stop\");\nprint(2);\n")
        .stdout("1\n")
        .status(1)
        .stderr_contains("<stdin>:2:1: stop")
        .run();
}

#[test]
fn exit_codes() {
    Test::new().args(&["-e", "exit(7)"]).status(7).run();
    Test::new().args(&["-e", "exit()"]).status(0).run();
    Test::new()
        .args(&["-e", "fn f() { exit(4); } f(); print(1);"])
        .status(4)
        .run();
    Test::new()
        .args(&["-e", "let c = || exit(5); c.call(); print(1);"])
        .status(5)
        .run();
    Test::new()
        .args(&["-e", "try { exit(6); } catch { print(\"caught\"); }"])
        .status(6)
        .run();
    Test::new()
        .args(&["-e", "fail(\"no good\")"])
        .status(1)
        .stderr("-e:1:1: no good\n 1 | fail(\"no good\")\n   | ^\n")
        .run();
    Test::new()
        .args(&["--bogus"])
        .status(2)
        .stderr_contains("unexpected argument '--bogus'")
        .run();
    Test::new()
        .args(&["--list", "x"])
        .status(2)
        .stderr("adminsh: --list takes no script, but `x` was given\n")
        .run();
}

#[test]
fn scripts_outside_the_release_are_refused_unless_allowed() {
    let outside = tempfile::tempdir().unwrap();
    let script = outside.path().join("elsewhere.rhai");
    std::fs::write(&script, "print(\"ran\");").unwrap();
    Test::new()
        .arg(&script)
        .status(2)
        .stderr_contains("is outside the release at")
        .stderr_contains("--allow-outside-release")
        .run();
    Test::new()
        .arg("--allow-outside-release")
        .arg(&script)
        .stdout("ran\n")
        .run();
}

/// `ARGS` promises arguments exactly as given: one that is not UTF-8 is refused (exit 2) with
/// its position and its bytes escaped, rather than turned into U+FFFD; locally, before `-t`
/// sends it anywhere, and on the target's side of `-t` too.
#[test]
fn arguments_that_are_not_utf8_are_refused_naming_them() {
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;
    let bytes = |b: &[u8]| OsString::from_vec(b.to_vec());
    let tail = "is not UTF-8: ARGS holds arguments exactly as given, as text, so adminsh refuses one it would have to change\n";
    let rows: [(Vec<OsString>, &str); 5] = [
        (
            vec!["args".into(), bytes(b"caf\xe9")],
            "argument 1 of the script, `caf\\xe9`,",
        ),
        (
            vec!["args".into(), "ok".into(), bytes(b"\xff\xfe")],
            "argument 2 of the script, `\\xff\\xfe`,",
        ),
        (
            vec![
                "-e".into(),
                "ARGS".into(),
                "a".into(),
                bytes(b"\x1b[31m\xff"),
            ],
            "argument 2 of -e, `\\x1b[31m\\xff`,",
        ),
        (
            vec![bytes(b"x\xe9.rhai")],
            "the script name, `x\\xe9.rhai`,",
        ),
        (
            vec!["-t".into(), "prod".into(), "args".into(), bytes(b"\xe9")],
            "argument 1 of the script, `\\xe9`,",
        ),
    ];
    for (args, message) in rows {
        let mut t = Test::new().script("args", "print(ARGS);\n");
        for arg in args {
            t = t.arg(arg);
        }
        t.status(2)
            .stderr(&format!("adminsh: {message} {tail}"))
            .run();
    }
    // What a remote adminsh receives, decoded from the payload.
    let payload = encode_payload(&[b"--", b"args", b"caf\xe9"]);
    Test::new()
        .script("args", "print(ARGS);\n")
        .args(&["--remote-argv", &payload])
        .status(2)
        .stderr(&format!(
            "adminsh-remote: started\nadminsh: argument 1 of the script, `caf\\xe9`, {tail}"
        ))
        .run();
    Test::new()
        .args(&["-t", "prod", "--env-file"])
        .arg(bytes(b"\xe9.env"))
        .status(2)
        .stderr(
            "adminsh: --env-file `\\xe9.env` is not UTF-8, so it cannot be sent to the target\n",
        )
        .run();
}

/// The `--remote-argv` payload a local adminsh sends for these words: `v1`, then each word in
/// unpadded base64url after a comma (written out here so the test checks the format itself).
fn encode_payload(words: &[&[u8]]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::from("v1");
    for word in words {
        out.push(',');
        for chunk in word.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
            for i in 0..=chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            }
        }
    }
    out
}
