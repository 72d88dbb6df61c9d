//! Regular expressions from scripts: matching, groups, replacing, splitting, flags, and the
//! error a bad pattern gives.

use crate::support::Test;

/// `-e EXPR` prints `expected`.
#[track_caller]
fn prints(expr: &str, expected: &str) {
    Test::new()
        .args(&["-e", expr])
        .stdout(&format!("{expected}\n"))
        .run();
}

#[test]
fn match_find_captures_replace_split() {
    for (expr, expected) in [
        (r#"re_match("Order 42 failed", "order \\d+")"#, "false"),
        (r#"re_match("Order 42 failed", "(?i)order \\d+")"#, "true"),
        (r#""Order 42".re_match(regex("order", "i"))"#, "true"),
        (r#"re_match("a\nb", "^b$")"#, "false"),
        (r#"re_match("a\nb", "(?m)^b$")"#, "true"),
        (r#"re_match("a\nb", regex("^b$", "m"))"#, "true"),
        (r#"re_match("a\nb", regex("a.b", "s"))"#, "true"),
        (r#"re_match("ab", regex("a b  # spaced", "x"))"#, "true"),
        (r#"re_find("a1b22", "\\d+")"#, "1"),
        (r#"re_find("abc", "\\d") == ()"#, "true"),
        (
            r#"re_find_all("a1b22c333", "\\d+")"#,
            r#"["1", "22", "333"]"#,
        ),
        (
            r#"re_find_all("order=7 order=12", "order=(\\d+)")"#,
            r#"["7", "12"]"#,
        ),
        (
            r#"re_find_all("a=1 b=2", "(\\w)=(\\d)")"#,
            r#"[["a", "1"], ["b", "2"]]"#,
        ),
        (r#"re_find_all("none", "\\d")"#, "[]"),
        (
            r#"re_captures("at 2026-11-26", "(?<y>\\d{4})-(?<m>\\d\\d)")"#,
            r#"#{"0": "2026-11", "1": "2026", "2": "11", "m": "11", "y": "2026"}"#,
        ),
        (
            r#"re_captures("at 2026-11", "(?<y>\\d{4})-(?<m>\\d\\d)").y"#,
            "2026",
        ),
        (r#"re_captures("b", "(a)?b")"#, r#"#{"0": "b", "1": ()}"#),
        (r#"re_captures("nothing", "\\d") == ()"#, "true"),
        (
            r#"re_captures_all("id=1 id=2", "id=(?<id>\\d)").map(|m| m.id)"#,
            r#"["1", "2"]"#,
        ),
        (r#"re_replace("a1b22", "(\\d+)", "<$1>")"#, "a<1>b<22>"),
        (
            r#"re_replace("2026-11-26", "(?<y>\\d+)-(?<m>\\d+)-(?<d>\\d+)", "${d}.${m}.${y}")"#,
            "26.11.2026",
        ),
        (r#"re_replace("cost: 5", "\\d", "$$")"#, "cost: $"),
        (r#"re_split("a, b;c", "[,;]\\s*")"#, r#"["a", "b", "c"]"#),
        (r#"re_split("", ",")"#, r#"[""]"#),
        (r#"re_escape("1.5*x")"#, r"1\.5\*x"),
        (r#"re_match("1.5*x", re_escape("1.5*x"))"#, "true"),
        (r#"to_string(regex("a+"))"#, "a+"),
        (r#"`${regex("a+")}`"#, "a+"),
        (r#"re_match("é", "^\\w$")"#, "true"),
    ] {
        prints(expr, expected);
    }
}

#[test]
fn a_loop_over_many_lines_compiles_the_pattern_once() {
    // 20,000 matches of one string pattern: well within a second only if it is not recompiled.
    Test::new()
        .args(&[
            "-e",
            r#"let n = 0; for i in 0..20000 { if re_match(`order ${i}`, "^order \\d+$") { n += 1; } } n"#,
        ])
        .stdout("20000\n")
        .run();
}

#[test]
fn bad_patterns_and_arguments_are_errors_that_say_where() {
    for (expr, expected) in [
        (
            r#"re_match("x", "ab(c")"#,
            "-e:1:1: bad regex: unclosed group, at character 3:\n    ab(c\n      ^\n",
        ),
        (
            r#"re_find("x", "[z-a]")"#,
            "-e:1:1: bad regex: invalid character class range, the start must be <= the end, at character 2:\n    [z-a]\n     ^\n",
        ),
        (
            r#"re_match("x", "(?<n>a)(?<n>b)")"#,
            "-e:1:1: bad regex: duplicate capture group name, at character 11:\n    (?<n>a)(?<n>b)\n              ^\n",
        ),
        (
            r#"re_match("x", "\\p{Nope}")"#,
            "-e:1:1: bad regex: Unicode property not found, at character 1:\n    \\p{Nope}\n    ^\n",
        ),
        (
            r#"re_match("x", 5)"#,
            "-e:1:1: a pattern is a string or a regex(...), not an int\n",
        ),
        (
            r#"regex("x", "q")"#,
            "-e:1:1: regex: unknown flag 'q' (flags are i: ignore case, m: multi-line, s: `.` matches newlines, x: verbose)\n",
        ),
    ] {
        let first_line = expected.lines().next().unwrap();
        let done = Test::new()
            .args(&["-e", expr])
            .status(1)
            .stderr_contains(first_line)
            .run();
        assert!(
            done.stderr.starts_with(expected),
            "{expr}: expected\n{expected}\ngot\n{}",
            done.stderr
        );
    }
    Test::new()
        .args(&["-e", r#"re_match("x", "a{1000}{1000}{1000}")"#])
        .status(1)
        .stderr_contains("compiles to more than")
        .run();
    // Caught like any other error.
    Test::new()
        .args(&[
            "-e",
            r#"try { re_match("x", "(") } catch (e) { print("caught") }"#,
        ])
        .stdout("caught\n")
        .run();
}
