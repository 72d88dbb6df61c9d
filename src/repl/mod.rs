//! The console: `adminsh` with no script, the twelve-factor REPL against the release. One
//! engine and one scope for the session (`let x = 1;` on one line is there on the next), the
//! same host API as scripts, the stdlib always loaded. On a terminal: rustyline, completion,
//! history, a stage-aware prompt. With stdin not a terminal: the same inputs read from stdin,
//! no prompts or colours, stopping at the first error, so a console session can be scripted.

mod console;
mod editor;
mod help;
mod history;

use std::cell::RefCell;
use std::io::{BufRead, IsTerminal};
use std::rc::Rc;

use anyhow::Result;
use rustyline::config::{CompletionType, Config};
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;

use crate::error::Error;
use crate::interrupt;
use crate::log;
use crate::session::Session;
use console::{Console, Outcome};
use editor::{Completion, Prompt};

/// Runs the console to its end: its exit code, or how it was stopped (a terminal that went
/// away ends it as hung up).
pub(crate) fn run(session: Rc<Session>) -> Result<i32, Error> {
    let console = Console::new(session);
    if std::io::stdin().is_terminal() {
        interactive(console).map_err(hung_up)
    } else {
        Ok(piped(console)?)
    }
}

/// Why the terminal console stopped reading: a terminal that closed (SIGHUP, an ssh session
/// dropped; its reads then fail with EIO) is a hang-up, not a failure.
fn hung_up(error: anyhow::Error) -> Error {
    let eio = match error.downcast_ref::<ReadlineError>() {
        Some(ReadlineError::Errno(errno)) => *errno as i32 == libc::EIO,
        Some(ReadlineError::Io(e)) => e.raw_os_error() == Some(libc::EIO),
        _ => false,
    };
    match interrupt::signal() {
        Some(signal) if signal != libc::SIGINT => Error::Interrupted(signal),
        _ if eio => Error::Interrupted(libc::SIGHUP),
        _ => Error::Failed(error),
    }
}

/// Reads inputs from stdin without prompts; the first error ends the session with exit 1.
fn piped(mut console: Console) -> Result<i32> {
    let mut input = String::new();
    let mut first_line = 1;
    let mut line_number = 0;
    let stdin = std::io::stdin().lock();
    let mut lines = stdin.lines();
    loop {
        let line = lines.next().transpose()?;
        let at_end = line.is_none();
        if let Some(line) = line {
            line_number += 1;
            if input.is_empty() {
                first_line = line_number;
            }
            input.push_str(&line);
            input.push('\n');
            if !console.is_complete(&input) {
                continue;
            }
        }
        if input.trim().is_empty() {
            input.clear();
            if at_end {
                return Ok(0);
            }
            continue;
        }
        let outcome = console.eval(&input, "<stdin>", first_line);
        input.clear();
        match outcome {
            Outcome::Output(text) => print_out(&text),
            Outcome::Error(text) => {
                log::err_line(&text);
                return Ok(1);
            }
            Outcome::Quit(code) => return Ok(code),
        }
        if at_end {
            return Ok(0);
        }
    }
}

fn interactive(mut console: Console) -> Result<i32> {
    let session = console.session().clone();
    let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    print_out(&editor::banner(&session, colour));
    let variables = Rc::new(RefCell::new(console.variables()));
    let config = Config::builder()
        .max_history_size(10_000)?
        .completion_type(CompletionType::List)
        .build();
    let mut rl: rustyline::Editor<Completion, DefaultHistory> =
        rustyline::Editor::with_config(config)?;
    rl.set_helper(Some(Completion {
        catalog: console.catalog.clone(),
        variables: variables.clone(),
        session: session.clone(),
    }));
    let history = editor::history_path(&session);
    if let Some(path) = &history {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if path.exists()
            && let Err(e) = rl.load_history(path)
        {
            log::warn(&format!("cannot read history {}: {e}", path.display()));
        }
    }
    let prompt = Prompt::new(&session, false, colour);
    let more = Prompt::new(&session, true, colour);
    loop {
        let mut input = String::new();
        let complete = loop {
            let line = match rl.readline(if input.is_empty() { &prompt } else { &more }) {
                Ok(line) => line,
                // Ctrl-C clears the line (or abandons a multi-line input).
                Err(ReadlineError::Eof) if input.is_empty() => return Ok(0),
                Err(ReadlineError::Interrupted | ReadlineError::Eof) => break false,
                Err(e) => return Err(e.into()),
            };
            if !input.is_empty() && line.trim().is_empty() {
                // A blank line abandons an unfinished input.
                break false;
            }
            input.push_str(&line);
            input.push('\n');
            if console.is_complete(&input) {
                break true;
            }
        };
        if !complete || input.trim().is_empty() {
            continue;
        }
        let outcome = console.eval(&input, "<console>", 1);
        // Kept once it has run, so the secrets it set (`set_env`) are masked in it too.
        let entry = history::mask(input.trim_end(), &session.redactor());
        let _ = rl.add_history_entry(entry.as_str());
        if let Some(path) = &history
            && let Err(e) = rl.append_history(path)
        {
            log::warn(&format!("cannot write history {}: {e}", path.display()));
        }
        match outcome {
            Outcome::Output(text) => print_out(&text),
            Outcome::Error(text) => log::err_line(&text),
            Outcome::Quit(code) => return Ok(code),
        }
        *variables.borrow_mut() = console.variables();
    }
}

fn print_out(text: &str) {
    log::out(text);
}
