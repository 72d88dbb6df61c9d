//! What a `PostgreSQL` statement does, read by `PostgreSQL`'s own grammar: `libpg_query`, the
//! server's parser compiled in (the `pg_query` crate). The guards ask it, after `sql.rs`'s
//! lexer, so that a quoting or escaping rule the lexer does not know (`U&"..."` names, a `do`
//! block's body) cannot hide a statement:
//! - always refused: transaction control and changes to the session's transaction mode,
//!   wherever they stand (a `do` block's `commit` too);
//! - in a guarded mode (`--dry-run`, `--read-only`), what acts outside the transaction:
//!   functions such as `dblink_exec` wherever they are called (a `FROM`, a CTE, an argument,
//!   a `do` block), `set_config` of a guard's setting or of one named at run time, `COPY`,
//!   `LOAD`, a change of role, and `do` blocks whose SQL is built at run time or written in
//!   another language.
//!
//! A statement is refused when either reading says so; the server's fence (`conn.rs`) stands
//! behind both. What this grammar cannot read (syntax newer than its `PostgreSQL` 17) is left
//! to the lexer and to the server, which refuses it or runs it inside the fence.

use super::sql;
use serde::Deserialize;
use serde_json::Value;
use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{CStr, CString, c_char, c_int, c_void};

/// Settings that hold the session's transaction mode: refused in every mode, as the lexer
/// refuses them.
const MODE_SETTINGS: &[&str] = &[
    "transaction_read_only",
    "default_transaction_read_only",
    "transaction",
    "session characteristics",
];

/// Settings a guarded run keeps as it began: the role a read-only run was given, and how
/// strings are read (with `standard_conforming_strings` off a backslash escapes a quote, and
/// the server would read the text otherwise than the grammar here did).
const GUARD_SETTINGS: &[&str] = &[
    "role",
    "session_authorization",
    "standard_conforming_strings",
    "backslash_quote",
];

/// How many statements' readings a thread keeps: a script's loop sends the same text again.
const REMEMBERED: usize = 512;

/// The longest text whose reading is kept, so that what is kept stays small (512 texts of
/// 4 KiB at most); a longer one is read each time it is sent.
const REMEMBERED_LENGTH: usize = 4096;

/// Whether the run was guarded when a text was read, and what its reading found.
type Reading = (bool, Option<String>);

thread_local! {
    static READINGS: RefCell<HashMap<Box<str>, Reading>> = RefCell::new(HashMap::new());
}

/// Why `PostgreSQL`'s grammar says this statement may not run here, if it does.
pub(crate) fn refusal(sql: &str, guarded: bool) -> Option<String> {
    let known = READINGS.with(|r| match r.borrow().get(sql) {
        Some((read_guarded, why)) if *read_guarded == guarded => Some(why.clone()),
        _ => None,
    });
    if let Some(why) = known {
        return why;
    }
    let why = statement(sql, guarded);
    if sql.len() <= REMEMBERED_LENGTH {
        READINGS.with(|r| {
            let mut readings = r.borrow_mut();
            if readings.len() >= REMEMBERED {
                readings.clear();
            }
            readings.insert(sql.into(), (guarded, why.clone()));
        });
    }
    why
}

/// One statement (or several, `;`-separated) read whole; `None` when the grammar finds
/// nothing to refuse or cannot read it. A text with a backslash is read both ways a server
/// may read strings (`standard_conforming_strings` on, its default, and off, which a
/// database's or role's settings may choose), since the two see different statements in it.
fn statement(sql: &str, guarded: bool) -> Option<String> {
    let readings = if sql.contains('\\') {
        &[0, PG_QUERY_DISABLE_STANDARD_CONFORMING_STRINGS][..]
    } else {
        &[0][..]
    };
    readings
        .iter()
        .find_map(|&options| match parse_as(sql, options, guarded) {
            Parsed::Tree(tree) => walk(&tree, sql, guarded),
            Parsed::NotSql | Parsed::Plain => None,
        })
}

/// `pg_query.h`: read strings with `standard_conforming_strings = off`.
const PG_QUERY_DISABLE_STANDARD_CONFORMING_STRINGS: c_int = 32;

