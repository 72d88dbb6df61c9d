//! Committed scripts as commands: parameters declared in the header, checked and converted
//! into `PARAMS` before the first line runs, per-script `--help`, `--list`, `--check`,
//! completion, and the `--json` report of a run.

use crate::support::Test;
use crate::support::processes::{Signal, finish, signal};
use crate::support::tools::{self, Tool, require};
use crate::support::wait::wait_for_path;

/// A script declaring every type, printing what it received.
const FIX: &str = "
    //! Normalise the records.
    //!
    //! Touches only bad rows; safe to re-run.
    //!
    //! @param since: date  Only records created after this
    //! @param batch: int = 500  Rows per transaction
    //! @param ratio: float = 0.5  Share to sample
    //! @param verbose: bool = no  Say more
    //! @param mode: one-of(fast|safe) = safe  How to go about it
    //! @param out: path = var/report.csv  Where to write the report
    //! @param note: string?  A note for the log
    //! @flag draft  Print what would change
    for key in PARAMS.keys() { print(`${key}=${PARAMS[key]} (${type_of(PARAMS[key])})`); }
    print(ARGS);
";

fn fix() -> Test {
    Test::new().script("fix_records", FIX)
}

#[test]
fn parameters_reach_the_script_converted() {
    let t = fix().current_dir("sub").args(&[
        "fix_records",
        "--since",
        "2024-02-29",
        "--batch=100",
        "--ratio",
        "-1.5e1",
        "--verbose",
        "YES",
        "--mode",
        "fast",
        "--out",
        "report.csv",
        "--note",
        "a b",
        "--draft",
    ]);
    let app = t.path().display().to_string();
    t.stdout(&format!(
        r#"
        batch=100 (i64)
        draft=true (bool)
        mode=fast (string)
        note=a b (string)
        out={app}/sub/report.csv (string)
        ratio=-15.0 (f64)
        since=2024-02-29 (string)
        verbose=true (bool)
        ["--since", "2024-02-29", "--batch=100", "--ratio", "-1.5e1", "--verbose", "YES", "--mode", "fast", "--out", "report.csv", "--note", "a b", "--draft"]
        "#
    ))
    .run();
}

#[test]
fn defaults_fill_in_and_optional_parameters_are_unit() {
    let t = fix().args(&["fix_records", "--since", "2026-11-01"]);
    let app = t.path().display().to_string();
    // A default path is relative to the release root, wherever adminsh runs.
    t.stdout(&format!(
        r#"
        batch=500 (i64)
        draft=false (bool)
        mode=safe (string)
        note= (())
        out={app}/var/report.csv (string)
        ratio=0.5 (f64)
        since=2026-11-01 (string)
        verbose=false (bool)
        ["--since", "2026-11-01"]
        "#
    ))
    .run();
    fix()
        .args(&["-e", "PARAMS", "a", "--since", "2026-11-01"])
        .stdout("#{}\n")
        .run();
}

/// Runs `fix_records` with `--since 2026-11-01` and these arguments, expecting a usage error
/// before the script's first line.
#[track_caller]
fn refused(args: &[&str], message: &str) {
    fix()
        .args(&["fix_records", "--since", "2026-11-01"])
        .args(args)
        .status(2)
        .stderr(&format!(
            "adminsh: fix_records: {message}\n  (adminsh fix_records --help shows its parameters)\n"
        ))
        .run();
}

#[test]
fn every_type_refuses_what_it_cannot_convert() {
    refused(
        &["--batch", "ten"],
        "`--batch` expects an integer, got `ten`",
    );
    refused(
        &["--batch", "1.5"],
        "`--batch` expects an integer, got `1.5`",
    );
    refused(
        &["--ratio", "half"],
        "`--ratio` expects a number, got `half`",
    );
    refused(&["--ratio=inf"], "`--ratio` expects a number, got `inf`");
    refused(
        &["--verbose", "maybe"],
        "`--verbose` expects true or false (yes/no, 1/0), got `maybe`",
    );
    refused(
        &["--draft=perhaps"],
        "`--draft` expects true or false (yes/no, 1/0), got `perhaps`",
    );
    refused(
        &["--mode", "sage"],
        "`--mode` expects one of fast, safe, got `sage` (did you mean `safe`?)",
    );
    refused(&["--out="], "`--out` expects a path, got an empty string");
    for (date, why) in [
        ("11/01/2026", ""),
        ("2026-1-01", ""),
        ("2026-13-01", ": there is no month 13"),
        ("2026-02-29", ": February 2026 has 28 days"),
        ("2026-04-31", ": April 2026 has 30 days"),
    ] {
        fix()
            .args(&["fix_records", "--since", date])
            .status(2)
            .stderr(&format!(
                "adminsh: fix_records: `--since` expects a date (YYYY-MM-DD), got `{date}`{why}\n  (adminsh fix_records --help shows its parameters)\n"
            ))
            .run();
    }
}

