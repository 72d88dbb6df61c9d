//! `adminsh.toml`, the optional release manifest. Every key is checked: an unknown key or a
//! wrong type is an error naming the file, line and column, never silently ignored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

pub(crate) const FILE_NAME: &str = "adminsh.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Manifest {
    /// The app's name; defaults to the release directory's name.
    pub name: Option<String>,
    /// The stage when neither `--stage` nor `$ADMINSH_STAGE` says.
    pub stage: Option<String>,
    /// Env files read after `.env`, relative to the release root.
    #[serde(default)]
    pub env_files: Vec<PathBuf>,
    /// Config keys that must be set before a script runs.
    #[serde(default)]
    pub required: Vec<String>,
    /// More secret key names (`*` wildcards allowed), on top of the built-in patterns.
    #[serde(default)]
    pub secrets: Vec<String>,
    /// Stages whose console is shown in red, like `production` always is.
    #[serde(default)]
    pub dangerous_stages: Vec<String>,
    /// The lowest config layer: values used when nothing else sets the key.
    #[serde(default)]
    pub defaults: BTreeMap<String, String>,
    /// The program that runs the app's commands in its isolation (`["bundle", "exec"]`,
    /// `["docker", "compose", "exec", "web"]`), overriding detection; `[]` for none.
    #[serde(default, deserialize_with = "runner")]
    pub runner: Option<Vec<String>>,
    /// The variables that get the stage (`["RAILS_ENV", "RACK_ENV"]`), overriding detection;
    /// `[]` for none.
    pub stage_vars: Option<Vec<String>>,
    /// Where adminsh keeps its state for this release, relative to the root.
    pub state_dir: Option<PathBuf>,
    /// The version this release should be; a script run elsewhere gets a warning first.
    pub expected_version: Option<String>,
    /// Where the audit log goes, relative to the root (default `.adminsh/audit.jsonl`).
    pub audit_log: Option<PathBuf>,
    /// Refuse to run anything when the audit log cannot be written.
    #[serde(default)]
    pub audit_required: bool,
    /// Stages (`"*"` for all) whose admin processes must say why they run (`--reason`).
    #[serde(default)]
    pub require_reason: Vec<String>,
    /// Stages where everything runs as with `--read-only`.
    #[serde(default)]
    pub read_only_stages: Vec<String>,
    /// The size in bytes at which a detached run's `output.log` is rotated (default 16 MiB).
    pub run_log_limit: Option<u64>,
    /// Where deployed releases run (`[targets.production]`), for `adminsh -t NAME`.
    #[serde(
        default,
        deserialize_with = "crate::release::targets::deserialize_targets"
    )]
    pub targets: BTreeMap<String, crate::release::targets::Target>,
}

/// A runner is a program and its arguments: an empty string as the program is a mistake.
fn runner<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    let words = Vec::<String>::deserialize(d)?;
    if words.first().is_some_and(|w| w.trim().is_empty()) {
        return Err(serde::de::Error::custom(
            "the runner's first word must name a program",
        ));
    }
    Ok(Some(words))
}

impl Manifest {
    /// Reads `root/adminsh.toml`; a missing file is an empty manifest.
    pub(crate) fn load(root: &Path) -> Result<Self> {
        let path = root.join(FILE_NAME);
        let bytes = match crate::small_file::read(&path, crate::small_file::MAX_CONFIG_FILE) {
            Ok(bytes) => bytes,
            Err(e) if e.is_not_found() => return Ok(Self::default()),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let text = String::from_utf8(bytes).map_err(|e| {
            anyhow::anyhow!(
                "{}: not UTF-8 text (invalid byte at offset {})",
                path.display(),
                e.utf8_error().valid_up_to()
            )
        })?;
        Self::parse(&text, &path)
    }

    pub(crate) fn parse(text: &str, path: &Path) -> Result<Self> {
        toml::from_str(text).or_else(|e| {
            let (line, column) = e
                .span()
                .map_or((1, 1), |span| line_and_column(text, span.start));
            bail!(
                "{}:{line}:{column}: {}",
                path.display(),
                e.message().trim_end()
            )
        })
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        Manifest::parse(text, Path::new("adminsh.toml"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn reads_every_key() {
        let m = Manifest::parse(
            "name = \"shop\"\nstage = \"dev\"\nenv_files = [\".env.local\"]\nrequired = [\"DATABASE_URL\"]\nsecrets = [\"DSN\"]\n[defaults]\nPORT = \"8000\"\n",
            Path::new("adminsh.toml"),
        )
        .unwrap();
        assert_eq!(m.name.as_deref(), Some("shop"));
        assert_eq!(m.required, ["DATABASE_URL"]);
        assert_eq!(m.defaults["PORT"], "8000");
    }

    #[test]
    fn errors_name_the_key_line_and_column() {
        assert!(
            error("name = \"x\"\ncolour = \"red\"\n")
                .starts_with("adminsh.toml:2:1: unknown field `colour`"),
            "{}",
            error("name = \"x\"\ncolour = \"red\"\n")
        );
        assert!(error("name = 3\n").starts_with("adminsh.toml:1:8: invalid type: integer `3`"));
        assert!(error("required = \"X\"\n").starts_with("adminsh.toml:1:12: invalid type"));
        assert!(error("name = \n").starts_with("adminsh.toml:1:8: "));
        assert_eq!(
            error("runner = [\"\", \"exec\"]\n"),
            "adminsh.toml:1:10: the runner's first word must name a program"
        );
        assert!(
            error("[defaults]\nPORT = 8000\n")
                .starts_with("adminsh.toml:2:8: invalid type: integer `8000`, expected a string")
        );
    }
}
