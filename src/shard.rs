//! Which slice of the work this process does when a script runs as shards (`--shards N`, or a
//! Kubernetes Indexed Job): the shard's number, how many there are, and the id of the sharded
//! run they belong to, read from the environment the workers are started with. The arithmetic
//! that splits a walk between shards lives here too, so that every shard, on any machine,
//! splits the same walk the same way: together the slices hold every item once.

use std::ops::Range;

use crate::error::EXIT_PAUSED;

/// How many shards a run may have: each is a process with a database connection.
pub(crate) const MOST: u32 = 1024;

/// The variables a worker reads: the count, its index (from 0), the run they belong to.
pub(crate) const COUNT_VAR: &str = "ADMINSH_SHARDS";
pub(crate) const INDEX_VAR: &str = "ADMINSH_SHARD_INDEX";
pub(crate) const RUN_VAR: &str = "ADMINSH_SHARD_RUN";
/// The detached run (`--detach --shards N`) the shards belong to: its pause request holds them.
pub(crate) const OF_RUN_VAR: &str = "ADMINSH_SHARD_OF_RUN";
/// The index Kubernetes gives each pod of an Indexed Job.
pub(crate) const JOB_INDEX_VAR: &str = "JOB_COMPLETION_INDEX";

/// One shard of a sharded run: this process walks slice `index` of `count`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shard {
    pub index: u32,
    pub count: u32,
    /// The sharded run's id, the same in every shard and every re-run of an unfinished one:
    /// what a walk's split and an exactly-once cursor are kept under.
    pub run: String,
    /// The id of the detached run the shards are workers of, if they are.
    pub of_run: Option<String>,
}

impl Shard {
    /// The shard this process is, from `ADMINSH_SHARDS`, `ADMINSH_SHARD_INDEX` (else
    /// `JOB_COMPLETION_INDEX`) and `ADMINSH_SHARD_RUN`; `None` when `ADMINSH_SHARDS` is unset.
    /// A value that does not fit is an error naming the variable.
    pub(crate) fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Option<Shard>, String> {
        let Some(count) = var(COUNT_VAR) else {
            return Ok(None);
        };
        let count = count
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MOST).contains(n))
            .ok_or_else(|| format!("{COUNT_VAR}={count:?}: a number of shards from 1 to {MOST}"))?;
        let (name, index) = match var(INDEX_VAR) {
            Some(index) => (INDEX_VAR, index),
            None => (
                JOB_INDEX_VAR,
                var(JOB_INDEX_VAR).ok_or_else(|| {
                    format!("{INDEX_VAR}: unset, and so is {JOB_INDEX_VAR}, but {COUNT_VAR} is: say which shard this is")
                })?,
            ),
        };
        let index = index
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|i| *i < count)
            .ok_or_else(|| format!("{name}={index:?}: a shard's index from 0 to {}", count - 1))?;
        let run = var(RUN_VAR).filter(|run| is_id(run)).ok_or_else(|| {
            format!("{RUN_VAR}: the sharded run's id (letters, digits, - and _), which every shard shares")
        })?;
        let of_run = match var(OF_RUN_VAR) {
            Some(id) if is_id(&id) => Some(id),
            Some(id) => return Err(format!("{OF_RUN_VAR}={id:?}: a detached run's id")),
            None => None,
        };
        Ok(Some(Shard {
            index,
            count,
            run,
            of_run,
        }))
    }

    /// `shard 2 of 4`, counted from 1 as people count.
    pub(crate) fn shown(&self) -> String {
        format!("shard {} of {}", self.index + 1, self.count)
    }

    /// The positions of `total` items this shard takes: one contiguous slice, the slices of
    /// all shards together holding `0..total` once.
    pub(crate) fn slice(&self, total: u64) -> Range<u64> {
        let at = |i: u32| cut(total, i, self.count);
        at(self.index)..at(self.index + 1)
    }

    /// Whether this shard takes the item at `position` of a stream whose length is not known
    /// in advance (a command's lines): every `count`th, starting at `index`.
    pub(crate) fn takes(&self, position: u64) -> bool {
        position % u64::from(self.count) == u64::from(self.index)
    }

    /// The keys this shard walks of a table whose key runs from `low` to `high`: from its
    /// lower bound (inclusive) to its upper (exclusive). The first shard has no lower bound
    /// and the last no upper, so a row added below the lowest key or above the highest after
    /// the split is still walked, by them.
    pub(crate) fn bounds(&self, low: i64, high: i64) -> (Option<i64>, Option<i64>) {
        let span = u64::try_from(i128::from(high) - i128::from(low) + 1).unwrap_or(0);
        let at = |i: u32| {
            let offset = i128::from(cut(span, i, self.count));
            i64::try_from(i128::from(low) + offset).unwrap_or(i64::MAX)
        };
        let lower = (self.index > 0).then(|| at(self.index));
        let upper = (self.index + 1 < self.count).then(|| at(self.index + 1));
        (lower, upper)
    }
}

