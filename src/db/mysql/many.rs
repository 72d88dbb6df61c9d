//! Many parameter sets of an `INSERT` as one statement of many rows (`values (?, ?), (?, ?)`):
//! how many sets go in one statement, their values in order, and the statement's text.

use mysql::Value;
use rhai::Array;

use super::super::DbError;
use super::super::sql::{self, Translated};

/// The most rows one statement takes.
const ROWS: usize = 1000;
/// The most placeholders one prepared statement may have (`MySQL`'s limit).
const PLACEHOLDERS: usize = 65_535;
/// About how many bytes of values one statement carries at most, well under the server's
/// smallest default `max_allowed_packet` (4 MiB on `MySQL` 5.7, 16 MiB on `MariaDB`).
const BYTES: usize = 1 << 20;

/// How many of `sets` (the first of them the set at `first`, 0-based, for errors) go in the
/// next statement, and their values in the order of the statement's placeholders.
pub(super) fn chunk(
    translated: &Translated,
    sets: &[Array],
    first: usize,
) -> Result<(usize, Vec<Value>), DbError> {
    let per_set = translated.order.len().max(1);
    let most = (PLACEHOLDERS / per_set).clamp(1, ROWS);
    let mut values = Vec::with_capacity(most.min(sets.len()) * per_set);
    let mut bytes = 0;
    let mut taken = 0;
    for (n, set) in sets.iter().take(most).enumerate() {
        if taken > 0 && bytes >= BYTES {
            break;
        }
        if set.len() != translated.highest {
            return Err(super::super::in_set(
                first + n,
                sql::counted(translated.highest, set.len()),
            ));
        }
        for &i in &translated.order {
            let value = super::param(&set[i]).map_err(|e| {
                super::super::in_set(
                    first + n,
                    DbError::failed(format!("parameter ${}: {e}", i + 1)),
                )
            })?;
            bytes += size(&value);
            values.push(value);
        }
        taken += 1;
    }
    Ok((taken, values))
}

/// About how many bytes a value takes on the wire.
fn size(value: &Value) -> usize {
    match value {
        Value::Bytes(bytes) => bytes.len() + 4,
        _ => 9,
    }
}

/// `sql` with its row of placeholders (`row`, a byte range) repeated `rows` times.
pub(super) fn statement(sql: &str, (start, end): (usize, usize), rows: usize) -> String {
    let row = &sql[start..end];
    let mut text = String::with_capacity(sql.len() + (row.len() + 2) * rows);
    text.push_str(&sql[..start]);
    for n in 0..rows {
        if n > 0 {
            text.push_str(", ");
        }
        text.push_str(row);
    }
    text.push_str(&sql[end..]);
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use rhai::Dynamic;

    #[test]
    fn sets_go_a_thousand_rows_a_statement_fewer_when_large() {
        let translated = sql::translate(
            "insert into t (a, b) values ($2, $1) on duplicate key update a = values(a)",
            sql::Dialect::Mysql,
        )
        .unwrap();
        let row = sql::mysql_values_row(&translated.sql).unwrap();
        assert_eq!(
            statement(&translated.sql, row, 3),
            "insert into t (a, b) values (?, ?), (?, ?), (?, ?) \
             on duplicate key update a = values(a)"
        );
        let sets: Vec<Array> = (0..2500_i64)
            .map(|i| vec![Dynamic::from(i), Dynamic::from(format!("v{i}"))])
            .collect();
        let (taken, values) = chunk(&translated, &sets, 0).unwrap();
        assert_eq!(taken, 1000);
        assert_eq!(values.len(), 2000);
        // Each set's values in the order of its placeholders: $2, then $1.
        assert_eq!(values[0], Value::Bytes(b"v0".to_vec()));
        assert_eq!(values[1], Value::Int(0));
        let (taken, _) = chunk(&translated, &sets[2000..], 2000).unwrap();
        assert_eq!(taken, 500);
        // Large values: fewer sets, never none.
        let big: Vec<Array> = (0..10)
            .map(|_| vec![Dynamic::from(1_i64), Dynamic::from("x".repeat(600_000))])
            .collect();
        assert_eq!(chunk(&translated, &big, 0).unwrap().0, 2);
        let huge = vec![vec![
            Dynamic::from(1_i64),
            Dynamic::from("x".repeat(3 << 20)),
        ]];
        assert_eq!(chunk(&translated, &huge, 0).unwrap().0, 1);
        // A set of the wrong size, or a value no database holds, is named by its place.
        let mut bad = sets[..5].to_vec();
        bad[3] = vec![Dynamic::from(1_i64)];
        let e = chunk(&translated, &bad, 10).unwrap_err();
        assert!(e.message.starts_with("parameter set 14: "), "{}", e.message);
        bad[3] = vec![
            Dynamic::from(1_i64),
            Dynamic::from(rhai::FnPtr::new("f").unwrap()),
        ];
        let e = chunk(&translated, &bad, 0).unwrap_err();
        assert!(
            e.message.starts_with("parameter set 4: parameter $2: "),
            "{}",
            e.message
        );
    }
}