#[test]
fn missing_unknown_repeated_and_stray_arguments_are_usage_errors() {
    Test::new()
        .script(
            "two",
            "//! @param from: date\n//! @param to: date\n//! @flag dry\nprint(1);",
        )
        .args(&["two", "--dry"])
        .status(2)
        .stderr("adminsh: two: missing `--from <date>`, `--to <date>`\n  (adminsh two --help shows its parameters)\n")
        .run();
    refused(
        &["--bach", "5"],
        "unknown option `--bach` (did you mean `--batch`?)",
    );
    refused(&["--force"], "unknown option `--force`");
    refused(
        &["--batch", "1", "--batch", "2"],
        "`--batch` is given twice",
    );
    refused(
        &["--batch"],
        "`--batch` needs a value: `--batch <int>` (or `--batch=VALUE` for a value starting with `--`)",
    );
    refused(
        &["extra"],
        "unexpected argument `extra`: the script takes --options only (words after `--` are left to it)",
    );
    refused(
        &["-f"],
        "unexpected argument `-f`: the script takes --options only (words after `--` are left to it)",
    );
}

#[test]
fn words_after_double_dash_are_left_to_the_script() {
    Test::new()
        .script("tables", "//! @flag dry\nprint(PARAMS.dry);\nprint(ARGS);")
        .args(&["tables", "--dry", "--", "orders", "--help", "--nope"])
        .stdout("true\n[\"--dry\", \"--\", \"orders\", \"--help\", \"--nope\"]\n")
        .run();
}

#[test]
fn a_script_that_declares_nothing_gets_its_arguments_untouched() {
    Test::new()
        .script("plain", "//! Just a summary.\nprint(ARGS); print(PARAMS);")
        .args(&["plain", "--help", "-x", "stray", "--since=no"])
        .stdout("[\"--help\", \"-x\", \"stray\", \"--since=no\"]\n#{}\n")
        .run();
}

#[test]
fn help_prints_the_usage_from_the_header() {
    for flag in ["--help", "-h"] {
        fix()
            .args(&["fix_records", "--batch", "oops", flag])
            .stdout(
                "
                Normalise the records.

                Touches only bad rows; safe to re-run.

                Usage: adminsh fix_records --since <date> [--batch <int>] [--ratio <float>] [--verbose <bool>] [--mode <fast|safe>] [--out <path>] [--note <string>] [--draft]

                Options:
                  --since <date>      Only records created after this [required]
                  --batch <int>       Rows per transaction [default: 500]
                  --ratio <float>     Share to sample [default: 0.5]
                  --verbose <bool>    Say more [default: no]
                  --mode <fast|safe>  How to go about it [default: safe]
                  --out <path>        Where to write the report [default: var/report.csv]
                  --note <string>     A note for the log
                  --draft             Print what would change
                  -h, --help          Print this help
                ",
            )
            .run();
    }
    // `@no-params`: no parameters, but --help answers and arguments are refused.
    Test::new()
        .script("vacuum", "//! Vacuum the database.\n//! @no-params\nprint(\"ran\");")
        .args(&["vacuum", "--help"])
        .stdout("Vacuum the database.\n\nUsage: adminsh vacuum\n\nOptions:\n  -h, --help  Print this help\n")
        .run()
        .again()
        .args(&["vacuum"])
        .stdout("ran\n")
        .run();
    // It takes nothing: a word, an option, or anything after `--`.
    for (args, word) in [
        (&["now"][..], "now"),
        (&["--full"][..], "--full"),
        (&["--", "x"][..], "--"),
        (&["--"][..], "--"),
    ] {
        Test::new()
            .script("vacuum", "//! Vacuum the database.\n//! @no-params\nprint(\"ran\");")
            .arg("vacuum")
            .args(args)
            .status(2)
            .stderr(&format!("adminsh: vacuum: unexpected argument `{word}`: the script takes no arguments (its header says `@no-params`)\n  (adminsh vacuum --help shows its parameters)\n"))
            .run();
    }
}

