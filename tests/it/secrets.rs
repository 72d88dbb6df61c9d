//! Secrets never reach what a user can see, in any shape: one table of secret shapes (quotes,
//! backslashes, newlines, tabs, `'`, `/`, a private key, a JSON credential, URL and query
//! passwords, a list of URLs, a secret inside another value, a very long one, unicode, a
//! 3-character PIN) fed through every output channel adminsh has: `--env`, `-e` and console
//! results and `:vars`, log messages, command lines (errors, dry runs, `print(cmd)`), error
//! messages quoting a command's stderr (its first and last lines), `--json`, the audit log,
//! checkpoints, the console history. Each test checks stdout, stderr and the files adminsh
//! wrote for the clear text of every shape, also as JSON, Rhai, shell and `.env` would escape
//! it, and any 12 characters of it in a row (half a secret is a leak too).

use std::path::Path;

use crate::support::Test;
use crate::support::tmux::Tmux;
use crate::support::tools::require;

/// A secret and the config key that holds it (or holds a value with it inside).
struct Shape {
    name: &'static str,
    key: &'static str,
    /// The config value.
    value: String,
    /// What must never be shown.
    clear: Vec<String>,
}

/// The 3-character PIN: masked where it stands as a word.
const PIN: &str = "9z4";

fn shape(name: &'static str, key: &'static str, value: &str) -> Shape {
    Shape {
        name,
        key,
        value: value.to_owned(),
        clear: vec![value.to_owned()],
    }
}

fn with_clear(mut s: Shape, clear: &[&str]) -> Shape {
    s.clear = clear.iter().map(|c| (*c).to_owned()).collect();
    s
}

/// Text that looks like nothing else (a linear congruential generator), `len` characters.
fn noise(len: usize) -> String {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            char::from(b"abcdefghijkmnopqrstuvwxyz23456789"[((x >> 33) % 33) as usize])
        })
        .collect()
}

fn shapes() -> Vec<Shape> {
    let pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC7x\nBKcwggSjAgEAAoIBAQC7x0q9Zp\n-----END PRIVATE KEY-----\n";
    let long = format!("long-13x-{}", noise(10 * 1024));
    vec![
        shape("double quote", "S01_PASSWORD", "pa\"ss\"word-01x"),
        shape("backslash", "S02_SECRET", "back\\sla\\sh-02x"),
        shape("newline", "S03_TOKEN", "first-line-03x\nsecond-line-03x"),
        shape("tab", "S04_PASSWORD", "tab\tseparated-04x"),
        shape("single quote", "S05_PASSWORD", "it's-05x-secret"),
        with_clear(
            shape(
                "slash in a URL password",
                "DATABASE_URL",
                "postgres://app:sl/ash-06x@db/app",
            ),
            &["sl/ash-06x"],
        ),
        with_clear(
            shape("multi-line private key", "S07_PRIVATE_KEY", pem),
            &[
                pem,
                "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC7x",
                "BKcwggSjAgEAAoIBAQC7x0q9Zp",
            ],
        ),
        shape(
            "JSON credential",
            "S08_CREDENTIALS_SECRET",
            r#"{"type": "service_account", "private_key": "k-08x\"\\n", "client_email": "a@b.c"}"#,
        ),
        with_clear(
            shape(
                "URL password",
                "REDIS_URL",
                "redis://:urlpass-09x@cache:6379/0",
            ),
            &["urlpass-09x"],
        ),
        with_clear(
            shape(
                "query password",
                "SERVICE_URL",
                "https://api.example.com/v1?user=x&password=query-10x&mode=a",
            ),
            &["query-10x"],
        ),
        with_clear(
            shape(
                "every URL of a list",
                "REPLICA_URLS",
                "postgres://r:list-11a-pw@r1/app,postgres://r:list-11b-pw@r2/app",
            ),
            &["list-11a-pw", "list-11b-pw"],
        ),
        // Set through `.env` as `PGOPTS=--password=${S12_PASSWORD}`.
        with_clear(
            shape(
                "embedded in another value",
                "PGOPTS",
                "--password=embedded-12x",
            ),
            &["embedded-12x"],
        ),
        shape("very long", "S13_TOKEN", &long),
        shape("unicode", "S14_PASSWORD", "pässwörd-ü14x-🔑"),
        with_clear(shape("3-character PIN", "APP_PIN", PIN), &[]),
    ]
}

