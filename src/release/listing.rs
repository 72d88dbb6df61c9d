//! What `adminsh --env` (and the console's `:env`) shows of a release: where it is, its
//! isolation, and each config value with the layer it came from, secrets masked; as text that
//! reads back as a `.env` file, or as JSON for machines.

use std::fmt::Write as _;

use super::Release;

/// The resolved config as `adminsh --env` and the console's `:env` show it.
pub(crate) fn text(release: &Release, all: bool) -> String {
    let config = release.config.borrow();
    let isolation = release.isolation();
    let mut out = String::new();
    let root = match &release.root.link {
        Some(link) => format!("{} -> {}", link.display(), release.path().display()),
        None => release.path().display().to_string(),
    };
    let _ = writeln!(
        out,
        "# release {root} ({}, stage {})",
        release.name, release.stage
    );
    for part in isolation.describe() {
        let _ = writeln!(out, "# isolation: {part}");
    }
    let required = &release.manifest.required;
    let mut hidden = 0;
    for (key, var) in config.iter() {
        if !(all || var.is_app_config() || required.iter().any(|r| r == key)) {
            hidden += 1;
            continue;
        }
        let value = config.display_value(key).unwrap_or_default();
        let _ = match &var.overrides {
            Some(under) => writeln!(
                out,
                "{key}={}  # {} (overrides {under})",
                super::dotenv::quote(&value),
                var.layer
            ),
            None => writeln!(
                out,
                "{key}={}  # {}",
                super::dotenv::quote(&value),
                var.layer
            ),
        };
    }
    for key in required.iter().filter(|k| config.get(k).is_none()) {
        let _ = writeln!(out, "# {key} is required (adminsh.toml) but not set");
    }
    if hidden > 0 {
        let _ = writeln!(
            out,
            "# and {hidden} more inherited from the process environment (adminsh --env --all)"
        );
    }
    out
}

/// The resolved config for machines (`--env --json`): the release, its isolation, and each
/// variable with its value (masked where secret), its layer and the layer it overrides.
pub(crate) fn json(release: &Release, all: bool) -> String {
    let config = release.config.borrow();
    let required = &release.manifest.required;
    let vars: Vec<serde_json::Value> = config
        .iter()
        .filter(|(key, var)| all || var.is_app_config() || required.iter().any(|r| r == key))
        .map(|(key, var)| {
            serde_json::json!({
                "key": key,
                "value": config.display_value(key),
                "secret": config.is_secret(key),
                "layer": var.layer.to_string(),
                "overrides": var.overrides.as_ref().map(ToString::to_string),
            })
        })
        .collect();
    let missing: Vec<&String> = required
        .iter()
        .filter(|k| config.get(k).is_none())
        .collect();
    serde_json::json!({
        "root": release.path(),
        "link": release.root.link,
        "name": release.name,
        "stage": release.stage,
        "isolation": release.isolation().describe(),
        "vars": vars,
        "missing_required": missing,
    })
    .to_string()
}
