//! The Rhai host API: the functions admin scripts call, one file per family, and `engine`, which
//! builds the one Engine both the script runner and the console use.

pub(crate) mod codec;
pub(crate) mod command;
pub(crate) mod config;
pub(crate) mod constants;
pub(crate) mod control;
pub(crate) mod data;
pub(crate) mod display;
pub(crate) mod files;
pub(crate) mod formats;
pub(crate) mod fs;
pub(crate) mod hardened;
pub(crate) mod http;
pub(crate) mod limits;
pub(crate) mod lines;
pub(crate) mod log;
pub(crate) mod modules;
pub(crate) mod procfile;
pub(crate) mod progress;
pub(crate) mod prompt;
pub(crate) mod step_code;
pub(crate) mod steps;
pub(crate) mod tables;
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
    /// The Rust signature of each function `def` registered, with its index in `docs`, for the
    /// test that holds the two equal. (The `db::` functions, registered into their module,
    /// push their docs directly and have none.)
    #[cfg(test)]
    signatures: Vec<(usize, fn() -> Signature)>,
}

/// Parameter and return types of a registered function, as rhai registered it.
#[cfg(test)]
type Signature = (Vec<std::any::TypeId>, std::any::TypeId);

impl Host {
    /// Registers a host function with its parameters (`name: Type, ... -> Return`) and a
    /// one-line description. Every host function goes through here, so `:help` and completion,
    /// generated from `docs`, cannot miss what scripts can call; a test holds each `params`
    /// to the types of `func`.
    pub(crate) fn def<A, const N: usize, const X: bool, R, const F: bool, Func>(
        &mut self,
        name: &'static str,
        params: &'static str,
        doc: &'static str,
        func: Func,
    ) where
        A: 'static,
        R: Variant + Clone,
        Func: RhaiNativeFunc<A, N, X, R, F> + 'static,
    {
        self.engine.register_fn(name, func);
        self.docs.push(FnDoc { name, params, doc });
        #[cfg(test)]
        self.signatures.push((self.docs.len() - 1, || {
            (Func::param_types().to_vec(), std::any::TypeId::of::<R>())
        }));
    }
}

