//! Asking the operator: `confirm(question)` and `ask(question, default)`. `--yes` answers yes
//! (and takes defaults). Without a terminal and without `--yes` they fail at once, saying to
//! pass `--yes`: a script never hangs waiting for an answer, and never assumes one.

use std::io::IsTerminal;
use std::rc::Rc;

use rustyline::error::ReadlineError;

use super::control;
use super::def::{Host, RhaiResult, rows, runtime_error};
use crate::session::Session;

pub(super) fn register(host: &mut Host, session: &Rc<Session>) {
    rows!(host, session;
        "confirm", "question: String -> bool",
            "Asks a yes/no question (no by default); --yes answers yes",
            move |question: &str| confirm(&session, question);
        "ask", "question: String, default: String -> String",
            "Asks for a value, with a default (Enter takes it); --yes takes the default",
            move |question: &str, default: &str| ask(&session, question, default);
    );
}

fn confirm(session: &Session, question: &str) -> RhaiResult<bool> {
    if session.options().yes {
        let said = format!("{question} yes (--yes)");
        session.message(crate::log::Level::Info, &said);
        return Ok(true);
    }
    loop {
        let answer = read_answer(
            &format!("{question} [y/N] "),
            &format!("confirm({question:?})"),
        )?;
        match answer.trim().to_lowercase().as_str() {
            "y" | "yes" => return Ok(true),
            "" | "n" | "no" => return Ok(false),
            _ => crate::log::err_line("please answer y or n"),
        }
    }
}

fn ask(session: &Session, question: &str, default: &str) -> RhaiResult<String> {
    if session.options().yes {
        let said = format!("{question}: {default} (--yes)");
        session.message(crate::log::Level::Info, &said);
        return Ok(default.to_owned());
    }
    let answer = read_answer(
        &format!("{question} [{default}]: "),
        &format!("ask({question:?})"),
    )?;
    let answer = answer.trim();
    Ok(if answer.is_empty() { default } else { answer }.to_owned())
}

/// One line from the operator at the terminal.
fn read_answer(prompt: &str, what: &str) -> RhaiResult<String> {
    if !std::io::stdin().is_terminal() {
        return Err(runtime_error(format!(
            "{what} needs an answer, but stdin is not a terminal: pass --yes to answer yes"
        )));
    }
    let mut editor = rustyline::DefaultEditor::new()
        .map_err(|e| runtime_error(format!("{what}: cannot read the terminal: {e}")))?;
    match editor.readline(prompt) {
        Ok(line) => Ok(line),
        Err(ReadlineError::Interrupted) => Err(control::interrupted(libc::SIGINT)),
        Err(ReadlineError::Eof) => Ok(String::new()),
        Err(e) => Err(runtime_error(format!(
            "{what}: cannot read the terminal: {e}"
        ))),
    }
}
