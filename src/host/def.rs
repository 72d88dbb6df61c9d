//! The toolkit every host family is written with: `Host` (the engine being built and the docs
//! of what is registered on it), `Host::def`, the `rows!` table that registers a family one row
//! per function, and the error shape host functions return. A leaf: it imports no family, so
//! every family file points down to it and `mod.rs` only assembles.

use rhai::{Dynamic, Engine, EvalAltResult, Position, RhaiNativeFunc, Variant};

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

/// Parameter and return types of a registered function, as rhai registered it.
#[cfg(test)]
pub(crate) type Signature = (Vec<std::any::TypeId>, std::any::TypeId);

/// The engine being built, and the description of every function registered on it.
pub(crate) struct Host {
    pub engine: Engine,
    pub docs: Vec<FnDoc>,
    /// The Rust signature of each function `def` registered, with its index in `docs`, for the
    /// test that holds the two equal. (The `db::` functions, registered into their module,
    /// push their docs directly and have none.)
    #[cfg(test)]
    pub signatures: Vec<(usize, fn() -> Signature)>,
}

impl Host {
    pub(crate) fn new(engine: Engine) -> Self {
        Host {
            engine,
            docs: Vec::with_capacity(256),
            #[cfg(test)]
            signatures: Vec::with_capacity(256),
        }
    }

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

    /// Documents a function registered some other way (into a module), for `:help`.
    pub(crate) fn doc(&mut self, name: &'static str, params: &'static str, doc: &'static str) {
        self.docs.push(FnDoc { name, params, doc });
    }
}

/// A family's host functions as a table, one row per function:
///
/// ```ignore
/// rows!(host, session;
///     "env", "key: String -> String", "A config value; an error naming the key when unset",
///         move |key: &str| value(&session, key);
/// );
/// ```
///
/// Each row is `name, signature, doc, closure;` and goes through `Host::def`. With a session
/// named after `host`, every row gets its own handle of it under the same name (the clone each
/// closure would otherwise write itself), for a `move` closure to own.
macro_rules! rows {
    ($host:ident; $($name:literal, $params:literal, $doc:expr, $body:expr;)+) => {
        $( $host.def($name, $params, $doc, $body); )+
    };
    ($host:ident, $session:ident; $($name:literal, $params:literal, $doc:expr, $body:expr;)+) => {
        $({
            #[allow(unused_variables, reason = "a row that needs no session")]
            let $session = ::std::rc::Rc::clone($session);
            $host.def($name, $params, $doc, $body);
        })+
    };
}
pub(crate) use rows;
