//! The `db` module scripts call (`import "std/db" as db`, or `db::` in the console):
//! `db::query`, `db::exec`, `db::scalar`, `db::row`, `db::each`, `db::exec_many`,
//! `db::transaction`, `db::statement_timeout` and `db::connect`, whose handle has the same
//! methods, each documented for the console's `:help`. What they do is `api.rs`.

use rhai::{Array, FnPtr, FuncRegistration, Module, NativeCallContext, Shared};
use std::rc::Rc;

use super::Conn;
use super::api::Api;
use crate::host::{FnDoc, Host, RhaiResult};
use crate::session::Session;

/// A connection as scripts hold it (`db::connect(url)`).
#[derive(Clone)]
pub(crate) struct Db(pub(crate) Rc<Conn>);

/// Registers the `db` functions (documented for `:help`) and the `Db` handle's methods;
/// returns the module, for `import "std/db"` and the global `db::` namespace.
// One flat list of the module's functions and the handle's methods reads best whole.
#[allow(clippy::too_many_lines)]
pub(crate) fn register(host: &mut Host, session: &Rc<Session>) -> Shared<Module> {
    let mut module = Module::new();
    let api = Rc::new(Api {
        session: session.clone(),
    });
    let mut doc = |name: &'static str, params: &'static str, text: &'static str| {
        host.docs.push(FnDoc {
            name,
            params,
            doc: text,
        });
    };
    macro_rules! on_default {
        ($name:literal, $params:literal, $doc:literal, |$api:ident, $conn:ident $(, $arg:ident : $ty:ty)*| $body:expr) => {{
            let a = api.clone();
            FuncRegistration::new($name).set_into_module(&mut module, move |$($arg: $ty),*| -> RhaiResult<_> {
                let $api = &a;
                let $conn = a.default()?;
                $body
            });
            doc(concat!("db::", $name), $params, $doc);
        }};
    }
    macro_rules! with_context {
        ($name:literal, $params:literal, $doc:literal, |$ctx:ident, $api:ident, $conn:ident $(, $arg:ident : $ty:ty)*| $body:expr) => {{
            let a = api.clone();
            FuncRegistration::new($name).set_into_module(&mut module, move |$ctx: NativeCallContext, $($arg: $ty),*| -> RhaiResult<_> {
                let $api = &a;
                let $conn = a.default()?;
                $body
            });
            doc(concat!("db::", $name), $params, $doc);
        }};
    }
    on_default!(
        "query",
        "sql: String -> Array",
        "The rows of a query, as maps; db::query only reads",
        |api, conn, sql: &str| api.query(&conn, sql, Vec::new())
    );
    on_default!(
        "query",
        "sql: String, params: Array -> Array",
        "The rows of a query with parameters $1, $2, ...",
        |api, conn, sql: &str, params: Array| api.query(&conn, sql, params)
    );
    on_default!(
        "exec",
        "sql: String -> int",
        "Runs one statement; the number of rows it affected",
        |api, conn, sql: &str| api.exec(&conn, sql, Vec::new())
    );
    on_default!(
        "exec",
        "sql: String, params: Array -> int",
        "Runs one statement with parameters $1, $2, ...; the rows affected",
        |api, conn, sql: &str, params: Array| api.exec(&conn, sql, params)
    );
    on_default!(
        "scalar",
        "sql: String -> ?",
        "The one value of a one-column query (() when no row)",
        |api, conn, sql: &str| api.scalar(&conn, sql, Vec::new())
    );
    on_default!(
        "scalar",
        "sql: String, params: Array -> ?",
        "The one value of a one-column query with parameters",
        |api, conn, sql: &str, params: Array| api.scalar(&conn, sql, params)
    );
    on_default!(
        "row",
        "sql: String -> Map",
        "The one row of a query; an error for none or several",
        |api, conn, sql: &str| api.row(&conn, sql, Vec::new())
    );
    on_default!(
        "row",
        "sql: String, params: Array -> Map",
        "The one row of a query with parameters",
        |api, conn, sql: &str, params: Array| api.row(&conn, sql, params)
    );
    on_default!(
        "exec_many",
        "sql: String, sets: Array -> int",
        "Runs one prepared statement per parameter set; the rows affected in total",
        |api, conn, sql: &str, sets: Array| api.exec_many(&conn, sql, sets)
    );
    with_context!(
        "each",
        "sql: String, f: Fn -> int",
        "Calls f(row) for each row, streamed in constant memory; f returning false stops",
        |ctx, api, conn, sql: &str, f: FnPtr| api.each(&ctx, &conn, sql, Vec::new(), &f)
    );
    with_context!(
        "each",
        "sql: String, params: Array, f: Fn -> int",
        "db::each with parameters $1, $2, ...",
        |ctx, api, conn, sql: &str, params: Array, f: FnPtr| api.each(&ctx, &conn, sql, params, &f)
    );
    with_context!(
        "transaction",
        "f: Fn -> ?",
        "Runs f in a transaction: committed when it returns, rolled back on any error; nested ones are savepoints",
        |ctx, api, conn, f: FnPtr| api.transaction(&ctx, &conn, &f)
    );
    on_default!(
        "statement_timeout",
        "seconds: int",
        "Cancels each following statement that runs longer (0: no limit)",
        |_api, conn, seconds: rhai::INT| Api::timeout(&conn, seconds as f64)
    );
    on_default!(
        "statement_timeout",
        "seconds: float",
        "Cancels each following statement that runs longer (0: no limit)",
        |_api, conn, seconds: rhai::FLOAT| Api::timeout(&conn, seconds)
    );
    let a = api.clone();
    FuncRegistration::new("connect")
        .set_into_module(&mut module, move |url: &str| -> RhaiResult<Db> {
            a.connect(url)
        });
    doc(
        "db::connect",
        "url: String -> Db",
        "A second database by URL (or config key): a handle with the same methods",
    );

    host.engine.register_type_with_name::<Db>("Db");
    host.engine
        .register_fn("to_string", |db: &mut Db| format!("Db({})", db.0.name));
    host.engine
        .register_fn("to_debug", |db: &mut Db| format!("Db({})", db.0.name));
    macro_rules! method {
        ($name:literal, $params:literal, $doc:literal, |$api:ident, $conn:ident $(, $arg:ident : $ty:ty)*| $body:expr) => {{
            let a = api.clone();
            host.def($name, $params, $doc, move |db: &mut Db, $($arg: $ty),*| -> RhaiResult<_> {
                let $api = &a;
                let $conn = db.0.clone();
                $body
            });
        }};
    }
    macro_rules! method_with_context {
        ($name:literal, $params:literal, $doc:literal, |$ctx:ident, $api:ident, $conn:ident $(, $arg:ident : $ty:ty)*| $body:expr) => {{
            let a = api.clone();
            host.def($name, $params, $doc, move |$ctx: NativeCallContext, db: &mut Db, $($arg: $ty),*| -> RhaiResult<_> {
                let $api = &a;
                let $conn = db.0.clone();
                $body
            });
        }};
    }
    method!(
        "query",
        "db: Db, sql: String -> Array",
        "db::query on this database",
        |api, conn, sql: &str| api.query(&conn, sql, Vec::new())
    );
    method!(
        "query",
        "db: Db, sql: String, params: Array -> Array",
        "db::query on this database",
        |api, conn, sql: &str, params: Array| api.query(&conn, sql, params)
    );
    method!(
        "exec",
        "db: Db, sql: String -> int",
        "db::exec on this database",
        |api, conn, sql: &str| api.exec(&conn, sql, Vec::new())
    );
    method!(
        "exec",
        "db: Db, sql: String, params: Array -> int",
        "db::exec on this database",
        |api, conn, sql: &str, params: Array| api.exec(&conn, sql, params)
    );
    method!(
        "scalar",
        "db: Db, sql: String -> ?",
        "db::scalar on this database",
        |api, conn, sql: &str| api.scalar(&conn, sql, Vec::new())
    );
    method!(
        "scalar",
        "db: Db, sql: String, params: Array -> ?",
        "db::scalar on this database",
        |api, conn, sql: &str, params: Array| api.scalar(&conn, sql, params)
    );
    method!(
        "row",
        "db: Db, sql: String -> Map",
        "db::row on this database",
        |api, conn, sql: &str| api.row(&conn, sql, Vec::new())
    );
    method!(
        "row",
        "db: Db, sql: String, params: Array -> Map",
        "db::row on this database",
        |api, conn, sql: &str, params: Array| api.row(&conn, sql, params)
    );
    method!(
        "exec_many",
        "db: Db, sql: String, sets: Array -> int",
        "db::exec_many on this database",
        |api, conn, sql: &str, sets: Array| api.exec_many(&conn, sql, sets)
    );
    method_with_context!(
        "each",
        "db: Db, sql: String, f: Fn -> int",
        "db::each on this database",
        |ctx, api, conn, sql: &str, f: FnPtr| api.each(&ctx, &conn, sql, Vec::new(), &f)
    );
    method_with_context!(
        "each",
        "db: Db, sql: String, params: Array, f: Fn -> int",
        "db::each on this database",
        |ctx, api, conn, sql: &str, params: Array, f: FnPtr| api.each(&ctx, &conn, sql, params, &f)
    );
    method_with_context!(
        "transaction",
        "db: Db, f: Fn -> ?",
        "db::transaction on this database",
        |ctx, api, conn, f: FnPtr| api.transaction(&ctx, &conn, &f)
    );
    method!(
        "statement_timeout",
        "db: Db, seconds: int",
        "db::statement_timeout on this database",
        |_api, conn, seconds: rhai::INT| Api::timeout(&conn, seconds as f64)
    );
    module.build_index();
    module.into()
}
