//! The Rhai host API: the functions admin scripts call, one file per family, and `engine`, which
//! builds the one Engine both the script runner and the console use.

pub mod command;
pub mod config;
pub mod control;
pub mod data;
pub mod fs;
pub mod log;
pub mod modules;

use std::rc::Rc;

use rhai::{Dynamic, Engine, EvalAltResult, Position};

use crate::interrupt;
use crate::session::Session;

pub type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// A catchable script error with this message; the evaluator adds the call site's position.
pub fn runtime_error(message: impl Into<String>) -> Box<EvalAltResult> {
    EvalAltResult::ErrorRuntime(Dynamic::from(message.into()), Position::NONE).into()
}

/// The Engine for one session: limits set explicitly (debug and release builds behave alike),
/// undefined variables caught at compile time, Ctrl-C stopping runaway loops, and the host API
/// and the embedded stdlib registered.
pub fn engine(session: &Rc<Session>) -> Engine {
    let mut engine = Engine::new();
    engine.set_strict_variables(true);
    engine.set_fail_on_invalid_map_property(true);
    engine.set_max_call_levels(64);
    engine.set_max_expr_depths(64, 64);
    engine.on_progress(|_| interrupt::signal().map(control::interrupt_token));
    engine.on_print(|text| {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        // A closed stdout (`adminsh x | head`) must not panic mid-script.
        let _ = writeln!(out, "{text}");
    });
    engine.on_debug(|text, source, pos| {
        let place = match (source, pos.line()) {
            (Some(source), Some(line)) => format!("{source}:{line}: "),
            _ => String::new(),
        };
        eprintln!("{place}{text}");
    });
    engine.set_module_resolver(modules::Resolver::default());
    command::register(&mut engine, session);
    config::register(&mut engine, session);
    control::register(&mut engine, session);
    data::register(&mut engine);
    fs::register(&mut engine, session);
    log::register(&mut engine);
    engine
}
