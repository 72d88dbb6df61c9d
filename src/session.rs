//! One admin process: the release it runs against, the script's arguments and options, and
//! the values with one job each that running needs: the spawner (environment, program cache,
//! record of commands), the steps and their checkpoint, the sink for the run's own words, and
//! the sources for error messages. The script runner and the console share it; it never
//! changes adminsh's own working directory or environment.

use std::cell::RefCell;
use std::rc::Rc;

use crate::diagnostic::Sources;
use crate::options::RunOptions;
use crate::process::{self, Finished, Output, Spec};
use crate::record::{StepRecord, WalkProgress};
use crate::release::Redactor;
use crate::release::Release;
use crate::sink::Sink;
use crate::spawner::Spawner;
use crate::state::Steps;

pub(crate) struct Session {
    pub release: Release,
    /// The script's arguments, as given.
    pub args: Vec<String>,
    /// The script's declared parameters, bound (`PARAMS`); `None` in the console.
    pub params: Option<rhai::Map>,
    /// Dry run, read-only, `--yes`, ...
    options: RunOptions,
    pub spawner: Spawner,
    pub steps: RefCell<Steps>,
    pub sink: Sink,
    pub sources: Sources,
    /// The database connections (std/db), opened on first use.
    pub db: crate::db::Databases,
    /// The walks in batches that ended, for the `--json` report.
    pub walks: RefCell<Vec<crate::record::WalkRecord>>,
    /// The detached run this admin process is, if it is one.
    control: Option<Rc<dyn Control>>,
}

/// A detached run's directory as the code running in it sees it: whether someone asked the
/// run to pause, and where its walks in batches say how far they are. Implemented by
/// `runs/`, which owns the directory; the host asks through the session, never the files.
pub(crate) trait Control {
    /// Who asked the run to pause and when (`ana@app1 at 2026-11-25T02:40:00Z`), if someone
    /// did.
    fn pause_asked(&self) -> Option<String>;
    /// How far the walk running now has got.
    fn walked(&self, progress: &WalkProgress);
    /// A step started (`running`), ended, or was skipped.
    fn stepped(&self, step: &StepRecord);
    /// `adminsh --resume ID` (with `-t NAME` where the run was started through a target):
    /// what goes on after a pause.
    fn resume_command(&self) -> String;
}

/// How a script, `-e` or the console runs (`Setup::default()` is a plain one).
#[derive(Default)]
pub(crate) struct Setup {
    pub args: Vec<String>,
    /// `None` in the console.
    pub params: Option<rhai::Map>,
    pub json: bool,
    pub options: RunOptions,
    /// Record every command (for `--json` and the audit log).
    pub record: bool,
    /// The detached run this is (`--detach`), which `--pause` can ask to pause.
    pub control: Option<Rc<dyn Control>>,
}

impl Session {
    /// A session for a script, `-e` or the console.
    pub(crate) fn new(release: Release, setup: Setup) -> Rc<Self> {
        let mut options = setup.options;
        // The manifest can make a stage read-only, as for a production console.
        options.read_only |= release.manifest.read_only_stages.contains(&release.stage);
        Rc::new(Session {
            release,
            args: setup.args,
            params: setup.params,
            options,
            spawner: Spawner::new(setup.record || setup.json, setup.json),
            steps: RefCell::default(),
            sink: Sink::new(setup.json),
            sources: Sources::new(std::env::current_dir().unwrap_or_default()),
            db: crate::db::Databases::default(),
            walks: RefCell::default(),
            control: setup.control,
        })
    }

    /// The detached run this admin process is, if it is one.
    pub(crate) fn control(&self) -> Option<&dyn Control> {
        self.control.as_deref()
    }

    pub(crate) fn options(&self) -> &RunOptions {
        &self.options
    }

    /// Runs a command of the app with the release's cwd, config and isolation (or, in a dry
    /// run, says it would; in read-only mode, refuses it, unless it is marked read-only).
    pub(crate) fn run(&self, spec: &Spec, output: Output<'_>) -> Result<Finished, process::Error> {
        if !spec.read_only && (self.options.dry_run || self.options.read_only) {
            let command = spec.shown(&self.redactor());
            if self.options.read_only {
                return Err(process::Error::Refused { command });
            }
            self.would(&format!("run `{command}`"), &command);
            return Ok(Finished {
                status: 0,
                stdout: process::Captured::Nothing,
                stderr: process::Captured::Nothing,
            });
        }
        self.spawner.run(&self.release, spec, output)
    }

    /// In a dry run, says what would have been done, under the step running now.
    pub(crate) fn would(&self, action: &str, listed: &str) {
        let steps = self.steps.borrow();
        self.sink
            .would(&self.redactor(), action, listed, steps.current());
    }

    /// A script's `print`, masked, on stdout (stderr with `--json`).
    pub(crate) fn print(&self, text: &str) {
        self.sink.print(&self.redactor(), text);
    }

    /// One of adminsh's lines about the run, masked, on stderr.
    pub(crate) fn say(&self, text: &str) {
        crate::sink::say(&self.redactor(), text);
    }

    /// A script's `info`, `warn` or `error`, masked, on stderr.
    pub(crate) fn message(&self, level: crate::log::Level, text: &str) {
        crate::sink::message(&self.redactor(), level, text);
    }

    /// Starts keeping the checkpoint of this script run (unless `--restart`, or a dry run,
    /// which changes nothing).
    pub(crate) fn use_checkpoint(&self, script: &str) -> anyhow::Result<()> {
        if self.options.dry_run {
            return Ok(());
        }
        let shown = self.redactor().words(&self.args);
        // A run against another stage (its own database) resumes nothing of this one's, and
        // each shard resumes its own slice.
        let mut key = self.args.clone();
        key.push(format!("--stage={}", self.release.stage));
        if let Some(shard) = &self.options.shard {
            key.push(format!("--shard={}/{}", shard.index, shard.count));
        }
        self.steps.borrow_mut().use_checkpoint(
            &self.release.state_dir(),
            script,
            &key,
            shown,
            self.options.restart,
        )
    }

    /// Changes a config value for the commands that follow (`set_env`).
    pub(crate) fn set_env(&self, key: &str, value: &str) {
        let layer = crate::release::Layer::Script;
        self.release.config.borrow_mut().set(key, value, layer);
        self.spawner.forget_env();
    }

    /// The release's secrets as they are now (`set_env` may add more).
    pub(crate) fn redactor(&self) -> Rc<Redactor> {
        self.release.config.borrow().redactor().clone()
    }

    /// `text` with the release's secrets masked (for text adminsh writes itself, such as a
    /// statement's SQL; values are masked raw with `redactor().value`).
    pub(crate) fn redact(&self, text: &str) -> String {
        self.redactor().redact(text).into_owned()
    }
}

/// A session over an empty release in a temp dir, for unit tests.
#[cfg(test)]
pub(crate) fn for_tests() -> (tempfile::TempDir, Rc<Session>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("adminsh.toml"), "").unwrap();
    let options = crate::release::OpenOptions {
        dir: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let release = Release::open(&options, Vec::new()).unwrap();
    (dir, Session::new(release, Setup::default()))
}
