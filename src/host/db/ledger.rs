//! `db::batches(#{..., exactly_once: true})`: the walk's cursor kept in the app's own database,
//! in a table `adminsh_batches`, written in the same transaction as each batch's work. A batch
//! then commits with its cursor or not at all, so a run killed at any moment, run again,
//! neither does a committed batch twice nor skips one: exactly once for what the batch does in
//! the database. (What it does outside, a command or an HTTP call, is still at least once.)
//!
//! A walk is known by a token, made when the walk first starts and kept in the step's
//! checkpoint: a re-run of the same run finds its row by it; a new run (the checkpoint cleared
//! when the script finished) makes a new token and starts from the beginning. The row stays
//! after the walk finishes, so a step that fails after its walk, run again, finds the walk
//! done; rows older than [`KEPT_FOR_SECONDS`] go when the next walk starts.

use rhai::{Array, Dynamic};

use super::api::Api;
use crate::db::{Conn, Dialect};
use crate::host::def::{RhaiResult, runtime_error};
use crate::shard::Shard;

/// The table, in the database the walk reads.
pub(super) const TABLE: &str = "adminsh_batches";
/// How long a finished or abandoned walk's row is kept: long enough for any re-run.
const KEPT_FOR_SECONDS: i64 = 90 * 24 * 3600;

pub(super) struct Ledger {
    token: String,
}

impl Ledger {
    /// The ledger of the walk `name` of the step running now, its table made if missing; `None`
    /// where nothing can resume (no step, `-e`, the console, a dry run).
    pub(super) fn open(api: &Api, conn: &Conn, name: &str) -> RhaiResult<Option<Ledger>> {
        let steps = &api.session.steps;
        let kept = steps.borrow().cursor(name);
        let found = kept
            .as_ref()
            .and_then(|c| c.get("token"))
            .and_then(|t| t.as_str());
        let token = if let Some(token) = found {
            token.to_owned()
        } else {
            // A shard's token is its run's and its index's: a pod of an Indexed Job, restarted
            // without the checkpoint it kept, finds its walk's row all the same.
            let token = match &api.session.options().shard {
                Some(shard) => token_of(&[&shard.run, name, &shard.index.to_string(), "walk"]),
                None => uuid::Uuid::new_v4().simple().to_string(),
            };
            let saved = steps
                .borrow_mut()
                .save_cursor(name, serde_json::json!({ "token": token }))
                .map_err(|e| runtime_error(format!("{name}: {e:#}")))?;
            if !saved {
                return Ok(None);
            }
            token
        };
        ensure_table(api, conn)?;
        api.exec(
            conn,
            &format!("delete from {TABLE} where updated < $1"),
            vec![Dynamic::from_int(now() - KEPT_FOR_SECONDS)],
        )?;
        Ok(Some(Ledger { token }))
    }

    /// Where an earlier run of this walk committed its last batch.
    pub(super) fn resumed(&self, api: &Api, conn: &Conn) -> RhaiResult<Option<String>> {
        let found = api.scalar(
            conn,
            &format!("select after_key from {TABLE} where token = $1"),
            vec![self.token.clone().into()],
        )?;
        Ok(found.into_string().ok())
    }

    /// Records `after` (the key's values as JSON) as where the walk is, in the transaction of
    /// the batch that got there.
    pub(super) fn save(&self, api: &Api, conn: &Conn, walk: &str, after: &str) -> RhaiResult<()> {
        let params = vec![
            self.token.clone().into(),
            walk.into(),
            after.into(),
            Dynamic::from_int(now()),
        ];
        api.exec(conn, upsert(conn.dialect()), params).map(drop)
    }
}

