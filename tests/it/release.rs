//! Releases of every kind of app: isolation (Python, Node, Ruby, Poetry/uv, the manifest's
//! runner), the Procfile, Capistrano layouts, warnings, and config precedence in full.

use crate::support::Test;
use crate::support::tools::require;

#[test]
fn ruby_app_runs_through_bundle_exec_with_binstubs() {
    require!(Ruby, Bundler);
    let t = Test::new()
        .file("Gemfile", "# no gems: bundler resolves this offline\n")
        .executable("bin/hello", "#!/bin/sh\necho \"binstub $BUNDLE_GEMFILE\"\n")
        .args(&[
            "-e",
            r#"
            print(app("ruby", ["-e", "puts defined?(Bundler) ? 'under bundler' : 'plain ruby'"]));
            print(app("ruby", ["-e", "puts defined?(Bundler) ? 'under bundler' : 'plain ruby'"]).read());
            print(cmd("ruby", ["-e", "puts defined?(Bundler) ? 'under bundler' : 'plain ruby'"]).read());
            print(cmd("hello").read());
            print(release().isolation);
            "#,
        ]);
    let gemfile = t
        .path()
        .canonicalize()
        .unwrap()
        .join("Gemfile")
        .display()
        .to_string();
    t.stdout(&format!(
        "bundle exec ruby -e 'puts defined?(Bundler) ? '\\''under bundler'\\'' : '\\''plain ruby'\\'''\nunder bundler\nplain ruby\nbinstub {gemfile}\n[\"ruby BUNDLE_GEMFILE={gemfile} with bin/ binstubs\", \"runner `bundle exec` (Gemfile)\"]\n"
    ))
    .any_stderr()
    .run();
}

