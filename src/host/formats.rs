//! Tabular and config formats for scripts: CSV (a header row to maps and back, quoted as
//! spreadsheets expect), TOML and YAML. JSON and URLs are in `data.rs`.

use rhai::{Array, Dynamic, Map};

use super::def::{Host, RhaiResult, rows, runtime_error};
use super::time::plain;
use crate::row::Row;

/// How a CSV text is laid out.
#[derive(Debug, Clone, Copy)]
pub(super) struct Layout {
    pub(super) delimiter: u8,
    pub(super) header: bool,
}

/// `csv_file(path)`: a CSV file to walk with `batches(...)`, read a record at a time as the
/// walk goes (`batches.rs`), never whole in memory.
#[derive(Debug, Clone)]
pub(crate) struct CsvFile {
    /// As the script gave it, for messages.
    pub(super) path: String,
    pub(super) layout: Layout,
}

impl Layout {
    pub(super) fn from(options: &Map) -> RhaiResult<Layout> {
        let mut layout = Layout {
            delimiter: b',',
            header: true,
        };
        for (key, value) in options {
            match key.as_str() {
                "delimiter" => {
                    let text = value.to_string();
                    layout.delimiter = match text.as_bytes() {
                        [b] if b.is_ascii() => *b,
                        _ => {
                            return Err(runtime_error(format!(
                                "csv: the delimiter is one ASCII character, not {text:?}"
                            )));
                        }
                    };
                }
                "header" => {
                    layout.header = value.as_bool().map_err(|_| {
                        runtime_error(format!(
                            "csv: `header` is true or false, not {}",
                            crate::kind::of(value)
                        ))
                    })?;
                }
                other => {
                    return Err(runtime_error(format!(
                        "csv: unknown option `{other}` (the options are delimiter and header)"
                    )));
                }
            }
        }
        Ok(layout)
    }
}

fn parse_csv(text: &str, layout: Layout) -> RhaiResult<Array> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = layout.reader(text.as_bytes());
    let failed = |e: &csv::Error| runtime_error(format!("parse_csv: {e}"));
    let header = header_of(&mut reader, "parse_csv", layout)?;
    let mut rows = Array::new();
    for record in reader.records() {
        let record = record.map_err(|e| failed(&e))?;
        rows.push(row_of(&header, record.iter(), layout));
    }
    Ok(rows)
}

impl Layout {
    pub(super) fn reader<R: std::io::Read>(self, from: R) -> csv::Reader<R> {
        csv::ReaderBuilder::new()
            .delimiter(self.delimiter)
            .has_headers(self.header)
            .from_reader(from)
    }
}

/// The header's names (none without a header), each once: `who` names the function in errors.
pub(super) fn header_of<R: std::io::Read>(
    reader: &mut csv::Reader<R>,
    who: &str,
    layout: Layout,
) -> RhaiResult<Vec<String>> {
    if !layout.header {
        return Ok(Vec::new());
    }
    let names = reader
        .byte_headers()
        .map_err(|e| runtime_error(format!("{who}: {e}")))?;
    let mut names: Vec<String> = names
        .iter()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    // A byte-order mark is not part of the first name.
    if let Some(first) = names.first_mut()
        && let Some(rest) = first.strip_prefix('\u{feff}')
    {
        *first = rest.to_owned();
    }
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(runtime_error(format!(
                "{who}: the header names column `{name}` twice (columns {} and {})",
                names[..i].iter().position(|n| n == name).unwrap_or(0) + 1,
                i + 1
            )));
        }
    }
    Ok(names)
}

/// A record as a map by the header's names, or an array without a header.
pub(super) fn row_of<'v>(
    header: &[String],
    values: impl Iterator<Item = &'v str>,
    layout: Layout,
) -> Dynamic {
    if layout.header {
        header
            .iter()
            .zip(values)
            .map(|(k, v)| (k.as_str().into(), Dynamic::from(v.to_owned())))
            .collect::<Map>()
            .into()
    } else {
        Dynamic::from_array(values.map(|v| Dynamic::from(v.to_owned())).collect())
    }
}

/// The keys of a map (sorted) or a row (in its query's order); none for anything else.
fn keys_of(row: &Dynamic) -> Vec<String> {
    if let Some(row) = row.read_lock::<Row>() {
        return row.columns().to_vec();
    }
    row.read_lock::<Map>()
        .map(|map| map.keys().map(ToString::to_string).collect())
        .unwrap_or_default()
}

/// One cell: `()` empty, a time as ISO-8601, an array or a map as JSON, the rest as printed.
fn cell(value: &Dynamic) -> String {
    let value = plain(value);
    if value.is_unit() {
        String::new()
    } else if value.is_array() || value.is_map() {
        serde_json::to_string(&value).unwrap_or_default()
    } else {
        value.to_string()
    }
}

