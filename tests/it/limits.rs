//! Inputs that used to crash or hang adminsh: each is now a clear error, exit 1, with a
//! message that names the problem and, for a limit, the limit. (The fuzzer in fuzz/ looks
//! for more of them.)

use crate::support::Test;
use crate::support::tmux::Tmux;
use crate::support::tools::require;

/// Runs each `-e` code and expects exit 1 and every part of the message on stderr.
#[track_caller]
fn refused(table: &[(&str, &[&str])]) {
    for (code, parts) in table {
        let mut test = Test::new().arg("-e").arg(*code).status(1);
        for part in *parts {
            test = test.stderr_contains(part);
        }
        test.run();
    }
}

#[test]
fn out_of_range_timeouts_and_sleeps() {
    const POSITIVE: &str = "timeout must be a positive number of seconds";
    const AT_MOST: &str = "timeout must be at most 31536000 seconds (365 days)";
    refused(&[
        (
            "cmd(\"true\").timeout(1e20)",
            &[AT_MOST, "not 1e20", "-e:1:13"],
        ),
        (
            "cmd(\"true\").timeout(9223372036854775807)",
            &[AT_MOST, "not 9223372036854775807"],
        ),
        ("cmd(\"true\").timeout(31536001)", &[AT_MOST]),
        ("cmd(\"true\").timeout(1.0 / 0.0)", &[POSITIVE, "not inf"]),
        ("cmd(\"true\").timeout(0.0 / 0.0)", &[POSITIVE, "not NaN"]),
        ("cmd(\"true\").timeout(-1)", &[POSITIVE, "not -1"]),
        (
            "cmd(\"true\").timeout(-9223372036854775807 - 1)",
            &[POSITIVE],
        ),
        ("cmd(\"true\").timeout(0)", &[POSITIVE, "not 0"]),
        (
            "sleep(1e20)",
            &[
                "sleep of 1e20 seconds is more than a week (604800 seconds)",
                "-e:1:1",
            ],
        ),
        (
            "sleep(9223372036854775807)",
            &["sleep of 9223372036854775807 seconds is more than a week"],
        ),
        (
            "sleep(-9223372036854775807 - 1)",
            &["sleep must be 0 seconds or more, not -9223372036854775808"],
        ),
        (
            "sleep(1.0 / 0.0)",
            &["sleep must be 0 seconds or more, not inf"],
        ),
    ]);
    // The largest timeout is accepted, the smallest still stops the command.
    Test::new()
        .args(&["-e", "cmd(\"true\").timeout(31536000).run()"])
        .stdout("0\n")
        .run();
    Test::new()
        .args(&["-e", "cmd(\"sleep\", [5]).timeout(1e-300).run()"])
        .status(1)
        .stderr_contains("timed out")
        .run();
}

