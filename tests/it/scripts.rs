//! Files, JSON, logging and imports from scripts.

use crate::support::Test;

#[test]
fn files_are_relative_to_the_release_root() {
    Test::new()
        .file("data/a.json", "{\"n\": 1}")
        .file("data/b.json", "[1, 2]")
        .current_dir("scripts")
        .args(&[
            "-e",
            r#"
            write_file("report.txt", "one\n");
            print(read_file("report.txt"));
            print(exists("report.txt"));
            print(exists("nope.txt"));
            print(glob("data/*.json"));
            "#,
        ])
        .stdout("one\n\ntrue\nfalse\n[\"data/a.json\", \"data/b.json\"]\n")
        .run();
    Test::new()
        .args(&["-e", r#"write_file("no/such/dir/report.txt", "x")"#])
        .status(1)
        .stderr_contains("cannot write `no/such/dir/report.txt`: no such file or directory")
        .run();
}

#[test]
fn write_file_replaces_atomically_and_keeps_nothing_else() {
    let done = Test::new()
        .file("config.txt", "old")
        .args(&[
            "-e",
            r#"write_file("config.txt", "new"); read_file("config.txt")"#,
        ])
        .stdout("new\n")
        .run();
    let names: Vec<String> = std::fs::read_dir(done.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| std::path::Path::new(n)
            .extension()
            .is_some_and(|e| e == "tmp")),
        "{names:?}"
    );
    Test::new()
        .args(&["-e", r#"read_file("missing.txt")"#])
        .status(1)
        .stderr_contains("cannot read `missing.txt`: no such file or directory")
        .run();
}

#[test]
fn json_round_trips_and_names_the_error_position() {
    Test::new()
        .args(&["-e", r#"let v = parse_json("{\"a\": [1, 2.5, null, true], \"b\": \"x\"}"); print(v.a[1]); to_json(v)"#])
        .stdout("2.5\n{\"a\":[1,2.5,null,true],\"b\":\"x\"}\n")
        .run();
    Test::new()
        .args(&["-e", "to_json(#{a: [1]}, true)"])
        .stdout("{\n  \"a\": [\n    1\n  ]\n}\n")
        .run();
    Test::new()
        .args(&["-e", "parse_json(\"{\\n  \\\"a\\\": }\")"])
        .status(1)
        .stderr_contains("parse_json: expected value at line 2 column 8")
        .run();
}

#[test]
fn parse_url_splits_and_decodes() {
    Test::new()
        .args(&["-e", r#"let u = parse_url("postgres://me:p%40ss@db:5433/app?sslmode=require"); [u.user, u.password, u.host, u.port, u.path, u.query, u.without_password]"#])
        .stdout("[\"me\", \"p@ss\", \"db\", 5433, \"/app\", \"sslmode=require\", \"postgres://me@db:5433/app?sslmode=require\"]\n")
        .run();
}

#[test]
fn logging_goes_to_stderr() {
    Test::new()
        .args(&[
            "-e",
            r#"info("starting"); warn(3); error("bad"); print("data");"#,
        ])
        .stdout("data\n")
        .stderr("info: starting\nwarning: 3\nerror: bad\n")
        .run();
}

#[test]
fn imports_resolve_beside_the_script_and_in_the_stdlib() {
    Test::new()
        .script("lib/text", "fn shout(s) { s.to_upper() + \"!\" }")
        .script(
            "nested/job",
            "import \"../lib/text\" as t;\nimport \"std/db\" as db;\nprint(t::shout(\"hi\"));\n",
        )
        .args(&["nested/job"])
        .stdout("HI!\n")
        .run();
}

/// `exit(n)` takes 0 to 125: the codes above mean a signal (128 + n), a command that cannot run
/// (126, 127) or an unreachable target (255), and 256 would wrap to 0. Out of range is an error
/// (exit 1) naming the range, and the audit records the code the process really exits with.
#[test]
fn exit_codes_outside_0_to_125_are_refused() {
    let rows: [(&str, i32, Option<&str>); 9] = [
        ("exit()", 0, None),
        ("exit(0)", 0, None),
        ("exit(3)", 3, None),
        ("exit(125)", 125, None),
        ("exit(126)", 1, Some("exit(126): an exit code is 0 to 125")),
        ("exit(130)", 1, Some("exit(130): an exit code is 0 to 125")),
        ("exit(255)", 1, Some("exit(255): an exit code is 0 to 125")),
        ("exit(256)", 1, Some("exit(256): an exit code is 0 to 125")),
        ("exit(-1)", 1, Some("exit(-1): an exit code is 0 to 125")),
    ];
    for (code, status, message) in rows {
        let mut t = Test::new().script(
            "end",
            &format!("print(\"before\");\n{code};\nprint(\"after\");\n"),
        );
        t = t.args(&["end"]).status(status).stdout("before\n");
        if let Some(message) = message {
            t = t.stderr_contains(message);
        }
        let done = t.run();
        let audit = std::fs::read_to_string(done.path().join(".adminsh/audit.jsonl")).unwrap();
        let finish: serde_json::Value =
            serde_json::from_str(audit.lines().last().unwrap()).unwrap();
        assert_eq!(finish["exit_code"], status, "{code}: {audit}");
    }
}
