//! `--json`: the outcome of a run as one JSON document on stdout, for CI pipelines and release
//! phases: the exit code, how long it took, the arguments and `PARAMS`, every command with its
//! (redacted) argv and status, and the script's value or error.

use std::time::Duration;

use rhai::Dynamic;
use serde::Serialize;
use serde_json::Value;

use crate::record::{CommandRecord, WalkRecord};
use crate::release::Redactor;
use crate::state::Step;

/// What a run came to; `to_json` turns it into the document.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub exit_code: i32,
    pub duration: Duration,
    /// The script as error messages name it; `None` for `-e`.
    pub script: Option<String>,
    pub args: Vec<String>,
    /// `None` when the run stopped before the parameters were bound.
    pub params: Option<rhai::Map>,
    pub commands: Vec<CommandRecord>,
    pub steps: Vec<Step>,
    pub walks: Vec<WalkRecord>,
    /// Each table `print_table` printed: its rows, in its column order.
    pub tables: Vec<Dynamic>,
    pub value: Option<Dynamic>,
    pub error: Option<String>,
}

#[derive(Serialize)]
struct Document {
    exit_code: i32,
    duration_ms: f64,
    script: Option<String>,
    args: Vec<String>,
    params: Value,
    /// The script's named steps: name, outcome (`done`, `skipped`, `failed`), duration.
    steps: Vec<Step>,
    /// Each walk in batches: its name, items, batches, duration, and where a dry run stopped it.
    walks: Vec<WalkRecord>,
    commands: Vec<Command>,
    tables: Vec<Value>,
    value: Value,
    error: Option<String>,
}

#[derive(Serialize)]
struct Command {
    argv: Vec<String>,
    /// The programs `argv` pipes into, each an argv.
    pipe: Vec<Vec<String>>,
    status: Option<i32>,
    duration_ms: f64,
    error: Option<String>,
    /// A database statement (std/db): where, the SQL, its parameters, the rows it affected.
    #[serde(skip_serializing_if = "Option::is_none")]
    database: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sql: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    params: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rows: Option<u64>,
}

impl Report {
    /// The document, on one line. This is the `--json` channel's one place of masking: every
    /// value is masked raw (by value, and a parameter or map entry by its secret name) before
    /// it is written as JSON.
    pub(crate) fn to_json(&self, redactor: &Redactor) -> String {
        let masked = |value: &Dynamic| json_value(&redactor.value(value));
        let document = Document {
            exit_code: self.exit_code,
            duration_ms: millis(self.duration),
            script: self.script.clone(),
            args: redactor.words(&self.args),
            params: match &self.params {
                Some(params) => masked(&Dynamic::from(params.clone())),
                None => Value::Null,
            },
            steps: self.steps.clone(),
            walks: self
                .walks
                .iter()
                .map(|w| WalkRecord {
                    name: redactor.redact(&w.name).into_owned(),
                    ..w.clone()
                })
                .collect(),
            tables: self.tables.iter().map(masked).collect(),
            commands: self
                .commands
                .iter()
                .map(|c| {
                    let mut stages = c.stages.iter().cloned();
                    Command {
                        argv: stages.next().unwrap_or_default(),
                        pipe: stages.collect(),
                        status: c.status,
                        duration_ms: millis(c.duration),
                        error: c.error.as_ref().map(|e| redactor.redact(e).into_owned()),
                        database: c.statement.as_ref().map(|s| s.database.clone()),
                        sql: c
                            .statement
                            .as_ref()
                            .map(|s| redactor.redact(&s.sql).into_owned()),
                        params: c.statement.as_ref().map(|s| redactor.words(&s.params)),
                        rows: c.statement.as_ref().and_then(|s| s.rows),
                    }
                })
                .collect(),
            value: self.value.as_ref().map_or(Value::Null, masked),
            error: self.error.as_ref().map(|e| redactor.redact(e).into_owned()),
        };
        serde_json::to_string(&document).unwrap_or_else(|e| {
            let error = format!("cannot write the report: {e}");
            serde_json::json!({"exit_code": self.exit_code, "error": error}).to_string()
        })
    }
}

