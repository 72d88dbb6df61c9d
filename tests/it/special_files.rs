//! Special files where a script or its configuration expects a regular one: a FIFO nobody
//! writes, `/dev/zero`, `/dev/null`. Nothing blocks on one (a FIFO at the other end never
//! comes) and nothing grows without bound on one: each row is refused at once, naming the file
//! and what it is. (Reading and writing a FIFO as such is `attack_files.rs`; waits on one that
//! stop on Ctrl-C are `interrupt.rs`.)

use crate::attack_files::mkfifo;
use crate::support::Test;
use crate::support::processes::finish;

/// (what, the script, what stderr holds)
const ROWS: &[(&str, &str, &str)] = &[
    (
        "copy from a FIFO",
        "copy(\"pipe\", \"x\")",
        "cannot copy `pipe`: it is a FIFO, not a regular file",
    ),
    (
        "copy into a FIFO",
        "copy(\"x.txt\", \"pipe\")",
        "cannot copy `x.txt`: `pipe` is a FIFO, not a regular file",
    ),
    (
        "copy from a device",
        "copy(\"/dev/zero\", \"x\")",
        "cannot copy `/dev/zero`: it is a device, not a regular file",
    ),
    (
        "copy into a device",
        "copy(\"x.txt\", \"/dev/null\")",
        "cannot copy `x.txt`: `/dev/null` is a device, not a regular file",
    ),
    (
        "copy of a directory holding a FIFO",
        "copy(\"dir\", \"dir2\")",
        "cannot copy `dir`: `dir/pipe` is a FIFO, not a regular file",
    ),
    (
        "a digest of a FIFO",
        "sha1_file(\"pipe\")",
        "sha1_file: cannot read `pipe`: it is a FIFO, not a regular file",
    ),
    (
        "a digest of a device",
        "sha256_file(\"/dev/zero\")",
        "sha256_file: cannot read `/dev/zero`: it is a device, not a regular file",
    ),
    (
        "an HTTP CA file that is a FIFO",
        "http_get(\"https://127.0.0.1:9/\", #{ca_file: \"pipe\"})",
        "http: cannot read the ca_file `pipe`: it is a FIFO, not a regular file",
    ),
    (
        "an HTTP CA file that is /dev/zero",
        "http_get(\"https://127.0.0.1:9/\", #{ca_file: \"/dev/zero\"})",
        "http: cannot read the ca_file `/dev/zero`: it is a device, not a regular file",
    ),
    (
        "a PostgreSQL sslrootcert that is a FIFO",
        "db::connect(\"postgres://u@127.0.0.1:9/x?sslmode=verify-full&sslrootcert=pipe\")",
        "cannot read sslrootcert pipe: it is a FIFO, not a regular file",
    ),
    (
        "a MySQL CA that is /dev/zero",
        "db::connect(\"mysql://u@127.0.0.1:9/x?ssl-mode=VERIFY_CA&ssl-ca=/dev/zero\")",
        "cannot read sslrootcert /dev/zero: it is a device, not a regular file",
    ),
    (
        "read_file of /dev/zero",
        "read_file(\"/dev/zero\")",
        "cannot read `/dev/zero`: it holds more than 2 GiB, the longest string a script may hold",
    ),
];

#[test]
fn special_files_are_refused_at_once_naming_them() {
    let mut failures = Vec::new();
    for (what, script, says) in ROWS {
        let app = Test::new().file("x.txt", "x\n");
        mkfifo(&app.path().join("pipe"));
        std::fs::create_dir(app.path().join("dir")).unwrap();
        mkfifo(&app.path().join("dir/pipe"));
        // A wait on the FIFO would end here, failing the test, not hang it.
        let output = finish(app.spawn(&["-e", script]), what);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if output.status.code() != Some(1) || !stderr.contains(says) {
            failures.push(format!(
                "{what}: exit {:?}, stderr {stderr}",
                output.status.code()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_manifest_that_is_a_fifo_is_refused_at_once() {
    let app = Test::bare();
    mkfifo(&app.path().join("adminsh.toml"));
    let output = finish(app.spawn(&["-e", "1"]), "a FIFO manifest");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("adminsh.toml: it is a FIFO, not a regular file"),
        "{stderr}"
    );
}
