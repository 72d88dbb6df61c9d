//! `db::batches(#{table, key, size, where, columns}, |rows| ...)`: a table walked in batches by
//! its key (keyset pagination: `where key > last order by key limit size`, never `OFFSET`,
//! so every batch costs the same at row 31 million as at row 1), each batch read and worked
//! on in a transaction of its own. After each batch commits, where it ended is saved in the
//! step's checkpoint, so a run killed at any moment (`kill -9`, a lost connection, a deploy)
//! resumes at the next batch when run again. At least once: the batch that was running when
//! the run died ran in a transaction that never committed, but what it did outside the
//! database (a command, an HTTP call) may have happened, so a batch's work must be safe to do
//! twice. Outside a step (`-e`, the console) or in a dry run, nothing is saved and nothing
//! resumes; a dry run walks the first three batches only, and says so.
//!
//! Between batches, a `throttle` closure returning true holds the walk, waiting longer each
//! time it still does; a batch that failed for a reason that passes (a deadlock, a
//! serialization failure, a lock wait that timed out) is tried again after a backoff.

use std::cell::RefCell;
use std::rc::Rc;

use rhai::{Array, Dynamic, FnPtr, Map, NativeCallContext};

use super::api::Api;
use super::ledger::{self, Ledger};
use crate::db::{Conn, Dialect, TxError};
use crate::host::def::{RhaiResult, runtime_error};
use crate::host::pace::{self, FIRST_WAIT, LONGEST_WAIT, Pace, Target};
use crate::shard::Shard;

/// Rows a batch holds unless the script says.
const DEFAULT_SIZE: rhai::INT = 1000;
/// The most rows a batch may hold: a batch is one transaction, and its rows sit in memory.
const MAX_SIZE: rhai::INT = 100_000;
/// How many times a batch is tried before its passing failure stops the run.
const TRIES: u32 = 5;

/// What `db::batches` walks.
struct Walk {
    table: String,
    key: Vec<String>,
    size: rhai::INT,
    filter: Option<String>,
    columns: String,
    throttle: Option<FnPtr>,
    /// The cursor kept in the app's database, in each batch's transaction (`ledger.rs`).
    exactly_once: bool,
    /// A size that adapts toward batches of this duration (`target_seconds`).
    target: Option<Target>,
    /// `deadline`: stop as paused at the end of the first batch past it.
    until: Option<(std::time::SystemTime, String)>,
    /// A shard's slice of the key: from `lower` (inclusive) to `upper` (exclusive).
    lower: Option<i64>,
    upper: Option<i64>,
}

impl Walk {
    fn from(options: &Map) -> RhaiResult<Walk> {
        let mut walk = Walk {
            table: String::new(),
            key: vec!["id".to_owned()],
            size: DEFAULT_SIZE,
            filter: None,
            columns: "*".to_owned(),
            throttle: None,
            exactly_once: false,
            target: None,
            until: None,
            lower: None,
            upper: None,
        };
        let mut target = None;
        for (name, value) in options {
            match name.as_str() {
                "table" => walk.table = name_of("table", value)?,
                "key" => {
                    walk.key = if value.is_array() {
                        let parts = value.clone().into_array().unwrap_or_default();
                        parts
                            .iter()
                            .map(|part| name_of("key", part))
                            .collect::<RhaiResult<_>>()?
                    } else {
                        vec![name_of("key", value)?]
                    };
                    if walk.key.is_empty() {
                        return Err(runtime_error("db::batches: `key` names no column"));
                    }
                }
                "size" => {
                    let size = value.as_int().ok().filter(|n| (1..=MAX_SIZE).contains(n));
                    walk.size = size.ok_or_else(|| {
                        runtime_error(format!(
                            "db::batches: `size` is a number of rows from 1 to {MAX_SIZE}, not {value}"
                        ))
                    })?;
                }
                "where" => walk.filter = Some(text_of("where", value)?),
                "columns" => walk.columns = text_of("columns", value)?,
                "throttle" => walk.throttle = Some(pace::throttle_of("db::batches", value)?),
                "target_seconds" => target = Some(value.clone()),
                "deadline" => walk.until = Some(pace::until_of("db::batches", value)?),
                "exactly_once" => {
                    walk.exactly_once = value.as_bool().map_err(|_| {
                        runtime_error(format!(
                            "db::batches: `exactly_once` is true or false, not {}",
                            crate::kind::of(value)
                        ))
                    })?;
                }
                other => {
                    return Err(runtime_error(format!(
                        "db::batches: unknown option `{other}` (the options are table, key, size, where, columns, throttle, target_seconds, deadline and exactly_once)"
                    )));
                }
            }
        }
        if walk.table.is_empty() {
            return Err(runtime_error(
                "db::batches: name the table to walk: #{table: \"users\"}",
            ));
        }
        if let Some(value) = target {
            let size = u64::try_from(walk.size).unwrap_or(1);
            let most = u64::try_from(MAX_SIZE).unwrap_or(u64::MAX);
            walk.target = Some(Target::of("db::batches", &value, size, most)?);
        }
        Ok(walk)
    }

