//! The app's process types for scripts: `procfile()` lists them, `proc("release")` is the
//! command of one, run through `sh -c` as the platform runs it.

use std::rc::Rc;

use rhai::{Dynamic, Map};

use super::command::Cmd;
use super::def::{Host, RhaiResult, rows, runtime_error};
use crate::release::procfile;
use crate::session::Session;
use crate::suggest;

pub(super) fn register(host: &mut Host, session: &Rc<Session>) {
    rows!(host, session;
        "procfile", " -> Map", "The Procfile's process types: #{name: command}",
            move || -> RhaiResult<Map> {
                Ok(load(&session)?
                    .into_iter()
                    .map(|t| (t.name.into(), Dynamic::from(t.command)))
                    .collect())
            };
        "proc", "name: String -> Cmd", "The command of a Procfile process type, as `sh -c`",
            move |name: &str| process(&session, name);
    );
}

fn load(session: &Session) -> RhaiResult<Vec<procfile::ProcessType>> {
    procfile::load(session.release.path()).map_err(|e| runtime_error(e.to_string()))
}

/// `proc(name)`: the command of that type; an error naming the types there are when it is not
/// one of them.
fn process(session: &Session, name: &str) -> RhaiResult<Cmd> {
    let types = load(session)?;
    if let Some(found) = types.iter().find(|t| t.name == name) {
        return Ok(Cmd::shell(&found.command));
    }
    if types.is_empty() {
        return Err(runtime_error(format!(
            "no process type `{name}`: there is no Procfile in {}",
            session.release.path().display()
        )));
    }
    let names: Vec<&str> = types.iter().map(|t| t.name.as_str()).collect();
    let hint = suggest::closest(name, names.iter().copied())
        .map(|c| format!("; did you mean `{c}`?"))
        .unwrap_or_default();
    Err(runtime_error(format!(
        "no process type `{name}` in the Procfile (it has {}){hint}",
        names.join(", ")
    )))
}
