//! Spawning the app's commands for one admin process: the environment every command gets (the
//! release's config with its dependency isolation, rebuilt only when either changes), the cache
//! of resolved programs, and the records of what ran (`record.rs`, for `--json` and the audit
//! log). Each
//! command gets its directory and environment explicitly: adminsh's own never change.

use std::cell::RefCell;
use std::ffi::OsString;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::process::{self, Finished, Output, ProgramCache, Spec};
use crate::record::CommandRecord;
use crate::release::Redactor;
use crate::release::{Isolation, Release};

type SpawnEnv = Rc<Vec<(OsString, OsString)>>;

#[derive(Default)]
pub(crate) struct Spawner {
    /// Whether commands are recorded.
    record: bool,
    /// stdout carries the `--json` report: what commands print there goes to stderr.
    stdout_to_stderr: bool,
    commands: RefCell<Vec<CommandRecord>>,
    cache: RefCell<ProgramCache>,
    /// The environment of every command, for the isolation it was built with.
    env: RefCell<Option<(Isolation, SpawnEnv)>>,
}

impl Spawner {
    pub(crate) fn new(record: bool, stdout_to_stderr: bool) -> Self {
        Spawner {
            record,
            stdout_to_stderr,
            ..Spawner::default()
        }
    }

    /// Runs `spec` in `release`: its root as the working directory, its config and isolation as
    /// the environment. No borrow is held while the command runs, so an `each_line` callback
    /// may run commands or change the config itself.
    pub(crate) fn run(
        &self,
        release: &Release,
        spec: &Spec,
        output: Output<'_>,
    ) -> Result<Finished, process::Error> {
        let env = self.env(release);
        let redactor = release.config.borrow().redactor().clone();
        let resolve = |program: &str, path: Option<&std::ffi::OsStr>, dir: &std::path::Path| {
            self.cache.borrow_mut().resolve(program, path, dir)
        };
        // Recorded as it starts, so a command an `each_line` callback runs comes after it.
        let record = self.record.then(|| self.start_record(spec, &redactor));
        let result = process::execute(
            spec,
            process::Launch {
                root: release.path(),
                env: &env,
                resolve: &resolve,
                redactor: &redactor,
                stdout_to_stderr: self.stdout_to_stderr,
            },
            output,
        );
        if let Some((index, started)) = record {
            let mut commands = self.commands.borrow_mut();
            let entry = &mut commands[index];
            entry.duration = started.elapsed();
            match &result {
                Ok(finished) => entry.status = Some(finished.status),
                Err(error) => {
                    if let process::Error::Failed { status, .. } = error {
                        entry.status = Some(*status);
                    }
                    // Its words are masked already (command line, stderr tail).
                    entry.error = Some(error.to_string());
                }
            }
        }
        result
    }

    fn start_record(&self, spec: &Spec, redactor: &Redactor) -> (usize, Instant) {
        let stages = spec.masked_stages(redactor);
        let mut commands = self.commands.borrow_mut();
        commands.push(CommandRecord {
            stages,
            status: None,
            duration: Duration::ZERO,
            error: None,
            statement: None,
        });
        (commands.len() - 1, Instant::now())
    }

    /// Records what is not a command (a database statement); its index, if the run records.
    pub(crate) fn record(&self, record: CommandRecord) -> Option<usize> {
        if !self.record {
            return None;
        }
        let mut commands = self.commands.borrow_mut();
        commands.push(record);
        Some(commands.len() - 1)
    }

    /// Completes a record made with `record`.
    pub(crate) fn amend(&self, index: usize, change: impl FnOnce(&mut CommandRecord)) {
        if let Some(record) = self.commands.borrow_mut().get_mut(index) {
            change(record);
        }
    }

    /// The commands run so far, in the order they started.
    pub(crate) fn commands(&self) -> Vec<CommandRecord> {
        self.commands.borrow().clone()
    }

    /// The config changed (`set_env`): the next command's environment is built anew.
    pub(crate) fn forget_env(&self) {
        self.env.borrow_mut().take();
    }

    /// The program a command named `program` would run (`which`): found on the release's
    /// `PATH` (isolation first) as a command would find it.
    pub(crate) fn which(&self, release: &Release, program: &str) -> Option<std::path::PathBuf> {
        let env = self.env(release);
        let path = env
            .iter()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| v.as_os_str());
        let found = self
            .cache
            .borrow_mut()
            .resolve(program, path, release.path())?;
        found.is_file().then_some(found)
    }

    fn env(&self, release: &Release) -> SpawnEnv {
        let isolation = release.isolation();
        if let Some((_, env)) = self.env.borrow().as_ref().filter(|(i, _)| *i == isolation) {
            return env.clone();
        }
        let env = Rc::new(environment(release, &isolation));
        *self.env.borrow_mut() = Some((isolation, env.clone()));
        env
    }
}

/// Every command's environment: the config, the isolation's `PATH` prefix, `PWD` naming the
/// release root as the user knows it, and the isolation's own variables.
fn environment(release: &Release, isolation: &Isolation) -> Vec<(OsString, OsString)> {
    let config = release.config.borrow();
    let mut env: Vec<(OsString, OsString)> = config
        .iter()
        .filter(|(key, _)| !matches!(*key, "PATH" | "VIRTUAL_ENV" | "PYTHONHOME" | "PWD"))
        .map(|(key, var)| (key.into(), (&var.value).into()))
        .collect();
    env.extend(config.opaque().iter().cloned());
    let prefix = isolation.path_prefix(release.path());
    let path = std::env::join_paths(
        prefix.iter().cloned().chain(
            config
                .get("PATH")
                .map(std::env::split_paths)
                .into_iter()
                .flatten(),
        ),
    )
    .unwrap_or_else(|_| config.get("PATH").unwrap_or_default().into());
    env.push(("PATH".into(), path));
    // Commands run in the release root; a shell trusts PWD to say so.
    let root = &release.root;
    env.push((
        "PWD".into(),
        root.link.as_ref().unwrap_or(&root.path).into(),
    ));
    match (&isolation.venv, config.get("VIRTUAL_ENV")) {
        (Some(venv), _) => env.push(("VIRTUAL_ENV".into(), venv.into())),
        (None, Some(value)) => env.push(("VIRTUAL_ENV".into(), value.into())),
        (None, None) => {}
    }
    if let (None, Some(home)) = (&isolation.venv, config.get("PYTHONHOME")) {
        env.push(("PYTHONHOME".into(), home.into()));
    }
    if let Some(gemfile) = &isolation.gemfile {
        env.retain(|(k, _)| k != "BUNDLE_GEMFILE");
        env.push(("BUNDLE_GEMFILE".into(), gemfile.into()));
    }
    env
}
