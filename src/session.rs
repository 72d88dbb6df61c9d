//! One admin process: the release it runs against, the script's arguments, and what running
//! commands needs between calls (the spawn environment, the program cache, the exit code a
//! script asked for, the sources for error messages), and, for `--json`, the commands it ran.
//! The script runner and the console share it.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::audit;
use crate::cli::RunOptions;
use crate::process::{self, Finished, Output, ProgramCache, Spec};
use crate::release::{Isolation, Release};
use crate::state::checkpoint::{self, Checkpoint, DoneStep};

pub struct Session {
    pub release: Release,
    /// The script's arguments, as given.
    pub args: Vec<String>,
    /// The script's declared parameters, bound (`PARAMS`); `None` in the console.
    pub params: Option<rhai::Map>,
    /// `--json`: stdout carries the run's report only, so `print` and the stdout of `run()`
    /// commands go to stderr.
    json: bool,
    /// Dry run, read-only, `--yes`, ...
    options: RunOptions,
    /// Whether commands are recorded (for `--json` and the audit log).
    record: bool,
    commands: RefCell<Vec<CommandRecord>>,
    steps: RefCell<Steps>,
    /// What a dry run would have done, one line each.
    dry: RefCell<Vec<String>>,
    /// Where the user ran adminsh from: paths in messages are shown relative to it.
    origin: PathBuf,
    /// Whether adminsh itself now runs in the release root (`enter`).
    entered: Cell<bool>,
    exit_code: Cell<Option<i32>>,
    spawn: RefCell<SpawnState>,
    sources: RefCell<HashMap<String, Rc<str>>>,
}

/// How a script, `-e` or the console runs (`Session::new` is a plain one).
#[derive(Debug, Default)]
pub struct Setup {
    pub args: Vec<String>,
    /// `None` in the console.
    pub params: Option<rhai::Map>,
    pub json: bool,
    pub options: RunOptions,
    /// Record every command (for `--json` and the audit log).
    pub record: bool,
}

/// The steps of a run and the checkpoint they resume from.
#[derive(Debug, Default)]
struct Steps {
    /// Where the checkpoint is kept; `None` for `-e` and the console, and in a dry run.
    path: Option<PathBuf>,
    checkpoint: Checkpoint,
    /// How many steps have started.
    started: usize,
    /// The first step that differed from the checkpoint: it and all after it run again.
    diverged: bool,
    /// The step running now, for dry-run listings.
    current: Option<String>,
    log: Vec<audit::Step>,
}

/// What `step()` should do.
pub enum StepStart {
    Skip { number: usize, finished_at: String },
    Run { number: usize, changed: bool },
}

/// A command a session ran, for the `--json` report.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandRecord {
    /// The argv of each program of the pipeline, secrets masked.
    pub stages: Vec<Vec<String>>,
    /// The exit status; `None` when there is none (not found, timed out, interrupted).
    pub status: Option<i32>,
    pub duration: Duration,
    /// Why it raised an error, when it did.
    pub error: Option<String>,
}

type SpawnEnv = Rc<Vec<(OsString, OsString)>>;

#[derive(Default)]
struct SpawnState {
    cache: ProgramCache,
    /// The environment of every command, rebuilt when config or isolation changes.
    env: Option<(Isolation, SpawnEnv)>,
}

impl Session {
    /// A plain session: these arguments, no `PARAMS`, default options.
    pub fn new(release: Release, args: Vec<String>) -> Rc<Self> {
        Session::with(
            release,
            Setup {
                args,
                ..Setup::default()
            },
        )
    }

    /// A session for a script, `-e` or the console.
    pub fn with(release: Release, setup: Setup) -> Rc<Self> {
        let mut options = setup.options;
        // The manifest can make a stage read-only, as for a production console.
        options.read_only |= release.manifest.read_only_stages.contains(&release.stage);
        Rc::new(Session {
            release,
            args: setup.args,
            params: setup.params,
            json: setup.json,
            record: setup.record || setup.json,
            options,
            commands: RefCell::default(),
            steps: RefCell::default(),
            dry: RefCell::default(),
            origin: std::env::current_dir().unwrap_or_default(),
            entered: Cell::new(false),
            exit_code: Cell::new(None),
            spawn: RefCell::default(),
            sources: RefCell::default(),
        })
    }

    /// Makes the release root adminsh's working directory, as it is every command's: commands
    /// then start without a change of directory each (and so on the fast spawn path).
    pub fn enter(&self) -> anyhow::Result<()> {
        let root = self.release.path();
        std::env::set_current_dir(root).map_err(|e| {
            anyhow::anyhow!("cannot enter the release root {}: {e}", root.display())
        })?;
        self.entered.set(true);
        Ok(())
    }

