//! What each mode of the command line does: run a script or an expression, open the console,
//! list or check the scripts, show the config, print completions.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

use crate::catalog;
use crate::cli::{self, Mode, Options, UsageError};
use crate::interrupt;
use crate::release::Release;
use crate::repl;
use crate::script::{Runner, Stop};
use crate::session::Session;

pub fn dispatch(options: Options) -> Result<i32> {
    if let Mode::Completions(shell) = options.mode {
        print!("{}", cli::completions(shell));
        return Ok(0);
    }
    let release = Release::open(&options.release, std::env::vars_os().collect())?;
    match options.mode {
        Mode::Completions(_) => unreachable!("handled above"),
        Mode::List => Ok(list(&release)),
        Mode::Check => Ok(check(release)),
        Mode::Env { all } => {
            print!("{}", env_listing(&release, all));
            Ok(0)
        }
        Mode::Eval { code, args } => {
            release
                .config
                .borrow()
                .check_required(&release.manifest.required)?;
            interrupt::install();
            let session = Session::new(release, args);
            session.enter()?;
            let mut runner = Runner::new(session);
            let code = match runner.run(&code, "-e") {
                Ok(value) => {
                    if let Some(text) = runner.show(&value) {
                        println!("{text}");
                    }
                    0
                }
                Err(stop) => finish(stop),
            };
            leave(runner);
            Ok(code)
        }
        Mode::Script { script, args } => {
            let path = catalog::find(release.path(), &script)?;
            check_inside(&release, &path, options.allow_outside_release)?;
            release
                .config
                .borrow()
                .check_required(&release.manifest.required)?;
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read script {}", path.display()))?;
            for warning in release.warnings() {
                crate::host::log::emit(crate::host::log::Level::Warn, &warning);
            }
            interrupt::install();
            let session = Session::new(release, args);
            session.enter()?;
            let mut runner = Runner::new(session);
            let code = match runner.run(&text, &absolute(&path)) {
                Ok(_) => 0,
                Err(stop) => finish(stop),
            };
            leave(runner);
            Ok(code)
        }
        Mode::Console => {
            interrupt::install();
            let session = Session::new(release, Vec::new());
            session.enter()?;
            repl::run(session)
        }
    }
}

/// The process exits next: freeing the engine's thousand functions one by one would only
/// delay that, so the runner is left for the operating system to reclaim.
fn leave(runner: Runner) {
    std::mem::forget(runner);
}

fn finish(stop: Stop) -> i32 {
    stop.report();
    stop.exit_code()
}

/// Admin code ships with the release: a script from elsewhere needs the user's explicit say-so.
fn check_inside(release: &Release, script: &Path, allowed: bool) -> Result<()> {
    let real = script
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", script.display()))?;
    if allowed || real.starts_with(release.path()) {
        return Ok(());
    }
    Err(UsageError(format!(
        "{} is outside the release at {}: admin code must ship with the release it runs against, \
         so commit the script under {}/scripts/ (or pass --allow-outside-release to run it anyway)",
        script.display(),
        release.path().display(),
        release.path().display(),
    ))
    .into())
}

/// A script's name as a source: its absolute path, so imports beside it resolve wherever
/// adminsh runs; messages show it relative to where the user is (`Session::display_name`).
fn absolute(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

fn list(release: &Release) -> i32 {
    let scripts = catalog::scripts(release.path(), false);
    if scripts.is_empty() {
        eprintln!(
            "adminsh: no scripts in {}",
            release.path().join(catalog::DIR).display()
        );
        return 0;
    }
    let width = scripts.iter().map(|s| s.name.len()).max().unwrap_or(0);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "Scripts of {} in {}:",
        release.name,
        release.path().join(catalog::DIR).display()
    );
    for script in &scripts {
        let _ = match &script.summary {
            Some(summary) => writeln!(out, "    {:width$}  # {summary}", script.name),
            None => writeln!(out, "    {}", script.name),
        };
    }
    0
}

/// Compiles every script and module; every error is reported, not just the first.
fn check(release: Release) -> i32 {
    let root = release.path().to_path_buf();
    let scripts = catalog::scripts(&root, true);
    let runner = Runner::new(Session::new(release, Vec::new()));
    let mut failed = 0;
    for script in &scripts {
        let name = absolute(&script.path);
        let text = match std::fs::read_to_string(&script.path) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("{}: cannot read: {e}", runner.session.display_name(&name));
                failed += 1;
                continue;
            }
        };
        if let Err(stop) = runner.compile(&text, &name) {
            stop.report();
            failed += 1;
        }
    }
    let total = scripts.len();
    if failed == 0 {
        println!("{total} script{} ok", if total == 1 { "" } else { "s" });
        0
    } else {
        eprintln!(
            "{failed} of {total} script{} failed to compile",
            if total == 1 { "" } else { "s" }
        );
        1
    }
}

/// The resolved config as `adminsh --env` and the console's `:env` show it.
pub fn env_listing(release: &Release, all: bool) -> String {
    use std::fmt::Write as _;
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
                quote_env(&value),
                var.layer
            ),
            None => writeln!(out, "{key}={}  # {}", quote_env(&value), var.layer),
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

/// Quotes a value so the line reads back as the same value in a `.env` file.
fn quote_env(value: &str) -> String {
    let plain = !value.is_empty()
        && !value.starts_with([' ', '\t'])
        && !value.ends_with([' ', '\t'])
        && !value.contains(['\n', '\r', '"', '\'', '#', '$', '\\']);
    if plain || value.is_empty() {
        return value.to_owned();
    }
    let escaped = value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('$', "\\$")
        .replace('\n', "\\n")
        .replace('\r', "\\r");
    format!("\"{escaped}\"")
}
