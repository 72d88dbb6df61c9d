//! The release's config: every layer merged into one map, each value remembering the layer it
//! came from. Lowest first: the stage under the framework's names (`RAILS_ENV`), the
//! manifest's `[defaults]`, `.env`, `.env.<stage>`, the manifest's
//! `env_files`, each `--env-file`, then the real process environment, which always wins.
//! An env file is read only if it is a regular file of at most `MAX_ENV_FILE` bytes of UTF-8.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use anyhow::{Context, Result, bail};

use super::dotenv;
use super::redactor::Redactor;
use super::secrets::SecretNames;

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Layer {
    /// The stage, under the framework's own name for it (`RAILS_ENV`): why the name was chosen.
    Stage(String),
    ManifestDefault,
    File {
        path: PathBuf,
        line: usize,
    },
    Process,
    Script,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Layer::Stage(why) => write!(f, "the stage ({why})"),
            Layer::ManifestDefault => f.write_str("adminsh.toml [defaults]"),
            Layer::File { path, line } => write!(f, "{}:{line}", path.display()),
            Layer::Process => f.write_str("process environment"),
            Layer::Script => f.write_str("set_env"),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Var {
    pub value: String,
    pub layer: Layer,
    /// The layer whose value this one replaced, if any.
    pub overrides: Option<Layer>,
}

impl Var {
    /// True for the app's own config: set by a file, the manifest or a script, or a process
    /// variable that overrides one of those. Inherited variables like `HOME` are not.
    pub(crate) fn is_app_config(&self) -> bool {
        self.layer != Layer::Process || self.overrides.is_some()
    }
}

/// The files that make up the config, in layer order, and the process environment on top.
pub(crate) struct Sources<'a> {
    pub root: &'a Path,
    /// The stage under the framework's names (`RAILS_ENV=production`), the lowest layer.
    pub stage: Vec<(String, String, String)>,
    pub defaults: &'a BTreeMap<String, String>,
    /// Optional files: a missing one is skipped (`.env`, `.env.<stage>`).
    pub optional_files: Vec<PathBuf>,
    /// Files the user named: a missing one is an error.
    pub required_files: Vec<PathBuf>,
    pub process: Vec<(OsString, OsString)>,
    pub secret_names: SecretNames,
}

#[derive(Debug, Clone)]
pub(crate) struct Config {
    vars: BTreeMap<String, Var>,
    /// Process variables whose name or value is not UTF-8: invisible to scripts, but passed on
    /// to every command untouched so nothing is lost.
    opaque: Vec<(OsString, OsString)>,
    names: SecretNames,
    /// Shared, so a command can hold it while it runs without copying every secret.
    redactor: Rc<Redactor>,
}

impl Config {
    pub(crate) fn load(sources: Sources<'_>) -> Result<Self> {
        let mut config = Config {
            vars: BTreeMap::new(),
            opaque: Vec::new(),
            redactor: Rc::new(Redactor::new(sources.secret_names.clone())),
            names: sources.secret_names,
        };
        for (key, value, why) in sources.stage {
            config.set(&key, &value, Layer::Stage(why));
        }
        for (key, value) in sources.defaults {
            config.set(key, value, Layer::ManifestDefault);
        }
        let process: BTreeMap<String, String> = sources
            .process
            .iter()
            .filter_map(|(k, v)| Some((k.to_str()?.to_owned(), v.to_str()?.to_owned())))
            .collect();
        let files = (sources.optional_files.into_iter().map(|p| (p, false)))
            .chain(sources.required_files.into_iter().map(|p| (p, true)));
        for (path, required) in files {
            let shown = shown_path(sources.root, &path);
            let Some(text) = read_env_file(&path, &shown, required)? else {
                continue;
            };
            let entries = dotenv::parse(&text, &|name| process.get(name).cloned(), &|name| {
                config.get(name).map(str::to_owned)
            })
            .map_err(|e| anyhow::anyhow!("{}:{e}", shown.display()))?;
            for entry in entries {
                let layer = Layer::File {
                    path: shown.clone(),
                    line: entry.line,
                };
                config.set(&entry.key, &entry.value, layer);
            }
        }
        for (key, value) in sources.process {
            match (key.to_str(), value.to_str()) {
                (Some(k), Some(v)) => config.set(k, v, Layer::Process),
                _ => config.opaque.push((key, value)),
            }
        }
        Ok(config)
    }

    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.vars.get(key).map(|v| v.value.as_str())
    }

    pub(crate) fn set(&mut self, key: &str, value: &str, layer: Layer) {
        Rc::make_mut(&mut self.redactor).learn(key, value);
        let overrides = self.vars.get(key).map(|old| old.layer.clone());
        self.vars.insert(
            key.to_owned(),
            Var {
                value: value.to_owned(),
                layer,
                overrides,
            },
        );
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &Var)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.vars.keys().map(String::as_str)
    }

    pub(crate) fn opaque(&self) -> &[(OsString, OsString)] {
        &self.opaque
    }

    /// The value as adminsh may print it: masked if the key is secret, else every secret in
    /// it masked (a URL's password, another key's secret value).
    pub(crate) fn display_value(&self, key: &str) -> Option<String> {
        self.get(key).map(|value| self.redactor.display(key, value))
    }

    /// A secret that is no config value (a script's secret parameter): masked like one.
    pub(crate) fn add_secret(&mut self, value: &str) {
        Rc::make_mut(&mut self.redactor).add(value);
    }

    pub(crate) fn is_secret(&self, key: &str) -> bool {
        self.names.is_secret(key)
    }

    pub(crate) fn redactor(&self) -> &Rc<Redactor> {
        &self.redactor
    }

    /// Fails naming every required key that is not set.
    pub(crate) fn check_required(&self, required: &[String]) -> Result<()> {
        let missing: Vec<&str> = required
            .iter()
            .filter(|k| self.get(k).is_none())
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            bail!(
                "required config {} not set: {} (adminsh.toml `required`; set {} in .env or the environment)",
                if missing.len() == 1 {
                    "key is"
                } else {
                    "keys are"
                },
                missing.join(", "),
                if missing.len() == 1 { "it" } else { "them" },
            );
        }
        Ok(())
    }
}

