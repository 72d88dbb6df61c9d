//! The Rhai host API: the functions admin scripts call, one file per family, and `engine`, which
//! builds the one Engine both the script runner and the console use.

pub mod command;
pub mod config;
pub mod control;
pub mod data;
pub mod fs;
pub mod log;
pub mod modules;
pub mod procfile;

use std::rc::Rc;

use rhai::{Dynamic, Engine, EvalAltResult, FuncRegistration, Position};

use crate::interrupt;
use crate::session::Session;

pub type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// A catchable script error with this message; the evaluator adds the call site's position.
pub fn runtime_error(message: impl Into<String>) -> Box<EvalAltResult> {
    EvalAltResult::ErrorRuntime(Dynamic::from(message.into()), Position::NONE).into()
}

/// Describes a host function for registration: its signature (`name: Type, ... -> Return`,
/// `?` for any type) and a one-line description; `.register_into_engine(engine, f)` registers
/// it. The console's `:help` and completion are generated from these, so they cannot drift
/// from what is registered.
pub fn def(name: &str, signature: &str, doc: &str) -> FuncRegistration {
    let (params, returns) = match signature.split_once("->") {
        Some((params, returns)) => (params, Some(returns.trim())),
        None => (signature, None),
    };
    let mut info: Vec<&str> = params
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    info.extend(returns);
    FuncRegistration::new(name)
        .with_params_info(info)
        .with_comments([format!("/// {doc}")])
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
    procfile::register(&mut engine, session);
    engine
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::{OpenOptions, Release};

    fn session() -> (tempfile::TempDir, Rc<Session>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("adminsh.toml"), "").unwrap();
        let options = OpenOptions {
            dir: Some(dir.path().to_path_buf()),
            ..OpenOptions::default()
        };
        let release = Release::open(&options, Vec::new()).unwrap();
        (dir, Session::new(release, Vec::new()))
    }

    fn readme() -> String {
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
    }

    /// The names of the functions adminsh registers (not Rhai's own packages).
    pub fn host_function_names(engine: &Engine) -> Vec<String> {
        let mut names: Vec<String> = engine
            .gen_fn_signatures(false)
            .into_iter()
            .filter_map(|sig| sig.split_once('(').map(|(name, _)| name.to_owned()))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    #[test]
    fn readme_documents_every_host_function() {
        let (_dir, session) = session();
        let names = host_function_names(&engine(&session));
        assert!(names.len() > 30, "{names:?}");
        let readme = readme();
        let missing: Vec<&String> = names
            .iter()
            .filter(|name| !readme.contains(&format!("{name}(")))
            .collect();
        assert!(missing.is_empty(), "README.md does not mention {missing:?}");
    }

    #[test]
    fn readme_examples_compile() {
        let (_dir, session) = session();
        let mut engine = engine(&session);
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
