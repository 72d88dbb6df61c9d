//! A query's row as scripts use it (`crate::row::Row`): it reads and changes as a map does,
//! `row.email`, `row["email"]`, `row.note = "fixed"`, `"email" in row`, `keys()`, and prints
//! as the map it stands for. A name the row has no column for is an error naming its columns,
//! as a map's missing property is (`get` answers `()` instead).

use rhai::{Array, Dynamic, ImmutableString, Map, NativeCallContext};

use super::super::def::{Host, RhaiResult, rows, runtime_error};
use crate::row::Row;

pub(super) fn register(host: &mut Host) {
    let engine = &mut host.engine;
    engine.register_type_with_name::<Row>("Row");
    // `row.email` finds no property getter and falls back to these, as `row["email"]` does.
    engine.register_indexer_get(|row: &mut Row, column: &str| column_of(row, column));
    engine.register_indexer_set(|row: &mut Row, column: &str, value: Dynamic| {
        row.set(column, value);
    });
    engine.register_fn("to_string", |ctx: NativeCallContext, row: &mut Row| {
        as_map(&ctx, "to_string", row)
    });
    engine.register_fn("to_debug", |ctx: NativeCallContext, row: &mut Row| {
        as_map(&ctx, "to_debug", row)
    });
    engine.register_fn("==", |ctx: NativeCallContext, a: Row, b: Dynamic| {
        equal(&ctx, &a.to_tagged_map(), &b)
    });
    engine.register_fn("==", |ctx: NativeCallContext, a: Map, b: Row| {
        equal(&ctx, &b.to_tagged_map(), &a.into())
    });
    engine.register_fn("!=", |ctx: NativeCallContext, a: Row, b: Dynamic| {
        !equal(&ctx, &a.to_tagged_map(), &b)
    });
    engine.register_fn("!=", |ctx: NativeCallContext, a: Map, b: Row| {
        !equal(&ctx, &b.to_tagged_map(), &a.into())
    });
    rows!(host;
        "keys", "row: Row -> Array", "The row's column names, in the query's order",
            |row: &mut Row| -> Array { row.columns().iter().map(|k| k.as_str().into()).collect() };
        "values", "row: Row -> Array", "The row's values, in the query's order",
            |row: &mut Row| -> Array { row.values().cloned().collect() };
        "len", "row: Row -> int", "How many columns the row has",
            |row: &mut Row| -> rhai::INT {
                rhai::INT::try_from(row.len()).unwrap_or(rhai::INT::MAX)
            };
        "is_empty", "row: Row -> bool", "Whether the row has no columns",
            |row: &mut Row| row.len() == 0;
        "contains", "row: Row, column: String -> bool",
            "Whether the row has this column (also `\"email\" in row`)",
            |row: &mut Row, column: &str| row.get(column).is_some();
        "get", "row: Row, column: String -> ?",
            "The column's value; () if the row has no such column",
            |row: &mut Row, column: &str| row.get(column).cloned().unwrap_or(Dynamic::UNIT);
        "remove", "row: Row, column: String -> ?",
            "Takes the column out of the row and returns its value (() if there was none)",
            |row: &mut Row, column: &str| row.remove(column).unwrap_or(Dynamic::UNIT);
        "to_map", "row: Row -> Map",
            "The row as a map (sorted keys, as every map's), for what takes only maps",
            |row: &mut Row| row.to_map();
        "mixin", "row: Row, map: Map",
            "Sets each of the map's keys in the row (also `row += map`; `row + map` is a changed \
             copy)",
            |row: &mut Row, map: Map| mixin(row, map);
    );
    host.engine
        .register_fn("+=", |row: &mut Row, map: Map| mixin(row, map));
    host.engine
        .register_fn("+", |mut row: Row, map: Map| -> Row {
            mixin(&mut row, map);
            row
        });
}

/// The column's value, or an error naming the columns there are.
fn column_of(row: &Row, column: &str) -> RhaiResult<Dynamic> {
    row.get(column).cloned().ok_or_else(|| {
        let columns = row.columns();
        let meant = crate::suggest::closest(column, columns.iter().map(String::as_str))
            .map(|name| format!("did you mean `{name}`? "))
            .unwrap_or_default();
        runtime_error(format!(
            "the row has no column `{column}`; {meant}its columns: {} (row.get(\"{column}\") is \
             () for a column that may be missing)",
            columns.join(", ")
        ))
    })
}

fn mixin(row: &mut Row, map: Map) {
    for (key, value) in map {
        row.set(&key, value);
    }
}

/// The row shown as the map it stands for would be (`how` is `to_string` or `to_debug`).
fn as_map(ctx: &NativeCallContext, how: &str, row: &Row) -> ImmutableString {
    ctx.call_native_fn::<ImmutableString>(how, (row.to_tagged_map(),))
        .unwrap_or_default()
}

/// Whether a row (as a map) equals `other`, as Rhai compares maps: a row against a row or a map.
fn equal(ctx: &NativeCallContext, row: &Dynamic, other: &Dynamic) -> bool {
    let other = match other.read_lock::<Row>() {
        Some(other) => other.to_tagged_map(),
        None if other.is_map() => other.clone(),
        None => return false,
    };
    ctx.call_native_fn::<bool>("==", (row.clone(), other))
        .unwrap_or(false)
}
