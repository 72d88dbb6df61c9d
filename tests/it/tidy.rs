//! Checks on the source itself, run with the tests: it is formatted as `cargo fmt` would,
//! nothing in it writes with a macro that panics on a closed pipe, and every import points down
//! the layers ARCHITECTURE.md draws.

use std::path::{Path, PathBuf};
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

/// Every `.rs` file under `src/`, with its text.
fn sources() -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    let mut dirs = vec![PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                found.push((path, text));
            }
        }
    }
    found.sort();
    found
}

/// The layers of ARCHITECTURE.md's table, top first: each row's top-level modules.
fn layers(map: &str) -> Vec<(String, Vec<String>)> {
    let table = map
        .split("<!-- layers -->")
        .nth(1)
        .expect("ARCHITECTURE.md marks its layer table with <!-- layers --> before and after");
    table
        .lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("| layer") && !l.starts_with("| ---"))
        .map(|row| {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            let modules = cells[2]
                .split(',')
                .map(|m| m.trim().trim_matches('`').trim_end_matches('/').to_owned())
                .collect();
            (cells[1].to_owned(), modules)
        })
        .collect()
}

/// The top-level modules a file's program code (its tests left out) names as `crate::...`.
fn imports(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        // A file's test module is its last item: nothing after it is the program.
        if trimmed.starts_with("mod tests") || trimmed.starts_with("pub(crate) mod tests") {
            break;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let before = rest[..at].chars().next_back();
            rest = &rest[at + "crate::".len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            if rest.starts_with('{') {
                // `crate::{a, b::{c, d}}`, over as many lines as it takes: the names at the
                // group's top level.
                let whole: Vec<&str> = text.lines().skip(number).collect();
                let whole = whole.join(" ");
                let group = &whole[whole.find("crate::{").unwrap_or(0) + "crate::{".len()..];
                found.extend(group_heads(group).into_iter().map(|m| (number + 1, m)));
                break;
            }
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.push((number + 1, name));
            }
        }
    }
    found
}

/// The first segment of each path at the top level of a `use` group: `a, b::{c, d}}` gives
/// `a` and `b`.
fn group_heads(group: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut at_start = true;
    let mut word = String::new();
    for c in group.chars() {
        if at_start && (c.is_alphanumeric() || c == '_') {
            word.push(c);
            continue;
        }
        if at_start && !word.is_empty() {
            if word != "self" {
                heads.push(std::mem::take(&mut word));
            }
            word.clear();
            at_start = false;
        }
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => at_start = true,
            _ => {}
        }
    }
    if at_start && !word.is_empty() && word != "self" {
        heads.push(word);
    }
    heads
}

/// The top-level module a file under `src/` belongs to: `host` for `src/host/db/api.rs`.
fn top_module(path: &Path) -> String {
    let relative = path
        .strip_prefix(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))
        .unwrap();
    let first = relative.components().next().unwrap().as_os_str();
    first.to_string_lossy().trim_end_matches(".rs").to_owned()
}

/// ARCHITECTURE.md's layer table is the truth about imports: a module imports only from its
/// own row or a row below, every module has a row, and every row names modules that exist.
#[test]
fn every_import_points_down_the_layers_of_the_architecture_map() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let map = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let layers = layers(&map);
    assert!(layers.len() >= 5, "{layers:?}");
    let row_of = |module: &str| {
        layers
            .iter()
            .position(|(_, ms)| ms.iter().any(|m| m == module))
    };
    let sources = sources();
    let modules: std::collections::BTreeSet<String> =
        sources.iter().map(|(path, _)| top_module(path)).collect();
    let unmapped: Vec<&String> = modules.iter().filter(|m| row_of(m).is_none()).collect();
    assert!(
        unmapped.is_empty(),
        "modules with no row in ARCHITECTURE.md's layer table: {unmapped:?}"
    );
    let stale: Vec<&String> = layers
        .iter()
        .flat_map(|(_, ms)| ms)
        .filter(|m| !modules.contains(*m))
        .collect();
    assert!(
        stale.is_empty(),
        "ARCHITECTURE.md names modules that do not exist: {stale:?}"
    );
    let mut upward = Vec::new();
    for (path, text) in &sources {
        let from = top_module(path);
        let Some(from_row) = row_of(&from) else {
            continue;
        };
        for (line, to) in imports(text) {
            if let Some(to_row) = row_of(&to)
                && to_row < from_row
            {
                upward.push(format!(
                    "{}:{line}: {from} ({}) imports {to} ({}), a layer above",
                    path.display(),
                    layers[from_row].0,
                    layers[to_row].0
                ));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports up the layers:\n{}",
        upward.join("\n")
    );
}

#[test]
fn the_layer_check_sees_imports_in_every_form() {
    let text = "use crate::a::B;\nuse crate::{c, d::E,\n    f::{G, H}};\nfn x() { crate::i::j(); }\n// crate::k\nmod tests {\n use crate::l;\n}\n";
    let found: Vec<String> = imports(text).into_iter().map(|(_, m)| m).collect();
    assert_eq!(found, ["a", "c", "d", "f", "i"]);
}

/// `print!`, `println!`, `eprint!` and `eprintln!` panic when the reader has gone away
/// (`adminsh x | head -1`), which aborts adminsh mid-run; everything adminsh writes goes
/// through `log.rs` and the sinks instead.
#[test]
fn no_print_macros_in_the_source() {
    let mut found = Vec::new();
    for (path, text) in sources() {
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
    assert!(
        found.is_empty(),
        "print macros panic on a closed pipe; write through crate::log instead:\n{}",
        found.join("\n")
    );
}