/// The Engine for one session: limits set explicitly (`limits`; debug and release builds
/// behave alike), undefined variables caught at compile time, Ctrl-C stopping runaway loops,
/// and the host API and the embedded stdlib registered.
pub(crate) fn engine(session: &Rc<Session>) -> Host {
    let mut engine = Engine::new();
    engine.set_strict_variables(true);
    engine.set_fail_on_invalid_map_property(true);
    limits::apply(&mut engine);
    hardened::register(&mut engine);
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
        #[cfg(test)]
        signatures: Vec::with_capacity(64),
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
    tables::register(&mut host, session);
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
    use rhai::{FnPtr, NativeCallContext};
    use std::any::TypeId;

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
    fn errors_name_what_a_value_is_in_the_readmes_words() {
        let (_dir, session) = session();
        let host = engine(&session);
        let cases = [
            ("()", "()"),
            ("1", "an int"),
            ("1.5", "a float"),
            ("true", "a bool"),
            (r#""x""#, "a string"),
            ("'x'", "a char"),
            ("[1]", "an array"),
            ("#{a: 1}", "a map"),
            ("blob(1)", "a blob"),
            ("|x| x", "a function"),
            (r#"cmd("true", [])"#, "a command"),
            ("progress(3)", "a progress bar"),
            ("now()", "a time"),
            ("days(1)", "a duration"),
            (r#"regex("a")"#, "a regex"),
        ];
        for (code, expected) in cases {
            let value: Dynamic = host.engine.eval(code).unwrap();
            assert_eq!(crate::kind::of(&value), expected, "{code}");
        }
    }

    /// The Rust type a type name of `FnDoc::params` stands for; `None` for a name the docs
    /// must not use.
    fn type_named(name: &str) -> Option<Vec<TypeId>> {
        use rhai::{Array, Blob, FnPtr, ImmutableString, Map};
        let ids = match name {
            // Rhai passes strings as any of these.
            "String" => vec![
                TypeId::of::<ImmutableString>(),
                TypeId::of::<&str>(),
                TypeId::of::<String>(),
            ],
            "int" => vec![TypeId::of::<rhai::INT>()],
            "float" => vec![TypeId::of::<rhai::FLOAT>()],
            "bool" => vec![TypeId::of::<bool>()],
            "char" => vec![TypeId::of::<char>()],
            "Array" => vec![TypeId::of::<Array>()],
            "Map" => vec![TypeId::of::<Map>()],
            "Blob" => vec![TypeId::of::<Blob>()],
            "FnPtr" | "Fn" => vec![TypeId::of::<FnPtr>()],
            "?" => vec![TypeId::of::<Dynamic>()],
            "Cmd" => vec![TypeId::of::<command::Cmd>()],
            "Progress" => vec![TypeId::of::<progress::Progress>()],
            "Regex" => vec![TypeId::of::<text::Regex>()],
            "Time" => vec![TypeId::of::<time::Time>()],
            "Duration" => vec![TypeId::of::<time::Duration>()],
            "Db" => vec![TypeId::of::<crate::db::module::Db>()],
            "()" => vec![TypeId::of::<()>()],
            _ => return None,
        };
        Some(ids)
    }

    /// `params` as (name, type) pairs and the return type: `a: int, b: ? -> String`.
    fn parse_params(params: &str) -> (Vec<(&str, &str)>, &str) {
        let (params, returns) = params.split_once("->").unwrap_or((params, "()"));
        let params = params
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.split_once(':')
                    .map_or((p, ""), |(n, t)| (n.trim(), t.trim()))
            })
            .collect();
        (params, returns.trim())
    }

    /// Every problem of one documented signature against the function's Rust types.
    fn mismatches(doc: &FnDoc, (params, returns): &Signature) -> Vec<String> {
        let (documented, documented_return) = parse_params(doc.params);
        let mut problems = Vec::new();
        let at = doc.signature();
        if documented.len() != params.len() {
            problems.push(format!(
                "`{at}` documents {} parameters; the function takes {}",
                documented.len(),
                params.len()
            ));
        }
        for (i, ((name, ty), id)) in documented.iter().zip(params).enumerate() {
            match type_named(ty) {
                None => problems.push(format!("`{at}`: parameter {name} has no known type `{ty}`")),
                Some(ids) if !ids.contains(id) => problems.push(format!(
                    "`{at}`: parameter {} ({name}) is documented as {ty}, the function takes another type",
                    i + 1
                )),
                Some(_) => {}
            }
        }
        // These build their value as a Dynamic: a row or a time may be missing (`()`), and the
        // others convert a parsed document or a stat field.
        let dynamic = ["query", "row", "parse_toml", "file_size", "file_mtime"];
        match type_named(documented_return) {
            Some(ids) if ids.contains(returns) => {}
            Some(_) if dynamic.contains(&doc.name) && *returns == TypeId::of::<Dynamic>() => {}
            _ => problems.push(format!(
                "`{at}`: the return type is documented as {documented_return}, the function returns another type"
            )),
        }
        problems
    }

    #[test]
    fn every_documented_signature_matches_the_registered_function() {
        let (_dir, session) = session();
        let host = engine(&session);
        let checked: Vec<usize> = host.signatures.iter().map(|(at, _)| *at).collect();
        let unchecked: Vec<&str> = (0..host.docs.len())
            .filter(|at| !checked.contains(at))
            .map(|at| host.docs[at].name)
            .filter(|name| !name.starts_with("db::"))
            .collect();
        assert!(
            unchecked.is_empty(),
            "documented without Host::def: {unchecked:?}"
        );
        let problems: Vec<String> = host
            .signatures
            .iter()
            .flat_map(|(at, signature)| mismatches(&host.docs[*at], &signature()))
            .collect();
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn a_drifting_signature_is_caught() {
        let mut host = Host {
            engine: Engine::new_raw(),
            docs: Vec::new(),
            signatures: Vec::new(),
        };
        host.def(
            "f",
            "a: int, b: String -> bool",
            "",
            |_: rhai::INT, _: &str| true,
        );
        host.def(
            "f",
            "a: int, b: String -> bool",
            "",
            |_: rhai::INT, _: &str, _: bool| true,
        );
        host.def(
            "f",
            "a: int, b: int -> bool",
            "",
            |_: rhai::INT, _: &str| true,
        );
        host.def("f", "a: int, b: String", "", |_: rhai::INT, _: &str| true);
        host.def(
            "f",
            "a: int, b: Strin -> bool",
            "",
            |_: rhai::INT, _: &str| true,
        );
        host.def(
            "f",
            "c: Cmd, n: int -> ?",
            "",
            |_: &mut command::Cmd, _: rhai::INT| -> RhaiResult<Dynamic> { Ok(Dynamic::UNIT) },
        );
        host.def(
            "f",
            "c: Cmd -> ?",
            "",
            |_: NativeCallContext, _: &mut command::Cmd, _: FnPtr| Dynamic::UNIT,
        );
        let found: Vec<usize> = host
            .signatures
            .iter()
            .map(|(at, signature)| mismatches(&host.docs[*at], &signature()).len())
            .collect();
        assert_eq!(found, [0, 1, 1, 1, 1, 0, 1]);
    }

    /// Any size limit on the engine makes rhai measure a whole array after each change to it:
    /// appending in a loop would be quadratic.
    #[test]
    fn the_engine_has_no_size_limits() {
        let (_dir, session) = session();
        let engine = engine(&session).engine;
        assert_eq!(engine.max_string_size(), 0);
        assert_eq!(engine.max_array_size(), 0);
        assert_eq!(engine.max_map_size(), 0);
        assert_eq!(engine.max_call_levels(), limits::MAX_CALL_LEVELS);
        assert_eq!(engine.max_expr_depth(), limits::MAX_EXPR_DEPTH);
        assert_eq!(engine.max_function_expr_depth(), limits::MAX_EXPR_DEPTH);
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