#[test]
fn sizes_past_the_limits() {
    const STRING: &str = "a string may have at most 2147483648 bytes (2 GiB)";
    const BLOB: &str = "a blob may have at most 2147483648 bytes (2 GiB)";
    const ARRAY: &str = "an array may have at most 16777216 items";
    refused(&[
        ("\"x\".pad(100000000000, \"y\")", &[STRING, "-e:1:5"]),
        ("\"x\".pad(2147483649, 'y')", &[STRING]),
        ("\"x\".pad(9223372036854775807, \"y\")", &[STRING]),
        ("\"é\".pad(1073741825, \"é\")", &[STRING]),
        ("blob(100000000000)", &[BLOB]),
        ("blob(2147483649, 7)", &[BLOB]),
        ("blob(10).pad(100000000000, 1)", &[BLOB]),
        ("[].pad(100000000000, 0)", &[ARRAY]),
        ("[].pad(9223372036854775807, [1, 2])", &[ARRAY]),
        ("let a = [1]; a.pad(20000000, \"x\")", &[ARRAY]),
        ("[].pad(10000000, [1, 2])", &[ARRAY]),
        (
            "let s = \"x\"; s.pad(1000, \"y\"); [].pad(10000000, s)",
            &[STRING],
        ),
        (
            "[].pad(10000000, #{a: 1, b: 2})",
            &["padding may have at most 16777216 map entries"],
        ),
        ("\"x\".pad(5, \"\")", &["-e:1:5: pad: the padding is empty"]),
        // The replacements of rhai's `pad` change their receiver, as rhai's own.
        (
            "const S = \"x\"; S.pad(5, \"y\")",
            &["Non-pure method 'pad' cannot be called on constant"],
        ),
        (
            "const B = blob(1); B.pad(3, 7)",
            &["Non-pure method 'pad' cannot be called on constant"],
        ),
    ]);
    // Below the limits, and where the limits do not reach (output, growth step by step).
    let code = "let s = \"é\"; s.pad(3, \"ab\"); let a = [1]; a.pad(3, [0]); let b = blob(2, 257); b.pad(3, 9); \
        let out = cmd(\"head\", [\"-c\", 20000000, \"/dev/zero\"]).read_bytes(); \
        let rows = []; for i in 0..20000 { rows.push(#{id: i}); } \
        [s, a, b, out.len(), rows.len()]";
    Test::new()
        .args(&["-e", code])
        .stdout("[\"éab\", [1, [0], [0]], [010109], 20000000, 20000]\n")
        .run();
}

#[test]
fn counts_past_what_fits_in_64_bits_are_not_an_overflow() {
    Test::new()
        .args(&[
            "-e",
            "let p = progress(2147483647); p.inc(9223372036854775807); progress(9223372036854775807).inc(9223372036854775807)",
        ])
        .stderr_contains("progress: 9223372036854775807/9223372036854775807 (100%)")
        .run();
}

#[test]
fn depths_past_the_limits() {
    const CALLS: &str = "too many nested function calls: calls may nest at most 64 deep";
    const EXPRESSION: &str = "expression nested too deeply: at most 64 levels";
    let parens = format!("{}1{}", "(".repeat(100), ")".repeat(100));
    let arrays = format!("{}{}", "[".repeat(100), "]".repeat(100));
    refused(&[
        ("fn f(n) { f(n + 1) } f(0)", &[CALLS, "-e:1:22"]),
        ("fn f() { [1].map(|x| f()) } f()", &[CALLS]),
        ("fn g(x) { Fn(\"g\").call(x) } g(1)", &[CALLS]),
        (&parens, &[EXPRESSION]),
        (&arrays, &[EXPRESSION]),
    ]);
}

#[test]
fn assignments_into_constant_maps() {
    // Every shape rhai's optimizer folds (and used to abort on), and the shapes it does not.
    refused(&[
        (
            "const M = #{a: 1}; M.a = 2;",
            &["-e:1:20: Cannot modify constant M"],
        ),
        (
            "const M = #{a: 1}; M.b = 2;",
            &["-e:1:20: Cannot modify constant M"],
        ),
        (
            "const M = #{a: 1}; M.a += 2;",
            &["Cannot modify constant M"],
        ),
        (
            "const M = #{a: 1}; M[\"a\"] = 2;",
            &["Cannot modify constant M"],
        ),
        (
            "const M = #{a: 1};\nfn f() { const N = #{a: 1}; N.a = 2; }",
            &["-e:2:29: Cannot modify constant N"],
        ),
        (
            "let f = || { const M = #{}; M.x = 1; }; 1",
            &["Cannot modify constant M"],
        ),
        (
            "const M = #{a: #{b: 1}}; M.a.b = 2;",
            &["Cannot modify constant M"],
        ),
        ("const A = [1]; A[0] = 2;", &["Cannot modify constant A"]),
        ("const X = 1; X = 2;", &["Cannot assign to constant X"]),
    ]);
    // A script file, a module it imports, and nothing runs before the refusal.
    Test::new()
        .script(
            "fix",
            "print(\"started\");\nconst LIMITS = #{batch: 10};\nLIMITS.batch = 20;\n",
        )
        .args(&["fix"])
        .status(1)
        .stderr_contains("scripts/fix.rhai:3:1: Cannot modify constant LIMITS")
        .run();
    Test::new()
        .script("lib/conf", "const C = #{a: 1};\nC.a = 2;\n")
        .script("main", "import \"lib/conf\" as conf;\n")
        .args(&["main"])
        .status(1)
        .stderr_contains("Cannot modify constant C")
        .stderr_contains("in module `lib/conf`, imported at scripts/main.rhai:1:8")
        .run();
}

