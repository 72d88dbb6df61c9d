//! Release discovery and config: layers and their precedence, provenance, redaction, errors.

use crate::support::Test;

#[test]
fn root_is_found_from_a_subdirectory_and_with_dash_c() {
    let t = Test::bare()
        .file("Procfile", "web: x")
        .file(".env", "WHO=app")
        .current_dir("deep/er")
        .args(&["-e", "release().root + \" \" + env(\"WHO\")"]);
    let root = t.path().canonicalize().unwrap().display().to_string();
    t.stdout(&format!("{root} app\n")).run();

    let other = Test::new().file(".env", "WHO=other");
    let other_root = other.path().canonicalize().unwrap();
    Test::new()
        .arg("-C")
        .arg(&other_root)
        .args(&["-e", "env(\"WHO\")"])
        .stdout("other\n")
        .run();
}

#[test]
fn a_wrong_dash_c_is_a_usage_error_in_every_mode() {
    let t = Test::new().file("a-file", "");
    let file = t.path().join("a-file");
    let file = file.display();
    let cases: [(&[&str], String); 5] = [
        (
            &["-C", "/no/such/dir", "-e", "1"],
            "-C /no/such/dir: no such directory".into(),
        ),
        (
            &["-C", "/no/such/dir", "fix"],
            "-C /no/such/dir: no such directory".into(),
        ),
        (
            &["-C", "/no/such/dir", "--list"],
            "-C /no/such/dir: no such directory".into(),
        ),
        (
            &["-C", "/no/such/dir", "--targets"],
            "-C /no/such/dir: no such directory".into(),
        ),
        (
            &["-C", &file.to_string(), "--env"],
            format!("-C {file}: not a directory"),
        ),
    ];
    for (args, message) in cases {
        Test::new()
            .args(args)
            .status(2)
            .stderr(&format!("adminsh: {message}\n"))
            .run();
    }
}

#[test]
fn release_markers_of_frameworks_find_the_root_of_a_release_without_git() {
    // A deployed release (a Capistrano `releases/...` directory) entered in a subdirectory.
    for marker in [
        "Gemfile",
        "config.ru",
        "manage.py",
        "pyproject.toml",
        "package.json",
        "go.mod",
    ] {
        let t = Test::bare()
            .file(&format!("releases/1/{marker}"), "")
            .current_dir("releases/1/app/models")
            .args(&["-e", "release().root"]);
        let root = t.path().canonicalize().unwrap().join("releases/1");
        t.stdout(&format!("{}\n", root.display())).run();
    }
    // Each marker is looked for in every ancestor before the next: the app's Gemfile at the
    // root wins over a subproject's package.json, and a checkout's .git over both.
    let cases = [
        (&["Gemfile", "web/package.json"][..], "web/src", ""),
        (&["manage.py", "tools/pyproject.toml"][..], "tools/x", ""),
        (&["package.json", "api/go.mod"][..], "api", ""),
        (&[".git/HEAD", "apps/shop/Gemfile"][..], "apps/shop/lib", ""),
        (&["Procfile", "apps/shop/Gemfile"][..], "apps/shop", ""),
        (
            &["Gemfile", "apps/shop/adminsh.toml"][..],
            "apps/shop/lib",
            "apps/shop",
        ),
    ];
    for (files, cwd, want) in cases {
        let mut t = Test::bare();
        for file in files {
            t = t.file(file, "");
        }
        let t = t.current_dir(cwd).args(&["-e", "release().root"]);
        let root = t.path().canonicalize().unwrap().join(want);
        let root = root.display().to_string();
        t.stdout(&format!("{}\n", root.trim_end_matches('/'))).run();
    }
}

#[test]
fn adminsh_toml_wins_over_procfile_and_git_further_up() {
    // The app (with adminsh.toml) sits inside a repo whose root has a Procfile and .git.
    let t = Test::bare()
        .file("Procfile", "web: x")
        .file(".git/HEAD", "")
        .file("apps/shop/adminsh.toml", "")
        .current_dir("apps/shop/scripts")
        .args(&["-e", "release().root"]);
    let shop = t
        .path()
        .canonicalize()
        .unwrap()
        .join("apps/shop")
        .display()
        .to_string();
    t.stdout(&format!("{shop}\n")).run();
}