    /// A source name (a script path, `-e`, `std/db`) as the user should see it: a file under
    /// the directory adminsh was started in, relative to it.
    pub fn display_name(&self, source: &str) -> String {
        let path = Path::new(source);
        match path.strip_prefix(&self.origin) {
            Ok(relative) if path.is_absolute() && !self.origin.as_os_str().is_empty() => {
                relative.display().to_string()
            }
            _ => source.to_owned(),
        }
    }

    pub fn options(&self) -> &RunOptions {
        &self.options
    }

    /// Runs a command of the app with the release's cwd, config and isolation (or, in a dry
    /// run, says it would; in read-only mode, refuses it, unless it is marked read-only).
    pub fn run(&self, spec: &Spec, output: Output<'_>) -> Result<Finished, process::Error> {
        if !spec.read_only && (self.options.dry_run || self.options.read_only) {
            let command = self.redact(&spec.command_line());
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
        let root = self.release.path();
        let env = self.spawn_env();
        let redactor = self.release.config.borrow().redactor().clone();
        // No borrow is held while the command runs: an `each_line` callback may run commands
        // or call `set_env` itself.
        let resolve = |program: &str, path: Option<&std::ffi::OsStr>, dir: &std::path::Path| {
            self.spawn.borrow_mut().cache.resolve(program, path, dir)
        };
        // Recorded as it starts, so a command an `each_line` callback runs comes after it.
        let record = self.record.then(|| self.start_record(spec, &redactor));
        let result = process::execute(
            spec,
            process::Launch {
                root,
                env: &env,
                resolve: &resolve,
                redactor: &redactor,
                stdout_to_stderr: self.json,
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
                    entry.error = Some(error.to_string());
                }
            }
        }
        result
    }

    fn start_record(
        &self,
        spec: &Spec,
        redactor: &crate::release::secrets::Redactor,
    ) -> (usize, Instant) {
        let stages = spec
            .stages
            .iter()
            .map(|stage| {
                std::iter::once(&stage.program)
                    .chain(&stage.args)
                    .map(|word| redactor.redact(word))
                    .collect()
            })
            .collect();
        let mut commands = self.commands.borrow_mut();
        commands.push(CommandRecord {
            stages,
            status: None,
            duration: Duration::ZERO,
            error: None,
        });
        (commands.len() - 1, Instant::now())
    }

    /// In a dry run, says on stderr what would have been done and keeps it for the summary.
    pub fn would(&self, action: &str, listed: &str) {
        eprintln!("dry run: would {action}");
        let step = self.steps.borrow().current.clone();
        let line = match step {
            Some(step) => format!("step {step}: {listed}"),
            None => listed.to_owned(),
        };
        self.dry.borrow_mut().push(line);
    }

    /// What the dry run would have done, in order.
    pub fn dry_run_summary(&self) -> Vec<String> {
        self.dry.borrow().clone()
    }

    /// Starts keeping the checkpoint of this script run (unless `--restart`, or a dry run,
    /// which changes nothing).
    pub fn use_checkpoint(&self, script: &str) -> anyhow::Result<()> {
        if self.options.dry_run {
            return Ok(());
        }
        let path = checkpoint::path(&self.release.state_dir(), script, &self.args);
        let found = if self.options.restart {
            None
        } else {
            checkpoint::load(&path)?
        };
        let mut steps = self.steps.borrow_mut();
        steps.checkpoint = found.unwrap_or_else(|| Checkpoint {
            script: script.to_owned(),
            args: self.args.iter().map(|a| self.redact(a)).collect(),
            steps: Vec::new(),
        });
        steps.path = Some(path);
        Ok(())
    }

    /// The run finished: its checkpoint has served its purpose.
    pub fn clear_checkpoint(&self) -> anyhow::Result<()> {
        match &self.steps.borrow().path {
            Some(path) => checkpoint::clear(path),
            None => Ok(()),
        }
    }

    /// A step begins: skip it if it completed in an earlier run with the same code.
    pub fn start_step(&self, name: &str, code: &str) -> StepStart {
        let mut steps = self.steps.borrow_mut();
        let index = steps.started;
        steps.started += 1;
        let number = index + 1;
        let done = steps.checkpoint.steps.get(index).cloned();
        let changed = match done {
            Some(done) if !steps.diverged && done.name == name && done.code == code => {
                steps.log.push(audit::Step {
                    name: name.to_owned(),
                    outcome: "skipped".into(),
                    duration_ms: 0,
                });
                return StepStart::Skip {
                    number,
                    finished_at: done.finished_at,
                };
            }
            Some(_) if !steps.diverged => {
                steps.checkpoint.steps.truncate(index);
                steps.diverged = true;
                true
            }
            _ => false,
        };
        steps.current = Some(name.to_owned());
        StepStart::Run { number, changed }
    }

