//! What each mode of the command line does: run a script or an expression, open the console,
//! list or check the scripts, show the config, print completions, document the stdlib.

use std::rc::Rc;

use crate::audit;
use crate::catalog;
use crate::completion;
use crate::diagnostic;
use crate::error::{Ending, Error};
use crate::interrupt;
use crate::log;
use crate::man;
use crate::options::{Detach, Flags, Mode, Options, ReleaseMode};
use crate::params::Header;
use crate::release::{Release, listing};
use crate::remote;
use crate::repl;
use crate::run::{self, Code, Job};
use crate::runs;
use crate::script::{self, Runner};
use crate::session::{Session, Setup};
use crate::sharding;
use crate::stdlib;
use crate::ui;

/// Does what the command line asked and returns the exit code.
pub(crate) fn dispatch(options: Options) -> Result<i32, Error> {
    let Options { mode, flags } = options;
    if !matches!(mode, Mode::Complete { .. })
        && let Err(e) = check_dir(&flags)
    {
        return match &mode {
            Mode::Release(mode) if flags.json => run::refused_before_release(mode, &e).ok_or(e),
            _ => Err(e),
        };
    }
    match mode {
        Mode::Completions(shell) => Ok(say(completion::script(shell))),
        Mode::ManPage => Ok(say(&man::page())),
        Mode::Complete { words } => Ok(say(&completion::answer(&words)?)),
        Mode::Targets => remote::list(&flags.release),
        Mode::Stdlib(module) => stdlib(module.as_deref()),
        Mode::Release(mode) => match &flags.remote {
            Some(request) => remote::run(&mode, &flags, request),
            None => in_release(mode, flags),
        },
    }
}

/// `-C DIR` names a directory: one that is not there is a usage error, like a bad flag.
fn check_dir(flags: &Flags) -> Result<(), Error> {
    match &flags.release.dir {
        Some(dir) if !dir.is_dir() => {
            let problem = if dir.exists() {
                "not a directory"
            } else {
                "no such directory"
            };
            Err(Error::usage(format!("-C {}: {problem}", dir.display())))
        }
        _ => Ok(()),
    }
}

/// The modes that run against the release here.
fn in_release(mode: ReleaseMode, flags: Flags) -> Result<i32, Error> {
    let release = match Release::open(&flags.release, std::env::vars_os().collect()) {
        Ok(release) => release,
        Err(e) => {
            let e = Error::from(e);
            return if flags.json {
                run::refused_before_release(&mode, &e).ok_or(e)
            } else {
                Err(e)
            };
        }
    };
    if let Some(target) = &flags.announce {
        remote::announce(target, &release);
    }
    let job = |code: Code, args: Vec<String>| Job {
        code,
        args,
        allow_outside_release: flags.run.allow_outside_release,
        json: flags.json,
        options: flags.run.clone(),
        detached: None,
    };
    match mode {
        ReleaseMode::List => Ok(list(&release)),
        ReleaseMode::Check => Ok(check(release)),
        ReleaseMode::Env { all } => {
            let text = if flags.json {
                listing::json(&release, all) + "\n"
            } else {
                listing::text(&release, all)
            };
            Ok(say(&text))
        }
        ReleaseMode::Eval { ref code, ref args } => {
            let job = job(Code::Eval(code.clone()), args.clone());
            detachable(release, &mode, &flags, job)
        }
        ReleaseMode::Script {
            ref script,
            ref args,
        } => {
            let job = job(Code::Script(script.clone()), args.clone());
            detachable(release, &mode, &flags, job)
        }
        ReleaseMode::Console => console(release, flags),
        ReleaseMode::Audit => {
            let (table, damaged) = audit::table(&audit::path(&release), 20)?;
            let code = say(&table);
            for line in damaged {
                log::warn(&line);
            }
            Ok(code)
        }
        ReleaseMode::Runs => Ok(runs::list(&release)),
        ReleaseMode::Logs { id } => runs::logs(&release, &id),
        ReleaseMode::Attach { id } => runs::attach(&release, &id, flags.announce.as_deref()),
        ReleaseMode::Stop { id } => runs::stop(&release, &id),
        ReleaseMode::Pause { id } => {
            let adminsh = flags
                .announce
                .as_ref()
                .map_or("adminsh".to_owned(), |t| format!("adminsh -t {t}"));
            runs::pause(&release, &id, &adminsh)
        }
        ReleaseMode::Resume { id } => runs::resume(&release, &id, &flags, &crate::cli::parse),
        ReleaseMode::Ui {
            allow_actions,
            port,
        } => ui::serve(&release, &flags, allow_actions, port),
    }
}

/// A script or `-e`: run here, started as a detached run (`--detach`), or run as the detached
/// process of one (its output into its run directory, its end recorded there).
fn detachable(release: Release, mode: &ReleaseMode, flags: &Flags, job: Job) -> Result<i32, Error> {
    match &flags.detach {
        Detach::No if job.options.shards.is_some() => sharding::run(&release, mode, flags, &job),
        Detach::No => {
            // A worker of a detached sharded run belongs to that run: its pause request, its
            // progress, its id in the audit log.
            let of_run = job
                .options
                .shard
                .as_ref()
                .and_then(|s| Some((s.of_run.clone()?, s.index)));
            let job = match of_run {
                Some((id, index)) => Job {
                    detached: Some(Rc::new(runs::ShardOfRun::open(&release, &id, index))),
                    ..job
                },
                None => job,
            };
            run::run(release, job)
        }
        Detach::Start => runs::detach(&release, mode, flags, &job),
        Detach::Run(id) => {
            let detached = Rc::new(runs::Detached::begin(&release, id)?);
            let job = Job {
                detached: Some(detached.clone()),
                ..job
            };
            // Said here, while stderr still leads somewhere (`--detach`, or the run's log):
            // after `finish` it is /dev/null.
            let ran = if job.options.shards.is_some() {
                sharding::run(&release, mode, flags, &job)
            } else {
                run::run(release, job)
            };
            let code = ran.unwrap_or_else(|e| {
                crate::log::err_line(&format!("adminsh: {e}"));
                e.code()
            });
            detached.finish(code);
            Ok(code)
        }
    }
}

