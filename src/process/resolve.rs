//! Finding a command's program on the release's `PATH` in adminsh itself, once per name.
//! Handing the spawn a full path keeps it on the fast `posix_spawn` route (a bare name with a
//! changed `PATH` forces fork + exec), and gives "command not found" before anything runs.
//! Like a shell's hash table, a hit is remembered for the same `PATH` while the file exists.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

#[derive(Debug, Default)]
pub(crate) struct ProgramCache {
    hits: HashMap<(String, OsString), PathBuf>,
}

impl ProgramCache {
    /// The program to execute: the path it names when it holds a `/` (a relative one taken
    /// from the command's directory `cwd`, as a shell there would, never from adminsh's own),
    /// else the first executable file of that name on `path`.
    pub(crate) fn resolve(
        &mut self,
        program: &str,
        path: Option<&OsStr>,
        cwd: &Path,
    ) -> Option<PathBuf> {
        if program.contains('/') {
            return Some(cwd.join(program));
        }
        if program.is_empty() {
            return None;
        }
        let path = path.unwrap_or_default();
        let key = (program.to_owned(), path.to_owned());
        if let Some(hit) = self.hits.get(&key).filter(|hit| is_executable(hit)) {
            return Some(hit.clone());
        }
        let found = std::env::split_paths(path)
            .map(|dir| {
                if dir.as_os_str().is_empty() {
                    cwd.to_path_buf()
                } else {
                    dir
                }
            })
            .map(|dir| dir.join(program))
            .find(|candidate| is_executable(candidate))?;
        self.hits.insert(key, found.clone());
        Some(found)
    }
}

fn is_executable(path: &Path) -> bool {
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_programs_on_path_and_keeps_paths_with_slashes() {
        let mut cache = ProgramCache::default();
        let path = OsString::from("/nonexistent:/bin:/usr/bin");
        let sh = cache.resolve("sh", Some(&path), Path::new("/")).unwrap();
        assert!(sh.ends_with("sh") && sh.is_absolute());
        assert_eq!(cache.resolve("sh", Some(&path), Path::new("/")), Some(sh));
        assert_eq!(
            cache.resolve("./bin/x", Some(&path), Path::new("/srv/app")),
            Some(PathBuf::from("/srv/app/./bin/x"))
        );
        assert_eq!(
            cache.resolve("/opt/x", Some(&path), Path::new("/srv/app")),
            Some(PathBuf::from("/opt/x"))
        );
        assert_eq!(
            cache.resolve("no-such-program-xyz", Some(&path), Path::new("/")),
            None
        );
        assert_eq!(cache.resolve("", Some(&path), Path::new("/")), None);
    }
}