/// The node types `node_refusal` refuses, as keys in `libpg_query`'s JSON: refused in every
/// mode, and in a guarded mode as well. A key's closing quote cannot be escaped, so these
/// bytes are in the JSON exactly when the tree has such a node.
const WATCHED: &[&str] = &["\"TransactionStmt\":", "\"VariableSetStmt\":"];
const WATCHED_GUARDED: &[&str] = &[
    "\"FuncCall\":",
    "\"CopyStmt\":",
    "\"LoadStmt\":",
    "\"DoStmt\":",
    "\"CreateFunctionStmt\":",
];

/// What `libpg_query` made of a text.
enum Parsed {
    /// Not SQL to `PostgreSQL` 17's grammar.
    NotSql,
    /// SQL with no node of a type a refusal comes from.
    Plain,
    /// The parse tree as JSON values, so that every node is visited whatever its type.
    Tree(Value),
}

/// `libpg_query`'s reading of `sql` with parser options (`PG_QUERY_PARSE_*`).
fn parse_as(sql: &str, options: c_int, guarded: bool) -> Parsed {
    let Ok(input) = CString::new(sql) else {
        return Parsed::NotSql;
    };
    // SAFETY: `input` is a NUL-terminated string that outlives the call; the result is read
    // before it is freed, once, by the function libpg_query gives for it.
    unsafe {
        let result = pg_query_parse_opts(input.as_ptr(), options);
        let reading = if result.error.is_null() && !result.parse_tree.is_null() {
            let json = CStr::from_ptr(result.parse_tree).to_bytes();
            let text = String::from_utf8_lossy(json);
            let watched = WATCHED
                .iter()
                .chain(if guarded { WATCHED_GUARDED } else { &[] })
                .any(|key| text.contains(key));
            if watched {
                let mut json = serde_json::Deserializer::from_slice(json);
                // As deep as the SQL nests: a limit would leave a call buried in 40 nested
                // expressions unread. adminsh's thread has the stack for it (main.rs).
                json.disable_recursion_limit();
                Value::deserialize(&mut json).map_or(Parsed::NotSql, Parsed::Tree)
            } else {
                Parsed::Plain
            }
        } else {
            Parsed::NotSql
        };
        pg_query_free_parse_result(result);
        reading
    }
}

/// `libpg_query`'s C interface (`pg_query.h`), for the JSON form of the tree: the `pg_query`
/// crate gives the tree as typed protobuf structs, which cost several times as much to make
/// and to walk.
#[repr(C)]
struct PgQueryParseResult {
    parse_tree: *mut c_char,
    stderr_buffer: *mut c_char,
    error: *mut c_void,
}

unsafe extern "C" {
    fn pg_query_parse_opts(input: *const c_char, parser_options: c_int) -> PgQueryParseResult;
    fn pg_query_free_parse_result(result: PgQueryParseResult);
}

/// The first refusal in a tree, depth first.
fn walk(value: &Value, sql: &str, guarded: bool) -> Option<String> {
    match value {
        Value::Object(fields) => {
            for (key, node) in fields {
                if let Some(why) = node_refusal(key, node, sql, guarded) {
                    return Some(why);
                }
                if let Some(why) = walk(node, sql, guarded) {
                    return Some(why);
                }
            }
            None
        }
        Value::Array(items) => items.iter().find_map(|item| walk(item, sql, guarded)),
        _ => None,
    }
}

/// Why a node of type `kind` is refused, if it is.
fn node_refusal(kind: &str, node: &Value, sql: &str, guarded: bool) -> Option<String> {
    match kind {
        "TransactionStmt" => Some(sql::transaction_control(transaction_keyword(text(
            node.get("kind"),
        )))),
        "VariableSetStmt" => {
            let name = text(node.get("name")).to_ascii_lowercase();
            if MODE_SETTINGS.contains(&name.as_str()) {
                return Some(sql::MODE_SWITCH.to_owned());
            }
            // `reset all` resets the default transaction mode and the role as well.
            let reset_all = text(node.get("kind")) == "VAR_RESET_ALL";
            (guarded && (reset_all || GUARD_SETTINGS.contains(&name.as_str()))).then(|| {
                format!(
                    "`{}` in a dry run or a read-only run: it changes a setting that holds the \
                     run's guards (its role, its transaction mode, how strings are read)",
                    if reset_all { "reset all" } else { &name }
                )
            })
        }
        "FuncCall" if guarded => function_refusal(node),
        "CopyStmt" if guarded => Some(sql::outside_refusal("copy")),
        "LoadStmt" if guarded => Some(sql::outside_refusal("load")),
        "DoStmt" if guarded => do_block(node),
        "CreateFunctionStmt" if guarded => definition(node, sql),
        _ => None,
    }
}

