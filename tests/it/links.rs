//! File operations and links: Capistrano's layout, where `shared` in the release is a link to a
//! directory outside it and `config/db.yml` a link to a file there. Each row runs one script
//! with a link at some position of its path and `/`, `.` or `..` at the end, and then looks at
//! what lies outside: a link named (however it is spelt) is acted on itself, never what it
//! points at; a link on the way to a name is the route the script chose.

use std::os::unix::fs::symlink;
use std::path::Path;

use crate::support::Test;

/// What a path must be after the script ran.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Is {
    /// A file holding this text.
    File(&'static str),
    Dir,
    Link,
    Missing,
}

struct Row {
    /// The script; `$S` is the shared directory's path.
    script: &'static str,
    status: i32,
    /// What stdout is (status 0) or what stderr holds (otherwise).
    says: &'static str,
    /// Paths (`S/...` outside, `app/...` in the release) and what they must be, on top of the
    /// fixture's own: `S/keep.txt`, `S/sub/deep.txt`, `app/shared` and `app/config/db.yml`
    /// unchanged.
    then: &'static [(&'static str, Is)],
}

const fn ok(script: &'static str, says: &'static str, then: &'static [(&'static str, Is)]) -> Row {
    Row {
        script,
        status: 0,
        says,
        then,
    }
}

const fn refused(script: &'static str, says: &'static str) -> Row {
    Row {
        script,
        status: 1,
        says,
        then: &[],
    }
}

const SHARED_GONE: &[(&str, Is)] = &[("app/shared", Is::Missing)];

fn rows() -> Vec<Row> {
    vec![
        // remove: the link itself, however it is spelt.
        ok("print(remove(\"shared\"))", "true\n", SHARED_GONE),
        ok("print(remove(\"shared/\"))", "true\n", SHARED_GONE),
        ok("print(remove(\"shared/.\"))", "true\n", SHARED_GONE),
        ok("print(remove(\"shared/./\"))", "true\n", SHARED_GONE),
        ok("print(remove(\"shared/sub/..\"))", "true\n", SHARED_GONE),
        ok("print(remove(\"shared/sub/../\"))", "true\n", SHARED_GONE),
        ok("print(remove(\"./shared//\"))", "true\n", SHARED_GONE),
        ok(
            "print(remove(\"config/db.yml\"))",
            "true\n",
            &[("app/config/db.yml", Is::Missing)],
        ),
        ok(
            "print(remove(\"config/db.yml/\"))",
            "true\n",
            &[("app/config/db.yml", Is::Missing)],
        ),
        ok(
            "print(remove(\"config/db.yml/.\"))",
            "true\n",
            &[("app/config/db.yml", Is::Missing)],
        ),
        // A link on the way is the route the script chose: what it names there goes.
        ok(
            "print(remove(\"shared/sub\"))",
            "true\n",
            &[("S/sub/deep.txt", Is::Missing), ("S/sub", Is::Missing)],
        ),
        ok(
            "print(remove(\"shared/sub/deep.txt/\"))",
            "true\n",
            &[("S/sub/deep.txt", Is::Missing)],
        ),
        ok(
            "print(remove(\"shared/nothing/..\"))",
            "true\n",
            SHARED_GONE,
        ),
        ok("print(remove(\"nothing/\"))", "false\n", &[]),
        ok("print(remove(\"nothing/deeper/\"))", "false\n", &[]),
        // A tree of directories within directories, with links to the outside at each level:
        // the tree goes, what the links lead to stays.
        ok(
            "print(remove(\"tree\"))",
            "true\n",
            &[("app/tree", Is::Missing)],
        ),
        // A directory holding a link to the outside: the link goes, not what it leads to.
        ok(
            "print(remove(\"config\"))",
            "true\n",
            &[
                ("app/config", Is::Missing),
                ("app/config/db.yml", Is::Missing),
            ],
        ),
        refused(
            "remove(\".\")",
            "remove(\".\") refused: it is the release root",
        ),
        refused("remove(\"shared/..\")", "refused: it is the release root"),
        refused("remove(\"config/..\")", "refused: it is the release root"),
        refused("remove(\"./\")", "refused: it is the release root"),
        refused("remove(\"..\")", "which holds the release"),
        refused("remove(\"../..\")", "which holds the release"),
        refused(
            "remove(\"/\")",
            "remove(\"/\") refused: it is /, which holds the release",
        ),
        refused("remove(\"/..\")", "refused: it is /"),
        // rename: the link moves; what it leads to stays where it is.
        ok(
            "rename(\"shared/\", \"old\")",
            "",
            &[("app/shared", Is::Missing), ("app/old", Is::Link)],
        ),
        ok(
            "rename(\"shared/sub/..\", \"old/\")",
            "",
            &[("app/shared", Is::Missing), ("app/old", Is::Link)],
        ),
        ok(
            "rename(\"config/db.yml/\", \"db.yml\")",
            "",
            &[("app/config/db.yml", Is::Missing), ("app/db.yml", Is::Link)],
        ),
        refused(
            "rename(\"shared/..\", \"x\")",
            "refused: it is the release root",
        ),
        refused(
            "rename(\"x.txt\", \".\")",
            "refused: it is the release root",
        ),
        refused(
            "rename(\"x.txt\", \"shared/..\")",
            "refused: it is the release root",
        ),
        // copy: a directory named through a link is copied as what it holds; the copy is
        // made anew, and nothing outside changes.
        ok(
            "copy(\"shared/\", \"backup\")",
            "",
            &[
                ("app/backup", Is::Dir),
                ("app/backup/keep.txt", Is::File("keep\n")),
            ],
        ),
        ok(
            "copy(\"shared/sub/..\", \"backup/\")",
            "",
            &[("app/backup/sub/deep.txt", Is::File("deep\n"))],
        ),
        ok(
            "copy(\"config\", \"c2\")",
            "",
            &[("app/c2/db.yml", Is::Link), ("app/c2", Is::Dir)],
        ),
        refused(
            "copy(\"x.txt\", \"shared/\")",
            "cannot copy `x.txt`: `shared`: it is a directory",
        ),
        refused(
            "copy(\"shared/.\", \"shared/sub/../copy\")",
            "refused: `shared/sub/../copy` is inside the directory it would copy",
        ),
        // Writing the contents of a file goes through a link named last (as write_file does).
        ok(
            "copy(\"x.txt\", \"config/db.yml\")",
            "",
            &[
                ("S/keep.txt", Is::File("x\n")),
                ("app/config/db.yml", Is::Link),
            ],
        ),
        ok(
            "append_file(\"config/db.yml/\", \"more\\n\")",
            "",
            &[("S/keep.txt", Is::File("keep\nmore\n"))],
        ),
        refused(
            "append_file(\"shared/\", \"x\")",
            "cannot append to `shared/`: it is a directory",
        ),
        refused(
            "append_file(\"shared/sub/..\", \"x\")",
            "cannot append to `shared/sub/..`: it is a directory",
        ),
        refused("write_file(\"shared/\", \"x\")", "cannot write `shared/`"),
        refused(
            "write_file(\"shared/sub/../.\", \"x\")",
            "cannot write `shared/sub/../.`",
        ),
        // mkdir: through a link on the way; one named last already is a directory.
        ok("mkdir(\"shared/\")", "", &[("app/shared", Is::Link)]),
        ok("mkdir(\"shared/sub/..\")", "", &[]),
        ok("mkdir(\"shared/new/\")", "", &[("S/new", Is::Dir)]),
        // temp_dir's cleanup removes a link put in it, or in its place, never what it leads to.
        ok(
            "let t = temp_dir(); cmd(\"ln\", [\"-s\", \"$S\", `${t}/escape`]).read(); print(\"done\");",
            "done\n",
            &[],
        ),
        ok(
            "let t = temp_dir(); cmd(\"rmdir\", [t]).read(); cmd(\"ln\", [\"-s\", \"$S\", t]).read(); print(\"done\");",
            "done\n",
            &[],
        ),
    ]
}

