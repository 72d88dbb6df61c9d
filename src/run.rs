//! Running a script or `-e CODE`: finding the script, reading its header and binding its
//! declared parameters before its first line runs (or answering `--help`), running it, and
//! telling how it went: on the terminal, or as the `--json` report on stdout.

use std::path::Path;
use std::rc::Rc;
use std::time::Instant;

use anyhow::Context;
use rhai::{Dynamic, Map};

use crate::audit::{self, Ran, Trail, What};
use crate::catalog;
use crate::diagnostic;
use crate::error::{EXIT_FAILURE, Ending, Error};
use crate::interrupt;
use crate::log;
use crate::options::{ReleaseMode, RunOptions};
use crate::params::{Header, Places};
use crate::release::Redactor;
use crate::release::Release;
use crate::report::{self, Report};
use crate::script::{self, Runner};
use crate::session::{Control, Session, Setup};
use crate::state::lock::{self, LockError};

/// What to run.
pub(crate) enum Code {
    /// A script, as the user named it (a path or a name under `scripts/`).
    Script(String),
    /// `-e CODE`.
    Eval(String),
}

/// The process of a detached run (`runs/`), as a run sees it: the run's id, for the report,
/// and the moment the script has started (its lock taken), which `--detach` waits for; and,
/// for the code it runs, the run's [`Control`] (a pause asked, a walk's progress).
pub(crate) trait DetachedRun: Control {
    fn id(&self) -> &str;
    fn started(&self);
}

pub(crate) struct Job {
    pub code: Code,
    pub args: Vec<String>,
    pub allow_outside_release: bool,
    pub json: bool,
    pub options: RunOptions,
    /// This is the process of a detached run (`--detach`): it says when the run has started.
    pub detached: Option<Rc<dyn DetachedRun>>,
}

/// Ready to run, or done before running.
pub(crate) enum Prepared {
    Run {
        /// The source name: the script's absolute path, or `-e`.
        name: String,
        text: String,
        params: Map,
    },
    /// `SCRIPT --help`: the text to print.
    Help(String),
    /// A header that cannot be read, rendered as a script error.
    Broken(String),
}

/// Runs the job and returns the exit code; an error is one adminsh stops on before the run.
/// With `--json`, every ending yields the document on stdout, a refusal (a lock held, a
/// missing reason, an audit log that cannot be written) included, with its exit code.
pub(crate) fn run(release: Release, job: Job) -> Result<i32, Error> {
    let started = Instant::now();
    let mut report = Report {
        args: job.args.clone(),
        ..Report::default()
    };
    let json = job.json;
    // The release's secrets as the run has learnt them (a secret parameter's value too): the
    // release itself is gone by the time a refusal is reported.
    let mut redactor = release.config.borrow().redactor().clone();
    match run_job(release, job, started, &mut report, &mut redactor) {
        Err(e) if json => Ok(refused(report, &e, started, &redactor)),
        other => other,
    }
}

/// The `--json` document of a run refused with `error`, on stdout (the error on stderr, as
/// without `--json`); returns its exit code.
fn refused(mut report: Report, error: &Error, started: Instant, redactor: &Redactor) -> i32 {
    log::err_line(&format!("adminsh: {error}"));
    report.exit_code = error.code();
    report.duration = started.elapsed();
    report.error = Some(error.to_string());
    log::out(&format!("{}\n", report.to_json(redactor)));
    report.exit_code
}

/// The `--json` document of a script or `-e` refused before its release could be opened
/// (`-C` wrong, a bad manifest, a missing `--env-file`); `None` for the other modes.
pub(crate) fn refused_before_release(mode: &ReleaseMode, error: &Error) -> Option<i32> {
    let (script, args) = match mode {
        ReleaseMode::Script { script, args } => (Some(script.clone()), args),
        ReleaseMode::Eval { args, .. } => (None, args),
        _ => return None,
    };
    let report = Report {
        script,
        args: args.clone(),
        ..Report::default()
    };
    Some(refused(report, error, Instant::now(), &Redactor::default()))
}

