//! The app's dependency isolation: which virtualenv, `node_modules/.bin`, Ruby binstubs and
//! runner (`bundle exec`, `poetry run`, `uv run`, or the manifest's) its commands go through.
//! Detected at each spawn (a few `stat`s), so a virtualenv a script creates is used by the very
//! next command.

use std::path::{Path, PathBuf};

use super::config::Config;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Isolation {
    /// A Python virtualenv: `.venv/`, `venv/` in the release, or `$VIRTUAL_ENV`.
    pub venv: Option<PathBuf>,
    /// `node_modules/.bin` in the release.
    pub node_bin: Option<PathBuf>,
    /// A Ruby app's `Gemfile` (then `BUNDLE_GEMFILE` is set and `bin/` binstubs are on PATH).
    pub gemfile: Option<PathBuf>,
    /// What `app(...)` puts in front of a command, and why.
    pub runner: Option<Runner>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Runner {
    pub words: Vec<String>,
    /// `adminsh.toml`, `Gemfile`, `poetry.lock` or `uv.lock`.
    pub reason: &'static str,
}

impl Isolation {
    /// `manifest_runner`: the manifest's `runner`, which overrides detection (`[]` for none).
    pub(crate) fn detect(root: &Path, config: &Config, manifest_runner: Option<&[String]>) -> Self {
        let venv = [".venv", "venv"]
            .into_iter()
            .map(|dir| root.join(dir))
            .find(|dir| dir.join("pyvenv.cfg").is_file())
            .or_else(|| {
                let dir = PathBuf::from(config.get("VIRTUAL_ENV")?);
                dir.join("bin").is_dir().then_some(dir)
            });
        let node_bin = Some(root.join("node_modules/.bin")).filter(|dir| dir.is_dir());
        let gemfile = Some(root.join("Gemfile")).filter(|f| f.is_file());
        let runner = match manifest_runner {
            Some([]) => None,
            Some(words) => Some(Runner {
                words: words.to_vec(),
                reason: "adminsh.toml",
            }),
            None => detect_runner(root, config, gemfile.is_some()),
        };
        Isolation {
            venv,
            node_bin,
            gemfile,
            runner,
        }
    }

    /// Directories to put in front of `PATH`, first wins.
    pub(crate) fn path_prefix(&self, root: &Path) -> Vec<PathBuf> {
        let venv_bin = self.venv.as_ref().map(|v| v.join("bin"));
        let binstubs = self.gemfile.as_ref().map(|_| root.join("bin"));
        venv_bin
            .into_iter()
            .chain(binstubs)
            .chain(self.node_bin.clone())
            .collect()
    }

    /// One line a part, for `adminsh --env` and `release()`.
    pub(crate) fn describe(&self) -> Vec<String> {
        let mut parts = Vec::new();
        if let Some(venv) = &self.venv {
            parts.push(format!("python virtualenv {}", venv.display()));
        }
        if let Some(gemfile) = &self.gemfile {
            parts.push(format!(
                "ruby BUNDLE_GEMFILE={} with bin/ binstubs",
                gemfile.display()
            ));
        }
        if let Some(bin) = &self.node_bin {
            parts.push(format!("node {}", bin.display()));
        }
        if let Some(runner) = &self.runner {
            parts.push(format!(
                "runner `{}` ({})",
                runner.words.join(" "),
                runner.reason
            ));
        }
        parts
    }
}

/// `bundle exec` for a Gemfile; `poetry run` / `uv run` when their lock file is there and the
/// tool is installed.
fn detect_runner(root: &Path, config: &Config, has_gemfile: bool) -> Option<Runner> {
    let runner = |words: &[&str], reason| Runner {
        words: words.iter().map(ToString::to_string).collect(),
        reason,
    };
    if has_gemfile {
        return Some(runner(&["bundle", "exec"], "Gemfile"));
    }
    let installed = |tool: &str| {
        config
            .get("PATH")
            .is_some_and(|path| std::env::split_paths(path).any(|dir| dir.join(tool).is_file()))
    };
    if root.join("poetry.lock").is_file() && installed("poetry") {
        return Some(runner(&["poetry", "run"], "poetry.lock"));
    }
    if root.join("uv.lock").is_file() && installed("uv") {
        return Some(runner(&["uv", "run"], "uv.lock"));
    }
    None
}
