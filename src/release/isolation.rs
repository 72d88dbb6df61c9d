//! The app's dependency isolation: which virtualenv and `node_modules/.bin` its commands see.
//! Detected at each spawn (a few `stat`s), so a virtualenv a script creates is used by the very
//! next command.

use std::path::{Path, PathBuf};

use super::config::Config;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Isolation {
    /// A Python virtualenv: `.venv/`, `venv/` in the release, or `$VIRTUAL_ENV`.
    pub venv: Option<PathBuf>,
    /// `node_modules/.bin` in the release.
    pub node_bin: Option<PathBuf>,
}

impl Isolation {
    pub fn detect(root: &Path, config: &Config) -> Self {
        let venv = [".venv", "venv"]
            .into_iter()
            .map(|dir| root.join(dir))
            .find(|dir| dir.join("pyvenv.cfg").is_file())
            .or_else(|| {
                let dir = PathBuf::from(config.get("VIRTUAL_ENV")?);
                dir.join("bin").is_dir().then_some(dir)
            });
        let node_bin = Some(root.join("node_modules/.bin")).filter(|dir| dir.is_dir());
        Isolation { venv, node_bin }
    }

    /// Directories to put in front of `PATH`, first wins.
    pub fn path_prefix(&self) -> Vec<PathBuf> {
        let venv_bin = self.venv.as_ref().map(|v| v.join("bin"));
        venv_bin.into_iter().chain(self.node_bin.clone()).collect()
    }

    /// One line a part, for `adminsh --env` and `release()`.
    pub fn describe(&self) -> Vec<String> {
        let mut parts = Vec::new();
        if let Some(venv) = &self.venv {
            parts.push(format!("python virtualenv {}", venv.display()));
        }
        if let Some(bin) = &self.node_bin {
            parts.push(format!("node {}", bin.display()));
        }
        parts
    }
}
