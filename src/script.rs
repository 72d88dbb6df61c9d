//! Running Rhai code for a session: a script file or a `-e` expression, compiled with the
//! session's scope (so strict mode knows `ARGS`), with errors rendered as code frames and the
//! ending (`exit(n)`, Ctrl-C, an error) turned into the process exit code.

use std::rc::Rc;

use rhai::{AST, Dynamic, Engine, EvalAltResult, Scope};

use crate::diagnostic;
use crate::host::{self, control};
use crate::interrupt;
use crate::params;
use crate::session::Session;

pub const EXIT_FAILURE: i32 = 1;

/// The engine and scope of one session; the console keeps one across inputs.
pub struct Runner {
    pub session: Rc<Session>,
    pub engine: Engine,
    /// The host functions registered on `engine`, for `:help` and completion.
    pub docs: Vec<host::FnDoc>,
    pub scope: Scope<'static>,
}

/// How evaluating some code ended, when it did not return a value.
#[derive(Debug)]
pub enum Stop {
    /// An error, already rendered for the user.
    Error(String),
    /// `exit(n)`.
    Exit(i32),
    /// A signal (Ctrl-C) interrupted it.
    Interrupted(i32),
}

impl Stop {
    pub fn exit_code(&self) -> i32 {
        match self {
            Stop::Error(_) => EXIT_FAILURE,
            Stop::Exit(code) => *code,
            Stop::Interrupted(signal) => interrupt::exit_code(*signal),
        }
    }

    /// Tells the user, on stderr, what stopped the code (an `exit` says nothing).
    pub fn report(&self) {
        match self {
            Stop::Error(text) => eprintln!("{text}"),
            Stop::Exit(_) => {}
            Stop::Interrupted(_) => eprintln!("adminsh: interrupted"),
        }
    }
}

impl Runner {
    pub fn new(session: Rc<Session>) -> Self {
        let host = host::engine(&session);
        let mut runner = Runner {
            session,
            engine: host.engine,
            docs: host.docs,
            scope: Scope::new(),
        };
        runner.reset_scope();
        runner
    }

    /// Forgets every variable: the scope holds only what adminsh defines (`ARGS`, and for a
    /// script or `-e` its `PARAMS`).
    pub fn reset_scope(&mut self) {
        self.fill_scope(self.session.params.clone());
    }

    /// Compiles what follows with this `PARAMS` (`--check`, which binds no command line, gives
    /// each script the shape its header declares).
    pub fn set_params(&mut self, params: rhai::Map) {
        self.fill_scope(Some(params));
    }

    fn fill_scope(&mut self, params: Option<rhai::Map>) {
        let args = self.session.args.iter().cloned().map(Dynamic::from);
        self.scope = Scope::new();
        self.scope
            .push_constant("ARGS", args.collect::<rhai::Array>());
        if let Some(params) = params {
            self.scope.push_constant("PARAMS", params);
        }
    }

    /// Compiles `text` as the source `name` (a path, `-e`, ...).
    pub fn compile(&self, text: &str, name: &str) -> Result<AST, Stop> {
        self.session.remember_source(name, text);
        let text = without_shebang(text);
        let mut ast = self
            .engine
            .compile_with_scope(&self.scope, &text)
            .map_err(|e| self.stop(e.into(), name))?;
        if let Some(params) = self
            .scope
            .get("PARAMS")
            .and_then(|p| p.read_lock::<rhai::Map>())
        {
            let declared: Vec<&str> = params.keys().map(|k| k.as_str()).collect();
            params::check_uses(&self.engine, &text, &declared).map_err(|(pos, message)| {
                let error = EvalAltResult::ErrorRuntime(message.into(), pos);
                self.stop(error, name)
            })?;
        }
        host::constants::check(&ast, &text).map_err(|e| self.stop(*e, name))?;
        ast.set_source(name);
        Ok(ast)
    }

    /// Runs a compiled AST in the session's scope and returns its value.
    pub fn eval(&mut self, ast: &AST) -> Result<Dynamic, Stop> {
        let name = ast.source().unwrap_or_default().to_owned();
        self.engine
            .eval_ast_with_scope::<Dynamic>(&mut self.scope, ast)
            .map_err(|e| self.stop(*e, &name))
    }

    /// Compiles and runs `text`.
    pub fn run(&mut self, text: &str, name: &str) -> Result<Dynamic, Stop> {
        let ast = self.compile(text, name)?;
        self.eval(&ast)
    }

    fn stop(&self, error: EvalAltResult, name: &str) -> Stop {
        match control::ended(&error) {
            Some(control::Ended::Exit) => Stop::Exit(self.session.requested_exit().unwrap_or(0)),
            Some(control::Ended::Interrupted(signal)) => Stop::Interrupted(signal),
            None => {
                let text = diagnostic::render(
                    error,
                    name,
                    &|source| self.session.source(source),
                    &|source| self.session.display_name(source),
                );
                Stop::Error(self.session.redact(&text))
            }
        }
    }

    /// A value as adminsh prints it: strings as they are, other values in Rhai's notation,
    /// secrets masked; nothing for `()`.
    pub fn show(&self, value: &Dynamic) -> Option<String> {
        if value.is_unit() {
            return None;
        }
        let text = if value.is_string() {
            value.clone().into_string().unwrap_or_default()
        } else {
            value.to_string()
        };
        Some(self.session.redact(&text))
    }
}

/// Turns a `#!` first line into a comment, keeping every position where it was.
fn without_shebang(text: &str) -> std::borrow::Cow<'_, str> {
    match text.strip_prefix("#!") {
        Some(rest) => format!("//{rest}").into(),
        None => text.into(),
    }
}