#[test]
fn the_console_survives_what_used_to_kill_it() {
    require!(Tmux);
    let t = Test::new().file("adminsh.toml", "name = \"app\"");
    let tty = Tmux::start(t.path(), &[], &[]);
    tty.wait_for("app (development)> ");
    let inputs: [(&str, &str); 6] = [
        ("const M = #{a: 1};", ""),
        ("M.a = 2;", "<console>:1:1: Cannot modify constant M"),
        ("M[\"a\"] += 1;", "<console>:1:1: Cannot modify constant M"),
        (
            "\"x\".pad(100000000000, \"y\")",
            "a string may have at most",
        ),
        ("cmd(\"true\").timeout(1e20)", "timeout must be at most"),
        ("sleep(1e20)", "sleep of 1e20 seconds is more than a week"),
    ];
    for (i, (input, error)) in inputs.iter().enumerate() {
        tty.line(input);
        if !error.is_empty() {
            tty.wait_for(error);
        }
        tty.wait_for_count("app (development)> ", i + 2);
    }
    tty.line("M");
    tty.wait_for("=> #{\"a\": 1}");
}

#[test]
fn deeply_nested_values_print_compare_and_convert() {
    // 10,000 levels overflowed the stack (exit 134) in every one of these.
    let sinks = [
        "print(a)",
        "debug(a)",
        "`${a}`",
        "a == a",
        "to_json(a)",
        "let b = a; b.push(1)",
        "m",
        "to_json(m)",
    ];
    // Maps nest only 3,000 deep: building them is slow in a debug build.
    let mut script = String::from(
        "let a = []; let m = #{};\nfor i in 0..10000 { a = [take(a)]; }\nfor i in 0..3000 { m = #{m: take(m)}; }\n",
    );
    for sink in sinks {
        script.push_str(&format!(
            "{{ {sink}; }}\nprint(\"ok: {}\");\n",
            sink.replace('"', "'")
        ));
    }
    script.push_str("a\n");
    let out = Test::new()
        .args(&["-e", &script])
        .any_stdout()
        .any_stderr()
        .run()
        .stdout;
    for sink in sinks {
        let ok = format!("ok: {}\n", sink.replace('"', "'"));
        assert!(out.contains(&ok), "{sink} did not finish");
    }
    // The script's value, as -e prints it.
    assert!(out.ends_with(&format!("{}{}\n", "[".repeat(10_001), "]".repeat(10_001))));
}

#[test]
fn completion_word_indexes_past_the_words() {
    for cword in [
        "4",
        "1000000",
        "18446744073709551615",
        "99999999999999999999999999",
        "-1",
        "x",
        "",
    ] {
        Test::new()
            .args(&[
                "--complete-words",
                "--",
                "bash",
                cword,
                "adminsh",
                "fix",
                "--x",
            ])
            .status(1)
            .stderr_contains(
                "--complete-words: CWORD must be the index of one of the 3 words given (0 to 3)",
            )
            .run();
    }
    Test::new()
        .args(&["--complete-words", "--", "bash"])
        .status(1)
        .stderr_contains("--complete-words needs SHELL CWORD WORDS")
        .run();
}
