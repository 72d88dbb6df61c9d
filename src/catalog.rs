//! The release's scripts: finding one by name or path, listing them with their summaries, and
//! suggesting close names for a mistyped one.
//!
//! Every `*.rhai` under `scripts/` is a script, named by its path without the extension
//! (`scripts/db/backfill.rhai` is `db/backfill`), except modules meant for `import`: files in a
//! `lib/` folder or whose name starts with `_`.

use std::path::{Path, PathBuf};

use crate::params::{Header, HeaderError};
use crate::suggest;

pub(crate) const DIR: &str = "scripts";

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Script {
    pub name: String,
    pub path: PathBuf,
    /// The first line of the script's `//!` doc comment.
    pub summary: Option<String>,
    /// What its header declares, or why it cannot be read.
    pub header: Result<Header, HeaderError>,
}

/// Every script under `root/scripts`, sorted by name; modules for `import` left out unless
/// `with_modules`.
pub(crate) fn scripts(root: &Path, with_modules: bool) -> Vec<Script> {
    let dir = root.join(DIR);
    let mut found = Vec::new();
    walk(&dir, &mut |path| {
        let Ok(relative) = path.strip_prefix(&dir) else {
            return;
        };
        let is_module = relative.components().any(|c| c.as_os_str() == "lib")
            || relative
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('_'));
        if is_module && !with_modules {
            return;
        }
        let name = relative.with_extension("").to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).unwrap_or_default();
        found.push(Script {
            name,
            path: path.to_path_buf(),
            summary: summary(&text),
            header: Header::parse(&text),
        });
    });
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found
}

fn walk(dir: &Path, visit: &mut dyn FnMut(&Path)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            walk(&path, visit);
        } else if path.extension().is_some_and(|e| e == "rhai") {
            visit(&path);
        }
    }
}

/// The first line of text of the leading `//!` comment block (after an optional `#!` line),
/// declarations (`@param ...`) left out.
pub(crate) fn summary(text: &str) -> Option<String> {
    crate::params::summary(text)
}

/// Why a script could not be found.
#[derive(Debug)]
pub(crate) struct Unknown {
    pub wanted: String,
    pub dir: PathBuf,
    pub suggestions: Vec<String>,
    /// Why no release root was found (`Root::not_found`), when none was: the name was looked
    /// for in the current directory's `scripts/`, which is likely not where the user meant.
    pub no_root: Option<String>,
}

impl std::fmt::Display for Unknown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "no script `{}`: it is neither a file nor a script in {}",
            self.wanted,
            self.dir.display()
        )?;
        if let Some(why) = &self.no_root {
            return write!(
                f,
                "\n  {why}\n  run adminsh inside your app, or point at its root: adminsh -C DIR {}",
                self.wanted
            );
        }
        match self.suggestions.as_slice() {
            [] => write!(f, " (adminsh --list shows them)"),
            [one] => write!(f, "\n  did you mean `{one}`?"),
            many => write!(f, "\n  did you mean one of: {}?", many.join(", ")),
        }
    }
}

impl std::error::Error for Unknown {}

/// The file a script argument names: an existing path as given, else a name under
/// `root/scripts/` (with or without `.rhai`).
pub(crate) fn find(root: &Path, wanted: &str) -> Result<PathBuf, Unknown> {
    let as_given = Path::new(wanted);
    if as_given.is_file() {
        return Ok(as_given.to_path_buf());
    }
    let dir = root.join(DIR);
    let by_name = dir.join(wanted);
    let with_extension = dir.join(format!("{wanted}.rhai"));
    for candidate in [with_extension, by_name] {
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    let all = scripts(root, false);
    let wanted_name = wanted.trim_end_matches(".rhai");
    let suggestions = suggest::ranked(wanted_name, all.iter().map(|s| s.name.as_str()))
        .into_iter()
        .take(3)
        .map(str::to_owned)
        .collect();
    Err(Unknown {
        wanted: wanted.to_owned(),
        dir,
        suggestions,
        no_root: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries() {
        assert_eq!(
            summary("#!/usr/bin/env adminsh\n//! Fix it.\n//! More.\nx"),
            Some("Fix it.".into())
        );
        assert_eq!(summary("//!\n//! Second.\n"), Some("Second.".into()));
        assert_eq!(summary("// not a doc\n//! late"), None);
    }
}
