//! `print_table`: an array of maps printed as aligned columns, with the renderer the console
//! shows query results with; under `--json` the rows are kept in the document as data too.

use std::rc::Rc;

use rhai::{Array, Dynamic, ImmutableString, Map, NativeCallContext};

use super::def::{Host, RhaiResult, rows, runtime_error};
use crate::db::Rows;
use crate::row::{Row, columns_of};
use crate::session::Session;

pub(super) fn register(host: &mut Host, session: &Rc<Session>) {
    rows!(host, session;
        "print_table", "rows: Array",
            "Prints an array of maps as aligned columns (a query's own column order, else the keys as met)",
            move |ctx: NativeCallContext, rows: Array| -> RhaiResult<()> {
                rows_of(&rows)?;
                // A query's rows each carry its column order; rows a script made are in key order.
                let columns = match rows.first().and_then(columns_of) {
                    Some(columns) => columns.to_vec(),
                    None => crate::table::columns(&rows),
                };
                print(&session, &ctx, rows, columns)
            };
        "print_table", "rows: Array, columns: Array",
            "Prints an array of maps as aligned columns, these columns in this order",
            move |ctx: NativeCallContext, rows: Array, columns: Array| -> RhaiResult<()> {
                rows_of(&rows)?;
                print(&session, &ctx, rows, column_names(columns)?)
            };
    );
}

/// The columns a script named: strings only.
fn column_names(columns: Array) -> RhaiResult<Vec<String>> {
    columns
        .into_iter()
        .enumerate()
        .map(|(i, c)| match c.read_lock::<ImmutableString>() {
            Some(name) => Ok(name.to_string()),
            None => Err(runtime_error(format!(
                "print_table: column {} is {}, not a string (a column is a key of the rows)",
                i + 1,
                crate::kind::of(&c)
            ))),
        })
        .collect()
}

/// Refuses what is not a list of maps, naming the first row that is not one.
fn rows_of(rows: &Array) -> RhaiResult<()> {
    match rows
        .iter()
        .position(|row| !(row.is_map() || row.is::<Row>()))
    {
        None => Ok(()),
        Some(i) => Err(runtime_error(format!(
            "print_table: row {} is {}, not a map (print_table takes an array of maps, as db::query returns)",
            i + 1,
            crate::kind::of(&rows[i])
        ))),
    }
}

/// Masks the rows, prints them under `columns`, and keeps them for `--json` in that order.
fn print(
    session: &Session,
    ctx: &NativeCallContext,
    rows: Array,
    columns: Vec<String>,
) -> RhaiResult<()> {
    let masked = session.redactor().value(&Dynamic::from_array(rows));
    let rows = masked.into_array().unwrap_or_default();
    let text = |value: &Dynamic| {
        ctx.call_native_fn::<ImmutableString>("to_string", (value.clone(),))
            .map_or_else(|_| value.to_string(), |s| s.to_string())
    };
    let shown = crate::table::render(&columns, &rows, &text)
        .ok_or_else(|| runtime_error("print_table: every row must be a map"))?;
    session.print(&shown);
    if session.sink.is_json() {
        let mut kept = Rows::new(columns.clone());
        for row in &rows {
            let map = row.read_lock::<Map>();
            kept.push(
                columns
                    .iter()
                    .map(|c| {
                        map.as_deref()
                            .and_then(|m| m.get(c.as_str()).cloned())
                            .unwrap_or(Dynamic::UNIT)
                    })
                    .collect(),
            );
        }
        session.sink.keep_table(kept.into_value());
    }
    Ok(())
}