#[test]
fn a_symlinked_release_reports_both_paths() {
    let t = Test::bare()
        .file("releases/20261125/adminsh.toml", "name = \"shop\"")
        .file("releases/20261125/REVISION", "abc123\n");
    let base = t.path().canonicalize().unwrap();
    std::os::unix::fs::symlink(base.join("releases/20261125"), base.join("current")).unwrap();
    t.arg("-C")
        .arg(base.join("current"))
        .args(&[
            "-e",
            "let r = release(); `${r.root} ${r.link} ${r.version} ${r.version_source} ${r.name}`",
        ])
        .stdout(&format!(
            "{0}/releases/20261125 {0}/current abc123 REVISION shop\n",
            base.display()
        ))
        .run();
}

#[test]
fn layers_in_order_process_environment_wins() {
    let t = Test::new()
        .file("adminsh.toml", "stage = \"staging\"\n[defaults]\nA = \"default\"\nB = \"default\"\nC = \"default\"\nD = \"default\"\nE = \"default\"")
        .file(".env", "B=dotenv\nC=dotenv\nD=dotenv\nE=dotenv\n")
        .file(".env.staging", "C=stage\nD=stage\nE=stage\n")
        .file("extra.env", "D=file\nE=file\n")
        .env("E", "process")
        .args(&["--env-file", "extra.env", "-e", "[\"A\",\"B\",\"C\",\"D\",\"E\"].map(|k| env(k))"]);
    t.stdout("[\"default\", \"dotenv\", \"stage\", \"file\", \"process\"]\n")
        .run();
}

#[test]
fn env_mode_shows_values_sources_and_hides_secrets() {
    let t = Test::new()
        .file(
            "adminsh.toml",
            "name = \"shop\"\nsecrets = [\"STRIPE_*\"]\nrequired = [\"NEEDED\"]",
        )
        .file(
            ".env",
            "
            DATABASE_URL=postgres://app:hunter22@db:5432/shop
            DB_PASSWORD=pw-one
            SECRET_KEY_BASE=sekrit
            GITHUB_TOKEN=tok-123
            AWS_ACCESS_KEY=AKIAXYZ
            STRIPE_LIVE=sk_live_1
            GREETING=\"hello world\"
            PORT=8000
            ",
        )
        .env("PORT", "9000")
        .env("SHELL_ONLY", "x")
        .args(&["--env"]);
    let root = t.path().canonicalize().unwrap().display().to_string();
    t.stdout(&format!(
        "
        # release {root} (shop, stage development)
        AWS_ACCESS_KEY=****  # .env:5
        DATABASE_URL=postgres://app:****@db:5432/shop  # .env:1
        DB_PASSWORD=****  # .env:2
        GITHUB_TOKEN=****  # .env:4
        GREETING=hello world  # .env:7
        PORT=9000  # process environment (overrides .env:8)
        SECRET_KEY_BASE=****  # .env:3
        STRIPE_LIVE=****  # .env:6
        # NEEDED is required (adminsh.toml) but not set
        # and 4 more inherited from the process environment (adminsh --env --all)
        "
    ))
    .run();
}

#[test]
fn env_all_includes_inherited_variables() {
    Test::new()
        .env("SHELL_ONLY", "x")
        .args(&["--env", "--all"])
        .stdout_contains("SHELL_ONLY=x  # process environment\n")
        .stdout_contains("LANG=C.UTF-8  # process environment\n")
        .run();
}

#[test]
fn broken_env_line_names_file_line_and_column() {
    Test::new()
        .file(".env", "A=1\nB 2\n")
        .args(&["-e", "1"])
        .status(1)
        .stderr("adminsh: .env:2:3: expected `=` after `B`, found `2`\n")
        .run();
    Test::new()
        .file("prod.env", "OK=1\nQUOTED=\"never closed\n")
        .args(&["--env-file", "prod.env", "--env"])
        .status(1)
        .stderr("adminsh: prod.env:2:8: the quote `\"` opened here is never closed\n")
        .run();
    Test::new()
        .args(&["--env-file", "missing.env", "-e", "1"])
        .status(1)
        .stderr_contains("cannot read missing.env")
        .run();
}