/// `value` as a double-quoted `.env` value.
fn env_quoted(value: &str) -> String {
    let escaped = value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('$', "\\$")
        .replace('\n', "\\n")
        .replace('\t', "\\t");
    format!("\"{escaped}\"")
}

/// `value` as a Rhai string literal.
fn rhai_literal(value: &str) -> String {
    format!("{value:?}")
}

/// The app: every shape in `.env`.
fn app() -> Test {
    let mut env = String::new();
    for s in shapes() {
        if s.key == "PGOPTS" {
            env.push_str("S12_PASSWORD=embedded-12x\nPGOPTS=--password=${S12_PASSWORD}\n");
        } else {
            env.push_str(&format!("{}={}\n", s.key, env_quoted(&s.value)));
        }
    }
    Test::new()
        .file("adminsh.toml", "name = \"shop\"")
        .file(".env", &env)
        .any_stdout()
        .any_stderr()
}

/// Every form a clear text may take once something escaped it.
fn forms(clear: &str) -> Vec<String> {
    let json = serde_json::to_string(clear).unwrap();
    let debug = format!("{clear:?}");
    let forms = [
        clear.to_owned(),
        json[1..json.len() - 1].to_owned(),
        debug[1..debug.len() - 1].to_owned(),
        clear.replace('\'', r"'\''"),
        env_quoted(clear).trim_matches('"').to_owned(),
    ];
    // Each escaped once more, as a history file keeps a line (`\` doubled).
    let again = forms.clone().map(|f| f.replace('\\', "\\\\"));
    forms.into_iter().chain(again).collect()
}

/// The pieces of a clear text that must not appear: every 12 characters in a row of each line
/// of each form (a line shorter than that, whole).
fn pieces(clear: &str) -> Vec<String> {
    const RUN: usize = 12;
    let mut pieces = Vec::new();
    for form in forms(clear) {
        for line in form.split('\n') {
            let chars: Vec<char> = line.chars().collect();
            if chars.len() <= RUN {
                if chars.len() >= 4 {
                    pieces.push(line.to_owned());
                }
                continue;
            }
            for window in chars.windows(RUN) {
                pieces.push(window.iter().collect());
            }
        }
    }
    pieces.sort();
    pieces.dedup();
    pieces
}

/// Whether `text` shows the PIN as a word of its own.
fn shows_pin(text: &str) -> bool {
    text.match_indices(PIN).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + PIN.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// Checks everything `channel` showed; returns how many shapes it was checked for.
#[track_caller]
fn assert_masked(channel: &str, shown: &str) -> usize {
    let mut leaks = Vec::new();
    let all = shapes();
    for s in &all {
        for clear in &s.clear {
            if let Some(piece) = pieces(clear)
                .into_iter()
                .find(|p| shown.contains(p.as_str()))
            {
                leaks.push(format!("{} ({}): {piece:?}", s.name, s.key));
            }
        }
    }
    if shows_pin(shown) {
        leaks.push(format!("3-character PIN: {PIN:?}"));
    }
    assert!(
        leaks.is_empty(),
        "{channel} shows secrets:\n{}\n=== shown\n{shown}",
        leaks.join("\n")
    );
    assert!(shown.contains("****"), "{channel} masks nothing:\n{shown}");
    all.len()
}

/// Every file adminsh wrote in the app's state (audit log, checkpoints) and `extra`.
fn written(dir: &Path) -> String {
    let mut text = String::new();
    let mut dirs = vec![dir.join(".adminsh")];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                text.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
            }
        }
    }
    text
}

/// `[env("K1"), env("K2"), ...]`
fn all_values() -> String {
    let values: Vec<String> = shapes()
        .iter()
        .map(|s| format!("env({:?})", s.key))
        .collect();
    format!("[{}]", values.join(", "))
}

#[test]
fn env_listing() {
    let text = app().args(&["--env"]).run();
    assert_masked("--env", &text.stdout);
    let json = app().args(&["--env", "--json"]).run();
    assert_masked("--env --json", &json.stdout);
}

#[test]
fn eval_results() {
    let mut shown = String::new();
    let all = all_values();
    for code in [all.clone(), format!("#{{all: {all}, first: {all}[0]}}")] {
        let out = app().args(&["-e", &code]).run();
        shown.push_str(&out.stdout);
    }
    for s in shapes() {
        let out = app().args(&["-e", &format!("env({:?})", s.key)]).run();
        shown.push_str(&out.stdout);
    }
    assert_masked("-e results", &shown);
}