/// How a shard ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    /// Finished in an earlier run of the same command.
    Earlier,
    /// Its worker exited with this code.
    Exited(i32),
    /// Its worker could not be started.
    NotStarted,
    /// Not started: the run was asked to pause first.
    Held,
}

/// `adminsh: scripts/backfill.rhai in 4 shards: 1 failed`, then a line per shard.
pub(crate) fn summary(script: &str, ended: &[Ended], interrupted: bool) -> String {
    let count_of = |f: &dyn Fn(&Ended) -> bool| ended.iter().filter(|e| f(e)).count();
    let paused = count_of(&|e| matches!(e, Ended::Held | Ended::Exited(EXIT_PAUSED)));
    let failed = count_of(&|e| {
        !matches!(
            e,
            Ended::Earlier | Ended::Held | Ended::Exited(0 | EXIT_PAUSED)
        )
    });
    let verdict = match (interrupted, failed, paused) {
        (true, _, _) => "interrupted".to_owned(),
        (false, 0, 0) => "all finished".to_owned(),
        (false, 0, paused) => format!("{paused} paused"),
        (false, failed, 0) => format!("{failed} did not finish"),
        (false, failed, paused) => format!("{failed} did not finish, {paused} paused"),
    };
    let count = ended.len();
    let mut text = format!("adminsh: {script} in {count} shards: {verdict}\n");
    let width = format!("{count}/{count}").len();
    for (index, ended) in ended.iter().enumerate() {
        let state = match ended {
            Ended::Earlier => "finished in an earlier run".to_owned(),
            Ended::Exited(0) => "finished".to_owned(),
            Ended::Exited(EXIT_PAUSED) => "paused (exit 148)".to_owned(),
            Ended::Exited(code) if *code > 128 => format!("interrupted (exit {code})"),
            Ended::Exited(code) => format!("failed (exit {code})"),
            Ended::NotStarted => "not run".to_owned(),
            Ended::Held => "not started: paused".to_owned(),
        };
        let label = format!("{}/{count}", index + 1);
        text.push_str(&format!("  shard {label:width$}  {state}\n"));
    }
    text
}