/// Milliseconds, to the microsecond.
fn millis(duration: Duration) -> f64 {
    (duration.as_micros() as f64) / 1000.0
}

/// `value` with what JSON cannot hold (a command, a function) replaced by `text(part)`, the
/// way the script would print it.
pub(crate) fn printable(value: Dynamic, text: &dyn Fn(&Dynamic) -> String) -> Dynamic {
    if let Some(row) = value
        .read_lock::<crate::row::Row>()
        .map(|r| r.to_tagged_map())
    {
        return printable(row, text);
    }
    // The tag says a query's column order (`crate::row`): kept.
    let tag = value.tag();
    if value.is_array() {
        let array = value.cast::<rhai::Array>();
        let mut value: Dynamic = array
            .into_iter()
            .map(|v| printable(v, text))
            .collect::<rhai::Array>()
            .into();
        value.set_tag(tag);
        value
    } else if value.is_map() {
        let map = value.cast::<rhai::Map>();
        let map: rhai::Map = map
            .into_iter()
            .map(|(k, v)| (k, printable(v, text)))
            .collect();
        let mut value: Dynamic = map.into();
        value.set_tag(tag);
        value
    } else if value.is_unit()
        || value.is_bool()
        || value.is_int()
        || value.is_float()
        || value.is_string()
        || value.is_char()
        || value.is_blob()
    {
        value
    } else {
        text(&value).into()
    }
}

/// A (masked) script value as JSON; what JSON cannot hold as Rhai's text for it.
fn json_value(value: &Dynamic) -> Value {
    if let Some(row) = value.read_lock::<crate::row::Row>() {
        return json_value(&row.to_tagged_map());
    }
    if value.is_unit() {
        Value::Null
    } else if let Ok(b) = value.as_bool() {
        Value::Bool(b)
    } else if let Ok(i) = value.as_int() {
        Value::from(i)
    } else if let Ok(f) = value.as_float() {
        serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
    } else if value.is_array() {
        let array = value.read_lock::<rhai::Array>();
        let items = array.iter().flat_map(|a| a.iter());
        Value::Array(items.map(json_value).collect())
    } else if value.is_blob() {
        let blob = value.read_lock::<rhai::Blob>();
        Value::Array(
            blob.iter()
                .flat_map(|b| b.iter())
                .map(|&b| b.into())
                .collect(),
        )
    } else if value.is_map() {
        let map = value.read_lock::<rhai::Map>();
        let Some(map) = map.as_deref() else {
            return Value::Null;
        };
        // A row from a query keeps the query's column order.
        let keys = crate::row::keys_in_order(value, map);
        Value::Object(
            keys.into_iter()
                .filter_map(|k| map.get(k.as_str()).map(|v| (k, json_value(v))))
                .collect(),
        )
    } else {
        Value::String(value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_json() {
        let value: Dynamic = rhai::Engine::new()
            .eval(r#"#{a: [1, 2.5, (), true, 'c'], b: "x", blob: blob(2, 7)}"#)
            .unwrap();
        assert_eq!(
            json_value(&value).to_string(),
            r#"{"a":[1,2.5,null,true,"c"],"b":"x","blob":[7,7]}"#
        );
        let function: Dynamic = rhai::Engine::new().eval("[|| 1]").unwrap();
        assert!(json_value(&function)[0].is_string());
        let described = printable(function, &|_| "a function".into());
        assert_eq!(json_value(&described), serde_json::json!(["a function"]));
    }

    #[test]
    fn an_empty_report() {
        let report = Report {
            exit_code: 2,
            error: Some("no script".into()),
            ..Report::default()
        };
        assert_eq!(
            report.to_json(&Redactor::default()),
            r#"{"exit_code":2,"duration_ms":0.0,"script":null,"args":[],"params":null,"steps":[],"walks":[],"commands":[],"tables":[],"value":null,"error":"no script"}"#
        );
    }
}
