//! adminsh maintains itself with itself: the repository's own admin scripts (`scripts/`, with
//! `adminsh.toml` at the root) are listed with their summaries and all compile.

use std::path::Path;

use crate::support::Test;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_repository_lists_and_checks_its_own_scripts() {
    let root = repo().canonicalize().unwrap();
    Test::bare()
        .arg("-C")
        .arg(&root)
        .arg("--list")
        .stdout(&format!(
            "Scripts of adminsh in {}/scripts:\n{}",
            root.display(),
            [
                "    bench  [--quick]  # Run the benchmarks (benches/run.sh) against their baselines and show the report.\n",
                "    check  [--fix] [--quick]  # The pre-commit checks: formatting, clippy (pedantic, warnings as errors), the test suite.\n",
                "    dist   # Build the binary to ship (`cargo dist`: static, release profile); print its size and SHA-256.\n",
            ]
            .concat()
        ))
        .run();
    Test::bare()
        .arg("-C")
        .arg(&root)
        .arg("--check")
        .stdout("3 scripts ok\n")
        .run();
}

#[test]
fn the_license_is_the_one_cargo_toml_names() {
    let manifest = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    assert!(manifest.contains("license = \"MIT\""));
    let license = std::fs::read_to_string(repo().join("LICENSE")).unwrap();
    assert!(license.starts_with("MIT License\n\nCopyright (c) 2026 the adminsh authors\n"));
}