/// The fixture: the shared directory outside and the release's links into it.
fn fixture(shared: &Path, app: &Path) {
    std::fs::write(shared.join("keep.txt"), "keep\n").unwrap();
    std::fs::create_dir(shared.join("sub")).unwrap();
    std::fs::write(shared.join("sub/deep.txt"), "deep\n").unwrap();
    symlink(shared, app.join("shared")).unwrap();
    std::fs::create_dir(app.join("config")).unwrap();
    symlink(shared.join("keep.txt"), app.join("config/db.yml")).unwrap();
    std::fs::write(app.join("x.txt"), "x\n").unwrap();
    std::fs::create_dir_all(app.join("tree/a/b")).unwrap();
    std::fs::write(app.join("tree/a/b/file"), "f\n").unwrap();
    symlink(shared, app.join("tree/out")).unwrap();
    symlink(shared.join("sub"), app.join("tree/a/b/out")).unwrap();
}

fn is(path: &Path) -> Is {
    match path.symlink_metadata() {
        Err(_) => Is::Missing,
        Ok(m) if m.is_symlink() => Is::Link,
        Ok(m) if m.is_dir() => Is::Dir,
        Ok(_) => Is::File(String::leak(std::fs::read_to_string(path).unwrap())),
    }
}

#[test]
fn file_operations_never_act_through_a_link_they_name() {
    let rows = rows();
    let mut failures = Vec::new();
    for row in &rows {
        let shared = tempfile::tempdir().unwrap();
        let app = Test::new();
        fixture(shared.path(), app.path());
        let script = row
            .script
            .replace("$S", &shared.path().display().to_string());
        let output = app.output(&["-e", &script]);
        let (stdout, stderr) = (
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
        let said = if row.status == 0 {
            stdout == row.says && stderr.is_empty()
        } else {
            stderr.contains(row.says)
        };
        if output.status.code() != Some(row.status) || !said {
            failures.push(format!(
                "{}: exit {:?}, stdout {stdout:?}, stderr {stderr:?}",
                row.script,
                output.status.code()
            ));
            continue;
        }
        let mut expected = vec![
            ("S/keep.txt", Is::File("keep\n")),
            ("S/sub/deep.txt", Is::File("deep\n")),
            ("app/shared", Is::Link),
            ("app/config/db.yml", Is::Link),
        ];
        for (path, state) in row.then {
            expected.retain(|(p, _)| p != path);
            expected.push((path, *state));
        }
        for (path, state) in expected {
            let full = match path.split_once('/') {
                Some(("S", rest)) => shared.path().join(rest),
                Some(("app", rest)) => app.path().join(rest),
                _ => unreachable!("{path}"),
            };
            let found = is(&full);
            if found != state {
                failures.push(format!(
                    "{}: {path} is {found:?}, expected {state:?}",
                    row.script
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}