/// `BEGIN`, `COMMIT`, ... by `TransactionStmtKind`.
fn transaction_keyword(kind: &str) -> &'static str {
    match kind {
        "TRANS_STMT_BEGIN" => "begin",
        "TRANS_STMT_START" => "start transaction",
        "TRANS_STMT_COMMIT" => "commit",
        "TRANS_STMT_ROLLBACK" => "rollback",
        "TRANS_STMT_SAVEPOINT" => "savepoint",
        "TRANS_STMT_RELEASE" => "release",
        "TRANS_STMT_ROLLBACK_TO" => "rollback to",
        "TRANS_STMT_PREPARE" => "prepare transaction",
        "TRANS_STMT_COMMIT_PREPARED" => "commit prepared",
        "TRANS_STMT_ROLLBACK_PREPARED" => "rollback prepared",
        _ => "transaction control",
    }
}

/// A called function that acts outside the transaction, or `set_config` of a setting that
/// holds the guards (or whose name is only known when it runs).
fn function_refusal(call: &Value) -> Option<String> {
    let name = call
        .get("funcname")
        .and_then(Value::as_array)
        .and_then(|names| names.last())
        .map(|last| text(last.get("String").and_then(|s| s.get("sval"))))
        .unwrap_or_default()
        .to_ascii_lowercase();
    if sql::acts_outside(&name) {
        return Some(sql::outside_refusal(&name));
    }
    if name != "set_config" {
        return None;
    }
    let setting = call
        .get("args")
        .and_then(Value::as_array)
        .and_then(|args| args.first())
        .and_then(|first| first.get("A_Const"))
        .and_then(|constant| constant.get("sval"))
        .map(|s| text(s.get("sval")).to_ascii_lowercase());
    match setting {
        Some(s)
            if !MODE_SETTINGS.contains(&s.as_str()) && !GUARD_SETTINGS.contains(&s.as_str()) =>
        {
            None
        }
        Some(s) => Some(format!(
            "`set_config('{s}', ...)` in a dry run or a read-only run: it changes a setting \
             that holds the run's guards (its role, its transaction mode, how strings are read)"
        )),
        None => Some(
            "`set_config` of a setting named at run time, in a dry run or a read-only run: \
             it could change the session's role or transaction mode, which hold the run's guards"
                .to_owned(),
        ),
    }
}

/// A `do` block in a guarded mode: its PL/pgSQL read by `PostgreSQL`'s PL/pgSQL grammar and
/// each SQL statement and expression in it read as a statement is; refused when its SQL is
/// built at run time (`execute`), when it ends the transaction, or when it is in another
/// language or cannot be read.
fn do_block(node: &Value) -> Option<String> {
    let args = node.get("args");
    let body = text(option(args, "as").and_then(|a| a.pointer("/String/sval")));
    let language = option(args, "language")
        .and_then(|a| a.pointer("/String/sval"))
        .map_or("plpgsql".to_owned(), |l| text(Some(l)).to_ascii_lowercase());
    if language != "plpgsql" {
        return Some(format!(
            "a `do` block in {language} in a dry run or a read-only run: only PL/pgSQL's can be \
             read for what acts outside the transaction"
        ));
    }
    let mut tag = String::from("$adminsh$");
    while body.contains(&tag) {
        tag.insert(tag.len() - 1, '_');
    }
    let function =
        format!("create function adminsh_do() returns void language plpgsql as {tag}{body}{tag}");
    let Ok(tree) = pg_query::parse_plpgsql(&function) else {
        return Some(
            "a `do` block PostgreSQL's PL/pgSQL grammar does not read, in a dry run or a \
             read-only run"
                .to_owned(),
        );
    };
    plpgsql_walk(&tree)
}