/// The first and last key of the table `walk` reads (`[low, high]` as JSON, `null` when it
/// has no rows), as every shard of the sharded run splits it: the first shard to start reads
/// them and keeps them in the table, and the others, on any machine, read what it kept, so
/// the shards' slices meet however the table grows in between. Where nothing may be written
/// (a dry run, `--read-only`), `read` is used as it is.
pub(super) fn split(
    api: &Api,
    conn: &Conn,
    shard: &Shard,
    walk: &str,
    read: &dyn Fn() -> RhaiResult<String>,
) -> RhaiResult<String> {
    let options = api.session.options();
    if options.dry_run || options.read_only {
        return read();
    }
    let token = token_of(&[&shard.run, walk, "split"]);
    ensure_table(api, conn)?;
    let kept = |api: &Api| -> RhaiResult<Option<String>> {
        let found = api.scalar(
            conn,
            &format!("select after_key from {TABLE} where token = $1"),
            vec![token.clone().into()],
        )?;
        Ok(found.into_string().ok())
    };
    if let Some(split) = kept(api)? {
        return Ok(split);
    }
    let params = vec![
        token.clone().into(),
        walk.into(),
        read()?.into(),
        Dynamic::from_int(now()),
    ];
    api.exec(conn, insert_if_absent(conn.dialect()), params)?;
    kept(api)?.ok_or_else(|| runtime_error(format!("{walk}: the shards' split was not kept")))
}

/// Makes the table if missing. Shards starting together may race to make it: `PostgreSQL`
/// then fails all but one (a duplicate type), and the table is there when it is looked again.
fn ensure_table(api: &Api, conn: &Conn) -> RhaiResult<()> {
    let sql = create_table(conn.dialect());
    let mut tries = 0;
    loop {
        match api.exec(conn, &sql, Array::new()) {
            Ok(_) => return Ok(()),
            Err(_) if tries < 5 => {
                tries += 1;
                conn.forget_failure();
                std::thread::sleep(std::time::Duration::from_millis(20 * tries));
            }
            Err(e) => return Err(e),
        }
    }
}

/// A token of at most 64 characters from the parts that make a walk unique.
fn token_of(parts: &[&str]) -> String {
    let text = parts.join("\0");
    let reversed: String = text.chars().rev().collect();
    format!(
        "{:016x}{:016x}",
        crate::hash::fnv(text.as_bytes()),
        crate::hash::fnv(reversed.as_bytes())
    )
}

fn insert_if_absent(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Mysql => {
            "insert ignore into adminsh_batches (token, walk, after_key, updated) values ($1, $2, $3, $4)"
        }
        Dialect::Postgres | Dialect::Sqlite => {
            "insert into adminsh_batches (token, walk, after_key, updated) values ($1, $2, $3, $4) \
             on conflict (token) do nothing"
        }
    }
}

fn create_table(dialect: Dialect) -> String {
    // varchar, not text: MySQL's primary key must have a length.
    let walk = match dialect {
        Dialect::Mysql => "varchar(255)",
        _ => "text",
    };
    format!(
        "create table if not exists {TABLE} (token varchar(64) primary key, walk {walk} not null, \
         after_key text not null, updated bigint not null)"
    )
}

fn upsert(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Mysql => {
            "insert into adminsh_batches (token, walk, after_key, updated) values ($1, $2, $3, $4) \
             on duplicate key update after_key = values(after_key), updated = values(updated)"
        }
        Dialect::Postgres | Dialect::Sqlite => {
            "insert into adminsh_batches (token, walk, after_key, updated) values ($1, $2, $3, $4) \
             on conflict (token) do update set after_key = excluded.after_key, updated = excluded.updated"
        }
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_upsert_names_the_table_for_every_database() {
        for dialect in [Dialect::Postgres, Dialect::Sqlite, Dialect::Mysql] {
            assert!(upsert(dialect).starts_with(&format!("insert into {TABLE} ")));
            assert!(insert_if_absent(dialect).contains(&format!(" {TABLE} (token,")));
            assert!(create_table(dialect).contains(&format!(" {TABLE} (")));
        }
    }

    #[test]
    fn tokens_differ_by_every_part_and_fit_the_column() {
        let tokens = [
            token_of(&["run", "walk", "0", "walk"]),
            token_of(&["run", "walk", "1", "walk"]),
            token_of(&["run2", "walk", "0", "walk"]),
            token_of(&["run", "walk", "split"]),
            token_of(&["ru", "nwalk", "split"]),
        ];
        for (i, a) in tokens.iter().enumerate() {
            assert_eq!(a.len(), 32);
            for b in &tokens[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