    /// The query for the batch of `size` rows after `cursor` (the first batch: no cursor).
    /// std/db numbers parameters `$1, $2, ...` on every database.
    fn sql(&self, after: bool, size: rhai::INT) -> String {
        let key = self.key.join(", ");
        let mut conditions = Vec::new();
        if after {
            let params: Vec<String> = (1..=self.key.len()).map(|n| format!("${n}")).collect();
            conditions.push(if self.key.len() == 1 {
                format!("{key} > $1")
            } else {
                format!("({key}) > ({})", params.join(", "))
            });
        }
        if let Some(lower) = self.lower {
            conditions.push(format!("{key} >= {lower}"));
        }
        if let Some(upper) = self.upper {
            conditions.push(format!("{key} < {upper}"));
        }
        if let Some(filter) = &self.filter {
            conditions.push(format!("({filter})"));
        }
        let mut sql = format!("select {} from {}", self.columns, self.table);
        if !conditions.is_empty() {
            sql.push_str(&format!(" where {}", conditions.join(" and ")));
        }
        sql.push_str(&format!(" order by {key} limit {size}"));
        sql
    }

    /// The key of the last row of a batch, to start the next one after.
    fn cursor_of(&self, rows: &Array) -> RhaiResult<Array> {
        let last = rows.last().and_then(crate::row::as_map);
        let Some(last) = last else {
            return Ok(Array::new());
        };
        self.key
            .iter()
            .map(|column| {
                let bare = column.rsplit('.').next().unwrap_or(column);
                last.get(bare).cloned().ok_or_else(|| {
                    runtime_error(format!(
                        "db::batches: the rows have no column `{bare}`, the key: select it (`columns`)"
                    ))
                })
            })
            .collect()
    }
}

/// A table, column or key name: letters, digits, `_` and `.` (`public.users`), nothing a
/// script could slip SQL into by mistake.
fn name_of(option: &str, value: &Dynamic) -> RhaiResult<String> {
    let text = text_of(option, value)?;
    let plain = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        && !text.starts_with(|c: char| c.is_ascii_digit() || c == '.');
    if plain {
        Ok(text)
    } else {
        Err(runtime_error(format!(
            "db::batches: `{option}` is a plain name (letters, digits, _ and .), not {text:?}"
        )))
    }
}

fn text_of(option: &str, value: &Dynamic) -> RhaiResult<String> {
    value
        .clone()
        .into_string()
        .ok()
        .filter(|text| !text.trim().is_empty())
        .ok_or_else(|| {
            runtime_error(format!(
                "db::batches: `{option}` is a string, not {}",
                crate::kind::of(value)
            ))
        })
}

/// One `db::batches` call: what it walks, and what it walks it with.
struct Walker<'a> {
    api: &'a Api,
    ctx: &'a NativeCallContext<'a>,
    conn: &'a Rc<Conn>,
    walk: Walk,
    /// `db::batches TABLE`: how its lines start.
    name: String,
    /// Its cursor's name in the checkpoint (`Steps::walk`).
    key: String,
    pace: RefCell<Pace<'a>>,
    f: &'a FnPtr,
    /// Where the cursor is kept when it commits with each batch.
    ledger: Option<Ledger>,
}

