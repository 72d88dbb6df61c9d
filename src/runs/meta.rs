//! A detached run's `meta.json`: who started what, where, when and as which process, and,
//! once it ends, how. Written whole and atomically (temp file, fsync, rename), so a reader
//! (`--runs`, `--attach`) never sees half of it.

use std::fs::Permissions;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::error::EXIT_PAUSED;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Meta {
    pub id: String,
    /// `script` or `eval`.
    pub kind: String,
    /// The script, relative to the release root when it is inside it; `None` for `-e`.
    pub script: Option<String>,
    /// `-e`'s code, secrets masked.
    pub code: Option<String>,
    /// The script's arguments, secrets masked.
    pub args: Vec<String>,
    pub user: String,
    pub host: String,
    pub root: String,
    pub version: Option<String>,
    pub stage: String,
    pub reason: Option<String>,
    pub started: String,
    /// The detached adminsh: its pid, which is also its process group and session. `None`
    /// until it runs.
    pub pid: Option<u32>,
    /// When it ended; `None` while it runs (or when it was lost).
    pub ended: Option<String>,
    pub exit_code: Option<i32>,
    /// `succeeded`, `failed`, `interrupted`, `paused` (by `--pause`, at the end of a batch),
    /// or `killed` (by `--stop`, after its grace).
    pub outcome: Option<String>,
    /// Bytes of output that could not be written to the log (a full disk), and why.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub output_lost: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_error: Option<String>,
    /// How the operator who started it reaches this release (`adminsh -t production`,
    /// `adminsh -C /srv/shop/current`, `adminsh`), for the commands the run suggests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// The paused run this run resumes (`--resume`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumes: Option<String>,
    /// The run that resumed this paused one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumed_as: Option<String>,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Meta {
    /// Records the end: the exit code, the outcome it means, the time.
    pub(crate) fn end(&mut self, code: i32, outcome: Option<&str>) {
        self.exit_code = Some(code);
        self.ended = Some(crate::clock::now_rfc3339());
        self.outcome = Some(outcome.unwrap_or_else(|| outcome_of(code)).to_owned());
    }

    /// What the run was: the script and its arguments, or `-e CODE`.
    pub(crate) fn what(&self) -> String {
        let head = match (&self.script, &self.code) {
            (Some(script), _) => script.clone(),
            (None, Some(code)) => format!("-e {code}"),
            (None, None) => self.kind.clone(),
        };
        std::iter::once(head)
            .chain(self.args.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// What an exit code says about how a run ended: 0 succeeded, 148 paused (`--pause`), 128 +
/// a signal interrupted (a script's own `exit(n)` stays below 126), anything else failed.
pub(crate) fn outcome_of(code: i32) -> &'static str {
    match code {
        0 => "succeeded",
        EXIT_PAUSED => "paused",
        129..=192 => "interrupted",
        _ => "failed",
    }
}

pub(crate) fn load(path: &Path) -> Result<Meta> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not a run record adminsh can read", path.display()))
}

pub(crate) fn save(path: &Path, meta: &Meta) -> Result<()> {
    let mut text = serde_json::to_string_pretty(meta)?;
    text.push('\n');
    crate::state::write_atomically(path, text.as_bytes())
        .and_then(|()| std::fs::set_permissions(path, Permissions::from_mode(0o600)))
        .with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_outcomes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meta.json");
        let mut meta = Meta {
            id: "fix-20261125-023000".into(),
            kind: "script".into(),
            script: Some("scripts/fix.rhai".into()),
            args: vec!["2026-11".into()],
            ..Meta::default()
        };
        save(&path, &meta).unwrap();
        assert_eq!(load(&path).unwrap(), meta);
        assert!(
            !std::fs::read_to_string(&path)
                .unwrap()
                .contains("output_lost")
        );
        meta.end(130, None);
        assert_eq!(meta.outcome.as_deref(), Some("interrupted"));
        assert_eq!(meta.what(), "scripts/fix.rhai 2026-11");
        assert_eq!(
            [0, 1, 3, 125, 129, 137, 143, 148].map(outcome_of),
            [
                "succeeded",
                "failed",
                "failed",
                "failed",
                "interrupted",
                "interrupted",
                "interrupted",
                "paused"
            ]
        );
        std::fs::write(&path, "{").unwrap();
        assert!(format!("{:#}", load(&path).unwrap_err()).contains("not a run record"));
    }
}