/// The run's life in order: prepare, lock, audit, run, report.
fn run_job(
    release: Release,
    job: Job,
    started: Instant,
    report: &mut Report,
    redactor: &mut Rc<Redactor>,
) -> Result<i32, Error> {
    // The user's directory: paths they typed are relative to it.
    let origin = std::env::current_dir().unwrap_or_default();
    let (name, text, params) = match prepare(&release, &job, &origin, report)? {
        Prepared::Run { name, text, params } => (name, text, params),
        Prepared::Help(text) => {
            log::out(&text);
            return Ok(0);
        }
        Prepared::Broken(text) => return Ok(broken(&release, text, job.json, started, report)),
    };
    learn_secret_params(&release, &params);
    *redactor = release.config.borrow().redactor().clone();
    if let Code::Script(_) = job.code {
        for warning in release.warnings() {
            crate::log::warn(&warning);
        }
    }
    report.params = Some(params.clone());
    let reason = audit::reason(&release, job.options.reason.as_deref())?;
    interrupt::install();
    // One run of a script at a time: the lock is held until adminsh exits.
    let _lock = match job.code {
        Code::Script(_) => Some(lock_script(
            &release,
            &name,
            job.options.wait,
            job.detached.as_deref(),
            job.options.shard.as_ref(),
        )?),
        Code::Eval(_) => None,
    };
    let trail = begin_trail(&release, &job, (&name, &text), reason.as_deref())?;
    if let Some(detached) = &job.detached {
        detached.started();
    }
    let (json, eval) = (job.json, matches!(job.code, Code::Eval(_)));
    let mut runner = open_session(release, job, params, &name)?;
    let outcome = runner.run(&text, &name);
    *redactor = runner.session.release.config.borrow().redactor().clone();
    wind_down(&runner, outcome.is_ok())?;
    let code = tell(&runner, &outcome, eval && !json);
    let session = &runner.session;
    let commands = session.spawner.commands();
    let steps = session.steps.borrow().log().to_vec();
    let ending = outcome.as_ref().err().cloned();
    // The report before the audit's finish line, so that the line records a report a closed
    // reader lost too.
    if json {
        report.exit_code = code;
        report.duration = started.elapsed();
        report.commands.clone_from(&commands);
        report.steps.clone_from(&steps);
        report.walks.clone_from(&session.walks.borrow());
        add_results(report, &runner, outcome);
        emit(report, &runner.session.release);
    }
    trail.end(&Ran {
        ending: ending.as_ref(),
        commands: &commands,
        steps: &steps,
        redactor,
    });
    leave(runner);
    Ok(code)
}

/// A script whose header cannot be read: says why (and, with `--json`, reports it); the exit
/// code.
fn broken(
    release: &Release,
    text: String,
    json: bool,
    started: Instant,
    report: &mut Report,
) -> i32 {
    log::err_line(&text);
    if json {
        report.exit_code = EXIT_FAILURE;
        report.duration = started.elapsed();
        report.error = Some(text);
        emit(report, release);
    }
    EXIT_FAILURE
}

/// The audit log's start line for this run of `source` (its name and text).
fn begin_trail(
    release: &Release,
    job: &Job,
    (name, text): (&str, &str),
    reason: Option<&str>,
) -> anyhow::Result<Trail> {
    let eval = matches!(job.code, Code::Eval(_));
    Trail::begin(
        release,
        What {
            kind: if eval { "eval" } else { "script" },
            script: (!eval).then_some((name, text)),
            args: &job.args,
            reason,
            dry_run: job.options.dry_run,
            run: job.detached.as_ref().map(|d| d.id()),
            shard: job.options.shard.as_ref(),
        },
    )
}

/// The session the code runs in, a script's checkpoint loaded, and its runner.
fn open_session(release: Release, job: Job, params: Map, name: &str) -> Result<Runner, Error> {
    let eval = matches!(job.code, Code::Eval(_));
    let control = job.detached.map(|d| d as Rc<dyn Control>);
    let session = Session::new(
        release,
        Setup {
            args: job.args,
            params: Some(params),
            json: job.json,
            options: job.options,
            record: true,
            control,
        },
    );
    if !eval {
        session.use_checkpoint(name)?;
    }
    Ok(Runner::new(session))
}

