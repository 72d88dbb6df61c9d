//! `glob`'s walk: the directory tree read one entry at a time, checking for Ctrl-C and SIGTERM
//! between entries, so `glob("/**/*")` stops when told (the glob crate's iterator walks a
//! whole subtree inside one `next()` when nothing in it matches).
//!
//! Semantics are the glob crate's: `*`, `?`, `[...]` within one path component, `**` as a whole
//! component for any number of directories (none included), dot files matched by `*`, a trailing
//! `/` for directories only. One difference: `**` does not descend into symlinked directories,
//! so a link cycle cannot make the walk endless; a link named in the pattern is followed.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use glob::{MatchOptions, Pattern, PatternError};

/// Why a walk did not finish.
#[derive(Debug)]
pub(super) enum Error {
    Pattern(PatternError),
    /// A signal (its number) arrived during the walk.
    Interrupted(i32),
}

enum Part {
    Literal(String),
    Pattern(Pattern),
    /// `**`.
    AnyDirs,
}

const OPTIONS: MatchOptions = MatchOptions {
    case_sensitive: true,
    require_literal_separator: false,
    require_literal_leading_dot: false,
};

/// The paths matching `pattern` (absolute, or relative to the current directory), sorted.
/// `interrupted` is asked before each directory entry; a `Some(signal)` ends the walk.
pub(super) fn matches(
    pattern: &str,
    interrupted: &dyn Fn() -> Option<i32>,
) -> Result<Vec<PathBuf>, Error> {
    Pattern::new(pattern).map_err(Error::Pattern)?;
    let (start, rest) = match pattern.strip_prefix('/') {
        Some(rest) => (PathBuf::from("/"), rest),
        None => (PathBuf::new(), pattern),
    };
    let dirs_only = pattern.ends_with('/');
    let mut parts = rest
        .split('/')
        .filter(|part| !part.is_empty())
        .map(|part| match part {
            "**" => Ok(Part::AnyDirs),
            _ if part.contains(['*', '?', '[']) => Pattern::new(part).map(Part::Pattern),
            _ => Ok(Part::Literal(part.to_owned())),
        })
        .collect::<Result<Vec<Part>, PatternError>>()
        .map_err(Error::Pattern)?;
    // `**/**` matches what `**` does, in exponentially many ways: keep one.
    parts.dedup_by(|a, b| matches!((a, b), (Part::AnyDirs, Part::AnyDirs)));
    let check = || interrupted().map_or(Ok(()), |signal| Err(Error::Interrupted(signal)));
    let mut found = Vec::new();
    // (path, index of the next part to match). With two `**` apart (`**/x/**`), a state can
    // be reached in several ways: each is walked once.
    let several_any_dirs = parts.iter().filter(|p| matches!(p, Part::AnyDirs)).count() > 1;
    let mut seen = HashSet::new();
    let mut todo = vec![(start, 0)];
    while let Some((path, index)) = todo.pop() {
        check()?;
        if several_any_dirs && !seen.insert((path.clone(), index)) {
            continue;
        }
        let Some(part) = parts.get(index) else {
            if !dirs_only || is_dir(&path) {
                found.push(path);
            }
            continue;
        };
        let last = index + 1 == parts.len();
        match part {
            Part::Literal(name) => {
                let next = path.join(name);
                let exists = std::fs::symlink_metadata(&next).is_ok();
                if exists && (last || is_dir(&next)) {
                    todo.push((next, index + 1));
                }
            }
            Part::Pattern(pattern) => {
                for entry in entries(&path) {
                    check()?;
                    let name = entry.file_name();
                    let Some(name) = name.to_str() else { continue };
                    if pattern.matches_with(name, OPTIONS) {
                        let next = entry.path();
                        if last || is_dir(&next) {
                            todo.push((next, index + 1));
                        }
                    }
                }
            }
            Part::AnyDirs => {
                todo.push((path.clone(), index + 1));
                for entry in entries(&path) {
                    check()?;
                    if entry.file_type().is_ok_and(|t| t.is_dir()) {
                        todo.push((entry.path(), index));
                    }
                }
            }
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

/// A directory's entries; none when it cannot be read (as the glob crate skips it).
fn entries(dir: &Path) -> impl Iterator<Item = std::fs::DirEntry> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    std::fs::read_dir(dir).into_iter().flatten().flatten()
}

fn is_dir(path: &Path) -> bool {
    let path = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    path.is_dir()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for file in [
            "a.txt",
            ".hidden",
            "sub/b.txt",
            "sub/deep/c.txt",
            "sub/deep/d.log",
        ] {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
        std::os::unix::fs::symlink(dir.path(), dir.path().join("sub/loop")).unwrap();
        dir
    }

    #[test]
    fn matches_as_the_glob_crate_does_without_following_link_cycles() {
        let dir = tree();
        let root = dir.path().display().to_string();
        let cases: [(&str, &[&str]); 9] = [
            ("*.txt", &["a.txt"]),
            ("*", &[".hidden", "a.txt", "sub"]),
            ("**/*.txt", &["a.txt", "sub/b.txt", "sub/deep/c.txt"]),
            ("sub/**", &["sub", "sub/deep"]),
            ("sub/*/", &["sub/deep", "sub/loop"]),
            ("s?b/deep/[cd].*", &["sub/deep/c.txt", "sub/deep/d.log"]),
            ("**/**/c.txt", &["sub/deep/c.txt"]),
            ("sub/loop/a.txt", &["sub/loop/a.txt"]),
            ("nothing/**/*", &[]),
        ];
        for (pattern, expected) in cases {
            let found = matches(&format!("{root}/{pattern}"), &|| None).unwrap();
            let found: Vec<String> = found
                .iter()
                .map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string())
                .collect();
            assert_eq!(found, expected, "for {pattern}");
        }
        assert!(matches!(matches("a/**b", &|| None), Err(Error::Pattern(_))));
        assert!(matches!(
            matches(&format!("{root}/**/*"), &|| Some(2)),
            Err(Error::Interrupted(2))
        ));
    }
}
