//! adminsh runs an app's one-off admin processes (twelve-factor, factor XII) against its
//! release: committed Rhai scripts and a console, with the app's config and dependency
//! isolation. `run` is the whole program; `main` only exits with what it returns.

pub mod audit;
pub mod catalog;
pub mod cli;
pub mod completion;
pub mod diagnostic;
pub mod host;
pub mod interrupt;
pub mod modes;
pub mod params;
pub mod process;
pub mod release;
pub mod remote;
pub mod repl;
pub mod report;
pub mod run;
pub mod script;
pub mod session;
pub mod state;
pub mod stdlib;
pub mod suggest;

use std::ffi::OsString;

use clap::Parser;

/// Exit code of a command line that makes no sense.
pub const EXIT_USAGE: i32 = 2;

/// Runs adminsh with these arguments (the first is the program name) and returns the exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { 0 };
        }
    };
    if let Some(payload) = &cli.remote_argv {
        // The target's side of `-t`: the real command line is in the payload.
        return remote::serve(cli.dir, payload);
    }
    let options = match cli.into_options() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("adminsh: {e}");
            return EXIT_USAGE;
        }
    };
    match modes::dispatch(options) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("adminsh: {e:#}");
            exit_code(&e)
        }
    }
}

/// The exit code for an error that stopped adminsh before or instead of a script's run.
pub fn exit_code(error: &anyhow::Error) -> i32 {
    let usage = error.downcast_ref::<cli::UsageError>().is_some()
        || error.downcast_ref::<catalog::Unknown>().is_some();
    if usage {
        EXIT_USAGE
    } else {
        script::EXIT_FAILURE
    }
}
