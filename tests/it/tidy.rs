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
