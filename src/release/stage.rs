//! The stage under the framework's own name for it, so `-s production` reaches the app:
//! `RAILS_ENV` and `RACK_ENV` for a Ruby app (a `Gemfile` or `config.ru`), `NODE_ENV` for a
//! Node app (`package.json`); the manifest's `stage_vars` names them instead. The lowest
//! config layer: `[defaults]`, the env files and the real environment all override it.

use std::path::Path;

use super::manifest::Manifest;

/// What detects each framework's variables, and the variables.
const FRAMEWORKS: [(&str, &[&str]); 3] = [
    ("Gemfile", &["RAILS_ENV", "RACK_ENV"]),
    ("config.ru", &["RAILS_ENV", "RACK_ENV"]),
    ("package.json", &["NODE_ENV"]),
];

/// Each variable that gets the stage, its value, and why it gets it (for `--env`).
pub(crate) fn vars(root: &Path, manifest: &Manifest, stage: &str) -> Vec<(String, String, String)> {
    let mut vars: Vec<(String, String, String)> = Vec::new();
    let mut add = |name: &str, why: &str| {
        if !vars.iter().any(|(n, ..)| n == name) {
            vars.push((name.to_owned(), stage.to_owned(), why.to_owned()));
        }
    };
    match &manifest.stage_vars {
        Some(names) => {
            for name in names {
                add(name, "adminsh.toml stage_vars");
            }
        }
        None => {
            for (marker, names) in FRAMEWORKS {
                if root.join(marker).is_file() {
                    for name in names {
                        add(name, marker);
                    }
                }
            }
        }
    }
    vars
}