/// Walks the batches; the number of rows the callback was given.
pub(super) fn batches(
    api: &Api,
    ctx: &NativeCallContext,
    conn: &Rc<Conn>,
    options: &Map,
    f: &FnPtr,
) -> RhaiResult<rhai::INT> {
    let mut walk = Walk::from(options)?;
    let name = format!("db::batches {}", walk.table);
    let key = api.session.steps.borrow_mut().walk(&name);
    if let Some(shard) = &api.session.options().shard {
        slice(api, conn, &mut walk, shard, &key)?;
        let (lower, upper) = (walk.lower, walk.upper);
        let bound = |b: Option<i64>, end: &str| b.map_or(end.to_owned(), |b| b.to_string());
        let said = match (lower, upper) {
            (None, None) => format!("every {}", walk.key[0]),
            _ => format!(
                "{} from {} to below {}",
                walk.key[0],
                bound(lower, "the start"),
                bound(upper, "the end")
            ),
        };
        api.session
            .say(&format!("{name}: {}: {said}", shard.shown()));
    }
    let ledger = if walk.exactly_once {
        Ledger::open(api, conn, &key)?
    } else {
        None
    };
    let mut pace = Pace::new(&api.session, name.clone(), "rows");
    pace.until(walk.until.clone());
    let pace = RefCell::new(pace);
    let walker = Walker {
        api,
        ctx,
        conn,
        walk,
        name,
        key,
        pace,
        f,
        ledger,
    };
    walker.run()
}

/// Narrows `walk` to `shard`'s slice of its key's range, split as every shard splits it
/// (`ledger::split`). The key must be one integer column.
fn slice(api: &Api, conn: &Conn, walk: &mut Walk, shard: &Shard, key: &str) -> RhaiResult<()> {
    let [column] = walk.key.as_slice() else {
        return Err(runtime_error(
            "db::batches: a sharded walk splits its key's range, so its key is one integer column, not several",
        ));
    };
    let read = || -> RhaiResult<String> {
        let filter = walk
            .filter
            .as_ref()
            .map_or(String::new(), |f| format!(" where ({f})"));
        let sql = format!(
            "select min({column}) as low, max({column}) as high from {}{filter}",
            walk.table
        );
        let rows = api
            .query(conn, &sql, Array::new())?
            .into_array()
            .unwrap_or_default();
        let row = rows
            .first()
            .and_then(crate::row::as_map)
            .unwrap_or_default();
        let end = |name: &str| row.get(name).cloned().unwrap_or(Dynamic::UNIT);
        let (low, high) = (end("low"), end("high"));
        if low.is_unit() && high.is_unit() {
            return Ok("null".to_owned());
        }
        match (low.as_int(), high.as_int()) {
            (Ok(low), Ok(high)) => Ok(format!("[{low},{high}]")),
            _ => Err(runtime_error(format!(
                "db::batches: a sharded walk splits its key's range, so its key is one integer column; `{column}` holds {}",
                crate::kind::of(&low)
            ))),
        }
    };
    let split = ledger::split(api, conn, shard, key, &read)?;
    let ends: Option<(i64, i64)> = serde_json::from_str(&split).map_err(|_| {
        runtime_error(format!(
            "db::batches: the shards' split {split:?} cannot be read"
        ))
    })?;
    (walk.lower, walk.upper) = match ends {
        Some((low, high)) => shard.bounds(low, high),
        // No rows when the split was made: rows added since go to the first shard.
        None if shard.index == 0 => (None, None),
        None => (Some(0), Some(0)),
    };
    Ok(())
}