#[test]
fn list_shows_each_scripts_parameters_in_short() {
    let t = fix()
        .file("adminsh.toml", "name = \"shop\"")
        .script(
            "db/backfill",
            "//! Backfill a column.\n//! @param table: string\n",
        )
        .script("report", "//! Orders per status.\nprint(1);")
        .script("vacuum", "//! @no-params\n//! Vacuum it.\n")
        .script("broken", "//! Broken.\n//! @param x: nope\n")
        .args(&["--list"]);
    let scripts = t.path().join("scripts").display().to_string();
    t.stdout(&format!(
        "
        Scripts of shop in {scripts}:
            broken       (a broken header: adminsh --check)  # Broken.
            db/backfill  --table <string>  # Backfill a column.
            fix_records  --since <date> [--batch <int>] [--ratio <float>] [--verbose <bool>] [--mode <fast|safe>] [--out <path>] [--note <string>] [--draft]  # Normalise the records.
            report       # Orders per status.
            vacuum       # Vacuum it.
        "
    ))
    .run();
}

#[test]
fn check_validates_every_header() {
    Test::new()
        .script("good", "//! @param n: int = 1\nprint(PARAMS.n);")
        .script("typo", "//! Typo.\n//! @param batch: integer = 5\n")
        .script("twice", "//! @param dry: bool\n//! @flag dry\n")
        .script("late", "//! Late.\n\n//! @flag dry\n")
        .script("many", "//! Many.\n//! @param a: nope\n//! @para b: int\n//! @param c: int = x\n//! @param ok: int\n\n//! @flag d\n")
        .args(&["--check"])
        .status(1)
        .stderr(
            "
            scripts/late.rhai:3:5: `@flag` below the header: the header is the `//!` lines at the top of the script, with no other line between them
             3 | //! @flag dry
               |     ^
            scripts/many.rhai:2:15: unknown type `nope` (expected string, int, float, bool, date, path, one-of(a|b))
             2 | //! @param a: nope
               |               ^
            scripts/many.rhai:3:5: unknown directive `@para` (expected @param, @flag, @no-params)
             3 | //! @para b: int
               |     ^
            scripts/many.rhai:4:21: the default expects an integer, got `x`
             4 | //! @param c: int = x
               |                     ^
            scripts/many.rhai:7:5: `@flag` below the header: the header is the `//!` lines at the top of the script, with no other line between them
             7 | //! @flag d
               |     ^
            scripts/twice.rhai:2:5: parameter `dry` is declared twice
             2 | //! @flag dry
               |     ^
            scripts/typo.rhai:2:19: unknown type `integer` (expected string, int, float, bool, date, path, one-of(a|b)); did you mean `int`?
             2 | //! @param batch: integer = 5
               |                   ^
            4 of 5 scripts failed to compile
            ",
        )
        .run();
    // PARAMS is defined for every script, so strict variables accept it.
    Test::new()
        .script("uses", "print(PARAMS);")
        .args(&["--check"])
        .stdout("1 script ok\n")
        .run();
}

#[test]
fn a_broken_header_stops_the_script_before_it_runs() {
    Test::new()
        .script(
            "broken",
            "//! @param when: date = tomorrow\nprint(\"ran\");",
        )
        .args(&["broken"])
        .status(1)
        .stderr(
            "
            scripts/broken.rhai:1:25: the default expects a date (YYYY-MM-DD), got `tomorrow`
             1 | //! @param when: date = tomorrow
               |                         ^
            ",
        )
        .run();
}

