//! Checks on the source itself, run with the tests: it is formatted as `cargo fmt` would, and
//! nothing in it writes with a macro that panics on a closed pipe.

use std::process::Command;

use crate::support::tools::require;

#[test]
fn the_code_is_formatted() {
    require!(Rustfmt);
    let output = Command::new(env!("CARGO"))
        .args(["fmt", "--check"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "`cargo fmt --check` wants changes (run `cargo fmt`):\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_readme_names_the_minimum_rust_version() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let version = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .expect("Cargo.toml declares its rust-version")
        .trim_matches('"');
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let prerequisites = format!("Rust {version} or later");
    assert!(
        readme.contains(&prerequisites),
        "the README's prerequisites do not say {prerequisites:?}"
    );
}

/// `print!`, `println!`, `eprint!` and `eprintln!` panic when the reader has gone away
/// (`adminsh x | head -1`), which aborts adminsh mid-run; everything adminsh writes goes
/// through `log.rs` and the sinks instead.
#[test]
fn no_print_macros_in_the_source() {
    let mut found = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src"
    ))];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (number, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                let printing = ["print!", "println!", "eprint!", "eprintln!"]
                    .iter()
                    .any(|name| {
                        code.match_indices(name).any(|(at, _)| {
                            let before = code[..at].chars().next_back();
                            !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                        })
                    });
                if printing {
                    found.push(format!(
                        "{}:{}: {}",
                        path.display(),
                        number + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "print macros panic on a closed pipe; write through crate::log instead:\n{}",
        found.join("\n")
    );
}
