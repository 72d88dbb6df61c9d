//! The console's core, apart from the terminal: one engine and scope for the session, each
//! input compiled against that scope and run, functions kept from one input to the next, meta
//! commands, and whether an input is complete or needs more lines. The terminal loop and the
//! piped-stdin loop both drive this.

use std::rc::Rc;

use rhai::{AST, Dynamic, Module, ParseErrorType, Scope};

use super::help::{self, Catalog};
use crate::catalog;
use crate::error::Ending;
use crate::host::{self, release_map};
use crate::interrupt;
use crate::release::listing;
use crate::script::Runner;
use crate::session::Session;
use crate::stdlib;

/// What one input led to.
#[derive(Debug)]
pub(super) enum Outcome {
    /// Text to show on stdout (a result as `=> ...`, or a meta command's output); may be empty.
    Output(String),
    /// An error (or an interruption), for stderr; the console goes on.
    Error(String),
    /// Leave the console with this exit code (`:quit`, Ctrl-D, `exit(n)`).
    Quit(i32),
}

pub(super) struct Console {
    runner: Runner,
    /// Functions defined so far; merged with each input so later inputs can call them.
    functions: AST,
    /// Host and stdlib functions, for `:help` and completion.
    pub catalog: Rc<Catalog>,
    /// The stdlib modules not compiled yet: each is when an input first names it (`pg::`),
    /// so the first prompt does not wait for the whole stdlib.
    unloaded: Vec<&'static str>,
}

impl Console {
    pub(super) fn new(session: Rc<Session>) -> Self {
        let runner = Runner::new(session);
        let catalog = Rc::new(Catalog::new(runner.docs.clone()));
        Console {
            runner,
            functions: AST::empty(),
            catalog,
            unloaded: stdlib::MODULES.iter().map(|(name, _)| *name).collect(),
        }
    }

    /// Makes each stdlib module `text` names (`pg::`) there as `pg::...`, and the modules its
    /// own source names, before `text` is compiled. An import lasts one input only, so the
    /// stdlib is always there as a namespace instead.
    fn load_named(&mut self, text: &str) {
        let named: Vec<&'static str> = self
            .unloaded
            .iter()
            .copied()
            .filter(|name| text.contains(&format!("{name}::")))
            .collect();
        for name in named {
            let Some(at) = self.unloaded.iter().position(|n| *n == name) else {
                continue;
            };
            self.unloaded.remove(at);
            let source = stdlib::source(&stdlib::file_name(name)).unwrap_or_default();
            self.load_named(source);
            match load_module(&self.runner, name, source) {
                Ok(module) => {
                    self.runner
                        .engine
                        .register_static_module(name, module.into());
                }
                Err(e) => crate::log::err_line(&format!("adminsh: std/{name} is unavailable: {e}")),
            }
        }
    }

    pub(super) fn session(&self) -> &Rc<Session> {
        &self.runner.session
    }

    /// The names of the variables in scope, for completion.
    pub(super) fn variables(&self) -> Vec<String> {
        self.runner
            .scope
            .iter()
            .map(|(name, _, _)| name.to_owned())
            .collect()
    }

    /// False when `input` is a statement still going on (an open block, string, bracket): the
    /// console then asks for another line.
    pub(super) fn is_complete(&self, input: &str) -> bool {
        if input.trim_start().starts_with(':') {
            return true;
        }
        let Err(error) = self
            .runner
            .engine
            .compile_with_scope(&self.runner.scope, input)
        else {
            return true;
        };
        let last_line = input.trim_end_matches('\n').lines().count().max(1);
        let unfinished = match error.err_type() {
            ParseErrorType::UnexpectedEOF => true,
            // A missing `}`, `)` or `]` is reported where the input ended.
            ParseErrorType::MissingToken(..) => {
                error.position().line().is_none_or(|line| line >= last_line)
            }
            // Only back-tick strings (and `\`-continued ones) may span lines.
            ParseErrorType::BadInput(rhai::LexError::UnterminatedString) => {
                input.contains('`') || input.trim_end().ends_with('\\')
            }
            _ => false,
        };
        !unfinished
    }

    /// Runs one input (code or a `:command`). `first_line` numbers its first line, so errors
    /// in piped input point at the right line of stdin.
    pub(super) fn eval(&mut self, input: &str, source: &str, first_line: usize) -> Outcome {
        let trimmed = input.trim();
        if let Some(command) = trimmed.strip_prefix(':') {
            return self.meta(command);
        }
        interrupt::clear();
        self.load_named(input);
        let padded = format!("{}{input}", "\n".repeat(first_line.saturating_sub(1)));
        let ast = match self.runner.compile(&padded, source) {
            Ok(ast) => ast,
            Err(stop) => return stopped(stop),
        };
        let merged = self.functions.merge(&ast);
        let result = self.runner.eval(&merged);
        self.functions = merged.clone_functions_only();
        match result {
            Ok(value) => Outcome::Output(self.show(&value)),
            Err(stop) => stopped(stop),
        }
    }

