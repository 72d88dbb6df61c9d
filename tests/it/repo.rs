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
                "    deb    [--no-build] [--fast] [--output <path>]  # Build the Debian package (cargo-deb): the static binary, its man page and shell completions.\n",
                "    dist   # Build the binary to ship (`cargo dist`: static, release profile); print its size and SHA-256.\n",
            ]
            .concat()
        ))
        .run();
    Test::bare()
        .arg("-C")
        .arg(&root)
        .arg("--check")
        .stdout("4 scripts ok\n")
        .run();
}

#[test]
fn the_license_is_the_one_cargo_toml_names() {
    let manifest = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    assert!(manifest.contains("license = \"MIT\""));
    let license = std::fs::read_to_string(repo().join("LICENSE")).unwrap();
    assert!(license.starts_with("MIT License\n\nCopyright (c) 2026 the adminsh authors\n"));
}

/// Whether an ELF executable names a dynamic loader (`PT_INTERP`): it is dynamically linked.
fn has_interpreter(elf: &[u8]) -> bool {
    let u16_at = |at: usize| usize::from(u16::from_le_bytes([elf[at], elf[at + 1]]));
    let u64_at = |at: usize| {
        usize::try_from(u64::from_le_bytes(elf[at..at + 8].try_into().unwrap())).unwrap()
    };
    assert_eq!(&elf[..5], b"\x7fELF\x02", "a 64-bit ELF file");
    let (offset, size, count) = (u64_at(0x20), u16_at(0x36), u16_at(0x38));
    (0..count).any(|i| {
        let header = offset + i * size;
        u32::from_le_bytes(elf[header..header + 4].try_into().unwrap()) == 3
    })
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn every_build_is_statically_linked_so_the_installed_one_starts_fast() {
    // The tests' adminsh is built as `cargo install --path .` builds it: the same
    // .cargo/config.toml, so the same static binary as `cargo dist`.
    let elf = std::fs::read(crate::support::BIN).unwrap();
    assert!(
        !has_interpreter(&elf),
        "{} is dynamically linked",
        crate::support::BIN
    );
    assert!(has_interpreter(&std::fs::read("/bin/sh").unwrap()));
}
