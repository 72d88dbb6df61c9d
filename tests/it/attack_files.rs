//! Files under attack and under careless use: `write_file` through Capistrano's shared-config
//! symlinks keeps the link and the target's owner and mode; a FIFO is written into, not
//! replaced. Each table row is a fixture, one `write_file`, and what the user then finds.

use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt, symlink};
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
    use std::os::unix::process::CommandExt;
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

pub fn mkfifo(path: &Path) {
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
