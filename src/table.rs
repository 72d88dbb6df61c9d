//! Aligned columns, in two styles. `render`: as psql prints a result, each header centred over
//! its column, a rule, numbers to the right and everything else to the left, and a `(N rows)`
//! line; the console shows a query's rows with it, and `print_table` any list of maps.
//! `plain`: as `kubectl get` prints a list, every column to the left, two spaces apart, under
//! a header row; `--audit` and `--runs` (here and on a Job target) list with it.

use rhai::{Array, Dynamic};

/// `rows` (maps or a query's rows) under `columns`, one line each; `None` if a row is neither.
/// A cell is a string as it is, `()` or a missing key empty, anything else `text(value)`; a line
/// break or another control character in a cell shows escaped (`\n`), so each row stays one
/// line.
pub(crate) fn render(
    columns: &[String],
    rows: &Array,
    text: &dyn Fn(&Dynamic) -> String,
) -> Option<String> {
    let mut cells: Vec<Vec<String>> = Vec::with_capacity(rows.len());
    let mut numeric = vec![true; columns.len()];
    for row in rows {
        let map = crate::row::as_map(row)?;
        let mut line = Vec::with_capacity(columns.len());
        for (i, column) in columns.iter().enumerate() {
            let value = map.get(column.as_str());
            numeric[i] &= value.is_none_or(|v| v.is_int() || v.is_float() || v.is_unit());
            line.push(match value {
                None => String::new(),
                Some(v) if v.is_unit() => String::new(),
                Some(v) => match v.read_lock::<rhai::ImmutableString>() {
                    Some(s) => escaped(&s),
                    None => escaped(&text(v)),
                },
            });
        }
        cells.push(line);
    }
    let widths = widths(
        std::iter::once(columns).chain(cells.iter().map(Vec::as_slice)),
        columns.len(),
    );
    let line = |parts: Vec<String>| format!(" {}", parts.join(" | ")).trim_end().to_owned();
    let mut out = Vec::with_capacity(cells.len() + 3);
    out.push(line(
        columns
            .iter()
            .zip(&widths)
            .map(|(c, &w)| format!("{:^w$}", escaped(c)))
            .collect(),
    ));
    out.push(
        widths
            .iter()
            .map(|&w| "-".repeat(w + 2))
            .collect::<Vec<_>>()
            .join("+"),
    );
    for row in &cells {
        out.push(line(
            row.iter()
                .zip(widths.iter().zip(&numeric))
                .map(|(c, (&w, &numeric))| {
                    if numeric {
                        format!("{c:>w$}")
                    } else {
                        format!("{c:<w$}")
                    }
                })
                .collect(),
        ));
    }
    let n = cells.len();
    let count = format!("({n} row{})", if n == 1 { "" } else { "s" });
    if columns.is_empty() {
        // Nothing to line up: no header, no rule, and rows of maps without keys.
        return Some(count);
    }
    out.push(count);
    Some(out.join("\n"))
}

/// `rows` of text (the first is the header) as left-aligned columns two spaces apart, one line
/// each, without trailing spaces.
pub(crate) fn plain<const N: usize>(rows: &[[String; N]]) -> Vec<String> {
    let widths = widths(rows.iter().map(<[String; N]>::as_slice), N);
    rows.iter()
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, width)| format!("{cell:width$}"))
                .collect();
            cells.join("  ").trim_end().to_owned()
        })
        .collect()
}

/// The width of each of `count` columns: its widest cell in `rows`, in characters.
fn widths<'a>(rows: impl Iterator<Item = &'a [String]>, count: usize) -> Vec<usize> {
    let mut widths = vec![0; count];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    widths
}

/// The columns of maps that carry no order of their own: the first row's keys, then each key a
/// later row adds, in the order met (a Rhai map's keys are sorted).
pub(crate) fn columns(rows: &Array) -> Vec<String> {
    let mut columns: Vec<String> = Vec::new();
    for row in rows {
        if let Some(map) = crate::row::as_map(row) {
            for key in map.keys() {
                if !columns.iter().any(|c| c == key.as_str()) {
                    columns.push(key.to_string());
                }
            }
        }
    }
    columns
}

/// A cell's text on one line: control characters as Rust writes them in a string.
fn escaped(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(code: &str) -> Array {
        rhai::Engine::new().eval(code).unwrap()
    }

    fn shown(columns: &[&str], code: &str) -> String {
        let columns: Vec<String> = columns.iter().map(ToString::to_string).collect();
        render(&columns, &rows(code), &|v| v.to_string()).unwrap()
    }

    #[test]
    fn numbers_go_right_text_left_and_empty_cells_stay_empty() {
        let table = shown(
            &["id", "email"],
            r#"[#{id: 7, email: "a@example.com"}, #{id: 1234, email: ()}, #{email: "b"}]"#,
        );
        assert_eq!(
            table,
            "  id  |     email\n------+---------------\n    7 | a@example.com\n 1234 |\n      | b\n(3 rows)"
        );
    }

    #[test]
    fn each_row_stays_one_line_whatever_its_cells_hold() {
        let cases = [
            ("\"a\\nb\"", "a\\nb"),
            ("\"tab\\there\"", "tab\\there"),
            ("\"cr\\rhere\"", "cr\\rhere"),
            ("\"esc\\x1b[31m\"", "esc\\u{1b}[31m"),
            ("\"ünïcode ✓\"", "ünïcode ✓"),
            ("\"\"", ""),
        ];
        for (value, cell) in cases {
            let table = shown(&["v"], &format!("[#{{v: {value}}}]"));
            let lines: Vec<&str> = table.lines().collect();
            assert_eq!(lines.len(), 4, "{value}: {table}");
            assert_eq!(lines[2].trim(), cell, "{value}: {table}");
        }
    }

    #[test]
    fn columns_are_the_first_rows_keys_then_those_later_rows_add() {
        let found = columns(&rows("[#{b: 1, a: 2}, #{c: 3, a: 4}, 5]"));
        assert_eq!(found, ["a", "b", "c"]);
        assert_eq!(shown(&["x"], "[]"), " x\n---\n(0 rows)");
        assert_eq!(shown(&[], "[]"), "(0 rows)");
        assert_eq!(shown(&[], "[#{}]"), "(1 row)");
        assert!(render(&["x".into()], &rows("[1]"), &|v| v.to_string()).is_none());
    }

    #[test]
    fn plain_columns_go_left_two_spaces_apart_without_trailing_spaces() {
        let rows = [
            ["ID", "WHAT", "NOTE"].map(str::to_owned),
            ["a-1", "ünï", ""].map(str::to_owned),
            ["b", "x", "long note"].map(str::to_owned),
        ];
        assert_eq!(
            plain(&rows),
            ["ID   WHAT  NOTE", "a-1  ünï", "b    x     long note"]
        );
    }
}