#[test]
fn poetry_and_uv_are_used_when_their_lock_file_is_there_and_the_tool_installed() {
    // A stand-in `uv` that shows how it was called.
    let t = Test::new()
        .file("uv.lock", "version = 1\n")
        .executable("tools/uv", "#!/bin/sh\necho \"uv called with: $*\"\n");
    let path = format!(
        "{}:{}",
        t.path().join("tools").display(),
        std::env::var("PATH").unwrap()
    );
    t.env("PATH", &path)
        .args(&["-e", r#"app("python", ["manage.py", "migrate"]).read()"#])
        .stdout("uv called with: run python manage.py migrate\n")
        .run();
    // Without the tool installed, the lock file alone changes nothing.
    Test::new()
        .file("poetry.lock", "")
        .args(&["-e", r#"app("echo", ["plain"]).read()"#])
        .stdout("plain\n")
        .run();
}

#[test]
fn the_manifests_runner_overrides_detection() {
    Test::new()
        .file("adminsh.toml", "runner = [\"env\", \"VIA_RUNNER=yes\"]")
        .file("Gemfile", "")
        .args(&["-e", r#"app("sh", ["-c", "echo $VIA_RUNNER"]).read() + " " + cmd("sh", ["-c", "echo ${VIA_RUNNER:-no}"]).read()"#])
        .stdout("yes no\n")
        .run();
    Test::new()
        .file("adminsh.toml", "runner = []")
        .file("Gemfile", "")
        .args(&["-e", r#"app("echo", ["no runner"]).read()"#])
        .stdout("no runner\n")
        .run();
}

#[test]
fn procfile_process_types() {
    let done = Test::new()
        .file("Procfile", "web: python -m http.server $PORT\nrelease: echo \"release phase on $PORT\" > released.txt\n")
        .file(".env", "PORT=8123")
        .args(&[
            "-e",
            r#"
            print(procfile());
            proc("release").run();
            print(read_file("released.txt"));
            try { proc("relase") } catch (e) { print(e) }
            "#,
        ])
        .stdout(
            "#{\"release\": \"echo \\\"release phase on $PORT\\\" > released.txt\", \"web\": \"python -m http.server $PORT\"}\nrelease phase on 8123\n\nno process type `relase` in the Procfile (it has web, release); did you mean `release`?\n",
        )
        .run();
    assert!(done.path().join("released.txt").exists());
    Test::new()
        .file("Procfile", "web: x\nbroken line\n")
        .args(&["-e", "procfile()"])
        .status(1)
        .stderr_contains("Procfile:2: expected `name: command`, found `broken line`")
        .run();
    Test::new()
        .args(&["-e", "proc(\"web\")"])
        .status(1)
        .stderr_contains("no process type `web`: there is no Procfile in")
        .run();
}

#[test]
fn capistrano_layout_runs_the_current_release_by_name() {
    let t = Test::bare()
        .file("releases/20261101/adminsh.toml", "name = \"shop\"")
        .file("releases/20261101/REVISION", "old111\n")
        .file("releases/20261125/adminsh.toml", "name = \"shop\"")
        .file("releases/20261125/REVISION", "new222\n")
        .file(
            "releases/20261125/scripts/which.rhai",
            "let r = release(); print(`${r.version} ${r.link}`);",
        )
        .file("shared/.env", "X=1");
    let base = t.path().canonicalize().unwrap();
    std::os::unix::fs::symlink(base.join("releases/20261125"), base.join("current")).unwrap();
    t.arg("-C")
        .arg(base.join("current"))
        .arg("which")
        .stdout(&format!("new222 {}/current\n", base.display()))
        .run();
}

#[test]
fn warnings_before_a_script_runs() {
    Test::new()
        .file("adminsh.toml", "expected_version = \"abc\"")
        .file("REVISION", "def\n")
        .script("hi", "print(\"ran\");")
        .args(&["hi"])
        .stdout("ran\n")
        .stderr("warning: this release is version def, but adminsh.toml expects abc\n")
        .run();
    // A short SHA (7 hex digits or more) names the commit it starts with.
    let full = "4f2c9e1a0b3c4d5e6f708192a3b4c5d6e7f80912";
    for (expected, warns) in [
        ("4f2c9e1", false),
        ("4F2C9E1A0B", false),
        (full, false),
        ("4f2c9e", true),
        ("4f2c9e2", true),
    ] {
        let t = Test::new()
            .file(
                "adminsh.toml",
                &format!("expected_version = \"{expected}\""),
            )
            .file("REVISION", &format!("{full}\n"))
            .script("hi", "print(\"ran\");")
            .args(&["hi"])
            .stdout("ran\n");
        if warns {
            t.stderr(&format!(
                "warning: this release is version {full}, but adminsh.toml expects {expected}\n"
            ))
            .run();
        } else {
            t.run();
        }
    }
    let t = Test::new().script("hi", "print(\"ran\");");
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .args(["-c", "user.email=t@t", "-c", "user.name=t"])
            .args(args)
            .current_dir(t.path())
            .output()
            .unwrap()
            .status
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "x"]);
    std::fs::write(t.path().join("scripts/hi.rhai"), "print(\"changed\");").unwrap();
    let root = t.path().canonicalize().unwrap().display().to_string();
    let t = t.args(&["-s", "production", "hi"]).stdout("changed\n").stderr(&format!(
        "warning: the release at {root} has uncommitted changes: the code that runs is not the code that shipped\n"
    ));
    t.run().again().args(&["hi"]).stdout("changed\n").run();
}

#[test]
fn release_reports_the_state_dir() {
    let t = Test::new().file("adminsh.toml", "state_dir = \"var/adminsh\"");
    let root = t.path().canonicalize().unwrap().display().to_string();
    t.args(&["-e", "release().state_dir"])
        .stdout(&format!("{root}/var/adminsh\n"))
        .run();
}

/// Every layer against every other: for each pair (lower, higher) a key set in both must come
/// from the higher one.
#[test]
fn each_config_layer_beats_every_layer_below_it() {
    const LAYERS: [&str; 6] = [
        "defaults",
        "dotenv",
        "stage",
        "manifest_file",
        "env_file",
        "process",
    ];
    let mut files: std::collections::BTreeMap<&str, String> = std::collections::BTreeMap::new();
    let mut keys = Vec::new();
    let mut process = Vec::new();
    for (low, low_name) in LAYERS.iter().enumerate() {
        for (high, high_name) in LAYERS.iter().enumerate().skip(low + 1) {
            let key = format!("K_{low}_{high}");
            for (layer, name) in [(low, low_name), (high, high_name)] {
                let line = format!("{key}={name}\n");
                match layer {
                    0 => files
                        .entry("defaults")
                        .or_default()
                        .push_str(&format!("{key} = \"{name}\"\n")),
                    1 => files.entry(".env").or_default().push_str(&line),
                    2 => files.entry(".env.qa").or_default().push_str(&line),
                    3 => files.entry("shared.env").or_default().push_str(&line),
                    4 => files.entry("cli.env").or_default().push_str(&line),
                    _ => process.push((key.clone(), name.to_string())),
                }
            }
            keys.push((key, high_name.to_string()));
        }
    }
    assert_eq!(keys.len(), 15);
    let manifest = format!(
        "stage = \"qa\"\nenv_files = [\"shared.env\"]\n[defaults]\n{}",
        files.remove("defaults").unwrap_or_default()
    );
    let mut t = Test::new().file("adminsh.toml", &manifest);
    for (path, text) in &files {
        t = t.file(path, text);
    }
    for (key, value) in &process {
        t = t.env(key, value);
    }
    let names: Vec<String> = keys.iter().map(|(k, _)| format!("\"{k}\"")).collect();
    let code = format!("[{}].map(|k| env(k))", names.join(", "));
    let expected: Vec<String> = keys.iter().map(|(_, v)| format!("\"{v}\"")).collect();
    t.args(&["--env-file", "cli.env", "-e", &code])
        .stdout(&format!("[{}]\n", expected.join(", ")))
        .run();
}

#[test]
fn every_manifest_key_is_checked() {
    let cases = [
        ("nme = \"x\"", "adminsh.toml:1:1: unknown field `nme`"),
        (
            "name = 1",
            "adminsh.toml:1:8: invalid type: integer `1`, expected a string",
        ),
        (
            "stage = []",
            "adminsh.toml:1:9: invalid type: sequence, expected a string",
        ),
        (
            "env_files = \"a\"",
            "adminsh.toml:1:13: invalid type: string \"a\", expected a sequence",
        ),
        (
            "required = [1]",
            "adminsh.toml:1:13: invalid type: integer `1`, expected a string",
        ),
        (
            "secrets = true",
            "adminsh.toml:1:11: invalid type: boolean `true`, expected a sequence",
        ),
        (
            "dangerous_stages = \"prod\"",
            "adminsh.toml:1:20: invalid type: string \"prod\", expected a sequence",
        ),
        (
            "runner = \"bundle exec\"",
            "adminsh.toml:1:10: invalid type: string \"bundle exec\", expected a sequence",
        ),
        (
            "state_dir = 3",
            "adminsh.toml:1:13: invalid type: integer `3`",
        ),
        (
            "expected_version = 3",
            "adminsh.toml:1:20: invalid type: integer `3`, expected a string",
        ),
        (
            "[defaults]\nA = 1",
            "adminsh.toml:2:5: invalid type: integer `1`, expected a string",
        ),
        (
            "name = \"unclosed",
            "adminsh.toml:1:17: invalid basic string, expected `\"`",
        ),
    ];
    for (manifest, message) in cases {
        Test::new()
            .file("adminsh.toml", manifest)
            .args(&["--env"])
            .status(1)
            .stderr_contains(&format!("/{message}"))
            .run();
    }
}

/// Every secret pattern, in every output that prints values.
#[test]
fn secrets_are_masked_everywhere_adminsh_prints_values() {
    let env = "DB_PASSWORD=secret-one\nAPP_SECRET=secret-two\nGITHUB_TOKEN=secret-three\nSTRIPE_KEY=secret-four\nDSN_VALUE=secret-five\nDATABASE_URL=postgres://u:secret-six@db/app\n";
    let app = || {
        Test::new()
            .file("adminsh.toml", "secrets = [\"DSN_*\"]")
            .file(".env", env)
            .any_stdout()
            .any_stderr()
    };
    let secrets = [
        "secret-one",
        "secret-two",
        "secret-three",
        "secret-four",
        "secret-five",
        "secret-six",
    ];
    let all = "[env(\"DB_PASSWORD\"), env(\"APP_SECRET\"), env(\"GITHUB_TOKEN\"), env(\"STRIPE_KEY\"), env(\"DSN_VALUE\"), env(\"DATABASE_URL\")]";
    let outputs = [
        app().args(&["--env"]).run(),
        app().args(&["-e", all]).run(),
        app().stdin(&format!("{all}\n:env\n:vars\n")).run(),
        app().args(&["-e", &format!("fail({all})")]).status(1).run(),
        app()
            .args(&["-e", &format!("cmd(\"sh\", [\"-c\", \"exit 1\"] + {all}).run()")])
            .status(1)
            .run(),
        app()
            .args(&["-e", "cmd(\"sh\", [\"-c\", \"echo $0 $1 >&2; exit 1\", env(\"DB_PASSWORD\"), env(\"DATABASE_URL\")]).read()"])
            .status(1)
            .any_stderr()
            .run(),
    ];
    for (i, out) in outputs.iter().enumerate() {
        let printed = format!("{}{}", out.stdout, out.stderr);
        // The last case's command prints the secrets itself (passed through as is); only
        // adminsh's own error message must mask them.
        let checked = if i == 5 {
            printed
                .split("failed:")
                .nth(1)
                .unwrap_or_default()
                .to_owned()
        } else {
            printed.clone()
        };
        for secret in secrets {
            assert!(
                !checked.contains(secret),
                "output {i} shows {secret}:\n{printed}"
            );
        }
        assert!(
            printed.contains("****"),
            "output {i} masks nothing:\n{printed}"
        );
    }
}