/// The most an env file may hold. Real ones are a few KiB; this keeps `/dev/zero` or a log file
/// named by mistake from eating memory.
pub(crate) const MAX_ENV_FILE: u64 = 1024 * 1024;

/// The text of the env file at `path` (`shown` in messages); `None` when an optional one is
/// missing. Only a regular file of at most [`MAX_ENV_FILE`] bytes of UTF-8 is read: a device,
/// a FIFO (opened without waiting for a writer) or a directory is refused, naming the file.
fn read_env_file(path: &Path, shown: &Path, required: bool) -> Result<Option<String>> {
    use crate::small_file::Refusal;
    let bytes = match crate::small_file::read(path, MAX_ENV_FILE) {
        Ok(bytes) => bytes,
        Err(e) if e.is_not_found() && !required => return Ok(None),
        Err(Refusal::NotRegular(kind)) => bail!(
            "{} is {kind}, not a regular file: env files must be regular files",
            shown.display()
        ),
        Err(Refusal::TooLarge(_)) => bail!(
            "{} is larger than {} KiB, the most an env file may hold",
            shown.display(),
            MAX_ENV_FILE / 1024
        ),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", shown.display())),
    };
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Some(text)),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let valid = std::str::from_utf8(&e.as_bytes()[..at]).unwrap_or_default();
            let (line, column) = dotenv::line_and_column(valid, at);
            bail!(
                "{}:{line}:{column}: not UTF-8 text (byte 0x{:02x} at offset {at}): env files must be UTF-8",
                shown.display(),
                e.as_bytes()[at]
            )
        }
    }
}

/// A path as shown to the user: relative to the release root when it is inside it.
fn shown_path(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_in_order_with_sources() {
        let dir = std::env::temp_dir().join(format!("adminsh-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(".env"), "A=env\nB=env\nC=env\nURL=${C}/x\n").unwrap();
        std::fs::write(dir.join("extra.env"), "B=extra\nC=extra\n").unwrap();
        let defaults = BTreeMap::from([
            ("A".to_owned(), "default".to_owned()),
            ("D".to_owned(), "default".to_owned()),
        ]);
        let config = Config::load(Sources {
            root: &dir,
            stage: Vec::new(),
            defaults: &defaults,
            optional_files: vec![dir.join(".env"), dir.join(".env.missing")],
            required_files: vec![dir.join("extra.env")],
            process: vec![("C".into(), "process".into())],
            secret_names: SecretNames::default(),
        })
        .unwrap();
        let got: Vec<(&str, String, String)> = config
            .iter()
            .map(|(k, v)| (k, v.value.clone(), v.layer.to_string()))
            .collect();
        assert_eq!(
            got,
            [
                ("A", "env".into(), ".env:1".into()),
                ("B", "extra".into(), "extra.env:1".into()),
                ("C", "process".into(), "process environment".into()),
                ("D", "default".into(), "adminsh.toml [defaults]".into()),
                ("URL", "process/x".into(), ".env:4".into()),
            ]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
