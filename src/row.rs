//! A row of a query's result as scripts hold it, and the column lists rows and results carry.
//!
//! A Rhai map is a `BTreeMap` whose every node has room for eleven entries: a two-column row
//! took ~590 bytes, 2.3 times what psycopg keeps for the same row. A `Row` keeps the query's
//! column names once, shared by every row of the result, and its values side by side: ~180
//! bytes for the same row. It reads as a map does (`row.email`, `row["email"]`, `keys()`,
//! `"email" in row`), keeps the query's column order, and becomes a map wherever it leaves the
//! script (printed, masked, written as JSON or CSV) or when the script asks (`to_map()`).
//!
//! Rhai maps sort their keys, so an array of rows (and a map made of a row) carries a tag naming
//! its column list, which the console's tables and `--json` read to keep the query's order.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use indexmap::IndexMap;
use rhai::{Dynamic, Map};

/// One row. Straight from a query, its values beside the result's column list (kept once, in
/// `COLUMNS`, and shared by every row of the result): 24 bytes beside its values. Given a column
/// its result lacks, or with one taken away, it keeps its own columns in order, as a map keeps
/// its keys: a row a script builds up key by key costs what a map does, and no column list is
/// kept for each shape it passes through.
#[derive(Clone, Debug)]
pub(crate) enum Row {
    Result { list: List, values: Box<[Dynamic]> },
    Own(Box<IndexMap<String, Dynamic>>),
}

/// A column list, by its place among those seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct List(usize);

impl List {
    /// This column list's place, kept the first time it is seen.
    pub(crate) fn of(columns: &Rc<[String]>) -> List {
        COLUMNS.with_borrow_mut(|(lists, index)| {
            if let Some(&at) = index.get(columns) {
                return List(at);
            }
            lists.push(columns.clone());
            index.insert(columns.clone(), lists.len() - 1);
            List(lists.len() - 1)
        })
    }

    pub(crate) fn columns(self) -> Rc<[String]> {
        COLUMNS.with_borrow(|(lists, _)| lists[self.0].clone())
    }

    /// The tag naming it on an array or a map; 0 (none) past what a tag can number.
    pub(crate) fn tag(self) -> i32 {
        i32::try_from(self.0)
            .ok()
            .and_then(|i| TAG_BASE.checked_add(i))
            .unwrap_or(0)
    }

    /// Where `column` is in the list.
    fn position(self, column: &str) -> Option<usize> {
        COLUMNS.with_borrow(|(lists, _)| lists[self.0].iter().position(|c| c == column))
    }
}

impl Row {
    /// A row of the columns `list`; `values` has one value per column.
    pub(crate) fn new(list: List, values: Vec<Dynamic>) -> Self {
        debug_assert_eq!(list.columns().len(), values.len());
        Row::Result {
            list,
            values: values.into_boxed_slice(),
        }
    }

    /// The row's column names, in order.
    pub(crate) fn columns(&self) -> Rc<[String]> {
        match self {
            Row::Result { list, .. } => list.columns(),
            Row::Own(map) => map.keys().cloned().collect(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Row::Result { values, .. } => values.len(),
            Row::Own(map) => map.len(),
        }
    }

    pub(crate) fn get(&self, column: &str) -> Option<&Dynamic> {
        match self {
            Row::Result { list, values } => list.position(column).map(|i| &values[i]),
            Row::Own(map) => map.get(column),
        }
    }

    /// Sets a column's value; a name the row lacks is added after its columns.
    pub(crate) fn set(&mut self, column: &str, value: Dynamic) {
        if let Row::Result { list, values } = self
            && let Some(i) = list.position(column)
        {
            values[i] = value;
            return;
        }
        self.own().insert(column.to_owned(), value);
    }

    /// Takes a column out of the row, returning its value.
    pub(crate) fn remove(&mut self, column: &str) -> Option<Dynamic> {
        self.get(column)?;
        self.own().shift_remove(column)
    }

    /// The row's own columns, made from its result's the first time it needs them.
    fn own(&mut self) -> &mut IndexMap<String, Dynamic> {
        if let Row::Result { list, values } = self {
            let columns = list.columns();
            let values = std::mem::take(values).into_vec();
            *self = Row::Own(Box::new(columns.iter().cloned().zip(values).collect()));
        }
        match self {
            Row::Own(map) => map,
            Row::Result { .. } => unreachable!("made its own just above"),
        }
    }

    /// The values, in the order of `columns()`.
    pub(crate) fn values(&self) -> Box<dyn Iterator<Item = &Dynamic> + '_> {
        match self {
            Row::Result { values, .. } => Box::new(values.iter()),
            Row::Own(map) => Box::new(map.values()),
        }
    }

    /// The row as a map (its keys sorted, as every map's are), each value through `value`.
    pub(crate) fn map_with(&self, value: impl Fn(&Dynamic) -> Dynamic) -> Map {
        let columns = self.columns();
        columns
            .iter()
            .zip(self.values())
            .map(|(k, v)| (k.as_str().into(), value(v)))
            .collect()
    }

    /// The row as a map (its keys sorted, as every map's are).
    pub(crate) fn to_map(&self) -> Map {
        self.map_with(Dynamic::clone)
    }

    /// The row as a map tagged with its column order: what printing, masking and `--json` get.
    pub(crate) fn to_tagged_map(&self) -> Dynamic {
        let tag = match self {
            Row::Result { list, .. } => list.tag(),
            Row::Own(_) => List::of(&self.columns()).tag(),
        };
        let mut value = Dynamic::from_map(self.to_map());
        value.set_tag(tag);
        value
    }
}