    /// `=> value`, maps and arrays laid out over lines when long; nothing for `()`.
    fn show(&self, value: &Dynamic) -> String {
        if value.is_unit() {
            return String::new();
        }
        let value = self.runner.session.redactor().value(value);
        // Rows straight from a query: a table, in the query's column order.
        if let Some(table) =
            crate::db::table(&value, &|v| pretty(v, 0, &|v| self.runner.text(v, true)))
        {
            return format!(
                "{table}
"
            );
        }
        format!(
            "=> {}
",
            pretty(&value, 0, &|v| self.runner.text(v, true))
        )
    }

    fn meta(&mut self, command: &str) -> Outcome {
        let (name, argument) = command
            .split_once(char::is_whitespace)
            .map_or((command, ""), |(n, a)| (n, a.trim()));
        let session = self.runner.session.clone();
        match name {
            "help" | "h" | "?" if argument.is_empty() => {
                Outcome::Output(help::text(self.catalog.functions()))
            }
            "help" | "h" | "?" => match help::module(argument, self.catalog.functions()) {
                Ok(text) => Outcome::Output(text),
                Err(message) => Outcome::Error(message),
            },
            "env" => Outcome::Output(listing::text(&session.release, argument == "--all")),
            "release" => Outcome::Output(format!(
                "{}\n",
                pretty(&Dynamic::from_map(release_map(&session)), 0, &|v| {
                    self.runner.text(v, true)
                })
            )),
            "vars" => Outcome::Output(self.vars()),
            "load" if argument.is_empty() => {
                Outcome::Error(":load needs a file: :load FILE".into())
            }
            "load" => self.load(argument),
            "reset" => {
                self.runner.reset_scope();
                self.functions = AST::empty();
                Outcome::Output("session reset: variables and functions forgotten\n".into())
            }
            "quit" | "q" | "exit" => Outcome::Quit(0),
            _ => Outcome::Error(format!(
                "unknown console command `:{name}` (:help lists them)"
            )),
        }
    }

    fn vars(&self) -> String {
        let mut out = String::new();
        let redactor = self.runner.session.redactor();
        for (name, constant, value) in self.runner.scope.iter() {
            let keyword = if constant { "const" } else { "let" };
            // By value, and by the variable's name (`let new_token = ...`).
            let value = if redactor.is_secret(name) && !(value.is_unit() || value.is_bool()) {
                crate::release::MASK.to_owned()
            } else {
                pretty(&redactor.value(&value), 0, &|v| self.runner.text(v, true))
            };
            out.push_str(&format!("{keyword} {name} = {value};\n"));
        }
        if out.is_empty() {
            out.push_str("no variables\n");
        }
        out
    }

    /// `:load FILE`: a file (relative to the release root) or a script name, run as if typed.
    /// Like a script, it must be inside the release unless `--allow-outside-release`.
    fn load(&mut self, wanted: &str) -> Outcome {
        let session = self.runner.session.clone();
        let root = session.release.path();
        let given = root.join(wanted);
        let path = if given.is_file() {
            given
        } else {
            match catalog::find(root, wanted) {
                Ok(path) => std::path::absolute(&path).unwrap_or(path),
                Err(e) => return Outcome::Error(e.to_string()),
            }
        };
        let real = match path.canonicalize() {
            Ok(real) => real,
            Err(e) => return Outcome::Error(format!("cannot read {}: {e}", path.display())),
        };
        let allowed = session.options().allow_outside_release;
        if let Some(message) = host::outside(root, &real, allowed) {
            return Outcome::Error(format!(":load {wanted}: {message}"));
        }
        let bytes = match std::fs::read(&real) {
            Ok(bytes) => bytes,
            Err(e) => return Outcome::Error(format!("cannot read {}: {e}", path.display())),
        };
        match String::from_utf8(bytes) {
            Ok(text) => {
                if let Err(message) = self.bind_defaults(wanted, &text) {
                    return Outcome::Error(message);
                }
                self.eval(&text, &path.display().to_string(), 1)
            }
            Err(e) => Outcome::Error(format!(
                "{} is not UTF-8 text (invalid byte at offset {})",
                path.display(),
                e.utf8_error().valid_up_to()
            )),
        }
    }
}

impl Console {
    /// A script that declares parameters is loaded with their defaults as its `PARAMS`; one
    /// that requires some says how to run it instead.
    fn bind_defaults(&mut self, wanted: &str, text: &str) -> Result<(), String> {
        let (header, _) = crate::params::Header::parse_all(text);
        if !header.declares {
            return Ok(());
        }
        let session = self.runner.session.clone();
        let places = crate::params::Places {
            cwd: session.release.path(),
            root: session.release.path(),
        };
        let params = header
            .bind(wanted, &[], places)
            .map_err(|e| format!(":load gives a script's parameters their defaults only: {e}"))?;
        self.runner.scope.push_constant("PARAMS", params);
        Ok(())
    }
}