    /// A step ended: log it and, when it succeeded, checkpoint it.
    pub fn end_step(&self, name: &str, code: &str, took: Duration, ok: bool) -> anyhow::Result<()> {
        let mut steps = self.steps.borrow_mut();
        steps.current = None;
        steps.log.push(audit::Step {
            name: name.to_owned(),
            outcome: if ok { "done" } else { "failed" }.into(),
            duration_ms: took.as_millis() as u64,
        });
        // Once a step failed or diverged, later steps cannot be trusted as a prefix.
        let index = steps.checkpoint.steps.len();
        if !ok || steps.started != index + 1 {
            return Ok(());
        }
        steps.checkpoint.steps.push(DoneStep {
            name: name.to_owned(),
            code: code.to_owned(),
            finished_at: crate::state::now_rfc3339(),
            duration_ms: took.as_millis() as u64,
        });
        match &steps.path {
            Some(path) => checkpoint::save(path, &steps.checkpoint),
            None => Ok(()),
        }
    }

    /// The steps so far, for the audit log and the `--json` report.
    pub fn step_log(&self) -> Vec<audit::Step> {
        self.steps.borrow().log.clone()
    }

    /// The commands run so far, in the order they started (recorded with `--json` only).
    pub fn commands(&self) -> Vec<CommandRecord> {
        self.commands.borrow().clone()
    }

    /// A script's `print`: on stdout, or on stderr when stdout carries the `--json` report.
    pub fn print(&self, text: &str) {
        use std::io::Write;
        // A closed stdout (`adminsh x | head`) must not panic mid-script.
        let _ = if self.json {
            writeln!(std::io::stderr().lock(), "{text}")
        } else {
            writeln!(std::io::stdout().lock(), "{text}")
        };
    }

    fn spawn_env(&self) -> SpawnEnv {
        let isolation = self.release.isolation();
        let config = self.release.config.borrow();
        let mut spawn = self.spawn.borrow_mut();
        if let Some((_, env)) = spawn.env.as_ref().filter(|(d, _)| *d == isolation) {
            return env.clone();
        }
        let mut env: Vec<(OsString, OsString)> = config
            .iter()
            .filter(|(key, _)| !matches!(*key, "PATH" | "VIRTUAL_ENV" | "PYTHONHOME" | "PWD"))
            .map(|(key, var)| (key.into(), (&var.value).into()))
            .collect();
        env.extend(config.opaque().iter().cloned());
        let prefix = isolation.path_prefix(self.release.path());
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
        let root = &self.release.root;
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
        let env = Rc::new(env);
        spawn.env = Some((isolation, env.clone()));
        env
    }

    /// Changes a config value for the commands that follow (`set_env`).
    pub fn set_env(&self, key: &str, value: &str) {
        let layer = crate::release::Layer::Script;
        self.release.config.borrow_mut().set(key, value, layer);
        self.spawn.borrow_mut().env = None;
    }

    pub fn request_exit(&self, code: i32) {
        self.exit_code.set(Some(code));
    }

    /// The code a script passed to `exit(n)`, if it did.
    pub fn requested_exit(&self) -> Option<i32> {
        self.exit_code.get()
    }

    pub fn redact(&self, text: &str) -> String {
        self.release.config.borrow().redactor().redact(text)
    }

    /// Keeps a source text so errors in it can be shown with a code frame.
    pub fn remember_source(&self, name: &str, text: &str) {
        self.sources
            .borrow_mut()
            .insert(name.to_owned(), text.into());
    }

    pub fn source(&self, name: &str) -> Option<Rc<str>> {
        if let Some(text) = self.sources.borrow().get(name) {
            return Some(text.clone());
        }
        let text: Rc<str> = crate::stdlib::source(name)
            .map(Into::into)
            .or_else(|| std::fs::read_to_string(name).ok().map(Into::into))?;
        self.remember_source(name, &text);
        Some(text)
    }
}

/// A session over an empty release in a temp dir, for unit tests.
#[cfg(test)]
pub fn for_tests() -> (tempfile::TempDir, Rc<Session>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("adminsh.toml"), "").unwrap();
    let options = crate::release::OpenOptions {
        dir: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let release = Release::open(&options, Vec::new()).unwrap();
    (dir, Session::new(release, Vec::new()))
}