/// Writes a mode's whole output on stdout and returns exit code 0: a reader that went away
/// (`adminsh --completions bash | head -1`) ends the output quietly.
/// `--stdlib`: every module and its functions; `--stdlib pg`: one module's documentation.
fn stdlib(module: Option<&str>) -> Result<i32, Error> {
    let Some(wanted) = module else {
        return Ok(say(&stdlib::listing()));
    };
    if let Some(text) = stdlib::named(wanted).and_then(stdlib::help) {
        return Ok(say(&text));
    }
    let names: Vec<&str> = stdlib::MODULES.iter().map(|(n, _)| *n).collect();
    Err(Error::usage(format!(
        "--stdlib {wanted}: no such stdlib module (there are {}; std/db's functions are in the console's :help)",
        names.join(", ")
    )))
}

fn say(text: &str) -> i32 {
    log::out(text);
    0
}

/// The console, audited like a script run.
fn console(release: Release, flags: Flags) -> Result<i32, Error> {
    let reason = audit::reason(&release, flags.run.reason.as_deref())?;
    interrupt::install();
    let what = audit::What {
        kind: "console",
        script: None,
        args: &[],
        reason: reason.as_deref(),
        dry_run: flags.run.dry_run,
        run: None,
        shard: None,
    };
    let trail = audit::Trail::begin(&release, what)?;
    let setup = Setup {
        options: flags.run,
        record: true,
        ..Setup::default()
    };
    let session = Session::new(release, setup);
    let result = repl::run(session.clone());
    for line in session.db.close() {
        session.say(&format!("sandbox: nothing was changed but {line}"));
    }
    crate::host::remove_temp_dirs();
    let ending = match &result {
        Ok(0) => None,
        Ok(code) => Some(Ending::Exit(*code)),
        Err(Error::Interrupted(signal)) => Some(Ending::Interrupted(*signal)),
        Err(e) => Some(Ending::Failed(e.to_string())),
    };
    let commands = session.spawner.commands();
    let steps = session.steps.borrow().log().to_vec();
    let redactor = session.release.config.borrow().redactor().clone();
    trail.end(&audit::Ran {
        ending: ending.as_ref(),
        commands: &commands,
        steps: &steps,
        redactor: &redactor,
    });
    result
}

fn list(release: &Release) -> i32 {
    let scripts = catalog::scripts(release.path(), false);
    if scripts.is_empty() {
        log::err_line(&format!(
            "adminsh: no scripts in {}",
            release.path().join(catalog::DIR).display()
        ));
        return 0;
    }
    // The names in a column; then the parameters in short, if any, and the summary.
    let usages: Vec<String> = scripts
        .iter()
        .map(|s| match &s.header {
            Ok(header) => header.usage(),
            Err(_) => "(a broken header: adminsh --check)".to_owned(),
        })
        .collect();
    let name_width = scripts.iter().map(|s| s.name.len()).max().unwrap_or(0);
    let mut out = format!(
        "Scripts of {} in {}:\n",
        release.name,
        release.path().join(catalog::DIR).display()
    );
    for (script, usage) in scripts.iter().zip(&usages) {
        let mut line = format!("    {:name_width$}", script.name);
        if !usage.is_empty() {
            line.push_str(&format!("  {usage}"));
        }
        if let Some(summary) = &script.summary {
            line.push_str(&format!("  # {summary}"));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    say(&out)
}

/// Reads the header of every script and module and compiles it; every error is reported, not
/// just the first.
fn check(release: Release) -> i32 {
    let root = release.path().to_path_buf();
    let scripts = catalog::scripts(&root, true);
    // A script's session: `PARAMS` is defined.
    let mut runner = Runner::new(Session::new(release, Setup::default()));
    let mut failed = 0;
    for script in &scripts {
        let name = run::absolute(&script.path);
        let text = match std::fs::read_to_string(&script.path) {
            Ok(text) => text,
            Err(e) => {
                log::err_line(&format!(
                    "{}: cannot read: {e}",
                    runner.session.sources.shown(&name)
                ));
                failed += 1;
                continue;
            }
        };
        // The script compiles with the PARAMS its header declares.
        let (header, errors) = Header::parse_all(&text);
        if !errors.is_empty() {
            let shown = runner.session.sources.shown(&name);
            log::err_line(&diagnostic::header_errors(&shown, &text, &errors));
            failed += 1;
            continue;
        }
        runner.set_params(header.shape());
        if let Err(ending) = runner.compile(&text, &name) {
            script::report(&ending);
            failed += 1;
        }
    }
    let total = scripts.len();
    if failed == 0 {
        say(&format!(
            "{total} script{} ok\n",
            if total == 1 { "" } else { "s" }
        ))
    } else {
        log::err_line(&format!(
            "{failed} of {total} script{} failed to compile",
            if total == 1 { "" } else { "s" }
        ));
        1
    }
}