/// `create function` or `create procedure` in a guarded mode, whose function a dry run may
/// call next: its body read as a `do` block's is (PL/pgSQL by PL/pgSQL's grammar, over the
/// whole statement `sql`; SQL as statements, a `begin atomic` body being in the tree already);
/// refused in any other language, whose code cannot be read.
fn definition(node: &Value, sql: &str) -> Option<String> {
    let options = node.get("options");
    let body = option(options, "as")
        .and_then(|a| a.pointer("/List/items/0/String/sval"))
        .and_then(Value::as_str);
    let language = option(options, "language")
        .and_then(|a| a.pointer("/String/sval"))
        .map_or("sql".to_owned(), |l| text(Some(l)).to_ascii_lowercase());
    match language.as_str() {
        "sql" => body.and_then(|body| statement(body, true)),
        "plpgsql" => match pg_query::parse_plpgsql(sql) {
            Ok(tree) => plpgsql_walk(&tree),
            Err(_) => Some(
                "a PL/pgSQL function PostgreSQL's PL/pgSQL grammar does not read, created in a \
                 dry run or a read-only run"
                    .to_owned(),
            ),
        },
        other => Some(format!(
            "a function in {other} created in a dry run or a read-only run: only SQL and \
             PL/pgSQL bodies can be read for what acts outside the transaction"
        )),
    }
}

/// The first refusal in a PL/pgSQL tree.
fn plpgsql_walk(value: &Value) -> Option<String> {
    match value {
        Value::Object(fields) => {
            for (key, node) in fields {
                let why = match key.as_str() {
                    "PLpgSQL_stmt_dynexecute" | "PLpgSQL_stmt_dynfors" | "dynquery" => Some(
                        "a `do` block that runs SQL built at run time (`execute`), in a dry run \
                         or a read-only run: what it runs cannot be read before it runs"
                            .to_owned(),
                    ),
                    "PLpgSQL_stmt_commit" => Some(sql::transaction_control("commit")),
                    "PLpgSQL_stmt_rollback" => Some(sql::transaction_control("rollback")),
                    "PLpgSQL_expr" => embedded(node),
                    _ => None,
                };
                if let Some(why) = why.or_else(|| plpgsql_walk(node)) {
                    return Some(why);
                }
            }
            None
        }
        Value::Array(items) => items.iter().find_map(plpgsql_walk),
        _ => None,
    }
}

/// A statement or expression inside PL/pgSQL (`perform f()`, `x := f()`, `if f() then`), read
/// as `PostgreSQL` reads it there (its `parseMode`: a statement, an expression, an
/// assignment); refused when the grammar does not read it.
fn embedded(expr: &Value) -> Option<String> {
    let query = text(expr.get("query"));
    let mode = expr.get("parseMode").and_then(Value::as_i64).unwrap_or(0);
    let reading = c_int::try_from(mode).map_or(Parsed::NotSql, |m| parse_as(query, m, true));
    match reading {
        Parsed::Tree(tree) => walk(&tree, query, true),
        Parsed::Plain => None,
        Parsed::NotSql => Some(format!(
            "`{}` in a `do` block, which PostgreSQL's grammar does not read, in a dry run or a \
             read-only run",
            query.trim()
        )),
    }
}

/// The argument of the `DefElem` named `name` in a list of options (`language`, `as`).
fn option<'a>(options: Option<&'a Value>, name: &str) -> Option<&'a Value> {
    options?
        .as_array()?
        .iter()
        .filter_map(|o| o.get("DefElem"))
        .find(|o| text(o.get("defname")) == name)?
        .get("arg")
}

