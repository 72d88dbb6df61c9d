//! File operations from scripts: append, mkdir, remove, rename, copy, stat, `temp_dir` and
//! which; what `--dry-run` and `--read-only` do with them; and the paths `remove` refuses.

use crate::support::Test;
use crate::support::processes::{Signal, finish, signal};
use crate::support::wait::wait_for_file;

#[test]
fn append_mkdir_copy_rename_remove() {
    let done = Test::new()
        .file("config/app.toml", "name = \"shop\"\n")
        .file("public/assets/app.js", "js")
        .file("public/assets/img/logo.svg", "<svg/>")
        .args(&[
            "-e",
            r#"
            mkdir("log/archive/2026");
            mkdir("log/archive/2026");
            append_file("log/admin.log", "one\n");
            append_file("log/admin.log", "two\n");
            print(read_file("log/admin.log"));
            copy("config/app.toml", "config/app.toml.bak");
            print(read_file("config/app.toml.bak"));
            copy("public/assets", "public/assets.old");
            print(glob("public/assets.old/**/*"));
            rename("log/admin.log", "log/archive/2026/admin.log");
            print(exists("log/admin.log"));
            print(remove("public/assets.old"));
            print(remove("public/assets.old"));
            print(remove("config/app.toml.bak"));
            "#,
        ])
        .stdout(
            "
            one
            two

            name = \"shop\"

            [\"public/assets.old/app.js\", \"public/assets.old/img\", \"public/assets.old/img/logo.svg\"]
            false
            true
            false
            true
            ",
        )
        .run();
    let root = done.path();
    assert_eq!(
        std::fs::read_to_string(root.join("log/archive/2026/admin.log")).unwrap(),
        "one\ntwo\n"
    );
    assert!(!root.join("public/assets.old").exists());
    assert!(root.join("public/assets/img/logo.svg").exists());
    assert!(!root.join("config/app.toml.bak").exists());
}

#[test]
fn remove_takes_a_link_not_what_it_points_at() {
    let t = Test::new().file("shared/data.txt", "keep me");
    std::os::unix::fs::symlink(t.path().join("shared"), t.path().join("current")).unwrap();
    let done = t
        .args(&["-e", r#"remove("current"); exists("shared/data.txt")"#])
        .stdout("true\n")
        .run();
    assert!(done.path().join("shared/data.txt").exists());
    assert!(done.path().join("current").symlink_metadata().is_err());
}

#[test]
fn stat_size_and_mtime() {
    Test::new()
        .file("data/a.txt", "hello")
        .args(&[
            "-e",
            r#"
            let s = stat("data/a.txt");
            print([s.size, s.is_file, s.is_dir, s.is_link, s.mode & 0o600]);
            print(file_size("data/a.txt"));
            print(now() - file_mtime("data/a.txt") < minutes(5));
            print(stat("data").is_dir);
            "#,
        ])
        .stdout("[5, true, false, false, 384]\n5\ntrue\ntrue\n")
        .run();
}

#[test]
fn which_looks_on_the_releases_path() {
    let done = Test::new()
        .executable("node_modules/.bin/tool", "#!/bin/sh\n")
        .file("node_modules/.bin/not-executable", "")
        .args(&[
            "-e",
            r#"print(which("tool")); print(which("sh") != ()); print(which("not-executable")); print(which("no-such-program"))"#,
        ])
        .any_stdout()
        .run();
    let root = done.path().canonicalize().unwrap();
    let expected_root = root.display().to_string();
    let first = done.stdout.lines().next().unwrap();
    assert!(
        first.ends_with("node_modules/.bin/tool")
            && (first.starts_with(&expected_root)
                || first.starts_with(&done.path().display().to_string())),
        "{}",
        done.stdout
    );
    assert_eq!(
        done.stdout.lines().skip(1).collect::<Vec<_>>(),
        ["true", "", ""]
    );
}

#[test]
fn dry_run_says_what_it_would_do_and_read_only_refuses() {
    let done = Test::new()
        .file("a.txt", "a")
        .args(&[
            "--dry-run",
            "-e",
            r#"mkdir("new/dir"); append_file("a.txt", "more"); copy("a.txt", "b.txt"); rename("a.txt", "c.txt"); print(remove("a.txt")); print(remove("missing"))"#,
        ])
        .stdout("true\nfalse\n")
        .stderr(
            "
            dry run: would mkdir -p new/dir
            dry run: would append to a.txt (4 bytes)
            dry run: would copy a.txt to b.txt
            dry run: would rename a.txt to c.txt
            dry run: would remove a.txt
            dry run: nothing was changed. It would have run:
              mkdir -p new/dir
              append to a.txt (4 bytes)
              copy a.txt to b.txt
              rename a.txt to c.txt
              remove a.txt
            ",
        )
        .run();
    let root = done.path();
    assert_eq!(std::fs::read_to_string(root.join("a.txt")).unwrap(), "a");
    for absent in ["new", "b.txt", "c.txt"] {
        assert!(!root.join(absent).exists(), "{absent}");
    }
    for (expr, refused) in [
        (r#"mkdir("x")"#, r#"mkdir("x")"#),
        (r#"append_file("a.txt", "x")"#, r#"append_file("a.txt")"#),
        (r#"copy("a.txt", "b.txt")"#, r#"copy("a.txt", "b.txt")"#),
        (r#"rename("a.txt", "b.txt")"#, r#"rename("a.txt", "b.txt")"#),
        (r#"remove("a.txt")"#, r#"remove("a.txt")"#),
    ] {
        let done = Test::new()
            .file("a.txt", "a")
            .args(&["--read-only", "-e", expr])
            .status(1)
            .stderr_contains(&format!("refused in read-only mode: {refused}"))
            .run();
        assert_eq!(
            std::fs::read_to_string(done.path().join("a.txt")).unwrap(),
            "a"
        );
    }
    // Reading and temporary directories are fine in read-only mode.
    Test::new()
        .file("a.txt", "a")
        .args(&[
            "--read-only",
            "-e",
            r#"stat("a.txt").size + file_size("a.txt") + temp_dir().len().min(0)"#,
        ])
        .stdout("2\n")
        .run();
}

#[test]
fn remove_and_rename_refuse_the_release_root_and_above() {
    for (expr, message) in [
        (
            r#"remove(".")"#,
            r#"remove(".") refused: it is the release root"#,
        ),
        (
            r#"remove("")"#,
            r#"remove("") refused: it is the release root"#,
        ),
        (
            r#"remove("sub/..")"#,
            r#"remove("sub/..") refused: it is the release root"#,
        ),
        (
            r#"remove("/")"#,
            r#"remove("/") refused: it is /, which holds the release"#,
        ),
        (r#"remove("..")"#, r#"remove("..") refused: it is "#),
        (r#"remove("../..")"#, ", which holds the release"),
        (r#"remove("root-link")"#, ""),
        (
            r#"rename(".", "elsewhere")"#,
            r#"rename(".") refused: it is the release root"#,
        ),
    ] {
        let t = Test::new().file("sub/x", "");
        let root = t.path().to_path_buf();
        std::os::unix::fs::symlink(&root, root.join("sub/root-link")).unwrap();
        if message.is_empty() {
            // A link to the root is only a link: removing it leaves the root alone.
            let done = t
                .args(&["-e", r#"remove("sub/root-link")"#])
                .stdout("true\n")
                .run();
            assert!(done.path().join("adminsh.toml").exists());
            continue;
        }
        let done = t
            .args(&["-e", expr])
            .status(1)
            .stderr_contains(message)
            .run();
        assert!(done.path().join("adminsh.toml").exists());
    }
}

#[test]
fn bad_paths_are_errors_naming_them() {
    for (expr, message) in [
        (
            r#"append_file("no/dir/a.txt", "x")"#,
            "cannot append to `no/dir/a.txt`: no such file or directory",
        ),
        (
            r#"stat("missing")"#,
            "cannot stat `missing`: no such file or directory",
        ),
        (
            r#"file_size("missing")"#,
            "cannot stat `missing`: no such file or directory",
        ),
        (
            r#"rename("missing", "b")"#,
            "cannot rename `missing`: no such file or directory",
        ),
        (
            r#"copy("missing", "b")"#,
            "cannot copy `missing`: no such file or directory",
        ),
        (
            r#"copy("dir", "dir2")"#,
            "cannot copy the directory `dir` to `dir2`: `dir2` exists",
        ),
        (r#"mkdir("file.txt/sub")"#, "cannot create `file.txt/sub`: "),
        // A directory into itself would copy its copy until paths grew too long.
        (
            r#"copy(".", "x")"#,
            r#"copy(".", "x") refused: `x` is inside the directory it would copy"#,
        ),
        (
            r#"copy("dir", "dir/new/deeper")"#,
            r#"copy("dir", "dir/new/deeper") refused: `dir/new/deeper` is inside the directory it would copy"#,
        ),
    ] {
        Test::new()
            .file("dir/x", "")
            .file("dir2/y", "")
            .file("file.txt", "")
            .args(&["-e", expr])
            .status(1)
            .stderr_contains(&format!("-e:1:1: {message}"))
            .run();
    }
}

#[test]
fn temp_dirs_are_removed_when_the_script_ends_however_it_ends() {
    for (script, status) in [("", 0), ("exit(3);", 3), ("fail(\"boom\");", 1)] {
        let done = Test::new()
            .args(&[
                "-e",
                &format!(
                    "let d = temp_dir(); write_file(d + \"/f\", \"x\"); mkdir(d + \"/sub\"); print(d); {script}"
                ),
            ])
            .status(status)
            .any_stdout()
            .any_stderr()
            .run();
        let dir = done.stdout.lines().next().unwrap().to_owned();
        assert!(dir.contains("adminsh-tmp-"), "{dir}");
        assert!(!std::path::Path::new(&dir).exists(), "{dir} is left");
    }
    // Interrupted, too.
    let t = Test::new().script(
        "waits",
        "let d = temp_dir();\nwrite_file(\"started\", d + \"\\n\");\nsleep(600);\n",
    );
    let child = t.spawn(&["waits"]);
    let dir = wait_for_file(&t.path().join("started"));
    let dir = dir.trim();
    assert!(std::path::Path::new(dir).is_dir());
    signal(child.id(), Signal::Int);
    let output = finish(child, "adminsh to stop");
    assert_eq!(output.status.code(), Some(130));
    assert!(!std::path::Path::new(dir).exists(), "{dir} is left");
    // And in the console.
    let done = Test::new()
        .stdin("let d = temp_dir();\nprint(d);\n")
        .any_stdout()
        .run();
    let dir = done.stdout.lines().next().unwrap().to_owned();
    assert!(!std::path::Path::new(&dir).exists(), "{dir} is left");
}