/// Rows (maps, or arrays) as CSV text; `columns` orders the maps' keys and heads the text.
fn to_csv(rows: &Array, columns: Option<Vec<String>>) -> RhaiResult<String> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .flexible(true)
        .from_writer(Vec::new());
    let maps = rows.first().is_some_and(|r| r.is_map() || r.is::<Row>());
    let columns = match columns {
        Some(columns) => Some(columns),
        // Every key, in the order the rows first show them (a query's row: its column order).
        None if maps => {
            let mut keys: Vec<String> = Vec::new();
            for row in rows {
                for key in keys_of(row) {
                    if !keys.contains(&key) {
                        keys.push(key);
                    }
                }
            }
            Some(keys)
        }
        None => None,
    };
    let failed = |e: csv::Error| runtime_error(format!("to_csv: {e}"));
    if let Some(columns) = &columns {
        writer.write_record(columns).map_err(failed)?;
    }
    for (i, row) in rows.iter().enumerate() {
        let columns = columns.as_deref().unwrap_or_default();
        let cells: Vec<String> = if let Some(map) = row.read_lock::<Map>() {
            columns
                .iter()
                .map(|c| map.get(c.as_str()).map(cell).unwrap_or_default())
                .collect()
        } else if let Some(row) = row.read_lock::<Row>() {
            columns
                .iter()
                .map(|c| row.get(c).map(cell).unwrap_or_default())
                .collect()
        } else if let Some(array) = row.read_lock::<Array>() {
            array.iter().map(cell).collect()
        } else {
            return Err(runtime_error(format!(
                "to_csv: row {} is {}, not a map or an array",
                i + 1,
                crate::kind::of(row)
            )));
        };
        writer.write_record(&cells).map_err(failed)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| runtime_error(format!("to_csv: {e}")))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn toml_value(value: toml::Value) -> Dynamic {
    match value {
        toml::Value::String(s) => s.into(),
        toml::Value::Integer(n) => n.into(),
        toml::Value::Float(x) => x.into(),
        toml::Value::Boolean(b) => b.into(),
        toml::Value::Datetime(d) => d.to_string().into(),
        toml::Value::Array(items) => {
            Dynamic::from_array(items.into_iter().map(toml_value).collect())
        }
        toml::Value::Table(table) => Dynamic::from_map(
            table
                .into_iter()
                .map(|(k, v)| (k.into(), toml_value(v)))
                .collect(),
        ),
    }
}

/// The formats family: CSV, then TOML and YAML.
pub(super) fn register(host: &mut Host) {
    csv_rows(host);
    rows!(host;
        "parse_toml", "text: String -> Map",
            "TOML text as a map (dates and times as ISO-8601 strings)", parse_toml;
        "to_toml", "value: Map -> String", "A map as TOML text", to_toml;
        "parse_yaml", "text: String -> ?", "YAML text (one document) as maps, arrays and values",
            |text: &str| -> RhaiResult<Dynamic> {
                serde_norway::from_str::<Dynamic>(text)
                    .map_err(|e| runtime_error(format!("parse_yaml: {e}")))
            };
        "to_yaml", "value: ? -> String", "A value as YAML text",
            |value: Dynamic| -> RhaiResult<String> {
                serde_norway::to_string(&plain(&value))
                    .map_err(|e| runtime_error(format!("to_yaml: {e}")))
            };
    );
}

fn csv_file(path: &str, options: &Map) -> RhaiResult<CsvFile> {
    if path.is_empty() {
        return Err(runtime_error("csv_file: name the file"));
    }
    Ok(CsvFile {
        path: path.to_owned(),
        layout: Layout::from(options)?,
    })
}

/// `parse_csv` and `to_csv`, with and without options; `csv_file` for walks.
fn csv_rows(host: &mut Host) {
    host.engine.register_type_with_name::<CsvFile>("CsvFile");
    rows!(host;
        "parse_csv", "text: String -> Array",
            "CSV text as an array of maps, the header row naming the keys (values are strings)",
            |text: &str| parse_csv(text, Layout::from(&Map::new())?);
        "parse_csv", "text: String, options: Map -> Array",
            "CSV text with options: #{delimiter: \";\", header: false} (no header: arrays)",
            |text: &str, options: Map| parse_csv(text, Layout::from(&options)?);
        "csv_file", "path: String -> CsvFile",
            "A CSV file for `batches(csv_file(path), size, |rows| ...)`: its records read as the walk goes, each a map by the header (never the whole file in memory)",
            |path: &str| csv_file(path, &Map::new());
        "csv_file", "path: String, options: Map -> CsvFile",
            "As csv_file(path), with #{delimiter, header}",
            |path: &str, options: Map| csv_file(path, &options);
        "to_csv", "rows: Array -> String",
            "Maps (a header row of their keys) or arrays as CSV text, quoted where needed",
            |rows: Array| to_csv(&rows, None);
        "to_csv", "rows: Array, columns: Array -> String",
            "Maps as CSV text with these columns, in this order, as the header row",
            |rows: Array, columns: Array| {
                let columns = columns.iter().map(ToString::to_string).collect();
                to_csv(&rows, Some(columns))
            };
    );
}

fn parse_toml(text: &str) -> RhaiResult<Dynamic> {
    let table = text
        .parse::<toml::Table>()
        .map_err(|e| runtime_error(format!("parse_toml: {}", e.to_string().trim_end())))?;
    Ok(toml_value(toml::Value::Table(table)))
}

fn to_toml(value: Map) -> RhaiResult<String> {
    toml::to_string(&plain(&value.into())).map_err(|e| match e.to_string().as_str() {
        "unsupported unit type" => {
            runtime_error("to_toml: TOML has no () (null): leave the key out instead")
        }
        other => runtime_error(format!("to_toml: {other}")),
    })
}