#[test]
fn misspelt_params_and_assignments_are_caught_before_the_script_runs() {
    Test::new()
        .script(
            "typo",
            "//! @param batch: int = 5\nprint(\"started\");\nif PARAMS.bach > 1 { print(\"big\"); }\n",
        )
        .args(&["typo"])
        .status(1)
        .stderr(
            "
            scripts/typo.rhai:3:11: `PARAMS` has no `bach` (did you mean `batch`?): the script declares batch
             3 | if PARAMS.bach > 1 { print(\"big\"); }
               |           ^
            ",
        )
        .run();
    Test::new()
        .script("assign", "//! @param batch: int = 5\nprint(\"started\");\nPARAMS.batch = 2;\n")
        .args(&["assign"])
        .status(1)
        .stderr(
            "
            scripts/assign.rhai:3:1: `PARAMS` is a constant: copy a value into a variable to change it (`let batch = PARAMS.batch;`)
             3 | PARAMS.batch = 2;
               | ^
            ",
        )
        .run();
    // --check knows each script's PARAMS from its header.
    Test::new()
        .script("typo", "//! @flag dry\nif PARAMS.dry { print(PARAMS.dr); }\n")
        .script("fine", "//! @flag dry\nfn dry(p) { p.dry }\nprint(dry(PARAMS));\n")
        .args(&["--check"])
        .status(1)
        .stderr(
            "
            scripts/typo.rhai:2:30: `PARAMS` has no `dr` (did you mean `dry`?): the script declares dry
             2 | if PARAMS.dry { print(PARAMS.dr); }
               |                              ^
            1 of 2 scripts failed to compile
            ",
        )
        .run();
    // Functions see PARAMS, as they see ARGS.
    Test::new()
        .script(
            "f",
            "//! @param n: int = 3\nfn twice() { PARAMS.n * 2 }\nprint(twice());\n",
        )
        .args(&["f", "--n", "21"])
        .stdout("42\n")
        .run();
}

/// `adminsh --complete-words -- SHELL CWORD WORDS...`, as the completion scripts call it.
#[track_caller]
fn complete(t: Test, shell: &str, words: &[&str]) -> String {
    let cword = (words.len() - 1).to_string();
    t.args(&["--complete-words", "--", shell, &cword, "adminsh"])
        .args(&words[1..])
        .any_stdout()
        .run()
        .stdout
}

#[test]
fn completion_offers_scripts_and_their_declared_options() {
    assert_eq!(
        complete(
            fix().script("report", "//! Orders."),
            "fish",
            &["adminsh", ""]
        ),
        "fix_records\tNormalise the records.\nreport\tOrders.\n"
    );
    assert_eq!(
        complete(fix(), "fish", &["adminsh", "fix_records", "--"]),
        "--since\t<date> Only records created after this\n\
         --batch\t<int> Rows per transaction\n\
         --ratio\t<float> Share to sample\n\
         --verbose\t<bool> Say more\n\
         --mode\t<fast|safe> How to go about it\n\
         --out\t<path> Where to write the report\n\
         --note\t<string> A note for the log\n\
         --draft\tPrint what would change\n\
         --help\tPrint the script's help\n"
    );
    // Options already given are not offered again; choices complete after their option.
    let out = complete(
        fix(),
        "bash",
        &["adminsh", "fix_records", "--since", "x", "--"],
    );
    assert!(
        !out.contains("--since") && out.contains("--batch\n"),
        "{out}"
    );
    assert_eq!(
        complete(fix(), "bash", &["adminsh", "fix_records", "--mode", ""]),
        "fast\nsafe\n"
    );
    assert_eq!(
        complete(fix(), "zsh", &["adminsh", "fix_records", "--verbose=t"]),
        "--verbose=true\n"
    );
    // bash splits `--mode=s` at the `=`.
    assert_eq!(
        complete(
            fix(),
            "bash",
            &["adminsh", "fix_records", "--mode", "=", "s"]
        ),
        "safe\n"
    );
    // Paths, dates, numbers: nothing, so the shell completes file names.
    assert_eq!(
        complete(fix(), "bash", &["adminsh", "fix_records", "--out", ""]),
        ""
    );
    // adminsh's own options, and a release named with -C.
    let out = complete(Test::new(), "fish", &["adminsh", "--e"]);
    assert!(
        out.contains("--env-file\t") && out.contains("--eval\t"),
        "{out}"
    );
    let app = fix();
    let dir = app.path().display().to_string();
    let elsewhere = Test::bare().script("other", "");
    assert_eq!(
        complete(
            elsewhere,
            "bash",
            &["adminsh", "-C", &dir, "fix_records", "--dra"]
        ),
        "--draft\n"
    );
    drop(app);
}

#[test]
fn completion_scripts_call_back_into_adminsh() {
    for (shell, marker) in [
        ("bash", "complete -o default -F _adminsh adminsh"),
        ("zsh", "#compdef adminsh"),
        ("fish", "complete -c adminsh -f -a '(__adminsh_complete)'"),
    ] {
        let out = Test::new()
            .args(&["--completions", shell])
            .any_stdout()
            .run()
            .stdout;
        assert!(
            out.contains(marker) && out.contains(&format!("--complete-words -- {shell}")),
            "{shell}:\n{out}"
        );
    }
}

#[test]
fn bash_completes_a_scripts_flags_end_to_end() {
    let t = fix();
    let bin = crate::support::BIN;
    let script = Test::new()
        .args(&["--completions", "bash"])
        .any_stdout()
        .run()
        .stdout;
    let probe = format!(
        r#"
        {script}
        complete_line() {{
            COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMPREPLY=()
            _adminsh
            echo "${{COMPREPLY[*]}}"
        }}
        complete_line {bin} fi
        complete_line {bin} fix_records --d
        complete_line {bin} fix_records --mode ""
        complete -p adminsh
        "#
    );
    let output = std::process::Command::new("bash")
        .arg("-c")
        .arg(crate::support::unindent(&probe))
        .current_dir(t.path())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "fix_records\n--draft\nfast safe\ncomplete -o default -F _adminsh adminsh\n",
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs `shell -c script` in the app, with the adminsh under test first on PATH.
#[track_caller]
fn shell(t: &Test, shell: &str, flag: &str, script: &str) -> String {
    match shell {
        "fish" => tools::used(Tool::Fish),
        "zsh" => tools::used(Tool::Zsh),
        _ => {}
    }
    let bin_dir = std::path::Path::new(crate::support::BIN).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    let output = std::process::Command::new(shell)
        .args([flag, "-c", script])
        .current_dir(t.path())
        .env("PATH", path)
        .env("HOME", t.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn fish_and_zsh_complete_a_scripts_flags() {
    require!(Fish, Zsh);
    let t = fix();
    {
        let out = shell(
            &t,
            "fish",
            "--no-config",
            "adminsh --completions fish | source
            complete -C 'adminsh fix_records --d'
            complete -C 'adminsh fix_records --mode '",
        );
        assert_eq!(out, "--draft\tPrint what would change\nfast\nsafe\n");
    }
    {
        // compsys itself needs a terminal: its two functions the script calls are stand-ins.
        let out = shell(
            &t,
            "zsh",
            "-f",
            r#"compdef() { print "compdef $*" }
            _describe() { print -l -- "${(@P)4}" }
            _files() { print files }
            eval "$(adminsh --completions zsh)"
            words=(adminsh fix_records --d); CURRENT=3; _adminsh
            words=(adminsh fix_records --out ''); CURRENT=4; _adminsh"#,
        );
        assert_eq!(
            out,
            "compdef _adminsh adminsh\n--draft:Print what would change\nfiles\n"
        );
    }
}

/// Parses the one JSON document a `--json` run printed.
#[track_caller]
fn report(stdout: &str) -> serde_json::Value {
    assert_eq!(stdout.lines().count(), 1, "one line of JSON:\n{stdout}");
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}:\n{stdout}"))
}

#[test]
fn json_reports_the_run() {
    let done = Test::new()
        .file(".env", "API_TOKEN=s3cr3t-value\n")
        .script(
            "deploy",
            r#"
            //! @param batch: int = 2
            //! @flag dry
            print("human output");
            info("working");
            cmd("echo", ["token", env("API_TOKEN")]).run();
            cmd("sh", ["-c", "exit 3"]).unchecked().run();
            cmd("printf", ["a\nb\n"]).pipe(cmd("wc", ["-l"])).read();
            #{batches: PARAMS.batch, dry: PARAMS.dry, names: ["a", "b"]}
            "#,
        )
        .args(&["--json", "deploy", "--dry"])
        .any_stdout()
        .stderr("human output\ninfo: working\ntoken s3cr3t-value\n")
        .run();
    let r = report(&done.stdout);
    assert_eq!(r["exit_code"], 0);
    assert!(r["duration_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(r["script"], "scripts/deploy.rhai");
    assert_eq!(r["args"], serde_json::json!(["--dry"]));
    assert_eq!(r["params"], serde_json::json!({"batch": 2, "dry": true}));
    assert_eq!(r["steps"], serde_json::json!([]));
    assert_eq!(
        r["value"],
        serde_json::json!({"batches": 2, "dry": true, "names": ["a", "b"]})
    );
    assert_eq!(r["error"], serde_json::Value::Null);
    let commands = r["commands"].as_array().unwrap();
    assert_eq!(commands.len(), 3, "{commands:?}");
    assert_eq!(
        commands[0]["argv"],
        serde_json::json!(["echo", "token", "****"])
    );
    assert_eq!(commands[0]["status"], 0);
    assert_eq!(commands[0]["pipe"], serde_json::json!([]));
    assert!(commands[0]["duration_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(
        commands[1]["argv"],
        serde_json::json!(["sh", "-c", "exit 3"])
    );
    assert_eq!(commands[1]["status"], 3);
    assert_eq!(commands[1]["error"], serde_json::Value::Null);
    assert_eq!(commands[2]["argv"], serde_json::json!(["printf", "a\nb\n"]));
    assert_eq!(commands[2]["pipe"], serde_json::json!([["wc", "-l"]]));
    assert!(!done.stdout.contains("s3cr3t"));
}

#[test]
fn json_reports_failures_exits_and_usage_errors() {
    let failed = Test::new()
        .script(
            "fail",
            "cmd(\"sh\", [\"-c\", \"echo oops >&2; exit 4\"]).read();",
        )
        .args(&["--json", "fail"])
        .status(1)
        .any_stdout()
        .any_stderr()
        .run();
    let r = report(&failed.stdout);
    assert_eq!(r["exit_code"], 1);
    assert_eq!(r["value"], serde_json::Value::Null);
    assert_eq!(r["commands"][0]["status"], 4);
    let error = r["error"].as_str().unwrap();
    assert!(
        error.starts_with(
            "scripts/fail.rhai:1:44: command `sh -c 'echo oops >&2; exit 4'` failed: exit status 4"
        ),
        "{error}"
    );
    assert!(failed.stderr.contains(error), "{}", failed.stderr);

    let exited = Test::new()
        .args(&["--json", "-e", "print(ARGS); exit(7)", "a"])
        .status(7)
        .any_stdout()
        .stderr("[\"a\"]\n")
        .run();
    let r = report(&exited.stdout);
    assert_eq!(r["exit_code"], 7);
    assert_eq!(r["script"], serde_json::Value::Null);
    assert_eq!(r["args"], serde_json::json!(["a"]));
    assert_eq!(r["params"], serde_json::json!({}));
    assert_eq!(r["error"], serde_json::Value::Null);

    // What JSON cannot hold is given as the script would print it.
    let value = Test::new()
        .args(&["--json", "-e", r#"[cmd("git", ["log", "-1"]), 2.5, ()]"#])
        .any_stdout()
        .run();
    assert_eq!(
        report(&value.stdout)["value"],
        serde_json::json!(["git log -1", 2.5, null])
    );

    let usage = fix()
        .args(&["--json", "fix_records", "--since", "soon"])
        .status(2)
        .any_stdout()
        .stderr("adminsh: fix_records: `--since` expects a date (YYYY-MM-DD), got `soon`\n  (adminsh fix_records --help shows its parameters)\n")
        .run();
    let r = report(&usage.stdout);
    assert_eq!(r["exit_code"], 2);
    assert_eq!(r["params"], serde_json::Value::Null);
    assert_eq!(r["commands"], serde_json::json!([]));
    assert!(
        r["error"]
            .as_str()
            .unwrap()
            .contains("`--since` expects a date")
    );

    let unknown = Test::new()
        .args(&["--json", "nope"])
        .status(2)
        .any_stdout()
        .any_stderr()
        .run();
    assert_eq!(report(&unknown.stdout)["exit_code"], 2);

    Test::new()
        .args(&["--json"])
        .status(2)
        .stderr(
            "adminsh: --json reports the run of a script or of -e CODE (or the config, with --env), and none was given\n",
        )
        .run();
}

#[test]
fn json_reports_an_interrupted_run() {
    let t = Test::new().script(
        "slow",
        r#"cmd("sh", ["-c", "echo started > started.txt; sleep 100"]).run();"#,
    );
    let child = t
        .command()
        .args(["--json", "slow"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_path(&t.path().join("started.txt"));
    signal(child.id(), Signal::Int);
    let output = finish(child, "adminsh to stop");
    assert_eq!(output.status.code(), Some(130));
    let r = report(&String::from_utf8_lossy(&output.stdout));
    assert_eq!(r["exit_code"], 130);
    assert_eq!(r["error"], "interrupted");
    assert_eq!(r["commands"][0]["status"], serde_json::Value::Null);
    assert_eq!(r["commands"][0]["error"], "interrupted (SIGINT)");
}

#[test]
fn path_parameters_are_normalised_lexically() {
    // From `sub/`: relative to it, `.` and `..` resolved without touching the file system.
    let cases = [
        ("/app/var/../y", "/app/y".to_owned()),
        ("/app/./x/./y/", "/app/x/y".to_owned()),
        ("/../../etc", "/etc".to_owned()),
        ("a/../../b", "{app}/b".to_owned()),
        ("./c", "{app}/sub/c".to_owned()),
        ("..", "{app}".to_owned()),
        ("no/such/../dir", "{app}/sub/no/dir".to_owned()),
    ];
    for (given, want) in cases {
        let t = Test::new()
            .script("p", "//! @param out: path\nprint(PARAMS.out);")
            .current_dir("sub")
            .args(&["p", "--out", given]);
        let app = t.path().display().to_string();
        t.stdout(&format!("{}\n", want.replace("{app}", &app)))
            .run();
    }
    // A default is relative to the release root.
    let t = Test::new()
        .script(
            "p",
            "//! @param out: path = var/../out.csv\nprint(PARAMS.out);",
        )
        .current_dir("sub")
        .args(&["p"]);
    let app = t.path().display().to_string();
    t.stdout(&format!("{app}/out.csv\n")).run();
}

/// adminsh's own safety flags after the script's name would reach the script and the script
/// would run for real: refused, nothing done, the right command shown, for a script with
/// parameters and one without; after `--` they are the script's words.
#[test]
fn safety_flags_after_the_script_name_never_run_it_for_real() {
    let writes = "write_file(\"written\", `${ARGS}`);\n";
    let declares =
        "//! Fix.\n//! @param since: string?  From when\nwrite_file(\"written\", \"yes\");\n";
    let cases = [
        (&["--dry-run"][..], "adminsh --dry-run fix"),
        (&["-n"], "adminsh -n fix"),
        (&["--sandbox", "a"], "adminsh --sandbox fix a"),
        (&["--read-only"], "adminsh --read-only fix"),
        (&["--yes"], "adminsh --yes fix"),
        (&["-s", "production"], "adminsh -s production fix"),
        (&["--target=prod"], "adminsh --target=prod fix"),
    ];
    for script in [writes, declares] {
        for (args, meant) in cases {
            let mut all = vec!["fix"];
            all.extend(args);
            let done = Test::new()
                .script("fix", script)
                .args(&all)
                .status(2)
                .stderr_contains(
                    "after the script's name would go to the script, which does not declare it",
                )
                .stderr_contains(&format!("`{meant}`"))
                .run();
            assert!(
                !done.path().join("written").exists(),
                "{args:?} ran {script:?}"
            );
        }
    }
    Test::new()
        .script("fix", writes)
        .args(&["fix", "--", "--dry-run"])
        .run();
    Test::new()
        .script(
            "fix",
            "//! Fix.\n//! @flag dry-run  Mine\nprint(PARAMS.dry_run);\n",
        )
        .args(&["fix", "--dry-run"])
        .stdout("true\n")
        .stderr_contains("declares `--dry-run`, which adminsh has too")
        .run();
}
