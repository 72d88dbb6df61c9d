//! What each mode of the command line does: run a script or an expression, open the console,
//! list or check the scripts, show the config, print completions.

use std::io::Write;

use anyhow::Result;

use crate::audit;
use crate::catalog;
use crate::cli::{Mode, Options};
use crate::completion;
use crate::diagnostic;
use crate::interrupt;
use crate::params::Header;
use crate::release::Release;
use crate::repl;
use crate::run::{self, Code, Job};
use crate::script::Runner;
use crate::session::{Session, Setup};

pub fn dispatch(options: Options) -> Result<i32> {
    if options.remote.is_some() {
        return crate::remote::run(options);
    }
    match options.mode {
        Mode::Completions(shell) => {
            print!("{}", completion::script(shell));
            return Ok(0);
        }
        Mode::Complete { words } => {
            print!("{}", completion::answer(&words)?);
            return Ok(0);
        }
        Mode::Targets => return crate::remote::list(&options.release),
        _ => {}
    }
    let release = Release::open(&options.release, std::env::vars_os().collect())?;
    if let Some(target) = &options.announce {
        crate::remote::announce(target, &release);
    }
    match options.mode {
        Mode::Completions(_) | Mode::Complete { .. } | Mode::Targets => {
            unreachable!("handled above")
        }
        Mode::List => Ok(list(&release)),
        Mode::Check => Ok(check(release)),
        Mode::Env { all } if options.json => {
            println!("{}", env_json(&release, all));
            Ok(0)
        }
        Mode::Env { all } => {
            print!("{}", env_listing(&release, all));
            Ok(0)
        }
        Mode::Eval { code, args } => run::run(
            release,
            Job {
                code: Code::Eval(code),
                args,
                allow_outside_release: options.allow_outside_release,
                json: options.json,
                options: options.run.clone(),
            },
        ),
        Mode::Script { script, args } => run::run(
            release,
            Job {
                code: Code::Script(script),
                args,
                allow_outside_release: options.allow_outside_release,
                json: options.json,
                options: options.run.clone(),
            },
        ),
        Mode::Console => {
            let reason = audit::reason(&release, options.run.reason.as_deref())?;
            interrupt::install();
            let what = audit::What {
                kind: "console",
                script: None,
                args: &[],
                reason: reason.as_deref(),
                dry_run: options.run.dry_run,
            };
            let trail = audit::Trail::begin(&release, what)?;
            let setup = Setup {
                options: options.run,
                record: true,
                ..Setup::default()
            };
            let session = Session::with(release, setup);
            session.enter()?;
            let code = repl::run(session.clone());
            let exit = *code.as_ref().unwrap_or(&1);
            trail.end(
                &session,
                exit,
                false,
                code.as_ref().err().map(|e| format!("{e:#}")),
            );
            code
        }
        Mode::Audit => {
            print!("{}", audit::table(&audit::path(&release), 20)?);
            Ok(0)
        }
    }
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
    // The names in a column; then the parameters in short, if any, and the summary.
    let usages: Vec<String> = scripts
        .iter()
        .map(|s| match &s.header {
            Ok(header) => header.usage(),
            Err(_) => "(a broken header: adminsh --check)".to_owned(),
        })
        .collect();
    let name_width = scripts.iter().map(|s| s.name.len()).max().unwrap_or(0);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "Scripts of {} in {}:",
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
        let _ = writeln!(out, "{}", line.trim_end());
    }
    0
}

/// Reads the header of every script and module and compiles it; every error is reported, not
/// just the first.
fn check(release: Release) -> i32 {
    let root = release.path().to_path_buf();
    let scripts = catalog::scripts(&root, true);
    // A script's session: `PARAMS` is defined.
    let mut runner = Runner::new(Session::with(release, Setup::default()));
    let mut failed = 0;
    for script in &scripts {
        let name = run::absolute(&script.path);
        let text = match std::fs::read_to_string(&script.path) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("{}: cannot read: {e}", runner.session.display_name(&name));
                failed += 1;
                continue;
            }
        };
        // The script compiles with the PARAMS its header declares.
        match Header::parse(&text) {
            Ok(header) => runner.set_params(header.shape()),
            Err(e) => {
                let shown = runner.session.display_name(&name);
                let rendered = diagnostic::at(&shown, &text, e.line, e.column, &e.message);
                eprintln!("{rendered}");
                failed += 1;
                continue;
            }
        }
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

/// The resolved config for machines (`--env --json`): the release, its isolation, and each
/// variable with its value (masked where secret), its layer and the layer it overrides.
pub fn env_json(release: &Release, all: bool) -> String {
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
