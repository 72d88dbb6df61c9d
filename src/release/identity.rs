//! Which code a release is: its version and whether its tree has uncommitted changes.
//! Worked out only when asked for, since asking git costs a process.

use std::path::Path;

use super::config::Config;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `None` when no source says.
    pub version: Option<String>,
    /// Where the version came from: `REVISION`, `$SOURCE_VERSION`, `$GIT_SHA` or `git`.
    pub source: &'static str,
    /// Only known for a git checkout.
    pub dirty: Option<bool>,
}

pub fn identify(root: &Path, config: &Config) -> Identity {
    if let Ok(text) = std::fs::read_to_string(root.join("REVISION")) {
        let version = text.trim();
        if !version.is_empty() {
            return Identity {
                version: Some(version.to_owned()),
                source: "REVISION",
                dirty: None,
            };
        }
    }
    for key in ["SOURCE_VERSION", "GIT_SHA"] {
        if let Some(version) = config.get(key).filter(|v| !v.is_empty()) {
            let source = if key == "GIT_SHA" {
                "$GIT_SHA"
            } else {
                "$SOURCE_VERSION"
            };
            return Identity {
                version: Some(version.to_owned()),
                source,
                dirty: None,
            };
        }
    }
    let git = |args: &[&str]| -> Option<String> {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(root)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    match git(&["rev-parse", "HEAD"]) {
        Some(version) => Identity {
            version: Some(version),
            source: "git",
            dirty: git(&["status", "--porcelain", "--untracked-files=no"]).map(|s| !s.is_empty()),
        },
        None => Identity {
            version: None,
            source: "none",
            dirty: None,
        },
    }
}
