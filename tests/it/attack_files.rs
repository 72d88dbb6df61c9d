//! Files under attack and under careless use: `write_file` through Capistrano's shared-config
//! symlinks keeps the link and the target's owner and mode; a FIFO is written into, not
//! replaced. Each table row is a fixture, one `write_file`, and what the user then finds.

use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt, symlink};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use crate::support::Test;

fn euid() -> u32 {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() }
}

fn write(path: &Path, text: &str, mode: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    if euid() == 0 {
        // Someone else's file (the app user's, say): root must give it back to them.
        std::os::unix::fs::chown(path, Some(65534), Some(65534)).unwrap();
    }
}

fn link(target: impl AsRef<Path>, at: &Path) {
    std::fs::create_dir_all(at.parent().unwrap()).unwrap();
    symlink(target, at).unwrap();
}

struct Row {
    what: &'static str,
    /// Builds the fixture in (release, shared dir outside it); returns the file that must hold
    /// the new text and the mode it must have (`None`: a new file, the umask decides).
    setup: fn(&Path, &Path) -> (PathBuf, Option<u32>),
    /// What the script writes, relative to the release root.
    path: &'static str,
    /// Links (relative to the release root) that must still be links, to what they were.
    links: &'static [&'static str],
}

#[test]
fn write_file_writes_through_links_and_keeps_owner_and_mode() {
    let rows = [
        Row {
            what: "a plain file with mode 0640",
            setup: |app, _| {
                write(&app.join("config/app.yml"), "old\n", 0o640);
                (app.join("config/app.yml"), Some(0o640))
            },
            path: "config/app.yml",
            links: &[],
        },
        Row {
            what: "Capistrano's absolute link into shared/",
            setup: |app, shared| {
                write(&shared.join("config/database.yml"), "old\n", 0o600);
                link(
                    shared.join("config/database.yml"),
                    &app.join("config/database.yml"),
                );
                (shared.join("config/database.yml"), Some(0o600))
            },
            path: "config/database.yml",
            links: &["config/database.yml"],
        },
        Row {
            what: "a chain of links, relative then absolute",
            setup: |app, shared| {
                write(&shared.join("secrets.env"), "old\n", 0o640);
                link(shared.join("secrets.env"), &app.join("config/b"));
                link("b", &app.join("config/a"));
                (shared.join("secrets.env"), Some(0o640))
            },
            path: "config/a",
            links: &["config/a", "config/b"],
        },
        Row {
            what: "a relative link up and across",
            setup: |app, _| {
                write(&app.join("shared/config/r.yml"), "old\n", 0o604);
                link("../shared/config/r.yml", &app.join("config/r.yml"));
                (app.join("shared/config/r.yml"), Some(0o604))
            },
            path: "config/r.yml",
            links: &["config/r.yml"],
        },
        Row {
            what: "a dangling link: the file is created where it points",
            setup: |app, shared| {
                std::fs::create_dir_all(shared.join("config")).unwrap();
                link(shared.join("config/new.yml"), &app.join("config/new.yml"));
                (shared.join("config/new.yml"), None)
            },
            path: "config/new.yml",
            links: &["config/new.yml"],
        },
        Row {
            what: "a new file",
            setup: |app, _| {
                std::fs::create_dir_all(app.join("tmp")).unwrap();
                (app.join("tmp/report.txt"), None)
            },
            path: "tmp/report.txt",
            links: &[],
        },
    ];
    for row in rows {
        let shared = tempfile::tempdir().unwrap();
        let app = Test::new();
        let (target, mode) = (row.setup)(app.path(), shared.path());
        let before = std::fs::metadata(&target).ok();
        let links: Vec<(String, PathBuf)> = row
            .links
            .iter()
            .map(|l| {
                (
                    l.to_string(),
                    std::fs::read_link(app.path().join(l)).unwrap(),
                )
            })
            .collect();
        let done = app
            .args(&["-e", &format!("write_file({:?}, \"new\\n\")", row.path)])
            .run();
        let what = row.what;
        assert_eq!(
            std::fs::read_to_string(&target).unwrap(),
            "new\n",
            "{what}: the target holds the new text"
        );
        for (l, was) in links {
            assert_eq!(
                std::fs::read_link(done.path().join(&l)).ok(),
                Some(was),
                "{what}: {l} is still the same link"
            );
        }
        let after = std::fs::metadata(&target).unwrap();
        assert!(after.is_file(), "{what}");
        if let Some(mode) = mode {
            assert_eq!(after.mode() & 0o7777, mode, "{what}: mode kept");
        }
        if let Some(before) = before {
            assert_eq!(
                (after.uid(), after.gid()),
                (before.uid(), before.gid()),
                "{what}: owner and group kept"
            );
        }
        let leftovers: Vec<_> = std::fs::read_dir(target.parent().unwrap())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains(".adminsh-"))
            .collect();
        assert!(
            leftovers.is_empty(),
            "{what}: temp files left: {leftovers:?}"
        );
    }
}

