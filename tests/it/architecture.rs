//! ARCHITECTURE.md cannot drift from the tree: every path it names exists, and every folder of
//! the code (`src/` and `tests/it/` all the way down, and each top-level folder) is named in it.
//! The layers it draws are held to the imports by `tidy.rs`.

use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// What a file name ends with when a code span names a file rather than a function or a flag.
const FILE_ENDINGS: &[&str] = &[
    ".rs", ".md", ".toml", ".sh", ".py", ".rhai", ".html", ".js", ".css", ".txt", ".lock",
];

/// The code spans of a piece of text that name a path: `src/host/`, `walk.rs`, `.ci/run`,
/// `templates/*.html`. Absolute paths (`/etc/passwd`), paths out of the repository
/// (`../shared/...`), build output (`target/...`) and stdlib modules as scripts import them
/// (`std/pg`) are not the repository's.
fn paths(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|span| {
            !span.is_empty()
                && span
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.*/-".contains(c))
                && (span.ends_with('/')
                    || span.contains('/')
                    || FILE_ENDINGS.iter().any(|e| span.ends_with(e)))
                && !span.starts_with('/')
                && !span.starts_with("..")
                && !span.starts_with("target/")
                && !span.starts_with("std/")
        })
        .map(str::to_owned)
        .collect()
}

/// Every file and folder under `dir`, `target/`, `.git/` and the rendered book left out.
fn tree(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if [".git", "target", "book", ".venv", ".adminsh", "__pycache__"]
                .iter()
                .any(|n| name == *n)
            {
                continue;
            }
            if path.is_dir() {
                dirs.push(path.clone());
            }
            found.push(path);
        }
    }
    found
}

/// Where a span may be relative to: the folders the row's first cell names (a file's folder for
/// a file) in the "Where things live" table, with everything below them; then the repository's
/// root and `src/`.
struct Bases {
    own: Vec<PathBuf>,
}

impl Bases {
    fn of_row(first_cell: &str) -> Self {
        let mut own = Vec::new();
        for span in paths(first_cell) {
            let path = root().join(&span);
            if span.ends_with('/') {
                own.push(path);
            } else if let Some(parent) = path.parent() {
                own.push(parent.to_path_buf());
            }
        }
        Bases { own }
    }

    /// Outside the table, a file's name alone (a folder's `mod.rs`) may be any file of that
    /// name in `src/`.
    fn prose() -> Self {
        Bases {
            own: vec![root().join("src")],
        }
    }

    /// What `span` names: a path that exists relative to one of the bases, or a file or
    /// folder of that name anywhere below a row's own folders. A glob names its folder.
    fn resolve(&self, span: &str) -> Option<PathBuf> {
        let span = match span.find('*') {
            Some(star) => &span[..span[..star].rfind('/').map_or(0, |slash| slash + 1)],
            None => span,
        };
        let relative = span.trim_end_matches('/');
        if relative.is_empty() {
            return None;
        }
        let everywhere = self
            .own
            .iter()
            .cloned()
            .chain([root().to_path_buf(), root().join("src")]);
        for base in everywhere {
            let path = base.join(relative);
            if path.exists() && (path.is_dir() || !span.ends_with('/')) {
                return Some(path);
            }
        }
        self.own.iter().find_map(|base| {
            tree(base)
                .into_iter()
                .find(|p| p.ends_with(relative) && (p.is_dir() || !span.ends_with('/')))
        })
    }
}

/// ARCHITECTURE.md's spans, each with what it resolves to (`None`: nothing there).
fn named() -> Vec<(String, Option<PathBuf>)> {
    let map = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let mut found = Vec::new();
    for line in map.lines() {
        let cells: Vec<&str> = line.split(" | ").collect();
        let (bases, text) = if line.starts_with("| `") && cells.len() >= 2 {
            (Bases::of_row(cells[0]), line)
        } else {
            (Bases::prose(), line)
        };
        for span in paths(text) {
            let resolved = bases.resolve(&span);
            found.push((span, resolved));
        }
    }
    found
}

#[test]
fn every_path_the_architecture_map_names_exists() {
    let named = named();
    assert!(named.len() > 100, "{}", named.len());
    let missing: Vec<&String> = named
        .iter()
        .filter(|(_, resolved)| resolved.is_none())
        .map(|(span, _)| span)
        .collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names paths that do not exist: {missing:?}"
    );
}

#[test]
fn every_folder_is_named_in_the_architecture_map() {
    let named: Vec<PathBuf> = named().into_iter().filter_map(|(_, p)| p).collect();
    let mut folders: Vec<PathBuf> = ["src", "tests/it"]
        .iter()
        .flat_map(|dir| tree(&root().join(dir)))
        .filter(|p| p.is_dir())
        .collect();
    folders.extend(
        std::fs::read_dir(root())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .filter(|p| {
                let name = p.file_name().unwrap().to_string_lossy();
                !["target", ".git", ".adminsh"].contains(&name.as_ref())
            }),
    );
    folders.push(root().join("tests"));
    folders.sort();
    let unnamed: Vec<String> = folders
        .iter()
        .filter(|folder| !named.iter().any(|p| p.starts_with(folder)))
        .map(|f| f.strip_prefix(root()).unwrap().display().to_string())
        .collect();
    assert!(
        unnamed.is_empty(),
        "folders ARCHITECTURE.md does not name (give each a row or a mention in its parent's row): {unnamed:?}"
    );
}