/// An id as runs have them: a name in a directory, and a word in a Job's manifest.
fn is_id(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 128
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Where slice `i` of `n` starts in `0..total`: the slices differ in length by one at most.
fn cut(total: u64, i: u32, n: u32) -> u64 {
    let cut = u128::from(total) * u128::from(i) / u128::from(n);
    u64::try_from(cut).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(index: u32, count: u32) -> Shard {
        Shard {
            index,
            count,
            run: "r".into(),
            of_run: None,
        }
    }

    #[test]
    fn the_slices_of_all_shards_hold_every_item_once() {
        for (total, count) in [
            (0, 1),
            (0, 4),
            (1, 4),
            (3, 4),
            (10, 3),
            (100, 7),
            (7, 7),
            (1_000_001, 16),
        ] {
            let mut next = 0;
            for index in 0..count {
                let slice = shard(index, count).slice(total);
                assert_eq!(slice.start, next, "{total} items, {count} shards");
                assert!(slice.end - slice.start <= total / u64::from(count) + 1);
                next = slice.end;
            }
            assert_eq!(next, total, "{total} items, {count} shards");
        }
    }

    #[test]
    fn a_stream_is_dealt_out_in_turn() {
        for count in [1, 2, 5] {
            for position in 0..50_u64 {
                let takers: Vec<u32> = (0..count)
                    .filter(|i| shard(*i, count).takes(position))
                    .collect();
                assert_eq!(takers.len(), 1, "position {position} of {count} shards");
            }
        }
    }

    #[test]
    fn key_ranges_cover_every_key_once_and_leave_the_ends_open() {
        let cases = [
            (1, 100, 4),
            (1, 3, 4),
            (5, 5, 3),
            (-50, 50, 3),
            (i64::MIN, i64::MAX, 5),
            (0, 1_000_000, 16),
            (10, 10_000, 1),
        ];
        for (low, high, count) in cases {
            let ranges: Vec<_> = (0..count)
                .map(|i| shard(i, count).bounds(low, high))
                .collect();
            assert_eq!(ranges[0].0, None, "{low}..={high} in {count}");
            assert_eq!(
                ranges[ranges.len() - 1].1,
                None,
                "{low}..={high} in {count}"
            );
            for pair in ranges.windows(2) {
                assert_eq!(
                    pair[0].1, pair[1].0,
                    "{low}..={high} in {count}: {ranges:?}"
                );
            }
            // Each key, and a key past either end, falls in exactly one range.
            let probes = [
                low,
                high,
                low.saturating_add(1),
                high.saturating_sub(1),
                (low / 2).saturating_add(high / 2),
            ];
            for key in probes
                .iter()
                .chain(&[low.saturating_sub(1), high.saturating_add(1)])
            {
                let holders = ranges
                    .iter()
                    .filter(|(lower, upper)| {
                        lower.is_none_or(|l| *key >= l) && upper.is_none_or(|u| *key < u)
                    })
                    .count();
                assert_eq!(
                    holders, 1,
                    "key {key} of {low}..={high} in {count}: {ranges:?}"
                );
            }
        }
    }

    #[test]
    fn key_ranges_start_where_the_split_says() {
        // The first shard from the start, the last to the end, the cuts where `cut` puts them
        // in the keys `low..=high` (so a table split once is split the same way every time).
        for (low, high, count, cuts) in [
            (1, 100, 4, &[26, 51, 76][..]),
            (3, 9000, 4, &[2252, 4502, 6751]),
            (-50, 50, 3, &[-17, 17]),
            (0, 9, 2, &[5]),
            (5, 5, 3, &[5, 5]),
            (1, 3, 4, &[1, 2, 3]),
        ] {
            let ranges: Vec<_> = (0..count)
                .map(|i| shard(i, count).bounds(low, high))
                .collect();
            let mut want = vec![None];
            want.extend(cuts.iter().map(|c| Some(*c)));
            want.push(None);
            let want: Vec<_> = want.windows(2).map(|w| (w[0], w[1])).collect();
            assert_eq!(ranges, want, "{low}..={high} in {count}");
        }
        assert_eq!(shard(0, 1).bounds(1, 100), (None, None));
        assert_eq!(shard(2, 4).shown(), "shard 3 of 4");
    }

    #[test]
    fn the_summary_says_how_each_shard_ended() {
        use Ended::*;
        let rows: &[(&[Ended], bool, &str)] = &[
            (&[Exited(0), Earlier], false, "all finished"),
            (&[Exited(0), Exited(EXIT_PAUSED), Held], false, "2 paused"),
            (&[Exited(1), Exited(0)], false, "1 did not finish"),
            (&[NotStarted, Exited(130)], false, "2 did not finish"),
            (
                &[Exited(2), Held, Exited(128)],
                false,
                "2 did not finish, 1 paused",
            ),
            (&[Exited(0), Exited(130)], true, "interrupted"),
        ];
        for (ended, interrupted, verdict) in rows {
            let text = summary("s.rhai", ended, *interrupted);
            let first = text.lines().next().unwrap();
            assert_eq!(
                first,
                format!("adminsh: s.rhai in {} shards: {verdict}", ended.len()),
                "{ended:?}"
            );
        }
        let text = summary(
            "scripts/b.rhai",
            &[
                Earlier,
                Exited(0),
                Exited(EXIT_PAUSED),
                Exited(128),
                Exited(129),
                Exited(1),
                NotStarted,
                Held,
                Exited(0),
                Exited(0),
            ],
            false,
        );
        assert_eq!(
            text,
            "adminsh: scripts/b.rhai in 10 shards: 4 did not finish, 2 paused\n  \
             shard 1/10   finished in an earlier run\n  \
             shard 2/10   finished\n  \
             shard 3/10   paused (exit 148)\n  \
             shard 4/10   failed (exit 128)\n  \
             shard 5/10   interrupted (exit 129)\n  \
             shard 6/10   failed (exit 1)\n  \
             shard 7/10   not run\n  \
             shard 8/10   not started: paused\n  \
             shard 9/10   finished\n  \
             shard 10/10  finished\n"
        );
    }

    #[test]
    fn the_environment_names_the_shard_or_the_variable_that_is_wrong() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert_eq!(Shard::from_env(env(&[])), Ok(None));
        assert_eq!(
            Shard::from_env(env(&[
                (COUNT_VAR, "4"),
                (INDEX_VAR, "2"),
                (RUN_VAR, "ab-1")
            ])),
            Ok(Some(Shard {
                index: 2,
                count: 4,
                run: "ab-1".into(),
                of_run: None
            }))
        );
        assert_eq!(
            Shard::from_env(env(&[
                (COUNT_VAR, "4"),
                (JOB_INDEX_VAR, "3"),
                (RUN_VAR, "job")
            ])),
            Ok(Some(Shard {
                index: 3,
                count: 4,
                run: "job".into(),
                of_run: None
            }))
        );
        assert_eq!(
            Shard::from_env(env(&[
                (COUNT_VAR, "2"),
                (INDEX_VAR, "1"),
                (RUN_VAR, "r_1"),
                (OF_RUN_VAR, "d-2_x")
            ])),
            Ok(Some(Shard {
                index: 1,
                count: 2,
                run: "r_1".into(),
                of_run: Some("d-2_x".into())
            }))
        );
        let long = "a".repeat(128);
        let too_long = "a".repeat(129);
        let run_of = |run: &str| {
            Shard::from_env(|name: &str| match name {
                COUNT_VAR => Some("1".to_owned()),
                INDEX_VAR => Some("0".to_owned()),
                RUN_VAR => Some(run.to_owned()),
                _ => None,
            })
            .map(|shard| shard.unwrap().run)
        };
        assert_eq!(run_of(&long), Ok(long.clone()));
        assert!(run_of(&too_long).unwrap_err().starts_with(RUN_VAR));
        let wrong: &[(&[(&str, &str)], &str)] = &[
            (
                &[
                    (COUNT_VAR, "4"),
                    (INDEX_VAR, "1"),
                    (RUN_VAR, "r"),
                    (OF_RUN_VAR, "../x"),
                ],
                OF_RUN_VAR,
            ),
            (
                &[
                    (COUNT_VAR, "4"),
                    (INDEX_VAR, "1"),
                    (RUN_VAR, "r"),
                    (OF_RUN_VAR, ""),
                ],
                OF_RUN_VAR,
            ),
            (
                &[(COUNT_VAR, "0"), (INDEX_VAR, "0"), (RUN_VAR, "r")],
                COUNT_VAR,
            ),
            (
                &[(COUNT_VAR, "x"), (INDEX_VAR, "0"), (RUN_VAR, "r")],
                COUNT_VAR,
            ),
            (
                &[(COUNT_VAR, "5000"), (INDEX_VAR, "0"), (RUN_VAR, "r")],
                COUNT_VAR,
            ),
            (&[(COUNT_VAR, "4"), (RUN_VAR, "r")], INDEX_VAR),
            (
                &[(COUNT_VAR, "4"), (INDEX_VAR, "4"), (RUN_VAR, "r")],
                INDEX_VAR,
            ),
            (
                &[(COUNT_VAR, "4"), (INDEX_VAR, "-1"), (RUN_VAR, "r")],
                INDEX_VAR,
            ),
            (
                &[(COUNT_VAR, "4"), (JOB_INDEX_VAR, "9"), (RUN_VAR, "r")],
                JOB_INDEX_VAR,
            ),
            (&[(COUNT_VAR, "4"), (INDEX_VAR, "1")], RUN_VAR),
            (
                &[(COUNT_VAR, "4"), (INDEX_VAR, "1"), (RUN_VAR, "a'b")],
                RUN_VAR,
            ),
            (
                &[(COUNT_VAR, "4"), (INDEX_VAR, "1"), (RUN_VAR, "")],
                RUN_VAR,
            ),
        ];
        for (pairs, named) in wrong {
            let pairs: Vec<(String, String)> = pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            let error = Shard::from_env(|name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
            })
            .unwrap_err();
            assert!(error.starts_with(named), "{pairs:?}: {error}");
        }
    }
}