#[test]
fn console_results_and_vars() {
    let mut input = format!("let all = {};\nall\n", all_values());
    for s in shapes() {
        input.push_str(&format!("env({:?})\n", s.key));
    }
    input.push_str(":vars\n");
    let out = app().stdin(&input).run();
    assert_masked(
        "console results and :vars",
        &format!("{}{}", out.stdout, out.stderr),
    );
}

#[test]
fn log_print_and_debug() {
    let mut code = String::new();
    for s in shapes() {
        let v = format!("env({:?})", s.key);
        code.push_str(&format!(
            "print({v}); info({v}); warn({v}); error({v}); debug({v}); print([{v}]); debug(#{{v: {v}}}); info([{v}]);\n"
        ));
    }
    let out = app().args(&["-e", &code]).run();
    assert_masked(
        "print, debug and log",
        &format!("{}{}", out.stdout, out.stderr),
    );
}

#[test]
fn command_lines() {
    let mut shown = String::new();
    for s in shapes() {
        let v = format!("env({:?})", s.key);
        let code = format!(
            r#"let c = cmd("true", [{v}, "--opt=" + {v}, "x"]); print(c); debug(c); c.run(); cmd("false", [{v}]).run()"#
        );
        let dry = app().args(&["--dry-run", "-e", &code]).run();
        let failed = app().args(&["-e", &code]).status(1).run();
        shown.push_str(&format!(
            "{}{}{}{}",
            dry.stdout, dry.stderr, failed.stdout, failed.stderr
        ));
        shown.push_str(&written(failed.path()));
    }
    assert_masked("command lines (print, dry run, errors, audit)", &shown);
}

#[test]
fn error_messages_and_stderr_tails() {
    let mut shown = String::new();
    for s in shapes() {
        let v = format!("env({:?})", s.key);
        // The command prints the secret on stderr, then enough after it that the 8 KiB tail
        // window starts inside the secret. `output()` keeps stderr, so only adminsh's own
        // message shows it.
        let tail = format!(
            r#"cmd("sh", ["-c", "printf '%s' \"$1\" >&2; head -c 8180 /dev/zero | tr '\\0' y >&2; exit 3", "sh", {v}]).output()"#
        );
        // The same at the other end: the first 8 KiB of stderr end inside the secret, and
        // enough follows that the start is quoted from what the end's window dropped.
        let head = format!(
            r#"cmd("sh", ["-c", "head -c 8180 /dev/zero | tr '\\0' y >&2; printf '%s\n' \"$1\" >&2; seq 30000 >&2; exit 3", "sh", {v}]).output()"#
        );
        let short = format!(
            r#"cmd("sh", ["-c", "printf 'x\n%s\ny\n' \"$1\" >&2; exit 3", "sh", {v}]).output()"#
        );
        for code in [
            format!("fail({v})"),
            format!("fail([{v}])"),
            format!("throw #{{v: {v}}}"),
            format!("let x = {v}; x.no_such_method()"),
            tail,
            head,
            short,
        ] {
            let out = app().args(&["-e", &code]).status(1).run();
            shown.push_str(&out.stderr);
            shown.push_str(&out.stdout);
        }
    }
    assert_masked("error messages", &shown);
}