/// After the code: the database closed (a dry run's sandbox rolled back), temporary
/// directories removed, a finished script's checkpoint cleared, a dry run's summary said.
fn wind_down(runner: &Runner, succeeded: bool) -> Result<(), Error> {
    // A dry run's database sandbox (and any transaction left open) is rolled back now.
    let not_undone = runner.session.db.close();
    crate::host::remove_temp_dirs();
    if succeeded {
        runner.session.steps.borrow().clear_checkpoint()?;
    }
    if runner.session.options().dry_run {
        log::err_line(&dry_run_summary(runner, &not_undone));
    }
    Ok(())
}

/// What a dry run would have done: the commands it would have run and the files it would
/// have written; and what its database rollback could not undo, said first.
fn dry_run_summary(runner: &Runner, not_undone: &[String]) -> String {
    let summary = runner.session.sink.dry_run_summary();
    let mut text = String::from("dry run: nothing was changed");
    if not_undone.is_empty() {
        text.push_str(". ");
    } else {
        text.push_str(" but what a rollback cannot undo:");
        for line in not_undone {
            text.push_str(&format!("\n  {}", runner.session.redact(line)));
        }
        text.push('\n');
    }
    if summary.is_empty() {
        text.push_str("It would have run no command and written no file.");
    } else {
        text.push_str("It would have run:");
        for line in &summary {
            text.push_str(&format!("\n  {line}"));
        }
    }
    text
}

/// Says how the code ended: its value (`-e` without `--json`, when it has one to show) or its
/// error; the exit code.
fn tell(runner: &Runner, outcome: &Result<Dynamic, Ending>, show_value: bool) -> i32 {
    match outcome {
        Ok(value) => {
            if show_value && let Some(text) = runner.show(value) {
                log::out(&format!("{text}\n"));
            }
            0
        }
        Err(ending) => {
            script::report(ending);
            ending.code()
        }
    }
}

/// The `--json` report's tables, and the code's value or its error.
fn add_results(report: &mut Report, runner: &Runner, outcome: Result<Dynamic, Ending>) {
    report.tables = runner
        .session
        .sink
        .tables()
        .into_iter()
        .map(|rows| report::printable(rows, &|v| as_text(runner, v)))
        .collect();
    match outcome {
        Ok(value) => report.value = Some(report::printable(value, &|v| as_text(runner, v))),
        Err(ending) => report.error = ending.error(),
    }
}

/// Everything that can stop a run before its first line: the script not found or outside the
/// release, its header unreadable, its command line wrong, required config missing.
pub(crate) fn prepare(
    release: &Release,
    job: &Job,
    origin: &Path,
    report: &mut Report,
) -> Result<Prepared, Error> {
    let (name, text, params) = match &job.code {
        Code::Eval(code) => ("-e".to_owned(), code.clone(), Map::new()),
        Code::Script(script) => {
            let path = catalog::find(release.path(), script).map_err(|mut unknown| {
                unknown.no_root = release.root.not_found();
                Error::usage(unknown.to_string())
            })?;
            check_inside(release, &path, job.allow_outside_release)?;
            let name = absolute(&path);
            report.script = Some(diagnostic::shown(&name, origin));
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read script {}", path.display()))
                .map_err(Error::Failed)?;
            let (header, errors) = Header::parse_all(&text);
            if !errors.is_empty() {
                let shown = diagnostic::shown(&name, origin);
                return Ok(Prepared::Broken(diagnostic::header_errors(
                    &shown, &text, &errors,
                )));
            }
            if header.wants_help(&job.args) {
                return Ok(Prepared::Help(header.help(script)));
            }
            crate::params::refuse_misplaced_flags(script, &job.args, &header)?;
            if let Some(warning) = crate::params::shadowed_names(script, &header) {
                log::emit(log::Level::Warn, &warning);
            }
            let params = if header.declares {
                let places = Places {
                    cwd: origin,
                    root: release.path(),
                };
                header.bind(script, &job.args, places)?
            } else {
                Map::new()
            };
            (name, text, params)
        }
    };
    release
        .config
        .borrow()
        .check_required(&release.manifest.required)?;
    Ok(Prepared::Run { name, text, params })
}