#[test]
fn write_file_refusals_name_the_file_and_why() {
    type Fixture = fn(&Path);
    // (fixture, path, message)
    let rows: [(Fixture, &str, &str); 3] = [
        (
            |app| link("/nonexistent-dir/x.yml", &app.join("config/x.yml")),
            "config/x.yml",
            "-e:1:1: cannot write `config/x.yml` (a link to /nonexistent-dir/x.yml): no such file or directory\n",
        ),
        (
            |app| std::fs::create_dir_all(app.join("config/dir")).unwrap(),
            "config/dir",
            "-e:1:1: cannot write `config/dir`: it is a directory\n",
        ),
        (
            |app| {
                link("loop-b", &app.join("loop-a"));
                link("loop-a", &app.join("loop-b"));
            },
            "loop-a",
            "-e:1:1: cannot write `loop-a`: Too many levels of symbolic links (os error 40)\n",
        ),
    ];
    for (setup, path, message) in rows {
        let app = Test::new();
        setup(app.path());
        let script = format!("write_file({path:?}, \"new\\n\")");
        app.args(&["-e", &script])
            .status(1)
            .stderr(&format!("{message} 1 | {script}\n   | ^\n"))
            .run();
    }
}

#[test]
fn write_file_refuses_to_take_over_another_users_file() {
    if euid() != 0 {
        // Needs a second user to run adminsh as; root is what can make one.
        return;
    }
    let app = Test::new().file("config/app.yml", "old\n");
    let file = app.path().join("config/app.yml");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
    for dir in [app.path(), &app.path().join("config")] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let output = app
        .command()
        .args(["-e", "write_file(\"config/app.yml\", \"new\\n\")"])
        .uid(65534)
        .gid(65534)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with(
            "-e:1:1: cannot write `config/app.yml`: it belongs to uid 0 and adminsh runs as uid 65534"
        ),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "old\n");
    assert_eq!(std::fs::metadata(&file).unwrap().uid(), 0);
}

#[test]
fn write_file_into_a_fifo_writes_to_its_reader_and_leaves_the_fifo() {
    let app = Test::new();
    let fifo = app.path().join("pipe");
    mkfifo(&fifo);
    // The reading end, open before adminsh runs (non-blocking, so a regression cannot hang
    // the test): what adminsh writes waits in the pipe for it.
    let mut reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)
        .unwrap();
    let done = app
        .args(&["-e", "write_file(\"pipe\", \"through the pipe\\n\")"])
        .run();
    let mut got = String::new();
    std::io::Read::read_to_string(&mut reader, &mut got).unwrap();
    assert_eq!(got, "through the pipe\n");
    let kind = std::fs::symlink_metadata(done.path().join("pipe")).unwrap();
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(&kind.file_type()));
}

pub(crate) fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

#[test]
fn read_file_of_a_fifo_reads_until_its_writer_closes_it() {
    let app = Test::new();
    let fifo = app.path().join("pipe");
    mkfifo(&fifo);
    let writer = std::thread::spawn(move || std::fs::write(fifo, "one\ntwo\n").unwrap());
    app.args(&["-e", "read_file(\"pipe\").split(\"\\n\")"])
        .stdout("[\"one\", \"two\", \"\"]\n")
        .run();
    writer.join().unwrap();
}

/// Code from outside the release (an absolute import, `..` out of it, a symlink or a
/// symlinked folder leading out) is refused naming the real path and the flag; the stdlib and
/// modules inside run; `--allow-outside-release` lets the rest run too.
#[test]
fn imports_from_outside_the_release_need_the_flag() {
    let outside = tempfile::tempdir().unwrap();
    let outside = outside.path().canonicalize().unwrap();
    std::fs::write(outside.join("mod.rhai"), "fn hi() { \"from outside\" }\n").unwrap();
    let module = outside.join("mod.rhai").display().to_string();
    let name = outside.file_name().unwrap().to_string_lossy();
    let rows = [
        format!("{}/mod", outside.display()),
        // scripts/ -> the app -> the temp dir holding both.
        format!("../../{name}/mod"),
        // A link in the release to the file outside, and one to the folder.
        "lib/link".to_owned(),
        "vendor/mod".to_owned(),
    ];
    for path in rows {
        let app = Test::new().script(
            "main",
            &format!("import \"std/db\" as db;\nimport {path:?} as m;\nprint(m::hi());\n"),
        );
        symlink(&module, app.path().join("scripts/lib-link.rhai")).unwrap();
        std::fs::create_dir(app.path().join("scripts/lib")).unwrap();
        std::fs::rename(
            app.path().join("scripts/lib-link.rhai"),
            app.path().join("scripts/lib/link.rhai"),
        )
        .unwrap();
        symlink(&outside, app.path().join("scripts/vendor")).unwrap();
        app.arg("main")
            .status(1)
            .stderr_contains(&format!(
                "scripts/main.rhai:2:8: `import \"{path}\"`: {module} is outside the release at "
            ))
            .stderr_contains(": admin code must ship with the release it runs against (pass --allow-outside-release to run it anyway)\n")
            .run()
            .again()
            .args(&["--allow-outside-release", "main"])
            .stdout("from outside\n")
            .run();
    }
    // Inside: a module beside the script, and from -e one relative to the release root.
    Test::new()
        .script("lib/inside", "fn hi() { \"from inside\" }\n")
        .script("main", "import \"lib/inside\" as m;\nprint(m::hi());\n")
        .arg("main")
        .stdout("from inside\n")
        .run()
        .again()
        .args(&["-e", "import \"scripts/lib/inside\" as m; m::hi()"])
        .stdout("from inside\n")
        .run();
}

