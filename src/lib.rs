//! adminsh runs an app's one-off admin processes (twelve-factor, factor XII) against its
//! release: committed Rhai scripts and a console, with the app's config and dependency
//! isolation. `run` is the whole program; `main` only exits with what it returns.

// A test reads best whole, however many cases its table has; the 80-line cap (clippy.toml)
// is for the program.
#![cfg_attr(test, allow(clippy::too_many_lines))]

mod audit;
mod catalog;
mod cli;
mod clock;
mod command_line;
mod completion;
mod db;
mod diagnostic;
mod error;
mod hash;
mod hints;
mod host;
mod interrupt;
mod kind;
mod limits;
mod log;
mod man;
mod marked;
mod modes;
mod options;
mod params;
mod process;
mod record;
mod release;
mod remote;
mod repl;
mod report;
mod row;
mod run;
mod runs;
mod script;
mod session;
mod shard;
mod sharding;
mod sink;
mod small_file;
mod spawner;
mod state;
mod stdlib;
mod step_code;
mod suggest;
mod table;
mod ui;
mod who;

use std::ffi::OsString;
use std::io::Write;

use clap::Parser;

/// Runs adminsh with these arguments (the first is the program name) and returns the exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    // The target's side of `-t` first: the real command line is in its payload.
    let args = match remote::unwrap(args.into_iter().collect()) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { error::EXIT_USAGE } else { 0 };
        }
    };
    let outcome = cli.into_options().and_then(modes::dispatch);
    match outcome {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "adminsh: {e}");
            e.code()
        }
    }
}
