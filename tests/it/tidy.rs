//! Checks on the source itself, run with the tests: it is formatted as `cargo fmt` would.

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
