//! What every request of the web view reads: the release's name, stage and paths, the audit
//! log, the redactor, the user who started the page, its tokens, and the command line that
//! reaches this release again (for the actions, which run adminsh as a user would). Made once
//! from the release, which itself stays on the thread that opened it.

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::Context;

use super::view::Views;
use crate::error::Error;
use crate::options::Flags;
use crate::release::{Redactor, Release};
use crate::runs::{Meta, RunDir};

pub(crate) struct Ui {
    pub name: String,
    pub stage: String,
    pub root: PathBuf,
    /// The release's run directories.
    pub runs: PathBuf,
    pub audit: PathBuf,
    /// Audit lines go to the disk too (production, or `audit_required`).
    pub durable: bool,
    /// The manifest requires a reason on this stage.
    pub reason_required: bool,
    pub redactor: Redactor,
    /// Who started the page: its actions are theirs.
    pub user: String,
    pub host: String,
    /// In the URL printed once, then in a cookie: checked on every request.
    pub token: String,
    /// In every form: checked on every action.
    pub csrf: String,
    pub allow_actions: bool,
    pub port: u16,
    /// adminsh, `-C ROOT` and the flags that opened this release (stage, env files).
    pub adminsh: Vec<OsString>,
    /// The manifest's targets, whose runs the runs page can list (`-t NAME --runs`).
    pub targets: Vec<String>,
    pub views: Views,
}

impl Ui {
    pub(crate) fn new(
        release: &Release,
        flags: &Flags,
        allow_actions: bool,
        port: u16,
    ) -> Result<Ui, Error> {
        let exe = std::env::current_exe().context("cannot find adminsh's own binary")?;
        let mut adminsh: Vec<OsString> = vec![exe.into(), "-C".into(), release.path().into()];
        adminsh.push(format!("--stage={}", release.stage).into());
        for file in &flags.release.env_files {
            let mut word = OsString::from("--env-file=");
            word.push(std::path::absolute(file).unwrap_or_else(|_| file.clone()));
            adminsh.push(word);
        }
        let reason_required = release
            .manifest
            .require_reason
            .iter()
            .any(|stage| stage == "*" || *stage == release.stage);
        Ok(Ui {
            name: release.name.clone(),
            stage: release.stage.clone(),
            root: release.path().to_path_buf(),
            runs: crate::runs::dir(release),
            audit: crate::audit::path(release),
            durable: release.manifest.audit_required || release.is_dangerous(),
            reason_required,
            redactor: release.config.borrow().redactor().as_ref().clone(),
            user: crate::who::user(),
            host: crate::who::host(),
            token: random_token(),
            csrf: random_token(),
            allow_actions,
            port,
            adminsh,
            targets: release.manifest.targets.keys().cloned().collect(),
            views: Views::new()?,
        })
    }

    /// The address with the token: what the operator opens.
    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}/?token={}", self.port, self.token)
    }

    /// The run with exactly this id (never a path: only ids listed in the runs folder match).
    pub(crate) fn run(&self, id: &str) -> Option<(RunDir, Meta)> {
        crate::runs::all_in(&self.runs)
            .into_iter()
            .find(|(run, _)| run.id == id)
    }

    /// `text` with the release's secrets masked.
    pub(crate) fn masked(&self, text: &str) -> String {
        self.redactor.redact(text).into_owned()
    }
}

/// 244 random bits (two version 4 UUIDs, from the operating system's generator), as hex.
fn random_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}