#[test]
fn bad_manifest_names_key_line_and_column() {
    Test::new()
        .file("adminsh.toml", "name = \"shop\"\ncolour = \"red\"\n")
        .args(&["-e", "1"])
        .status(1)
        .stderr_contains("adminsh.toml:2:1: unknown field `colour`, expected one of")
        .run();
    Test::new()
        .file("adminsh.toml", "required = \"DATABASE_URL\"\n")
        .args(&["-e", "1"])
        .status(1)
        .stderr_contains(
            "adminsh.toml:1:12: invalid type: string \"DATABASE_URL\", expected a sequence",
        )
        .run();
}

#[test]
fn missing_required_keys_are_all_named_before_anything_runs() {
    Test::new()
        .file("adminsh.toml", "required = [\"DATABASE_URL\", \"PORT\", \"REDIS_URL\"]")
        .file(".env", "PORT=1")
        .script("touch", "write_file(\"ran\", \"yes\");")
        .args(&["touch"])
        .status(1)
        .stderr("adminsh: required config keys are not set: DATABASE_URL, REDIS_URL (adminsh.toml `required`; set them in .env or the environment)\n")
        .run();
}

#[test]
fn env_functions() {
    Test::new()
        .file(".env", "DATABASE_URL=sqlite:///x.db\nEMPTY=\n")
        .args(&[
            "-e",
            r#"[env("DATABASE_URL"), env("NOPE", "fallback"), env("NOPE", 3), has_env("EMPTY"), has_env("NOPE")]"#,
        ])
        .stdout("[\"sqlite:///x.db\", \"fallback\", 3, true, false]\n")
        .run();
    // Keys that are a small part of the typo (`_`, which shells set, `A`) are no suggestion.
    for typo in ["DATABASE_ULR", "DATABSE_URL", "DATABASE_URLL"] {
        Test::new()
            .file(".env", "DATABASE_URL=x\nA=1\nURL=2\n")
            .env("_", "/usr/bin/adminsh")
            .args(&["-e", &format!("env({typo:?})")])
            .status(1)
            .stderr_contains(&format!("config key `{typo}` is not set (not in .env, an env file or the environment); did you mean `DATABASE_URL`?\n"))
            .run();
    }
    Test::new()
        .file(".env", "DATABASE_URL=x")
        .args(&["-e", "env(\"DATABASE_ULR\")"])
        .status(1)
        .stderr(
            "
            -e:1:1: config key `DATABASE_ULR` is not set (not in .env, an env file or the environment); did you mean `DATABASE_URL`?
             1 | env(\"DATABASE_ULR\")
               | ^
            ",
        )
        .run();
}

#[test]
fn set_env_reaches_later_commands() {
    Test::new()
        .args(&["-e", r#"set_env("GREETING", "hi"); cmd("sh", ["-c", "echo $GREETING"]).read() + " " + env("GREETING")"#])
        .stdout("hi hi\n")
        .run();
}

#[test]
fn stage_comes_from_flag_env_or_manifest() {
    let script = "release().stage + \" \" + env(\"WHERE\")";
    let t = || {
        Test::new()
            .file("adminsh.toml", "stage = \"staging\"")
            .file(".env.staging", "WHERE=staging-file")
            .file(".env.production", "WHERE=production-file")
            .file(".env.qa", "WHERE=qa-file")
    };
    t().args(&["-e", script])
        .stdout("staging staging-file\n")
        .run();
    t().env("ADMINSH_STAGE", "qa")
        .args(&["-e", script])
        .stdout("qa qa-file\n")
        .run();
    t().env("ADMINSH_STAGE", "qa")
        .args(&["-s", "production", "-e", script])
        .stdout("production production-file\n")
        .run();
}

#[test]
fn secrets_never_appear_in_error_messages() {
    Test::new()
        .file(".env", "API_TOKEN=tok-abcdef\nDATABASE_URL=postgres://u:pa55word@h/db\n")
        .args(&["-e", r#"cmd("sh", ["-c", "echo $API_TOKEN >&2; exit 3", env("DATABASE_URL")]).read()"#])
        .status(1)
        .stderr_contains("command `sh -c 'echo $API_TOKEN >&2; exit 3' postgres://u:****@h/db` failed: exit status 3")
        .stderr_contains("  | ****\n")
        .run()
        .stderr
        .contains("pa55word")
        .then(|| panic!("password leaked"));
    Test::new()
        .file(".env", "API_TOKEN=tok-abcdef\n")
        .args(&["-e", "env(\"API_TOKEN\")"])
        .stdout("****\n")
        .run();
}

#[test]
fn env_as_json_for_machines() {
    let done = Test::new()
        .file(
            "adminsh.toml",
            "name = \"shop\"\nrequired = [\"REDIS_URL\"]",
        )
        .file(
            ".env",
            "DATABASE_URL=postgres://u:pw-secret@db/shop\nAPI_TOKEN=tok-secret\nPORT=1\n",
        )
        .env("PORT", "2")
        .args(&["--env", "--json"])
        .any_stdout()
        .run();
    assert!(
        !done.stdout.contains("pw-secret") && !done.stdout.contains("tok-secret"),
        "{}",
        done.stdout
    );
    let doc: serde_json::Value = serde_json::from_str(&done.stdout).unwrap();
    assert_eq!(doc["name"], "shop");
    assert_eq!(doc["stage"], "development");
    assert_eq!(doc["missing_required"], serde_json::json!(["REDIS_URL"]));
    let vars = doc["vars"].as_array().unwrap();
    let find = |key: &str| vars.iter().find(|v| v["key"] == key).unwrap().clone();
    assert_eq!(find("DATABASE_URL")["value"], "postgres://u:****@db/shop");
    assert_eq!(find("API_TOKEN")["value"], "****");
    assert_eq!(find("API_TOKEN")["secret"], true);
    assert_eq!(find("PORT")["value"], "2");
    assert_eq!(find("PORT")["layer"], "process environment");
    assert_eq!(find("PORT")["overrides"], ".env:3");
}

#[test]
fn the_stage_reaches_the_framework_under_its_own_name() {
    /// The app's files, its manifest, adminsh's flags, the environment, and the values of
    /// `RAILS_ENV`, `RACK_ENV`, `NODE_ENV` and `APP_ENV` the script sees.
    type Case<'a> = (
        &'a [&'a str],
        &'a str,
        &'a [&'a str],
        &'a [(&'a str, &'a str)],
        &'a str,
    );
    let cases: [Case; 8] = [
        (
            &["Gemfile"],
            "",
            &["-s", "production"],
            &[],
            "production production - -",
        ),
        (&["config.ru"], "", &[], &[], "development development - -"),
        (
            &["package.json"],
            "",
            &["-s", "staging"],
            &[],
            "- - staging -",
        ),
        (&["manage.py"], "", &["-s", "production"], &[], "- - - -"),
        (
            &["Gemfile"],
            "stage_vars = [\"APP_ENV\"]",
            &["-s", "production"],
            &[],
            "- - - production",
        ),
        (
            &["Gemfile"],
            "stage_vars = []",
            &["-s", "production"],
            &[],
            "- - - -",
        ),
        // Every other layer overrides it: the manifest's defaults, the env files, the process.
        (
            &["Gemfile"],
            "[defaults]\nRAILS_ENV = \"custom\"",
            &["-s", "production"],
            &[],
            "custom production - -",
        ),
        (
            &["Gemfile"],
            "",
            &["-s", "production"],
            &[("RACK_ENV", "mine")],
            "production mine - -",
        ),
    ];
    let code = r#"let v = ["RAILS_ENV", "RACK_ENV", "NODE_ENV", "APP_ENV"].map(|k| env(k, "-")); `${v[0]} ${v[1]} ${v[2]} ${v[3]}`"#;
    for (files, manifest, flags, env, want) in cases {
        let mut t = Test::new().file("adminsh.toml", manifest);
        for file in files {
            t = t.file(file, "{}");
        }
        for (key, value) in env {
            t = t.env(key, *value);
        }
        // Commands get it too.
        let code = format!(r#"{code} + " " + cmd("sh", ["-c", "echo ${{RAILS_ENV:--}}"]).read()"#);
        let rails = want.split(' ').next().unwrap();
        t.args(flags)
            .args(&["-e", &code])
            .stdout(&format!("{want} {rails}\n"))
            .any_stderr()
            .run();
    }
    // `--env` shows the layer.
    Test::new()
        .file("Gemfile", "")
        .file(".env.production", "RACK_ENV=prod\n")
        .args(&["-s", "production", "--env"])
        .stdout_contains("RACK_ENV=prod  # .env.production:1 (overrides the stage (Gemfile))\n")
        .stdout_contains("RAILS_ENV=production  # the stage (Gemfile)\n")
        .run();
}

/// Env files a careless user or an attacker could leave: each is refused at load with the
/// file (and line and column where there is one) and invisible characters escaped, or read as
/// meant (a leading byte order mark). None hangs (a FIFO, `/dev/zero`) or takes every command
/// down later (a NUL byte, which no spawn can pass).
#[test]
fn env_files_that_cannot_be_config_are_refused_naming_them() {
    use crate::support::processes::finish;
    use std::process::Stdio;
    type Fixture = fn(&std::path::Path);
    // (fixture, extra arguments, exit code, stdout, stderr)
    let rows: [(Fixture, &[&str], i32, &str, &str); 11] = [
        (
            |app| std::fs::write(app.join(".env"), "A=1\nB=x\0y\n").unwrap(),
            &[],
            1,
            "",
            "adminsh: .env:2:4: a NUL byte (`\\0`): no environment variable can hold one\n",
        ),
        (
            |app| std::fs::write(app.join(".env"), "\u{feff}A=from a BOM file\n").unwrap(),
            &[],
            0,
            "from a BOM file\n",
            "",
        ),
        (
            |app| std::fs::write(app.join(".env"), "B=1\n\u{feff}A=2\n").unwrap(),
            &[],
            1,
            "",
            "adminsh: .env:2:1: expected a variable name, found `\\u{feff}`\n",
        ),
        (
            |app| std::fs::write(app.join(".env"), "A\x1b[2J=1\n").unwrap(),
            &[],
            1,
            "",
            "adminsh: .env:1:2: expected `=` after `A`, found `\\x1b`\n",
        ),
        (
            |app| std::fs::write(app.join(".env.development"), b"A=1\nB=caf\xe9\n").unwrap(),
            &[],
            1,
            "",
            "adminsh: .env.development:2:6: not UTF-8 text (byte 0xe9 at offset 9): env files must be UTF-8\n",
        ),
        (
            |app| {
                std::fs::write(app.join("adminsh.toml"), "env_files = [\"/dev/zero\"]\n").unwrap();
            },
            &[],
            1,
            "",
            "adminsh: /dev/zero is a device, not a regular file: env files must be regular files\n",
        ),
        (
            |_| {},
            &["--env-file", "/dev/zero"],
            1,
            "",
            "adminsh: /dev/zero is a device, not a regular file: env files must be regular files\n",
        ),
        (
            |app| crate::attack_files::mkfifo(&app.join("fifo.env")),
            &["--env-file", "fifo.env"],
            1,
            "",
            "adminsh: fifo.env is a FIFO, not a regular file: env files must be regular files\n",
        ),
        (
            |app| std::fs::create_dir(app.join("dir.env")).unwrap(),
            &["--env-file", "dir.env"],
            1,
            "",
            "adminsh: dir.env is a directory, not a regular file: env files must be regular files\n",
        ),
        (
            |app| std::fs::write(app.join(".env"), "X=y\n".repeat(256 * 1024 + 1)).unwrap(),
            &[],
            1,
            "",
            "adminsh: .env is larger than 1024 KiB, the most an env file may hold\n",
        ),
        (
            // Exactly the most: read.
            |app| std::fs::write(app.join(".env"), "X=y\n".repeat(256 * 1024)).unwrap(),
            &[],
            0,
            "-\n",
            "",
        ),
    ];
    for (setup, args, status, stdout, stderr) in rows {
        let t = Test::new();
        setup(t.path());
        let child = t
            .command()
            .args(args)
            .args(["-e", "env(\"A\", \"-\")"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output = finish(child, stderr);
        assert_eq!(
            (
                output.status.code(),
                String::from_utf8_lossy(&output.stdout).as_ref(),
                String::from_utf8_lossy(&output.stderr).as_ref()
            ),
            (Some(status), stdout, stderr)
        );
    }
}
