//! What a release is: the app's checkout (root), its manifest, its config with provenance and
//! redaction, its identity and its dependency isolation. `Release::open` is the one way in.

mod config;
mod dotenv;
mod identity;
mod isolation;
pub(crate) mod listing;
mod manifest;
pub(crate) mod procfile;
mod redactor;
mod root;
mod secrets;
mod stage;
mod targets;

use std::cell::{OnceCell, RefCell};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::Result;

// The face: callers name these, never the file they live in. `listing` (`listing::text`) and
// `procfile` (`procfile::load`) are namespaces whose names read with their prefix.
pub(crate) use config::{Config, Layer};
pub(crate) use dotenv::escape_bytes;
pub(crate) use identity::Identity;
pub(crate) use isolation::Isolation;
pub(crate) use manifest::FILE_NAME as MANIFEST_FILE;
pub(crate) use manifest::Manifest;
pub(crate) use redactor::{MASK, Redactor};
pub(crate) use root::Root;
pub(crate) use root::discover as discover_root;
#[cfg(test)]
pub(crate) use secrets::SecretNames;
pub(crate) use secrets::percent_decode;
pub(crate) use targets::{Host, Kubectl, Ssh, Target, Via};

/// The stage when nothing names one.
pub(crate) const DEFAULT_STAGE: &str = "development";

/// How the user pointed at a release.
#[derive(Debug, Clone, Default)]
pub(crate) struct OpenOptions {
    pub dir: Option<PathBuf>,
    pub env_files: Vec<PathBuf>,
    pub stage: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Release {
    pub root: Root,
    pub name: String,
    pub stage: String,
    pub manifest: Manifest,
    /// Mutable only through `set_env` in scripts.
    pub config: RefCell<Config>,
    identity: OnceCell<Identity>,
    dirty: OnceCell<Option<bool>>,
}

impl Release {
    pub(crate) fn open(
        options: &OpenOptions,
        process_env: Vec<(OsString, OsString)>,
    ) -> Result<Self> {
        let root = root::discover(options.dir.as_deref())?;
        let manifest = Manifest::load(&root.path)?;
        let from_env = process_env
            .iter()
            .find(|(k, _)| k == "ADMINSH_STAGE")
            .and_then(|(_, v)| v.to_str())
            .filter(|v| !v.is_empty())
            .map(str::to_owned);
        let stage = (options.stage.clone())
            .or(from_env)
            .or_else(|| manifest.stage.clone())
            .unwrap_or_else(|| DEFAULT_STAGE.to_owned());
        let name = manifest.name.clone().unwrap_or_else(|| {
            let named = root.link.as_deref().unwrap_or(&root.path);
            dir_name(named)
        });
        let mut optional_files = vec![
            root.path.join(".env"),
            root.path.join(format!(".env.{stage}")),
        ];
        optional_files.extend(manifest.env_files.iter().map(|f| root.path.join(f)));
        let config = Config::load(config::Sources {
            root: &root.path,
            stage: stage::vars(&root.path, &manifest, &stage),
            defaults: &manifest.defaults,
            optional_files,
            required_files: options.env_files.clone(),
            process: process_env,
            secret_names: secrets::SecretNames::new(manifest.secrets.clone()),
        })?;
        Ok(Release {
            root,
            name,
            stage,
            manifest,
            config: RefCell::new(config),
            identity: OnceCell::new(),
            dirty: OnceCell::new(),
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.root.path
    }

    pub(crate) fn identity(&self) -> &Identity {
        self.identity
            .get_or_init(|| identity::identify(&self.root.path, &self.config.borrow()))
    }

    /// The dependency isolation in force now (it can change as a script creates a venv).
    pub(crate) fn isolation(&self) -> Isolation {
        let config = self.config.borrow();
        Isolation::detect(&self.root.path, &config, self.manifest.runner.as_deref())
    }

    /// Where adminsh keeps step checkpoints and locks for this release: the manifest's
    /// `state_dir`, else `.adminsh/state/` in the root.
    pub(crate) fn state_dir(&self) -> PathBuf {
        let dir = self
            .manifest
            .state_dir
            .as_deref()
            .unwrap_or(Path::new(".adminsh/state"));
        self.root.path.join(dir)
    }

    /// What an operator should know before a script runs against this release: code that did
    /// not ship (uncommitted changes, outside development) and a version other than expected.
    pub(crate) fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if let Some(expected) = &self.manifest.expected_version
            && !(self.identity().version.as_deref())
                .is_some_and(|version| identity::is_version(version, expected))
        {
            let version = self.identity().version.as_deref();
            warnings.push(format!(
                "this release is version {}, but adminsh.toml expects {expected}",
                version.unwrap_or("unknown")
            ));
        }
        if self.stage != DEFAULT_STAGE && self.dirty() == Some(true) {
            warnings.push(format!(
                "the release at {} has uncommitted changes: the code that runs is not the code that shipped",
                self.root.path.display()
            ));
        }
        warnings
    }

    /// Whether the checkout has uncommitted changes (asks git; `None` outside git).
    pub(crate) fn dirty(&self) -> Option<bool> {
        *self.dirty.get_or_init(|| identity::dirty(&self.root.path))
    }

    /// Whether the manifest (or the name `production`) marks this stage as dangerous.
    pub(crate) fn is_dangerous(&self) -> bool {
        self.stage == "production" || self.manifest.dangerous_stages.contains(&self.stage)
    }
}

/// The last component of a path; a release under `releases/<timestamp>` behind a `current`
/// link is named after the app directory above it.
fn dir_name(path: &Path) -> String {
    let last = path.file_name().map(|n| n.to_string_lossy().into_owned());
    match last.as_deref() {
        Some("current") => path
            .parent()
            .and_then(Path::file_name)
            .map_or_else(|| "app".into(), |n| n.to_string_lossy().into_owned()),
        Some(name) => name.to_owned(),
        None => "app".into(),
    }
}