/// A parameter whose name says it is secret (`--new-password`) is masked like a secret config
/// value from here on: in the audit, the checkpoint, `--json` and whatever the script prints.
fn learn_secret_params(release: &Release, params: &Map) {
    let mut config = release.config.borrow_mut();
    for (key, value) in params {
        if config.is_secret(key) && !(value.is_unit() || value.is_bool()) {
            config.add_secret(&value.to_string());
        }
    }
}

/// A value as the script's `print` would show it (a command as its command line).
fn as_text(runner: &Runner, value: &Dynamic) -> String {
    runner.text(value, false)
}

/// Writes the `--json` report on stdout, as one line.
fn emit(report: &Report, release: &Release) {
    let redactor = release.config.borrow().redactor().clone();
    log::out(&format!("{}\n", report.to_json(&redactor)));
}

/// The process exits next: freeing the engine's thousand functions one by one would only
/// delay that, so the runner is left for the operating system to reclaim.
fn leave(runner: Runner) {
    std::mem::forget(runner);
}

/// A script's source name as the user knows it: relative to the release.
pub(crate) fn shown_script(release: &Release, script: &str) -> String {
    Path::new(script)
        .strip_prefix(release.path())
        .map_or(script.to_owned(), |p| p.display().to_string())
}

/// Takes the script's lock, or says who holds it (or waits, with `--wait`: a detached run has
/// started once it waits). A shard of a sharded run takes a lock of its own: the sharded run
/// holds the script's.
pub(crate) fn lock_script(
    release: &Release,
    script: &str,
    wait: bool,
    detached: Option<&dyn DetachedRun>,
    shard: Option<&crate::shard::Shard>,
) -> Result<lock::Lock, Error> {
    let file = match &shard {
        Some(shard) => format!(
            "{}.shard-{}-of-{}.lock",
            lock::file_name(script),
            shard.index + 1,
            shard.count
        ),
        None => format!("{}.lock", lock::file_name(script)),
    };
    let path = release.state_dir().join("locks").join(file);
    let mut shown = shown_script(release, script);
    if let Some(shard) = shard {
        shown = format!("{shown} ({})", shard.shown());
    }
    lock::acquire(&path, wait, &mut |holder| {
        log::err_line(&format!(
            "adminsh: {shown} is already running: {holder}; waiting"
        ));
        if let Some(detached) = detached {
            detached.started();
        }
    })
    .map_err(|e| match e {
        LockError::Held { holder } => Error::Failed(anyhow::anyhow!(
            "{shown} is already running: {holder}; pass --wait to wait for it"
        )),
        LockError::Interrupted(signal) => Error::Interrupted(signal),
        LockError::Io(e) => Error::Failed(anyhow::anyhow!(
            "cannot take the lock {}: {e}",
            path.display()
        )),
    })
}

/// Admin code ships with the release: a script from elsewhere needs the user's explicit say-so.
fn check_inside(release: &Release, script: &Path, allowed: bool) -> Result<(), Error> {
    let real = script
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", script.display()))
        .map_err(Error::Failed)?;
    if allowed || real.starts_with(release.path()) {
        return Ok(());
    }
    Err(Error::usage(format!(
        "{} is outside the release at {}: admin code must ship with the release it runs against, \
         so commit the script under {}/scripts/ (or pass --allow-outside-release to run it anyway)",
        script.display(),
        release.path().display(),
        release.path().display(),
    )))
}

/// A script's name as a source: its absolute path, so imports beside it resolve wherever
/// adminsh runs; messages show it relative to where the user is (`diagnostic::shown`).
pub(crate) fn absolute(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}
