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
            let token = uuid::Uuid::new_v4().simple().to_string();
            let saved = steps
                .borrow_mut()
                .save_cursor(name, serde_json::json!({ "token": token }))
                .map_err(|e| runtime_error(format!("{name}: {e:#}")))?;
            if !saved {
                return Ok(None);
            }
            token
        };
        api.exec(conn, &create_table(conn.dialect()), Array::new())?;
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
            assert!(create_table(dialect).contains(&format!(" {TABLE} (")));
        }
    }
}
