//! The Rhai host API: the functions admin scripts call, one file per family, and `engine`, which
//! builds the one Engine both the script runner and the console use.

pub(crate) mod codec;
pub(crate) mod command;
pub(crate) mod config;
pub(crate) mod control;
pub(crate) mod data;
pub(crate) mod display;
pub(crate) mod files;
pub(crate) mod formats;
pub(crate) mod fs;
pub(crate) mod http;
pub(crate) mod lines;
pub(crate) mod log;
pub(crate) mod modules;
pub(crate) mod procfile;
pub(crate) mod progress;
pub(crate) mod prompt;
pub(crate) mod step_code;
pub(crate) mod steps;
pub(crate) mod text;
pub(crate) mod time;
pub(crate) mod waiting;

use std::rc::Rc;

use rhai::{Dynamic, Engine, EvalAltResult, Position, RhaiNativeFunc, Variant};

use crate::interrupt;
use crate::session::Session;

pub(crate) type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// A catchable script error with this message; the evaluator adds the call site's position.
pub(crate) fn runtime_error(message: impl Into<String>) -> Box<EvalAltResult> {
    EvalAltResult::ErrorRuntime(Dynamic::from(message.into()), Position::NONE).into()
}

/// A host function as the console's `:help` and completion show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FnDoc {
    pub name: &'static str,
    /// `prog: String, args: Array -> Cmd` (`?` for any type).
    pub params: &'static str,
    pub doc: &'static str,
}

impl FnDoc {
    /// `cmd(prog: String, args: Array) -> Cmd`
    pub(crate) fn signature(&self) -> String {
        match self.params.split_once("->") {
            Some((params, returns)) => {
                format!("{}({}) -> {}", self.name, params.trim(), returns.trim())
            }
            None => format!("{}({})", self.name, self.params.trim()),
        }
    }

    /// Called as a method on a command: `cmd(...).run()`.
    pub(crate) fn is_method(&self) -> bool {
        self.params.starts_with("cmd: Cmd")
            || self.params.starts_with("bar: Progress")
            || self.params.starts_with("db: Db")
    }
}

/// The engine being built, and the description of every function registered on it.
pub(crate) struct Host {
    pub engine: Engine,
    pub docs: Vec<FnDoc>,
}

impl Host {
    /// Registers a host function with its parameters (`name: Type, ... -> Return`) and a
    /// one-line description. Every host function goes through here, so `:help` and completion,
    /// generated from `docs`, cannot drift from what scripts can call.
    pub(crate) fn def<
        A: 'static,
        const N: usize,
        const X: bool,
        R: Variant + Clone,
        const F: bool,
    >(
        &mut self,
        name: &'static str,
        params: &'static str,
        doc: &'static str,
        func: impl RhaiNativeFunc<A, N, X, R, F> + 'static,
    ) {
        self.engine.register_fn(name, func);
        self.docs.push(FnDoc { name, params, doc });
    }
}

/// The Engine for one session: limits set explicitly (debug and release builds behave alike),
/// undefined variables caught at compile time, Ctrl-C stopping runaway loops, and the host API
/// and the embedded stdlib registered.
pub(crate) fn engine(session: &Rc<Session>) -> Host {
    let mut engine = Engine::new();
    engine.set_strict_variables(true);
    engine.set_fail_on_invalid_map_property(true);
    engine.set_max_call_levels(64);
    engine.set_max_expr_depths(64, 64);
    engine.on_progress(|_| interrupt::signal().map(control::interrupt_token));
    // stdout, or stderr when stdout carries the `--json` report.
    let s = session.clone();
    engine.on_print(move |text| s.print(text));
    let s = session.clone();
    engine.on_debug(move |text, source, pos| {
        let place = match (source, pos.line()) {
            (Some(source), Some(line)) => format!("{source}:{line}: "),
            _ => String::new(),
        };
        crate::sink::debug(&s.redactor(), &place, text);
    });
    let mut host = Host {
        engine,
        docs: Vec::with_capacity(64),
    };
    // `import "std/db" as db` and, without an import, `db::...`.
    let db = crate::db::module::register(&mut host, session);
    host.engine.register_static_module("db", db.clone());
    host.engine.set_module_resolver(
        modules::Resolver::new(
            session.release.path(),
            session.options().allow_outside_release,
        )
        .with_native("db", db),
    );
    command::register(&mut host, session);
    config::register(&mut host, session);
    control::register(&mut host, session);
    data::register(&mut host);
    display::register(&mut host, session);
    fs::register(&mut host, session);
    log::register(&mut host, session);
    procfile::register(&mut host, session);
    progress::register(&mut host);
    prompt::register(&mut host, session);
    steps::register(&mut host, session);
    text::register(&mut host);
    codec::register(&mut host, session);
    formats::register(&mut host);
    files::register(&mut host, session);
    lines::register(&mut host, session);
    http::register(&mut host, session);
    time::register(&mut host);
    waiting::register(&mut host);
    host
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::for_tests as session;

    fn readme() -> String {
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
    }

    #[test]
    fn readme_documents_every_host_function() {
        let (_dir, session) = session();
        let host = engine(&session);
        let mut names: Vec<&str> = host.docs.iter().map(|d| d.name).collect();
        names.sort_unstable();
        names.dedup();
        assert!(names.len() > 30, "{names:?}");
        let readme = readme();
        let missing: Vec<&&str> = names
            .iter()
            .filter(|name| !readme.contains(&format!("{name}(")))
            .collect();
        assert!(missing.is_empty(), "README.md does not mention {missing:?}");
    }

    #[test]
    fn readme_examples_compile() {
        let (_dir, session) = session();
        let mut engine = engine(&session).engine;
        // The examples use variables defined elsewhere in a real script.
        engine.set_strict_variables(false);
        let readme = readme();
        let blocks: Vec<&str> = readme
            .split("```rust\n")
            .skip(1)
            .map(|rest| rest.split("```").next().unwrap())
            .collect();
        assert!(blocks.len() >= 8);
        for block in blocks {
            if let Err(e) = engine.compile(block) {
                panic!("README example does not compile: {e}\n{block}");
            }
        }
    }
}