/// A row or a map as a map; `None` for anything else.
pub(crate) fn as_map(value: &Dynamic) -> Option<Map> {
    match value.read_lock::<Row>() {
        Some(row) => Some(row.to_map()),
        None => value.read_lock::<Map>().map(|m| m.clone()),
    }
}

/// `value` with every row in it (in arrays and maps too) made a map; the value itself when it
/// holds none. What serialising (JSON, a database's JSON parameter) reads.
pub(crate) fn to_maps(value: &Dynamic) -> Dynamic {
    if let Some(row) = value.read_lock::<Row>() {
        return Dynamic::from_map(row.map_with(to_maps));
    }
    if let Some(array) = value.read_lock::<rhai::Array>() {
        let mut out = Dynamic::from_array(array.iter().map(to_maps).collect());
        out.set_tag(value.tag());
        return out;
    }
    if let Some(map) = value.read_lock::<Map>() {
        let mut out = Dynamic::from_map(map.iter().map(|(k, v)| (k.clone(), to_maps(v))).collect());
        out.set_tag(value.tag());
        return out;
    }
    value.clone()
}

/// Tags at and above this name a column list; below, a tag is the script's own.
const TAG_BASE: i32 = 0x0AD0_0000;

/// Each distinct column list seen, and the place of each.
type Lists = (Vec<Rc<[String]>>, HashMap<Rc<[String]>, usize>);

thread_local! {
    /// Each distinct column list seen, once: a `List` is its index, a tag `TAG_BASE` + it.
    static COLUMNS: RefCell<Lists> = RefCell::default();
}

/// The column order of a row, of a map made of one, or of rows (an array) straight from a
/// query; `None` for anything else, or a map whose keys the script changed since.
pub(crate) fn columns_of(value: &Dynamic) -> Option<Rc<[String]>> {
    if let Some(row) = value.read_lock::<Row>() {
        return Some(row.columns());
    }
    let tag = value.tag();
    if tag < TAG_BASE {
        return None;
    }
    let columns = COLUMNS.with_borrow(|(lists, _)| {
        usize::try_from(tag - TAG_BASE)
            .ok()
            .and_then(|i| lists.get(i).cloned())
    })?;
    if let Some(map) = value.read_lock::<Map>() {
        let same =
            map.len() == columns.len() && columns.iter().all(|c| map.contains_key(c.as_str()));
        return same.then_some(columns);
    }
    value.is_array().then_some(columns)
}

/// The keys of a map in the order to show them: its query's, or sorted.
pub(crate) fn keys_in_order(value: &Dynamic, map: &Map) -> Vec<String> {
    match columns_of(value) {
        Some(columns) => columns.to_vec(),
        None => map.keys().map(ToString::to_string).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> Row {
        let columns: Rc<[String]> = vec!["name".to_owned(), "id".to_owned()].into();
        Row::new(List::of(&columns), vec!["pen".into(), Dynamic::from(7_i64)])
    }

    #[test]
    fn a_row_reads_sets_adds_and_removes_columns_in_order() {
        let mut row = row();
        assert_eq!(row.get("id").and_then(|v| v.as_int().ok()), Some(7));
        assert!(row.get("ID").is_none());
        row.set("id", Dynamic::from(8_i64));
        row.set("extra", Dynamic::TRUE);
        assert_eq!(row.columns().to_vec(), ["name", "id", "extra"]);
        assert_eq!(row.values().count(), 3);
        assert_eq!(row.get("id").and_then(|v| v.as_int().ok()), Some(8));
        assert_eq!(
            row.remove("name").map(|v| v.to_string()),
            Some("pen".into())
        );
        assert!(row.remove("name").is_none());
        assert_eq!(row.columns().to_vec(), ["id", "extra"]);
        assert_eq!(row.len(), 2);
        // Another row of the same result keeps the result's columns.
        assert_eq!(self::row().columns().to_vec(), ["name", "id"]);
        // Setting a column the result has keeps the row its result's; adding one gives the
        // row columns of its own, in order.
        let mut other = self::row();
        other.set("id", Dynamic::from(9_i64));
        assert!(matches!(other, Row::Result { .. }));
        assert!(other.remove("nope").is_none());
        assert!(matches!(other, Row::Result { .. }));
        for i in 0..1000 {
            other.set(&format!("k{i}"), Dynamic::from(i64::from(i)));
        }
        assert_eq!(other.len(), 1002);
        assert_eq!(other.columns()[..3].to_vec(), ["name", "id", "k0"]);
        assert_eq!(other.get("k999").and_then(|v| v.as_int().ok()), Some(999));
    }

    #[test]
    fn rows_become_maps_that_keep_their_order() {
        let row = row();
        let tagged = row.to_tagged_map();
        assert_eq!(columns_of(&tagged).unwrap().to_vec(), ["name", "id"]);
        assert_eq!(
            columns_of(&Dynamic::from(row.clone())).unwrap().to_vec(),
            ["name", "id"]
        );
        let nested = Dynamic::from_array(vec![Dynamic::from(row)]);
        let plain = to_maps(&nested);
        let first = plain.into_array().unwrap().remove(0);
        assert_eq!(first.to_string(), r#"#{"id": 7, "name": "pen"}"#);
        // A map the script changed is shown as any map.
        let mut changed = tagged.clone_cast::<Map>();
        changed.insert("more".into(), Dynamic::UNIT);
        let mut changed = Dynamic::from_map(changed);
        changed.set_tag(tagged.tag());
        assert!(columns_of(&changed).is_none());
    }
}
