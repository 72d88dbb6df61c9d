//! The `db` module scripts call (`import "std/db" as db`, or `db::` in the console):
//! `db::query`, `db::exec`, `db::scalar`, `db::row`, `db::each`, `db::exec_many`,
//! `db::transaction`, `db::statement_timeout` and `db::connect`, whose handle has the same
//! methods, each documented for the console's `:help`: one table, each row registered twice,
//! as `db::f` on `DATABASE_URL`'s connection and as the handle's method `f`. What they do is
//! `api.rs`.

use rhai::{Array, EvalAltResult, FnPtr, FuncRegistration, Map, Module, NativeCallContext, Shared};
use std::rc::Rc;

mod api;
mod batches;
mod ledger;
mod row;

use super::def::{Host, RhaiResult};
use crate::db::Conn;
use crate::session::Session;
use api::Api;

/// A connection as scripts hold it (`db::connect(url)`).
#[derive(Clone)]
pub(crate) struct Db(pub(crate) Rc<Conn>);

/// The `db` functions, one row each: `name, params, doc, |ctx, api, conn, args| body`. Each
/// row becomes `db::name` (in `module`, on `DATABASE_URL`'s connection, opened on first use)
/// and the method `name` of a `Db` handle (on that handle's connection), both documented. An
/// error names the place in the script that called the function.
macro_rules! db_rows {
    ($host:ident, $module:ident, $api:ident; $(
        $name:literal, $params:literal, $doc:literal,
        |$ctx:ident, $a:ident, $conn:ident $(, $arg:ident : $ty:ty)*| $body:expr;
    )+) => {$(
        let api = $api.clone();
        FuncRegistration::new($name).set_into_module(
            &mut $module,
            move |$ctx: NativeCallContext, $($arg: $ty),*| -> RhaiResult<_> {
                let $a = &api;
                let result = (|| -> RhaiResult<_> {
                    let $conn = api.default()?;
                    $body
                })();
                result.map_err(|e| placed(e, &$ctx))
            },
        );
        $host.doc(concat!("db::", $name), $params, $doc);
        let api = $api.clone();
        $host.def(
            $name,
            concat!("db: Db, ", $params),
            concat!("db::", $name, " on this database"),
            move |$ctx: NativeCallContext, db: &mut Db, $($arg: $ty),*| -> RhaiResult<_> {
                let $a = &api;
                let $conn = db.0.clone();
                let result: RhaiResult<_> = $body;
                result.map_err(|e| placed(e, &$ctx))
            },
        );
    )+};
}

/// An error with no place yet placed at the call: rhai places a method's error, not a
/// namespaced function's (`db::exec`).
fn placed(mut error: Box<EvalAltResult>, ctx: &NativeCallContext) -> Box<EvalAltResult> {
    if error.position().is_none() {
        error.set_position(ctx.call_position());
    }
    error
}

/// Registers the `db` functions (documented for `:help`) and the `Db` handle's methods;
/// returns the module, for `import "std/db"` and the global `db::` namespace.
pub(super) fn register(host: &mut Host, session: &Rc<Session>) -> Shared<Module> {
    row::register(host);
    let mut module = Module::new();
    let api = Rc::new(Api {
        session: session.clone(),
    });
    db_rows!(host, module, api;
        "query", "sql: String -> Array", "The rows of a query, each read as a map; db::query only reads",
            |ctx, api, conn, sql: &str| api.query(&conn, sql, Vec::new());
        "query", "sql: String, params: Array -> Array", "The rows of a query with parameters $1, $2, ...",
            |ctx, api, conn, sql: &str, params: Array| api.query(&conn, sql, params);
        "exec", "sql: String -> int", "Runs one statement; the number of rows it affected",
            |ctx, api, conn, sql: &str| api.exec(&conn, sql, Vec::new());
        "exec", "sql: String, params: Array -> int",
            "Runs one statement with parameters $1, $2, ...; the rows affected",
            |ctx, api, conn, sql: &str, params: Array| api.exec(&conn, sql, params);
        "scalar", "sql: String -> ?", "The one value of a one-column query (() when no row)",
            |ctx, api, conn, sql: &str| api.scalar(&conn, sql, Vec::new());
        "scalar", "sql: String, params: Array -> ?", "The one value of a one-column query with parameters",
            |ctx, api, conn, sql: &str, params: Array| api.scalar(&conn, sql, params);
        "row", "sql: String -> Map", "The one row of a query; an error for none or several",
            |ctx, api, conn, sql: &str| api.row(&conn, sql, Vec::new());
        "row", "sql: String, params: Array -> Map", "The one row of a query with parameters",
            |ctx, api, conn, sql: &str, params: Array| api.row(&conn, sql, params);
        "exec_many", "sql: String, sets: Array -> int",
            "Runs one prepared statement per parameter set; the rows affected in total",
            |ctx, api, conn, sql: &str, sets: Array| api.exec_many(&conn, sql, sets);
        "each", "sql: String, f: Fn -> int",
            "Calls f(row) for each row, streamed in constant memory; f returning false stops",
            |ctx, api, conn, sql: &str, f: FnPtr| api.each(&ctx, &conn, sql, Vec::new(), &f);
        "each", "sql: String, params: Array, f: Fn -> int", "db::each with parameters $1, $2, ...",
            |ctx, api, conn, sql: &str, params: Array, f: FnPtr| api.each(&ctx, &conn, sql, params, &f);
        "batches", "options: Map, f: Fn -> int",
            "Walks #{table, key, size, where, columns} in batches by key, f(rows) for each in a transaction of its own; a killed run resumes at the next batch",
            |ctx, api, conn, options: Map, f: FnPtr| batches::batches(api, &ctx, &conn, &options, &f);
        "transaction", "f: Fn -> ?",
            "Runs f (or f(tx), given the handle) in a transaction: committed when it returns, rolled back on any error; nested ones are savepoints",
            |ctx, api, conn, f: FnPtr| api.transaction(&ctx, &conn, &f);
        "statement_timeout", "seconds: int", "Cancels each following statement that runs longer (0: no limit)",
            |ctx, _api, conn, seconds: rhai::INT| Api::timeout(&conn, seconds as f64);
        "statement_timeout", "seconds: float", "Cancels each following statement that runs longer (0: no limit)",
            |ctx, _api, conn, seconds: rhai::FLOAT| Api::timeout(&conn, seconds);
    );
    let a = api.clone();
    FuncRegistration::new("connect").set_into_module(
        &mut module,
        move |ctx: NativeCallContext, url: &str| -> RhaiResult<Db> {
            a.connect(url).map_err(|e| placed(e, &ctx))
        },
    );
    host.doc(
        "db::connect",
        "url: String -> Db",
        "A second database by URL (or config key): a handle with the same methods",
    );
    host.engine.register_type_with_name::<Db>("Db");
    host.engine
        .register_fn("to_string", |db: &mut Db| format!("Db({})", db.0.name));
    host.engine
        .register_fn("to_debug", |db: &mut Db| format!("Db({})", db.0.name));
    module.build_index();
    module.into()
}
