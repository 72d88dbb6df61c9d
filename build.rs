//! A statically linked glibc build exports `posix_spawn_file_actions_addchdir_np` (and only
//! it): std looks it up at run time (dlsym), and a static binary's lookup finds only what the
//! binary exports. Found, a command whose directory is not adminsh's own starts with
//! `posix_spawn` like the others, instead of a fork + exec (`src/process/build.rs`). A dynamic
//! list works with every GNU ld and lld, unlike `--export-dynamic-symbol` (binutils 2.35).

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let static_glibc = var("CARGO_CFG_TARGET_OS") == "linux"
        && var("CARGO_CFG_TARGET_ENV") == "gnu"
        && var("CARGO_CFG_TARGET_FEATURE")
            .split(',')
            .any(|f| f == "crt-static");
    if !static_glibc {
        return;
    }
    let list = PathBuf::from(var("OUT_DIR")).join("exported.list");
    std::fs::write(&list, "{ posix_spawn_file_actions_addchdir_np; };\n")
        .expect("cannot write the dynamic list into OUT_DIR");
    println!(
        "cargo:rustc-link-arg-bins=-Wl,--dynamic-list={}",
        list.display()
    );
}
