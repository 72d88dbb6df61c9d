//! The console: `adminsh` with no script. One engine and one scope for the whole session, so
//! `let x = 1;` on one line is there on the next. With stdin not a terminal, the input is read
//! whole and run as one script, so a console session can be piped in.

use std::io::{IsTerminal, Read};
use std::rc::Rc;

use anyhow::Result;
use rustyline::error::ReadlineError;

use crate::interrupt;
use crate::script::{Runner, Stop};
use crate::session::Session;

pub fn run(session: Rc<Session>) -> Result<i32> {
    let mut runner = Runner::new(session);
    if !std::io::stdin().is_terminal() {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        return Ok(match runner.run(&text, "<stdin>") {
            Ok(_) => 0,
            Err(stop) => {
                stop.report();
                stop.exit_code()
            }
        });
    }
    let release = &runner.session.release;
    eprintln!(
        "adminsh console: {} ({}), stage {}. Ctrl-D to quit.",
        release.name,
        release
            .identity()
            .version
            .as_deref()
            .unwrap_or("unknown version"),
        release.stage
    );
    let prompt = format!("{}> ", release.stage);
    let mut editor = rustyline::DefaultEditor::new()?;
    loop {
        let line = match editor.readline(&prompt) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => return Ok(0),
            Err(e) => return Err(e.into()),
        };
        if line.trim().is_empty() {
            continue;
        }
        let _ = editor.add_history_entry(line.as_str());
        interrupt::clear();
        match runner.run(&line, "<console>") {
            Ok(value) => {
                if let Some(text) = runner.show(&value) {
                    println!("=> {text}");
                }
            }
            Err(Stop::Exit(code)) => return Ok(code),
            Err(stop) => stop.report(),
        }
    }
}