/// A string field, or `""`.
fn text(value: Option<&Value>) -> &str {
    value.and_then(Value::as_str).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Statements and what the grammar says of them, unguarded and guarded: `None` to run,
    /// else a word the refusal holds.
    #[test]
    fn the_grammar_refuses_by_what_a_statement_does() {
        let cases: &[(&str, Option<&str>, Option<&str>)] = &[
            ("select 1", None, None),
            // Only with standard_conforming_strings off is this SQL, and a call.
            (
                "select 'it\\'s', dblink_exec('a', 'b')",
                None,
                Some("dblink_exec"),
            ),
            ("select 'a\\b'", None, None),
            (
                "set standard_conforming_strings = off",
                None,
                Some("standard_conforming_strings"),
            ),
            ("insert into t values (1)", None, None),
            ("select dblink_exec('x', 'y')", None, Some("dblink_exec")),
            (
                "select U&\"\\0064blink_exec\"('x', 'y')",
                None,
                Some("dblink_exec"),
            ),
            (
                "select \"public\".\"dblink_exec\"('x', 'y')",
                None,
                Some("dblink_exec"),
            ),
            (
                "select * from dblink('x', 'y') as t(a int)",
                None,
                Some("dblink"),
            ),
            (
                "with x as (select dblink_exec('a', 'b')) select * from x",
                None,
                Some("dblink_exec"),
            ),
            (
                "select coalesce(null, pg_terminate_backend(1))",
                None,
                Some("pg_terminate_backend"),
            ),
            (
                "explain analyze select lo_import('/etc/passwd')",
                None,
                Some("lo_import"),
            ),
            ("commit", Some("`commit`"), Some("`commit`")),
            ("begin", Some("`begin`"), Some("`begin`")),
            ("savepoint s", Some("`savepoint`"), Some("`savepoint`")),
            ("release s", Some("`release`"), Some("`release`")),
            (
                "rollback to s",
                Some("`rollback to`"),
                Some("`rollback to`"),
            ),
            (
                "commit prepared 'x'",
                Some("`commit prepared`"),
                Some("`commit prepared`"),
            ),
            (
                "rollback prepared 'x'",
                Some("`rollback prepared`"),
                Some("`rollback prepared`"),
            ),
            // Unguarded, a tree with a node refused everywhere is walked whole: what only a
            // guarded run refuses still runs.
            (
                "select dblink_exec('a', 'b'); set search_path = app",
                None,
                Some("dblink_exec"),
            ),
            (
                "copy t to stdout; set search_path = app",
                None,
                Some("`copy`"),
            ),
            ("load 'x'; set search_path = app", None, Some("`load`")),
            (
                "create function f() returns int as 'lib', 'f' language c; set search_path = app",
                None,
                Some(" c "),
            ),
            (
                "do $$ begin execute 'select 1'; end $$; set search_path = app",
                None,
                Some("built at run time"),
            ),
            ("/* */--\rcommit", Some("`commit`"), Some("`commit`")),
            ("select 1; commit", Some("`commit`"), Some("`commit`")),
            ("end", Some("`commit`"), Some("`commit`")),
            ("abort", Some("`rollback`"), Some("`rollback`")),
            (
                "start transaction read write",
                Some("`start"),
                Some("`start"),
            ),
            ("prepare transaction 'x'", Some("prepare"), Some("prepare")),
            (
                "set transaction read write",
                Some("transaction mode"),
                Some("transaction mode"),
            ),
            (
                "set U&\"default\\005ftransaction\\005fread\\005fonly\" = off",
                Some("transaction mode"),
                Some("transaction mode"),
            ),
            (
                "set session characteristics as transaction read write",
                Some("mode"),
                Some("mode"),
            ),
            ("set role admin", None, Some("`role`")),
            (
                "set session authorization admin",
                None,
                Some("session_authorization"),
            ),
            ("reset all", None, Some("reset all")),
            ("set search_path = app", None, None),
            (
                "select set_config('application_name', 'x', false)",
                None,
                None,
            ),
            (
                "select set_config('role', 'admin', false)",
                None,
                Some("set_config('role'"),
            ),
            (
                "select set_config($1, $2, false)",
                None,
                Some("named at run time"),
            ),
            ("copy t to stdout", None, Some("`copy`")),
            ("copy t from program 'rm -rf /'", None, Some("`copy`")),
            ("load 'plpgsql'", None, Some("`load`")),
            (
                "do $$ begin perform dblink_exec('a', 'b'); end $$",
                None,
                Some("dblink_exec"),
            ),
            (
                "do $$ declare x text; begin x := dblink_exec('a', 'b'); end $$",
                None,
                Some("dblink_exec"),
            ),
            (
                "do $$ begin if pg_terminate_backend(1) then null; end if; end $$",
                None,
                Some("pg_terminate_backend"),
            ),
            (
                "do $$ begin execute 'select 1'; end $$",
                None,
                Some("built at run time"),
            ),
            (
                "do $$ begin update t set a = 1; commit; end $$",
                None,
                Some("`commit`"),
            ),
            (
                "do $$ begin update t set a = 1; rollback; end $$",
                None,
                Some("`rollback`"),
            ),
            ("do $x$ begin perform '$adminsh$'; end $x$", None, None),
            ("do $$ begin perform 1; end $$", None, None),
            // A function created in a dry run may be called next: its body is read.
            (
                "create function f() returns void language plpgsql as $$ begin perform dblink_exec('a', 'b'); end $$",
                None,
                Some("dblink_exec"),
            ),
            (
                "create function f(x int) returns int language plpgsql as $$ begin x := x + 1; return x; end $$",
                None,
                None,
            ),
            (
                "create function f() returns text language sql as $$ select dblink_exec('a', 'b') $$",
                None,
                Some("dblink_exec"),
            ),
            (
                "create function f() returns int as 'select 1' language sql",
                None,
                None,
            ),
            (
                "create function f() returns int language sql begin atomic select lo_import('x'); end",
                None,
                Some("lo_import"),
            ),
            (
                "create function f() returns int as 'lib', 'f' language c",
                None,
                Some(" c "),
            ),
            (
                "create procedure p() language plpgsql as $$ begin commit; end $$",
                None,
                Some("`commit`"),
            ),
            (
                "do language plpython3u $$ import os $$",
                None,
                Some("plpython3u"),
            ),
            ("do $$ this is not pl/pgsql $$", None, Some("does not read")),
            // Not PostgreSQL: left to the lexer and the server.
            ("selec 1", None, None),
        ];
        for (sql, unguarded, guarded) in cases {
            for (mode, want) in [(false, unguarded), (true, guarded)] {
                let got = refusal(sql, mode);
                match (want, &got) {
                    (None, None) => {}
                    (Some(word), Some(why)) if why.contains(word) => {}
                    _ => panic!("{sql:?} guarded={mode}: want {want:?}, got {got:?}"),
                }
            }
        }
    }

    #[test]
    fn a_reading_is_remembered_and_the_memory_is_bounded() {
        let remembered = |sql: &str| READINGS.with(|r| r.borrow().contains_key(sql));
        READINGS.with(|r| r.borrow_mut().clear());
        for i in 0..REMEMBERED {
            assert_eq!(refusal(&format!("select {i}"), true), None);
        }
        assert!(remembered("select 0") && remembered(&format!("select {}", REMEMBERED - 1)));
        for i in REMEMBERED..(REMEMBERED * 2) {
            assert_eq!(refusal(&format!("select {i}"), true), None);
        }
        assert!(READINGS.with(|r| r.borrow().len()) <= REMEMBERED);
        assert!(refusal("select dblink_exec('a', 'b')", true).is_some());
        assert!(refusal("select dblink_exec('a', 'b')", true).is_some());
        // Read again when the mode differs from the one it was read in.
        assert!(refusal("select dblink_exec('a', 'b')", false).is_none());
        assert!(refusal("select dblink_exec('a', 'b')", true).is_some());
        let long = format!("select '{}'", "x".repeat(REMEMBERED_LENGTH));
        assert_eq!(refusal(&long, true), None);
        assert!(!remembered(&long));
    }

    /// Nesting as deep as the grammar reads (a sum of 100,000 terms is a tree 100,000 deep)
    /// is walked to its bottom, on a stack as large as adminsh's; deeper than the grammar
    /// reads is left to the lexer and the server.
    #[test]
    fn a_call_buried_deep_is_found() {
        let deep = || {
            for depth in [10, 200, 100_000] {
                let sum = format!(
                    "select {}U&\"\\0064blink_exec\"('a', 'b')",
                    "1 + ".repeat(depth)
                );
                assert!(refusal(&sum, true).is_some(), "a sum of {depth}");
                let parens = format!(
                    "select {}lo_import('x'){}",
                    "(".repeat(depth),
                    ")".repeat(depth)
                );
                let why = refusal(&parens, true);
                assert!(
                    why.is_some() || depth > 1000,
                    "{depth} parentheses: {why:?}"
                );
            }
        };
        std::thread::Builder::new()
            .stack_size(1 << 30)
            .spawn(deep)
            .unwrap()
            .join()
            .unwrap();
    }
}
