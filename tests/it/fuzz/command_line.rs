//! Command lines the fuzzer runs, and the mangling of programs into text the parser must
//! refuse.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use super::Rng;

/// `text` with a few random edits: characters that matter to the tokenizer inserted, spans
/// deleted or repeated.
pub(super) fn mangle(rng: &mut Rng, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let special: Vec<char> = "{}[]()\"'`#$;,.:=!-+*/\\\n|&?<>@~^%0e_x\u{feff}é💥"
        .chars()
        .collect();
    for _ in 0..=rng.below(4) {
        let at = rng.below(chars.len() + 1);
        match rng.below(3) {
            0 => chars.insert(at, special[rng.below(special.len())]),
            1 if at < chars.len() => {
                let end = (at + 1 + rng.below(8)).min(chars.len());
                chars.drain(at..end);
            }
            _ => {
                let end = (at + 1 + rng.below(12)).min(chars.len());
                let span: Vec<char> = chars[at..end].to_vec();
                for (i, c) in span.into_iter().enumerate() {
                    chars.insert(end + i, c);
                }
            }
        }
    }
    chars.into_iter().collect()
}

/// A random command line: adminsh's own options and modes, script names and their
/// parameters, odd values and bytes. Paths outside the app are only read (an env file, a
/// script refused for being outside the release); never `--allow-outside-release`, and never
/// `--detach`, whose run would outlive the app it runs in.
pub(super) fn command_line(rng: &mut Rng) -> Vec<OsString> {
    let words: &[&[&str]] = &[
        &["-e", "1 + 1"],
        &["-e", "ARGS"],
        &["-e", "PARAMS"],
        &["--json", "-e", "print(1); 2"],
        &["-C", "."],
        &["-C", "/nonexistent"],
        &["-C", ""],
        &["--dir=scripts"],
        &["--env-file", ".env"],
        &["--env-file", "/nonexistent"],
        &["--env-file", "/dev/null"],
        &["--env-file", "scripts"],
        &["-s", "production"],
        &["--stage", ""],
        &["--stage=-x"],
        &["--json"],
        &["-n"],
        &["--dry-run"],
        &["--read-only"],
        &["-y"],
        &["--restart"],
        &["--reason", "fuzz"],
        &["--reason", ""],
        &["--audit"],
        &["--list"],
        &["--check"],
        &["--env"],
        &["--env", "--all"],
        &["--all"],
        &["--completions", "bash"],
        &["--completions", "zsh"],
        &["--completions", "tcsh"],
        &["--targets"],
        &["-t", "nope"],
        &["--each"],
        &["--parallel", "0"],
        &["--parallel", "99999999999999999999"],
        &["--help"],
        &["-h"],
        &["-V"],
        &["--"],
        &["-"],
        &[""],
        &["params"],
        &["params", "--help"],
        &["params", "--count", "9223372036854775808"],
        &["params", "--count=-9223372036854775808"],
        &["params", "--count", "1e20"],
        &["params", "--ratio", "NaN"],
        &["params", "--ratio=1e999"],
        &["params", "--since", "2024-02-30"],
        &["params", "--since", "99999-01-01"],
        &["params", "--mode", "fast", "--mode", "safe"],
        &["params", "--out", ""],
        &["params", "--dry", "--dry"],
        &["params", "--dry=maybe"],
        &["params", "--unknown"],
        &["params", "--", "--count"],
        &["hello"],
        &["hello", "a", "--b", "-c"],
        &["lib/util"],
        &["scripts/hello.rhai"],
        &["nonexistent"],
        &["/dev/null"],
        &["/etc/passwd"],
        &["."],
        &["../x"],
        &["--runs"],
        &["--runs", "--json"],
        &["--logs", "nope"],
        &["--logs", ""],
        &["--attach", "20240101-000000-x"],
        &["--stop", "nope"],
        &["--stop", "../x"],
        &["--detached-run", "nope"],
        &["--wait"],
        &["--announce", "x"],
        &["--remote-argv", "!!!"],
        &["--remote-argv", ""],
    ];
    let mut args: Vec<OsString> = Vec::new();
    for _ in 0..rng.below(5) {
        args.extend(rng.pick(words).iter().map(OsString::from));
    }
    match rng.below(6) {
        0 => {
            // Completion requests, with word indexes in range or far out of it.
            let shell = rng.pick(&["bash", "zsh", "fish", "tcsh", ""]);
            let mut request: Vec<OsString> =
                vec!["--complete-words".into(), "--".into(), shell.into()];
            let mut words: Vec<String> = vec!["adminsh".into()];
            for _ in 0..rng.below(5) {
                words.push(
                    rng.pick(&[
                        "params", "--count", "--mode", "=", "f", "-C", ".", "-e", "--", "",
                        "hello", "--dry=",
                    ])
                    .into(),
                );
            }
            let cword = match rng.below(4) {
                0 => rng
                    .pick(&[
                        "18446744073709551615",
                        "99999999999999999999",
                        "-1",
                        "x",
                        "1e3",
                    ])
                    .to_owned(),
                _ => rng.below(words.len() + 2).to_string(),
            };
            request.push(cword.into());
            request.extend(words.into_iter().map(OsString::from));
            request
        }
        1 => {
            // Bytes that are not UTF-8, as an argument of a script and of adminsh.
            let mut with_bytes = args;
            with_bytes.push(OsString::from_vec(vec![b'-', b'-', 0xff, b'=', 0xfe]));
            with_bytes.push("hello".into());
            with_bytes.push(OsString::from_vec(vec![0xc3, 0x28]));
            with_bytes
        }
        _ => args,
    }
}
