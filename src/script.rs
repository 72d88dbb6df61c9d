//! Running Rhai code for a session: a script file or a `-e` expression, compiled with the
//! session's scope (so strict mode knows `ARGS`), with errors rendered as code frames and the
//! ending (`exit(n)`, Ctrl-C, an error) turned into the process exit code.

use std::rc::Rc;

use rhai::{AST, Dynamic, Engine, EvalAltResult, Scope};

use crate::diagnostic;
use crate::error::Ending;
use crate::hints;
use crate::host;
use crate::log;
use crate::params;
use crate::release::Redactor;
use crate::session::Session;

/// The engine and scope of one session; the console keeps one across inputs.
pub(crate) struct Runner {
    pub session: Rc<Session>,
    pub engine: Engine,
    /// The host functions registered on `engine`, for `:help` and completion.
    pub docs: Vec<host::FnDoc>,
    pub scope: Scope<'static>,
}

/// Tells the user, on stderr, how code ended when it did not return a value (an `exit` says
/// nothing).
pub(crate) fn report(ending: &Ending) {
    match ending {
        Ending::Failed(text) => log::err_line(text),
        Ending::Exit(_) => {}
        Ending::Interrupted(_) => log::err_line("adminsh: interrupted"),
        Ending::Paused(text) => log::err_line(&format!("adminsh: {text}")),
    }
}

impl Runner {
    pub(crate) fn new(session: Rc<Session>) -> Self {
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
    pub(crate) fn reset_scope(&mut self) {
        self.fill_scope(self.session.params.clone());
    }

    /// Compiles what follows with this `PARAMS` (`--check`, which binds no command line, gives
    /// each script the shape its header declares).
    pub(crate) fn set_params(&mut self, params: rhai::Map) {
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
    pub(crate) fn compile(&self, text: &str, name: &str) -> Result<AST, Ending> {
        self.session.sources.remember(name, text);
        let text = without_shebang(text);
        let mut ast = self
            .engine
            .compile_with_scope(&self.scope, &text)
            .map_err(|e| self.stop(e.into(), name))?;
        if let Some(params) = self
            .scope
            .get("PARAMS")
            .and_then(Dynamic::read_lock::<rhai::Map>)
        {
            let declared: Vec<&str> = params.keys().map(rhai::Identifier::as_str).collect();
            params::check_uses(&self.engine, &text, &declared).map_err(|(pos, message)| {
                let error = EvalAltResult::ErrorRuntime(message.into(), pos);
                self.stop(error, name)
            })?;
        }
        host::check_constants(&ast, &text).map_err(|e| self.stop(*e, name))?;
        ast.set_source(name);
        self.session.sources.remember_closures(name, &ast);
        Ok(ast)
    }

    /// Runs a compiled AST in the session's scope and returns its value.
    pub(crate) fn eval(&mut self, ast: &AST) -> Result<Dynamic, Ending> {
        let name = ast.source().unwrap_or_default().to_owned();
        self.engine
            .eval_ast_with_scope::<Dynamic>(&mut self.scope, ast)
            .map_err(|e| self.stop(*e, &name))
    }

    /// Compiles and runs `text`.
    pub(crate) fn run(&mut self, text: &str, name: &str) -> Result<Dynamic, Ending> {
        let ast = self.compile(text, name)?;
        self.eval(&ast)
    }

    fn stop(&self, error: EvalAltResult, name: &str) -> Ending {
        host::ended(&error).unwrap_or_else(|| {
            let redactor = self.session.redactor();
            // The value a script threw, masked before it is written out in Rhai's notation;
            // then the whole text, for values Rhai's own messages quote.
            let error = mask_thrown(error, &redactor);
            let known = hints::Known {
                functions: self.docs.iter().map(|d| d.name).collect(),
                variables: (self.scope.iter_raw())
                    .map(|(name, _, value)| (name.to_owned(), value.is_fnptr()))
                    .collect(),
            };
            let text = diagnostic::render(error, name, &self.session.sources, &known);
            Ending::Failed(redactor.redact(&text).into_owned())
        })
    }

    /// A value as adminsh prints it: strings as they are, other values in Rhai's notation,
    /// secrets masked in the value before it is written out; nothing for `()`.
    pub(crate) fn show(&self, value: &Dynamic) -> Option<String> {
        if value.is_unit() {
            return None;
        }
        let redactor = self.session.redactor();
        let value = redactor.value(value);
        let text = if value.is_string() {
            value.clone().into_string().unwrap_or_default()
        } else if value.is_array() || value.is_map() || value.type_name().contains("::") {
            // A host type (a time, a command) shows as `print` shows it, not as its Rust name.
            let mut scope = rhai::Scope::new();
            scope.push("value", value.clone());
            self.engine
                .eval_with_scope::<String>(&mut scope, "value.to_string()")
                .unwrap_or_else(|_| value.to_string())
        } else {
            self.text(&value, false)
        };
        // Host values write their own text (a command line): masked here too.
        Some(redactor.redact(&text).into_owned())
    }

    /// A value as the script's `print` (or, with `debug`, its `debug`) shows it: through the
    /// engine's `to_string`/`to_debug`, so a command is its command line and a closure says
    /// where it was written, inside arrays and maps too. Not masked.
    pub(crate) fn text(&self, value: &Dynamic, debug: bool) -> String {
        let mut scope = Scope::new();
        scope.push("value", value.clone());
        let code = if debug {
            "value.to_debug()"
        } else {
            "value.to_string()"
        };
        self.engine
            .eval_with_scope::<String>(&mut scope, code)
            .unwrap_or_else(|_| value.to_string())
    }
}

/// `error` with the value a script threw (`throw`, a host function's message) masked.
fn mask_thrown(error: EvalAltResult, redactor: &Redactor) -> EvalAltResult {
    match error {
        EvalAltResult::ErrorInFunctionCall(name, source, inner, pos) => {
            let inner = mask_thrown(*inner, redactor);
            EvalAltResult::ErrorInFunctionCall(name, source, inner.into(), pos)
        }
        EvalAltResult::ErrorInModule(path, inner, pos) => {
            EvalAltResult::ErrorInModule(path, mask_thrown(*inner, redactor).into(), pos)
        }
        EvalAltResult::ErrorRuntime(value, pos) => {
            EvalAltResult::ErrorRuntime(redactor.value(&value), pos)
        }
        other => other,
    }
}

/// Turns a `#!` first line into a comment, keeping every position where it was.
fn without_shebang(text: &str) -> std::borrow::Cow<'_, str> {
    match text.strip_prefix("#!") {
        Some(rest) => format!("//{rest}").into(),
        None => text.into(),
    }
}
