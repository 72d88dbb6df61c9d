//! SQL values as Rhai sees them, and back: a result as an array of rows (`crate::row`, tagged
//! with its column list), dates and times as ISO-8601 text, and parameters as the run's records
//! show them.

use std::rc::Rc;

use rhai::{Array, Dynamic};

use crate::row::{List, Row};

/// The rows of one result: column names (made unique: a second `id` is `id_2`) and each row,
/// made as it is read (a `Row` of the result's column list), so a result is held once.
#[derive(Debug, Default)]
pub(crate) struct Rows {
    pub columns: Rc<[String]>,
    list: Option<List>,
    pub rows: Array,
}

impl Rows {
    pub(crate) fn new(names: Vec<String>) -> Self {
        Rows {
            columns: unique(names).into(),
            list: None,
            rows: Array::new(),
        }
    }

    /// Adds a row, one value per column.
    pub(crate) fn push(&mut self, values: Vec<Dynamic>) {
        let list = *self.list.get_or_insert_with(|| List::of(&self.columns));
        self.rows.push(row(list, values));
    }

    /// The first value of the first row (`()` when there is none).
    pub(crate) fn first_value(&self) -> Dynamic {
        self.rows
            .first()
            .and_then(|row| row.read_lock::<Row>()?.values().next().cloned())
            .unwrap_or(Dynamic::UNIT)
    }

    /// The rows as an array of rows sharing one column list.
    pub(crate) fn into_array(self) -> Array {
        self.rows
    }

    /// The array as a value tagged with its column order (kept for an empty result too).
    pub(crate) fn into_value(self) -> Dynamic {
        let tag = self.list.unwrap_or_else(|| List::of(&self.columns)).tag();
        let mut value = Dynamic::from_array(self.rows);
        value.set_tag(tag);
        value
    }
}

/// One row of a result whose columns are `list`.
pub(crate) fn row(list: List, values: Vec<Dynamic>) -> Dynamic {
    Dynamic::from(Row::new(list, values))
}

/// `id, id` as `id, id_2`: a row holds each name once.
fn unique(names: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        let mut candidate = name.clone();
        let mut n = 2;
        while out.contains(&candidate) {
            candidate = format!("{name}_{n}");
            n += 1;
        }
        out.push(candidate);
    }
    out
}

/// Rows from a query as an aligned table, as psql prints them, with a `(N rows)` line; `None`
/// for any other value.
pub(crate) fn table(value: &Dynamic, text: &dyn Fn(&Dynamic) -> String) -> Option<String> {
    let columns = crate::row::columns_of(value)?;
    let rows = value.read_lock::<Array>()?;
    crate::table::render(&columns, &rows, text)
}

/// A parameter as the run's records and the dry-run summary show it.
pub(crate) fn shown(value: &Dynamic) -> String {
    if value.is_unit() {
        "NULL".to_owned()
    } else if value.is_string() {
        format!("{:?}", value.clone().into_string().unwrap_or_default())
    } else if let Some(blob) = value.read_lock::<rhai::Blob>() {
        format!("blob({} bytes)", blob.len())
    } else {
        value.to_string()
    }
}

/// JSON text as Rhai values (objects as maps, arrays as arrays).
pub(crate) fn from_json(text: &str) -> Result<Dynamic, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("invalid JSON from the database: {e}"))?;
    rhai::serde::to_dynamic(value).map_err(|e| e.to_string())
}

/// Rhai values (a map or an array) as JSON text.
pub(crate) fn to_json(value: &Dynamic) -> Result<String, String> {
    let json: serde_json::Value =
        rhai::serde::from_dynamic(&crate::row::to_maps(value)).map_err(|e| e.to_string())?;
    Ok(json.to_string())
}

/// The civil date of a day count from 1970-01-01 (proleptic Gregorian), by jiff. jiff knows the
/// years -9999 to 9999 and a database more (Postgres dates reach the year 5874897): the calendar
/// repeats every 400 years (146,097 days), so jiff is asked the day as many 400-year cycles
/// from 1970 as it is, and the cycles are added back to the year.
pub(crate) fn civil(days: i64) -> (i64, u32, u32) {
    const CYCLE_DAYS: i64 = 146_097;
    let (cycles, day) = (days.div_euclid(CYCLE_DAYS), days.rem_euclid(CYCLE_DAYS));
    let date = jiff::civil::date(1970, 1, 1)
        .checked_add(jiff::Span::new().days(day))
        .expect("1970 plus less than 400 years is a date jiff knows");
    let month = u32::try_from(date.month()).unwrap_or(1);
    let day = u32::try_from(date.day()).unwrap_or(1);
    (i64::from(date.year()) + cycles * 400, month, day)
}

/// `2026-11-26` for a day count from 1970-01-01.
pub(crate) fn date(days: i64) -> String {
    let (y, m, d) = civil(days);
    if y < 1 {
        // ISO 8601's year 0 is 1 BC.
        return format!("{:04}-{m:02}-{d:02} BC", 1 - y);
    }
    format!("{y:04}-{m:02}-{d:02}")
}

/// `14:53:36` or `14:53:36.222000` (trailing zeros trimmed) for microseconds since midnight.
pub(crate) fn time(micros: i64) -> String {
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = format!("{h:02}:{m:02}:{s:02}");
    if frac != 0 {
        let digits = format!("{frac:06}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    out
}

/// `2026-11-26T14:53:36.222` for microseconds since 1970-01-01 (with `Z` for UTC).
pub(crate) fn timestamp(micros: i64, utc: bool) -> String {
    let days = micros.div_euclid(86_400_000_000);
    let rest = micros.rem_euclid(86_400_000_000);
    format!(
        "{}T{}{}",
        date(days),
        time(rest),
        if utc { "Z" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(20_418), "2025-11-26");
        assert_eq!(date(-719_162), "0001-01-01");
        assert_eq!(date(-719_163), "0001-12-31 BC");
        assert_eq!(date(-2_440_588), "4714-11-24 BC");
        assert_eq!(date(2_147_472_689), "5881550-07-11");
        assert_eq!(date(-2_147_472_691), "5877612-06-22 BC");
        assert_eq!(date(11_016), "2000-02-29");
        assert_eq!(time(53_616_222_000), "14:53:36.222");
        assert_eq!(
            timestamp(1_764_168_816_000_001, true),
            "2025-11-26T14:53:36.000001Z"
        );
        assert_eq!(timestamp(-1, false), "1969-12-31T23:59:59.999999");
    }

    #[test]
    fn rows_keep_their_column_order_for_tables() {
        let mut rows = Rows::new(vec!["name".into(), "id".into(), "id".into()]);
        rows.push(vec!["pen".into(), Dynamic::from(1_i64), Dynamic::UNIT]);
        rows.push(vec![
            "O'Brien".into(),
            Dynamic::from(22_i64),
            Dynamic::from(3_i64),
        ]);
        let value = rows.into_value();
        let shown = table(&value, &|v| v.to_string()).unwrap();
        assert_eq!(
            shown,
            "  name   | id | id_2\n---------+----+------\n pen     |  1 |\n O'Brien | 22 |    3\n(2 rows)"
        );
        let first = value.read_lock::<Array>().unwrap()[0].clone();
        let columns = crate::row::columns_of(&first).unwrap();
        assert_eq!(columns.to_vec(), ["name", "id", "id_2"]);
        assert!(table(&Dynamic::from_array(vec![]), &|v| v.to_string()).is_none());
    }
}
