//! How the values of the host API read when printed (`print`, `-e`, the console, `--json`):
//! a closure as where it was written, a progress bar as how far it is; never a Rust type path
//! or Rhai's `anon$…` name. (A command's own text is in `command.rs`, beside the command.)

use std::rc::Rc;

use rhai::FnPtr;

use super::def::{Host, rows};
use super::progress::Progress;
use crate::session::Session;

pub(super) fn register(host: &mut Host, session: &Rc<Session>) {
    rows!(host, session;
        "to_string", "f: FnPtr -> String",
            "A closure as where it was written: `closure |x| at fix.rhai:4:9`",
            move |f: &mut FnPtr| function(&session, f);
        "to_debug", "f: FnPtr -> String", "A closure as where it was written, for debug()",
            move |f: &mut FnPtr| function(&session, f);
    );
    // `print(f)` and `debug(f)` of a function pointer have their own functions in Rhai.
    for name in ["print", "debug"] {
        let session = Rc::clone(session);
        host.engine
            .register_fn(name, move |f: &mut FnPtr| function(&session, f));
    }
    rows!(host;
        "to_string", "bar: Progress -> String", "How far the bar is: `progress 3/10 rows`",
            |bar: &mut Progress| format!("progress {}", bar.state());
        "to_debug", "bar: Progress -> String",
            "How far the bar is, for debug(): `progress(3/10 rows)`",
            |bar: &mut Progress| format!("progress({})", bar.state());
    );
}

/// `closure |x| at scripts/fix.rhai:4:9` for a closure of the session's sources; `Fn(name)`,
/// as Rhai writes it, for a named function.
fn function(session: &Session, f: &FnPtr) -> String {
    match session.sources.closure(f.fn_name(), f.curry().len()) {
        Some(closure) => format!("closure {closure}"),
        None if f.is_anonymous() => "a closure".to_owned(),
        None => format!("Fn({})", f.fn_name()),
    }
}