/// The console's `:load` of a file outside the release is refused the same way.
#[test]
fn console_load_from_outside_the_release_needs_the_flag() {
    let outside = tempfile::tempdir().unwrap();
    let outside = outside.path().canonicalize().unwrap();
    let file = outside.join("x.rhai");
    std::fs::write(&file, "print(\"loaded\");\n").unwrap();
    let rows = [
        file.display().to_string(),
        format!(
            "../{}/x.rhai",
            outside.file_name().unwrap().to_string_lossy()
        ),
    ];
    for wanted in rows {
        let app = Test::new();
        let root = app.path().canonicalize().unwrap();
        app.stdin(&format!(":load {wanted}\n"))
            .status(1)
            .stderr(&format!(
                ":load {wanted}: {} is outside the release at {}: admin code must ship with the release it runs against (pass --allow-outside-release to run it anyway)\n",
                file.display(),
                root.display()
            ))
            .run()
            .again()
            .arg("--allow-outside-release")
            .stdin(&format!(":load {wanted}\n"))
            .stdout("loaded\n")
            .run();
    }
}

/// A module file that cannot be used says why, naming the file: not UTF-8 (with the byte),
/// importing itself in a circle (which overflowed the stack), a FIFO (which would block).
#[test]
fn module_files_that_cannot_be_used_say_why() {
    type Fixture = fn(&Path);
    let rows: [(Fixture, &str); 3] = [
        (
            |lib| std::fs::write(lib.join("m.rhai"), b"// caf\xe9\n").unwrap(),
            "scripts/main.rhai:1:8: module scripts/lib/m.rhai is not UTF-8 text (invalid byte at offset 6)\n 1 | import \"lib/m\" as m;\n   |        ^\n",
        ),
        (
            |lib| {
                std::fs::write(lib.join("m.rhai"), "import \"n\" as n;\n").unwrap();
                std::fs::write(lib.join("n.rhai"), "import \"m\" as m;\n").unwrap();
            },
            "scripts/lib/n.rhai:1:8: circular import: scripts/lib/m.rhai -> scripts/lib/n.rhai -> scripts/lib/m.rhai\n 1 | import \"m\" as m;\n   |        ^\n  in module `n`, imported at scripts/lib/m.rhai:1:8\n  in module `lib/m`, imported at scripts/main.rhai:1:8\n",
        ),
        (
            |lib| mkfifo(&lib.join("m.rhai")),
            "scripts/main.rhai:1:8: module scripts/lib/m.rhai is not a regular file\n 1 | import \"lib/m\" as m;\n   |        ^\n",
        ),
    ];
    for (setup, stderr) in rows {
        let app = Test::new().script("main", "import \"lib/m\" as m;\n");
        std::fs::create_dir(app.path().join("scripts/lib")).unwrap();
        setup(&app.path().join("scripts/lib"));
        app.arg("main").status(1).stderr(stderr).run();
    }
    // A module that exists but cannot be resolved (a symlink to itself) is not "not found":
    // the error says what the system said.
    let app = Test::new().script("main", "import \"lib/m\" as m;\n");
    std::fs::create_dir(app.path().join("scripts/lib")).unwrap();
    std::os::unix::fs::symlink("m.rhai", app.path().join("scripts/lib/m.rhai")).unwrap();
    let module = app.path().join("scripts/lib/m.rhai");
    let stderr = format!(
        "scripts/main.rhai:1:8: cannot read module {}: Too many levels of symbolic links (os error 40)\n 1 | import \"lib/m\" as m;\n   |        ^\n",
        module.display()
    );
    app.arg("main").status(1).stderr(&stderr).run();
}
