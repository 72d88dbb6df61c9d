//! The Rhai host API: the functions admin scripts call, one file per family, each written with
//! the toolkit in `def.rs`; this file only assembles them: `engine` builds the one Engine both
//! the script runner and the console use. Callers outside `host/` see this face only.

mod batches;
mod callback;
mod codec;
mod command;
mod config;
mod constants;
mod control;
mod data;
mod db;
mod def;
mod display;
mod file_io;
mod file_tree;
mod formats;
mod hardened;
mod http;
mod lines;
mod messages;
mod modules;
mod pace;
mod procfile;
mod progress;
mod prompt;
mod steps;
mod tables;
mod text;
mod time;
mod waiting;

use std::rc::Rc;

use rhai::Engine;

use crate::interrupt;
use crate::session::Session;

pub(crate) use config::release_map;
pub(crate) use constants::check as check_constants;
pub(crate) use control::ended;
pub(crate) use def::{FnDoc, Host};
pub(crate) use file_tree::remove_temp_dirs;
pub(crate) use modules::{Resolver, outside};

/// The Engine for one session: limits set explicitly (`limits`; debug and release builds
/// behave alike), undefined variables caught at compile time, Ctrl-C stopping runaway loops,
/// and the host API and the embedded stdlib registered.
pub(crate) fn engine(session: &Rc<Session>) -> Host {
    let mut engine = Engine::new();
    // Rhai interns the strings a script builds (`name ${i}`, `to_string`) in a cache it
    // trims as it fills: a loop making a million distinct strings spent most of its time
    // there. Without it each string is allocated once, as in any other language.
    engine.set_max_strings_interned(0);
    engine.set_strict_variables(true);
    engine.set_fail_on_invalid_map_property(true);
    crate::limits::apply(&mut engine);
    hardened::register(&mut engine);
    engine.on_progress(|_| interrupt::signal().map(control::interrupt_token));
    // stdout, or stderr when stdout carries the `--json` report.
    let printing = Rc::clone(session);
    engine.on_print(move |text| printing.print(text));
    let debugging = Rc::clone(session);
    engine.on_debug(move |text, source, pos| {
        // The script's name as errors show it: relative to where adminsh was started.
        let place = match (source, pos.line()) {
            (Some(source), Some(line)) => format!("{}:{line}: ", debugging.sources.shown(source)),
            _ => String::new(),
        };
        crate::sink::debug(&debugging.redactor(), &place, text);
    });
    let mut host = Host::new(engine);
    // `import "std/db" as db` and, without an import, `db::...`.
    let db = db::register(&mut host, session);
    host.engine.register_static_module("db", db.clone());
    host.engine.set_module_resolver(
        Resolver::new(
            session.release.path(),
            session.options().allow_outside_release,
        )
        .with_native("db", db),
    );
    command::register(&mut host, session);
    batches::register(&mut host, session);
    config::register(&mut host, session);
    control::register(&mut host, session);
    data::register(&mut host);
    display::register(&mut host, session);
    file_io::register(&mut host, session);
    messages::register(&mut host, session);
    procfile::register(&mut host, session);
    progress::register(&mut host);
    prompt::register(&mut host, session);
    steps::register(&mut host, session);
    tables::register(&mut host, session);
    text::register(&mut host);
    codec::register(&mut host, session);
    formats::register(&mut host);
    file_tree::register(&mut host, session);
    lines::register(&mut host, session);
    http::register(&mut host, session);
    time::register(&mut host);
    waiting::register(&mut host, session);
    host
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::for_tests as session;
    use def::{FnDoc, RhaiResult, Signature};
    use rhai::{Dynamic, Engine};
    use rhai::{FnPtr, NativeCallContext};
    use std::any::TypeId;

    /// `README.md` and every chapter of the manual (`docs/src/`), as one text.
    fn docs() -> String {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = vec![root.join("README.md")];
        let mut dirs = vec![root.join("docs/src")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "md") {
                    files.push(path);
                }
            }
        }
        files.sort();
        files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect()
    }

    #[test]
    fn the_docs_document_every_host_function() {
        let (_dir, session) = session();
        let host = engine(&session);
        let mut names: Vec<&str> = host.docs.iter().map(|d| d.name).collect();
        names.sort_unstable();
        names.dedup();
        assert!(names.len() > 30, "{names:?}");
        let docs = docs();
        let missing: Vec<&&str> = names
            .iter()
            .filter(|name| !docs.contains(&format!("{name}(")))
            .collect();
        assert!(
            missing.is_empty(),
            "neither README.md nor docs/src/ mentions {missing:?}"
        );
    }

    #[test]
    fn errors_name_what_a_value_is_in_the_docs_words() {
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
            "Range" => vec![TypeId::of::<std::ops::Range<rhai::INT>>()],
            "RangeInclusive" => vec![TypeId::of::<std::ops::RangeInclusive<rhai::INT>>()],
            "Map" => vec![TypeId::of::<Map>()],
            "Blob" => vec![TypeId::of::<Blob>()],
            "FnPtr" | "Fn" => vec![TypeId::of::<FnPtr>()],
            "?" => vec![TypeId::of::<Dynamic>()],
            "Cmd" => vec![TypeId::of::<command::Cmd>()],
            "Progress" => vec![TypeId::of::<progress::Progress>()],
            "Regex" => vec![TypeId::of::<text::Regex>()],
            "CsvFile" => vec![TypeId::of::<formats::CsvFile>()],
            "Time" => vec![TypeId::of::<time::Time>()],
            "Duration" => vec![TypeId::of::<time::Duration>()],
            "Db" => vec![TypeId::of::<db::Db>()],
            "Row" => vec![TypeId::of::<crate::row::Row>()],
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
        let mut host = Host::new(Engine::new_raw());
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
        assert_eq!(engine.max_call_levels(), crate::limits::MAX_CALL_LEVELS);
        assert_eq!(engine.max_expr_depth(), crate::limits::MAX_EXPR_DEPTH);
        assert_eq!(
            engine.max_function_expr_depth(),
            crate::limits::MAX_EXPR_DEPTH
        );
    }

    #[test]
    fn the_docs_examples_compile() {
        let (_dir, session) = session();
        let mut engine = engine(&session).engine;
        // The examples use variables defined elsewhere in a real script.
        engine.set_strict_variables(false);
        let docs = docs();
        let blocks: Vec<&str> = docs
            .split("```rhai\n")
            .skip(1)
            .map(|rest| rest.split("```").next().unwrap())
            .collect();
        assert!(blocks.len() >= 29, "{}", blocks.len());
        for block in blocks {
            if let Err(e) = engine.compile(block) {
                panic!("an example of the docs does not compile: {e}\n{block}");
            }
        }
    }
}
