//! Which code a release is: its version and whether its tree has uncommitted changes.
//! The version is read from files (no process spawned, so the console starts fast); whether
//! the tree is dirty asks git, so it is worked out only when asked for.

use std::path::{Path, PathBuf};

use super::config::Config;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    /// `None` when no source says.
    pub version: Option<String>,
    /// Where the version came from: `REVISION`, `$SOURCE_VERSION`, `$GIT_SHA`, `git` or `none`.
    pub source: &'static str,
}

pub(crate) fn identify(root: &Path, config: &Config) -> Identity {
    if let Ok(text) = std::fs::read_to_string(root.join("REVISION")) {
        let version = text.trim();
        if !version.is_empty() {
            return found(version.to_owned(), "REVISION");
        }
    }
    for (key, source) in [
        ("SOURCE_VERSION", "$SOURCE_VERSION"),
        ("GIT_SHA", "$GIT_SHA"),
    ] {
        if let Some(version) = config.get(key).filter(|v| !v.is_empty()) {
            return found(version.to_owned(), source);
        }
    }
    let version = match git_dir(root) {
        Some(dir) => git_head(&dir).or_else(|| git(root, &["rev-parse", "HEAD"])),
        // Not a git checkout: asking git would only cost a process.
        None => None,
    };
    match version {
        Some(version) => found(version, "git"),
        None => Identity {
            version: None,
            source: "none",
        },
    }
}

fn found(version: String, source: &'static str) -> Identity {
    Identity {
        version: Some(version),
        source,
    }
}

/// Whether a git checkout has uncommitted changes to tracked files; `None` outside git.
pub(crate) fn dirty(root: &Path) -> Option<bool> {
    git_dir(root)?;
    git(root, &["status", "--porcelain", "--untracked-files=no"]).map(|s| !s.is_empty())
}

fn git(root: &Path, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(root)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The `.git` of the root or an ancestor (a directory, or a worktree's file).
fn git_dir(root: &Path) -> Option<PathBuf> {
    root.ancestors()
        .map(|a| a.join(".git"))
        .find(|g| g.exists())
}

/// The commit `HEAD` names, read from the `.git` directory. `None` where that takes more than
/// reading files (a worktree, an unusual layout): git is asked then.
fn git_head(git_dir: &Path) -> Option<String> {
    if !git_dir.is_dir() {
        return None;
    }
    let head = std::fs::read_to_string(git_dir.join("HEAD")).ok()?;
    let head = head.trim();
    let Some(reference) = head.strip_prefix("ref: ") else {
        return is_sha(head).then(|| head.to_owned());
    };
    if let Ok(sha) = std::fs::read_to_string(git_dir.join(reference)) {
        let sha = sha.trim();
        return is_sha(sha).then(|| sha.to_owned());
    }
    let packed = std::fs::read_to_string(git_dir.join("packed-refs")).ok()?;
    packed.lines().find_map(|line| {
        let (sha, name) = line.split_once(' ')?;
        (name == reference && is_sha(sha)).then(|| sha.to_owned())
    })
}

fn is_sha(text: &str) -> bool {
    text.len() >= 40 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether `version` is the version `expected` names: the same text, or, for a commit, a
/// short SHA of at least 7 hex digits it starts with (`4f2c9e1` names `4f2c9e1a…`), in either
/// case.
pub(crate) fn is_version(version: &str, expected: &str) -> bool {
    let expected = expected.trim();
    if version == expected {
        return true;
    }
    expected.len() >= 7
        && expected.bytes().all(|b| b.is_ascii_hexdigit())
        && version.bytes().all(|b| b.is_ascii_hexdigit())
        && version
            .get(..expected.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_shas_name_their_commit() {
        let sha = "4f2c9e1a0b3c4d5e6f708192a3b4c5d6e7f80912";
        let cases = [
            (sha, sha, true),
            (sha, "4f2c9e1", true),
            (sha, "4F2C9E1A", true),
            (sha, "4f2c9e", false),
            (sha, "4f2c9e2", false),
            (sha, "4f2c9e1a0b3c4d5e6f708192a3b4c5d6e7f809123", false),
            ("v1.2.3", "v1.2.3", true),
            ("v1.2.3-extra", "v1.2.3", false),
            ("release-4f2c9e1abc", "release", false),
            ("4f2c9e1", "4f2c9e1a0b", false),
        ];
        for (version, expected, want) in cases {
            assert_eq!(
                is_version(version, expected),
                want,
                "{version} vs {expected}"
            );
        }
    }
}