impl Walker<'_> {
    fn say(&self, text: &str) {
        self.pace.borrow().say(text);
    }

    fn run(&self) -> RhaiResult<rhai::INT> {
        let mut cursor = self.resumed()?;
        if cursor.is_none()
            && self.walk.filter.is_none()
            && let Some(total) = self.estimate()
        {
            let shards = self
                .api
                .session
                .options()
                .shard
                .as_ref()
                .map_or(1, |s| s.count);
            self.pace.borrow_mut().expect(total / u64::from(shards));
        }
        let mut size = self.walk.size;
        let mut more_left = false;
        loop {
            pace::throttled(&self.pace.borrow(), self.ctx, self.walk.throttle.as_ref())?;
            let started = std::time::Instant::now();
            let (got, last) = self.batch(cursor.as_ref(), size)?;
            if got == 0 {
                break;
            }
            let kept = self.save(&last)?;
            cursor = Some(last);
            let go_on = self.pace.borrow_mut().batch_done(got as u64, kept)?;
            let full = rhai::INT::try_from(got).unwrap_or(0) >= size;
            if !go_on || !full {
                more_left = full;
                break;
            }
            if let Some(target) = self.walk.target {
                let next = target.next(got as u64, started.elapsed());
                size = rhai::INT::try_from(next).unwrap_or(size);
                self.pace.borrow_mut().sized(next);
            }
        }
        let done = self.pace.borrow_mut().finish(more_left);
        Ok(rhai::INT::try_from(done).unwrap_or(rhai::INT::MAX))
    }

    /// The table's rows as the database estimates them without reading it (`PostgreSQL`'s and
    /// `MySQL`'s statistics), for progress lines; counted where there are none (`SQLite`, and a
    /// `PostgreSQL` table never analysed, when it is small enough to count quickly); `None`
    /// otherwise.
    fn estimate(&self) -> Option<u64> {
        let table = vec![Dynamic::from(self.walk.table.clone())];
        let number = |sql: &str, params: Vec<Dynamic>| -> Option<i64> {
            self.api.scalar(self.conn, sql, params).ok()?.as_int().ok()
        };
        let n = match self.conn.dialect() {
            Dialect::Postgres => {
                let estimated = number(
                    "select reltuples::bigint from pg_class where oid = to_regclass($1)",
                    table.clone(),
                )?;
                if estimated >= 0 {
                    estimated
                } else {
                    // Never analysed: -1. A table of at most 80 MB is counted.
                    let pages = number(
                        "select relpages::bigint from pg_class where oid = to_regclass($1)",
                        table,
                    )?;
                    if pages > 10_000 {
                        return None;
                    }
                    return self.count();
                }
            }
            Dialect::Mysql => number(
                "select table_rows from information_schema.tables where table_schema = database() and table_name = $1",
                table,
            )?,
            Dialect::Sqlite => return self.count(),
        };
        u64::try_from(n).ok().filter(|n| *n > 0)
    }

    fn count(&self) -> Option<u64> {
        let sql = format!("select count(*) from {}", self.walk.table);
        let n = self
            .api
            .scalar(self.conn, &sql, Array::new())
            .ok()?
            .as_int()
            .ok()?;
        u64::try_from(n).ok()
    }

    /// Where an earlier run of this step stopped, said; `None` to start at the beginning.
    fn resumed(&self) -> RhaiResult<Option<Array>> {
        let kept = match &self.ledger {
            Some(ledger) => ledger
                .resumed(self.api, self.conn)?
                .and_then(|text| serde_json::from_str(&text).ok()),
            None => self.api.session.steps.borrow().cursor(&self.key),
        };
        let Some(json) = kept else {
            return Ok(None);
        };
        let keys: Array = rhai::serde::to_dynamic(&json)
            .ok()
            .and_then(|d| d.into_array().ok())
            .filter(|keys| keys.len() == self.walk.key.len())
            .ok_or_else(|| {
                runtime_error(format!(
                    "{}: the checkpoint's cursor {json} does not fit the key",
                    self.name
                ))
            })?;
        let values: Vec<String> = keys.iter().map(ToString::to_string).collect();
        let (names, values) = match values.as_slice() {
            [one] => (self.walk.key.join(", "), one.clone()),
            _ => (
                format!("({})", self.walk.key.join(", ")),
                format!("({})", values.join(", ")),
            ),
        };
        self.say(&format!(
            "resuming after {names} = {} (where an earlier run stopped)",
            self.api.session.redact(&values)
        ));
        Ok(Some(keys))
    }

    /// `last` as the JSON a cursor is kept as.
    fn json(&self, last: &Array) -> RhaiResult<serde_json::Value> {
        rhai::serde::from_dynamic::<serde_json::Value>(&Dynamic::from_array(last.clone()))
            .map_err(|e| runtime_error(format!("{}: a key that cannot be saved: {e}", self.name)))
    }

    /// Saves where the walk is, in the step's checkpoint (nothing outside a step; nothing
    /// with a ledger, which saved it with the batch). Whether a later run can resume from it.
    fn save(&self, last: &Array) -> RhaiResult<bool> {
        if self.ledger.is_some() {
            return Ok(true);
        }
        let json = self.json(last)?;
        self.api
            .session
            .steps
            .borrow_mut()
            .save_cursor(&self.key, json)
            .map_err(|e| runtime_error(format!("{}: {e:#}", self.name)))
    }

    /// The batch after `cursor` in a transaction of its own: its rows read and given to `f`.
    /// A failure that passes (see `DbError::passes`) rolls it back and tries it again after a
    /// backoff, up to [`TRIES`] times. The number of rows, and the key of the last.
    fn batch(&self, cursor: Option<&Array>, size: rhai::INT) -> RhaiResult<(usize, Array)> {
        let sql = self.walk.sql(cursor.is_some(), size);
        let params = cursor.cloned().unwrap_or_default();
        let mut wait = FIRST_WAIT;
        let mut attempt = 1;
        loop {
            self.conn.forget_failure();
            let mut got = 0;
            let mut last = Array::new();
            let outcome = self.conn.transaction(|| {
                let rows = self.api.query(self.conn, &sql, params.clone())?;
                let rows = rows.into_array().unwrap_or_default();
                got = rows.len();
                if rows.is_empty() {
                    return Ok(Dynamic::UNIT);
                }
                last = self.walk.cursor_of(&rows)?;
                let done = self
                    .f
                    .call_within_context::<Dynamic>(self.ctx, (Dynamic::from_array(rows),))?;
                if let Some(ledger) = &self.ledger {
                    let after = self.json(&last)?.to_string();
                    ledger.save(self.api, self.conn, &self.name, &after)?;
                }
                Ok(done)
            });
            let error = match outcome {
                Ok(_) => return Ok((got, last)),
                Err(TxError::Body(e)) => e,
                Err(TxError::Db(e)) => self.api.error("db::batches", &sql, &e),
            };
            match self.conn.failure_passes() {
                Some(why) if attempt < TRIES => {
                    self.say(&format!(
                        "the batch failed ({why}); trying it again in {:.2}s ({attempt} of {TRIES})",
                        wait.as_secs_f64()
                    ));
                    crate::host::waiting::pause(wait)?;
                    wait = (wait * 2).min(LONGEST_WAIT);
                    attempt += 1;
                }
                _ => return Err(error),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(options: &str) -> RhaiResult<Walk> {
        let map: Map = rhai::Engine::new().eval(options).unwrap();
        Walk::from(&map)
    }

    #[test]
    fn the_batch_query_goes_by_the_key_never_by_offset() {
        let one = walk(r#"#{table: "users", size: 500, where: "email is null"}"#).unwrap();
        assert_eq!(
            one.sql(false, 500),
            "select * from users where (email is null) order by id limit 500"
        );
        assert_eq!(
            one.sql(true, 500),
            "select * from users where id > $1 and (email is null) order by id limit 500"
        );
        let two = walk(r#"#{table: "public.events", key: ["tenant_id", "id"], columns: "tenant_id, id, kind"}"#).unwrap();
        assert_eq!(
            two.sql(true, 1000),
            "select tenant_id, id, kind from public.events where (tenant_id, id) > ($1, $2) order by tenant_id, id limit 1000"
        );
    }

    #[test]
    fn options_are_checked_naming_the_option() {
        for (options, says) in [
            ("#{}", "name the table"),
            (
                r#"#{table: "users; drop table x"}"#,
                "`table` is a plain name",
            ),
            (r#"#{table: "t", key: "1id"}"#, "`key` is a plain name"),
            (r#"#{table: "t", key: []}"#, "`key` names no column"),
            (
                r#"#{table: "t", size: 0}"#,
                "`size` is a number of rows from 1 to 100000",
            ),
            (r#"#{table: "t", size: "10"}"#, "`size` is a number of rows"),
            (
                r#"#{table: "t", where: 1}"#,
                "`where` is a string, not an int",
            ),
            (
                r#"#{table: "t", exactly_once: "yes"}"#,
                "`exactly_once` is true or false, not a string",
            ),
            (
                r#"#{table: "t", target_seconds: 0}"#,
                "`target_seconds` is a number of seconds, more than 0",
            ),
            (r#"#{table: "t", limit: 1}"#, "unknown option `limit`"),
        ] {
            let error = walk(options).err().unwrap().to_string();
            assert!(error.contains(says), "{options}: {error}");
        }
    }
}