/// Evaluates a stdlib module so it can be registered as `name::`.
fn load_module(runner: &Runner, name: &str, source: &str) -> anyhow::Result<Module> {
    let mut ast = runner.engine.compile(source)?;
    ast.set_source(stdlib::file_name(name));
    Module::eval_ast_as_new(Scope::new(), &ast, &runner.engine).map_err(|e| anyhow::anyhow!("{e}"))
}

/// A value in Rhai notation, one line when it fits in 80 columns, else one element a line;
/// `text` gives the text of any other value (the engine's `to_debug`: a command as
/// `cmd(...)`, a closure as where it was written).
pub(super) fn pretty(value: &Dynamic, indent: usize, text: &dyn Fn(&Dynamic) -> String) -> String {
    let flat = if value.is_unit() {
        "()".to_owned()
    } else if value.is_string() {
        format!("{value:?}")
    } else {
        text(value)
    };
    if flat.len() + indent <= 80 {
        return flat;
    }
    let pad = "  ".repeat(indent + 1);
    let close = "  ".repeat(indent);
    if value.is_array() {
        let items = value.clone().into_array().unwrap_or_default();
        let body: Vec<String> = items
            .iter()
            .map(|item| format!("{pad}{},", pretty(item, indent + 1, text)))
            .collect();
        format!("[\n{}\n{close}]", body.join("\n"))
    } else if value.is_map() {
        let map = value.clone().cast::<rhai::Map>();
        let body: Vec<String> = map
            .iter()
            .map(|(key, item)| format!("{pad}{key:?}: {},", pretty(item, indent + 1, text)))
            .collect();
        format!("#{{\n{}\n{close}}}", body.join("\n"))
    } else {
        flat
    }
}

/// What the console makes of an input that ended without a value.
fn stopped(stop: Ending) -> Outcome {
    match stop {
        Ending::Exit(code) => Outcome::Quit(code),
        Ending::Failed(text) | Ending::Paused(text) => Outcome::Error(text),
        Ending::Interrupted(_) => Outcome::Error("interrupted".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn console() -> (tempfile::TempDir, Console) {
        let (dir, session) = crate::session::for_tests();
        (dir, Console::new(session))
    }

    #[test]
    fn incomplete_inputs_ask_for_more() {
        let (_dir, c) = console();
        for input in [
            "fn f() {",
            "let a = [1, 2,",
            "if true {\n  1",
            "let s = `open",
            "(1 +",
        ] {
            assert!(!c.is_complete(input), "{input:?} should be incomplete");
        }
        for input in [
            "1 + 1",
            "let x = ;",
            "fn f() { 1 }",
            ":help",
            "let a = [1, 2];",
            "\"open",
        ] {
            assert!(c.is_complete(input), "{input:?} should be complete");
        }
    }

    #[test]
    fn scope_and_functions_persist_across_inputs() {
        let (_dir, mut c) = console();
        assert!(
            matches!(c.eval("let x = 41;", "<console>", 1), Outcome::Output(s) if s.is_empty())
        );
        assert!(matches!(
            c.eval("fn twice(n) { n * 2 }", "<console>", 1),
            Outcome::Output(_)
        ));
        match c.eval("twice(x + 1)", "<console>", 1) {
            Outcome::Output(s) => assert_eq!(s, "=> 84\n"),
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(c.eval(":bogus", "<console>", 1), Outcome::Error(e) if e.contains(":bogus"))
        );
        assert!(matches!(c.eval(":quit", "<console>", 1), Outcome::Quit(0)));
    }

    #[test]
    fn help_lists_every_registered_host_function_and_the_stdlib() {
        let (_dir, c) = console();
        let text = help::text(c.catalog.functions());
        assert!(c.runner.docs.len() > 40);
        for doc in &c.runner.docs {
            assert!(
                text.contains(&format!("  {}", doc.signature())),
                ":help lacks {doc:?}"
            );
        }
        for name in [
            "db::query(sql: String, params: Array) -> Array",
            "db::exec(sql: String) -> int",
            "db::scalar(sql: String) -> ?",
            ":load FILE",
        ] {
            assert!(text.contains(name), ":help lacks {name}");
        }
        assert!(
            !text.contains("client"),
            "private stdlib functions are not listed"
        );
    }

    #[test]
    fn long_values_are_laid_out_over_lines() {
        let value: Dynamic = rhai::Engine::new()
            .eval("#{name: \"a very long name that goes on\", items: [1, 2, 3], more: \"and on and on and on\"}")
            .unwrap();
        assert_eq!(
            pretty(&value, 0, &|v| v.to_string()),
            "#{\n  \"items\": [1, 2, 3],\n  \"more\": \"and on and on and on\",\n  \"name\": \"a very long name that goes on\",\n}"
        );
    }
}