#[test]
fn json_reports() {
    let mut shown = String::new();
    for s in shapes() {
        let v = format!("env({:?})", s.key);
        let value = app()
            .args(&[
                "--json",
                "-e",
                &format!(r#"cmd("true", [{v}]).run(); [{v}, #{{v: {v}}}]"#),
            ])
            .run();
        let error = app()
            .args(&[
                "--json",
                "-e",
                &format!(r#"cmd("false", ["--x=" + {v}]).run()"#),
            ])
            .status(1)
            .run();
        shown.push_str(&format!(
            "{}{}{}{}",
            value.stdout, value.stderr, error.stdout, error.stderr
        ));
    }
    assert_masked("--json", &shown);
}

const ROTATE: &str = r#"
//! Rotates a password.
//! @param new-password: string  The new password
step("set", || cmd("true", ["--password", PARAMS.new_password]).run());
step("check", || fail("the check failed for " + PARAMS.new_password));
"#;

/// The secrets as a script's arguments: a declared `@param` whose name says it is secret (its
/// values are no config, so they are masked by its name) and positional `ARGS`. Audit log,
/// checkpoint, `--json`.
#[test]
fn script_arguments_in_the_audit_checkpoint_and_json() {
    let mut shown = String::new();
    for s in shapes() {
        for clear in s.clear.iter().chain(s.value.eq(PIN).then_some(&s.value)) {
            // Only in the arguments: the script's own config has none of the shapes.
            let given = format!("--new-password={clear}");
            for json in [false, true] {
                let mut t = Test::new()
                    .script("rotate", ROTATE)
                    .any_stdout()
                    .any_stderr()
                    .status(1);
                if json {
                    t = t.arg("--json");
                }
                let out = t.args(&["rotate", &given]).run();
                let checkpoints = std::fs::read_dir(out.path().join(".adminsh/state"))
                    .unwrap()
                    .flatten()
                    .filter(|e| e.file_name().to_string_lossy().starts_with("rotate.rhai-"))
                    .count();
                assert_eq!(checkpoints, 1, "the failed run left no checkpoint");
                shown.push_str(&format!(
                    "{}{}{}",
                    out.stdout,
                    out.stderr,
                    written(out.path())
                ));
            }
        }
        let positional = app()
            .script("job", "step(\"one\", || 1);\nfail(\"stop\");\n")
            .args(&["job", "--", &s.value])
            .status(1)
            .run();
        shown.push_str(&format!(
            "{}{}{}",
            positional.stdout,
            positional.stderr,
            written(positional.path())
        ));
    }
    assert!(shown.contains("\"event\":\"finish\""), "no audit log");
    assert_masked("arguments in the audit log, checkpoints and --json", &shown);
}

#[test]
fn console_history() {
    require!(Tmux);
    let t = app();
    let state = t.path().join("state");
    let state_env = state.display().to_string();
    let tty = Tmux::start(t.path(), &[], &[("XDG_STATE_HOME", &state_env)]);
    tty.wait_for("shop (development)> ");
    let mut inputs = Vec::new();
    for (i, s) in shapes().iter().enumerate() {
        // The long one as a literal would be 10 KiB of typing; its value comes from the config.
        if s.value.len() < 1024 {
            inputs.push(format!("let v{i} = {};", rhai_literal(&s.value)));
        }
        inputs.push(format!(
            "set_env(\"NEW_TOKEN_{i}\", {});",
            rhai_literal(&format!("n{i}{}", &s.value))
        ));
    }
    inputs.push(format!("let pin = {PIN:?};"));
    inputs.push("set_env(\"NEW_TOKEN\", \"q1w\");".to_owned());
    for (n, input) in inputs.iter().enumerate() {
        // Each input once the one before has run (the line editor drops input typed ahead).
        tty.line(&format!("{input} print(\"ran <{n}>\");"));
        tty.wait_for(&format!("ran <{n}>\nshop (development)>"));
    }
    tty.line(":quit");
    tty.wait_for("[exited 0]");
    let file = std::fs::read_dir(state.join("adminsh"))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let history = std::fs::read_to_string(file).unwrap();
    assert_masked("console history", &history);
    assert!(!history.contains("q1w"), "{history}");
}

/// A short secret (a 2-digit PIN) is a whole value wherever a whole value stands: a database
/// parameter (a string or a number), a value in a URL's query, a number in a printed value,
/// in stdout, stderr, the dry run's lines, `--json` and the audit log. Each row is one way a
/// script hands the PIN on; the text around it (`n=42` in a sentence, `1421`) stays.
#[test]
fn a_short_secret_is_a_whole_value_in_every_channel() {
    let rows = [
        "d.exec(\"insert into t values ($1)\", [env(\"APP_PIN\")])",
        "d.exec(\"insert into t values ($1)\", [42])",
        "d.exec(\"insert into t values ($1)\", [parse_int(env(\"APP_PIN\"))])",
        "cmd(\"true\", [\"https://h.example/x?a=\" + env(\"APP_PIN\")]).run()",
        "cmd(\"true\", [\"https://h.example/x?a=1&pin=\" + env(\"APP_PIN\") + \"&b=2\"]).run()",
        "print(\"https://h.example/x?code=\" + env(\"APP_PIN\"))",
        "print([42, #{n: 42}])",
        "info([parse_int(env(\"APP_PIN\"))])",
    ];
    for row in rows {
        for mode in [&["--json"][..], &["--dry-run", "--json"][..]] {
            let script = format!(
                "let d = db::connect(\"sqlite:///t.db?mode=rwc\");\n\
                 d.exec(\"create table if not exists t(x)\");\n\
                 {row};\n\
                 print(\"kept: n=421 1421 x42\");\n"
            );
            let out = Test::new()
                .file(".env", "APP_PIN=42\n")
                .args(mode)
                .args(&["-e", &script])
                .any_stdout()
                .any_stderr()
                .run();
            let shown = format!("{}{}{}", out.stdout, out.stderr, written(out.path()));
            // As a word of its own: `"42"`, `=42`, `[42,`; not inside `421` or `x42`, nor a
            // part of a time the run records (`0.42` seconds, `19:42:07`, `2026-12-07T19:42`).
            let timing = |c: Option<char>| matches!(c, Some('.' | ':' | '-'));
            let leak = shown.match_indices("42").find(|&(at, _)| {
                let before = shown[..at].chars().next_back();
                let after = shown[at + 2..].chars().next();
                !before.is_some_and(char::is_alphanumeric)
                    && !after.is_some_and(char::is_alphanumeric)
                    && !timing(before)
                    && !matches!(after, Some(':' | '.'))
            });
            assert!(
                leak.is_none(),
                "{row} {mode:?} shows the PIN at {leak:?}:\n{shown}"
            );
            assert!(
                shown.contains("****"),
                "{row} {mode:?} masks nothing:\n{shown}"
            );
            assert!(shown.contains("kept: n=421 1421 x42"), "{row}: {shown}");
        }
    }
}

/// A password in a URL the script built itself (no config holds it), in a secret-named query
/// parameter or the URL's user part, is masked in every channel: an error, a dry run's line,
/// `--json`, the audit log.
#[test]
fn a_url_password_the_script_built_is_masked() {
    let rows = [
        "cmd(\"false\", [\"postgres://u:built-pw-77x@db/app\"]).run()",
        "cmd(\"false\", [\"https://h.example/x?password=built-pw-77x&a=1\"]).run()",
        "fail(\"cannot reach https://h.example/x?token=built-pw-77x\")",
        "write_file(\"x\", \"postgres://u:built-pw-77x@db/app\"); fail(\"no\")",
        // retry says why each attempt failed, on stderr.
        "retry(2, 0.01, || fail(\"cannot reach https://h.example/x?token=built-pw-77x\"))",
    ];
    for row in rows {
        for mode in [&["--json"][..], &["--dry-run", "--json"][..]] {
            // A command in a dry run is only said: the run may succeed.
            let app = Test::new();
            let out = app.output(&[mode, &["-e", row]].concat());
            let shown = format!(
                "{}{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                written(app.path())
            );
            assert!(
                !shown.contains("built-pw-77x"),
                "{row} {mode:?} shows the password:\n{shown}"
            );
            assert!(shown.contains("****"), "{row} {mode:?}:\n{shown}");
        }
    }
}

/// A long secret a server sent back changed is still masked: cut short (mariadb keeps 64
/// characters and `...` of a duplicate key), re-cased (postgres's `lower(name)` in a key's
/// message), or both; a command's stderr quoting it so, and the error adminsh shows, the
/// `--json` report and the audit log.
#[test]
fn a_long_secret_cut_or_re_cased_by_a_server_is_masked() {
    let secret = format!("Tok-{}", noise(91));
    let cut = format!("{}...", &secret[..64]);
    let rows = [
        format!("Duplicate entry '{cut}' for key 'name'"),
        format!(
            "Key (lower(name))=({}) already exists.",
            secret.to_lowercase()
        ),
        format!("KEY=({})", secret.to_uppercase()),
        format!("prefix of 12: {}|", &secret[..12]),
        format!("cut and lower-cased: {}...", secret[..40].to_lowercase()),
    ];
    for row in &rows {
        let out = Test::new()
            .file(".env", &format!("API_TOKEN={secret}\n"))
            .env("MSG", row)
            .args(&[
                "--json",
                "-e",
                "cmd(\"sh\", [\"-c\", \"echo \\\"$MSG\\\" >&2; exit 3\"]).output()",
            ])
            .any_stdout()
            .any_stderr()
            .status(1)
            .run();
        let shown = format!("{}{}{}", out.stdout, out.stderr, written(out.path()));
        let lower = shown.to_lowercase();
        let leaked = (0..secret.len() - 12)
            .map(|at| secret[at..at + 12].to_lowercase())
            .find(|piece| lower.contains(piece.as_str()));
        assert!(leaked.is_none(), "{row}: shows {leaked:?}:\n{shown}");
        assert!(shown.contains("****"), "{row}:\n{shown}");
    }
}
