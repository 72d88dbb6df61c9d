//! The pace of a walk in batches (`db::batches`, `batches`): the throttle asked before each
//! batch, the progress line said every [`PROGRESS_EVERY`] while it runs (items, items/s, and
//! the share done and time left where the total is known), the dry run's stop after
//! [`DRY_RUN_BATCHES`], and the summary at the end. One place, so both walks read alike.
//!
//! In a detached run, the pace also keeps the run's directory told how far the walk is (at
//! most every [`RECORD_EVERY`]), and ends the run as paused at the end of a batch, its cursor
//! saved, once someone has asked it to pause (`adminsh --pause ID`).

use std::time::{Duration, Instant, SystemTime};

use rhai::{Dynamic, FnPtr, NativeCallContext};

use super::def::{RhaiResult, runtime_error};
use super::waiting::pause;
use crate::record::{WalkProgress, WalkRecord};
use crate::session::{Control, Session};

/// How many batches a dry run walks (in the sandbox, rolled back): enough to see the work and
/// its pace, without walking 50 million rows to change nothing.
pub(crate) const DRY_RUN_BATCHES: u64 = 3;
/// The first wait of a throttled walk or of a batch tried again; each next one is twice as
/// long, up to [`LONGEST_WAIT`].
pub(crate) const FIRST_WAIT: Duration = Duration::from_millis(250);
pub(crate) const LONGEST_WAIT: Duration = Duration::from_secs(30);
/// How often a running walk says how far it is.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);
/// How often a detached run's walk records how far it is, at most.
const RECORD_EVERY: Duration = Duration::from_secs(1);
/// How many points of the walk's pace its record keeps for a chart; every other one goes when
/// it is full.
const SAMPLES: usize = 240;
/// How far an adapting batch size may move from the size the script gave, either way.
const ADAPT_RANGE: u64 = 10;

/// `target_seconds`: a batch size that adapts toward batches taking that long, from the size
/// the script gave, within [`ADAPT_RANGE`] times it either way and at most `most`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Target {
    pub seconds: f64,
    pub least: u64,
    pub most: u64,
}

impl Target {
    /// From the option's value and the size given; an error naming `walk` for anything but a
    /// positive number of seconds.
    pub(crate) fn of(walk: &str, value: &Dynamic, size: u64, most: u64) -> RhaiResult<Target> {
        let seconds = value
            .as_float()
            .ok()
            .or_else(|| value.as_int().ok().map(|n| n as f64))
            .filter(|s| s.is_finite() && *s > 0.0 && *s <= 3600.0)
            .ok_or_else(|| {
                runtime_error(format!(
                    "{walk}: `target_seconds` is a number of seconds, more than 0 and at most 3600, not {value}"
                ))
            })?;
        Ok(Target {
            seconds,
            least: (size / ADAPT_RANGE).max(1),
            most: size.saturating_mul(ADAPT_RANGE).min(most),
        })
    }

    /// The size of the next batch, after one of `size` items took `took`: toward the target,
    /// by at most half or double at a time (one slow batch does not swing it), within bounds.
    pub(crate) fn next(&self, size: u64, took: Duration) -> u64 {
        let took = took.as_secs_f64().max(1e-6);
        let wanted = size as f64 * self.seconds / took;
        let bounded = wanted.clamp(size as f64 / 2.0, size as f64 * 2.0);
        // Clamped to at most twice a u64 size above, and rounded: the cast cannot wrap.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let next = bounded.round() as u64;
        next.clamp(self.least, self.most)
    }
}

pub(crate) struct Pace<'a> {
    session: &'a Session,
    /// `db::batches users`: how the walk's lines start.
    name: String,
    /// What one item is called in its lines: `rows`, `items`, `lines`.
    unit: &'static str,
    started: Instant,
    last_said: Instant,
    done: u64,
    batches: u64,
    /// How many items the walk has in all, where that is known or estimated.
    total: Option<u64>,
    /// The size of the last batch, when it adapts: said in the progress lines and summary.
    size: Option<u64>,
    /// A dry run has walked its [`DRY_RUN_BATCHES`].
    dry_run_limit: bool,
    /// When the run's directory was last told how far the walk is (`None`: never).
    last_recorded: Option<Instant>,
    samples: Vec<[f64; 2]>,
    /// `deadline`: the walk stops at the end of the first batch past this moment, as a pause.
    until: Option<(SystemTime, String)>,
}

impl<'a> Pace<'a> {
    pub(crate) fn new(session: &'a Session, name: String, unit: &'static str) -> Self {
        let now = Instant::now();
        Pace {
            session,
            name,
            unit,
            started: now,
            last_said: now,
            done: 0,
            batches: 0,
            total: None,
            size: None,
            dry_run_limit: false,
            last_recorded: None,
            samples: Vec::new(),
            until: None,
        }
    }

    /// The walk stops at the end of the first batch that ends after `until` (a time as the
    /// script gave it, shown in what it says), and the run ends as paused.
    pub(crate) fn until(&mut self, until: Option<(SystemTime, String)>) {
        self.until = until;
    }

    /// The items left to walk (an estimate is fine): progress lines then give a share and
    /// the time left.
    pub(crate) fn expect(&mut self, total: u64) {
        self.total = Some(total);
    }

    /// The batch size has adapted to `size`.
    pub(crate) fn sized(&mut self, size: u64) {
        self.size = Some(size);
    }

    /// A line about the walk, on stderr, masked.
    pub(crate) fn say(&self, text: &str) {
        self.session.say(&format!("{}: {text}", self.name));
    }

    /// A batch of `n` items is done (`kept`: where the walk is was saved, so a later run
    /// resumes after it). `false` when the walk stops there: a dry run has walked its
    /// [`DRY_RUN_BATCHES`]. An error that ends the run as paused when someone asked it to
    /// pause.
    pub(crate) fn batch_done(&mut self, n: u64, kept: bool) -> RhaiResult<bool> {
        self.batches += 1;
        self.done = self.done.saturating_add(n);
        if self.last_said.elapsed() >= PROGRESS_EVERY {
            self.last_said = Instant::now();
            self.say(&self.progress());
        }
        self.record(true, false);
        if let Some(who) = self.session.control().and_then(Control::pause_asked) {
            return Err(self.pause(&who, kept));
        }
        if let Some((until, shown)) = &self.until
            && SystemTime::now() >= *until
        {
            let who = format!("its `deadline` ({shown})");
            return Err(self.pause(&who, kept));
        }
        if self.session.options().dry_run && self.batches == DRY_RUN_BATCHES {
            self.dry_run_limit = true;
            return Ok(false);
        }
        Ok(true)
    }

    /// Ends the run as paused, as `who` asked, saying where.
    fn pause(&mut self, who: &str, kept: bool) -> Box<rhai::EvalAltResult> {
        self.record(false, true);
        // Outside a detached run, the same command run again is what resumes.
        let resume = self
            .session
            .control()
            .map_or("running the same command again".to_owned(), |c| {
                format!("`{}`", c.resume_command())
            });
        let after = if kept {
            format!("{resume} goes on after it")
        } else {
            format!(
                "nothing can resume this walk (it is not in a step, or this is a dry run): {resume} walks it again from its beginning"
            )
        };
        super::control::paused(self.session.redact(&format!(
            "paused at the end of batch {} of {} ({} {}), as {who} asked: {after}",
            self.batches, self.name, self.done, self.unit
        )))
    }

    /// Tells a detached run's directory how far the walk is: at most every [`RECORD_EVERY`]
    /// unless `now`; `walking` false once the walk has ended.
    fn record(&mut self, walking: bool, now: bool) {
        let Some(control) = self.session.control() else {
            return;
        };
        let due = self
            .last_recorded
            .is_none_or(|at| at.elapsed() >= RECORD_EVERY);
        if !(due || now || !walking) {
            return;
        }
        self.last_recorded = Some(Instant::now());
        let elapsed = self.started.elapsed().as_secs_f64();
        if self.samples.len() >= SAMPLES {
            let mut i = 0;
            self.samples.retain(|_| {
                i += 1;
                i % 2 == 1
            });
        }
        self.samples.push([elapsed, self.done as f64]);
        let rate = self.rate();
        let left = self
            .total
            .filter(|t| *t >= self.done && rate > 0.0)
            .map(|t| (t - self.done) as f64 / rate);
        control.walked(&WalkProgress {
            walk: self.session.redact(&self.name),
            unit: self.unit.to_owned(),
            done: self.done,
            batches: self.batches,
            total: self.total,
            rate,
            elapsed,
            left,
            walking,
            samples: self.samples.clone(),
            updated: crate::clock::now_rfc3339(),
        });
    }

    fn progress(&self) -> String {
        progress_line(self.done, self.unit, self.rate(), self.total) + self.sized_now().as_str()
    }

    /// `, batches of 2400 now` when the size adapts.
    fn sized_now(&self) -> String {
        self.size
            .map_or(String::new(), |n| format!(", batches of {n} now"))
    }

    fn rate(&self) -> f64 {
        self.done as f64 / self.started.elapsed().as_secs_f64().max(1e-6)
    }

    /// The summary: how far the walk went, and at what pace; after a dry run's batches, when
    /// `more_left` (the walk had more than it walked), what a real run would take where the
    /// total is known.
    pub(crate) fn finish(&mut self, more_left: bool) -> u64 {
        self.record(false, true);
        let took = self.started.elapsed().as_secs_f64();
        let stopped_by_dry_run = self.dry_run_limit && more_left;
        let stopped = if stopped_by_dry_run {
            dry_run_stop(self.done, self.batches, self.rate(), self.total, self.unit)
        } else {
            String::new()
        };
        self.say(&format!(
            "{} {} in {} batch{} ({took:.1}s, {:.0} {}/s{}){stopped}",
            self.done,
            self.unit,
            self.batches,
            if self.batches == 1 { "" } else { "es" },
            self.rate(),
            self.unit,
            self.sized_now(),
        ));
        self.session.walks.borrow_mut().push(WalkRecord {
            name: self.name.clone(),
            unit: self.unit.to_owned(),
            items: self.done,
            batches: self.batches,
            duration_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            batch_size: self.size,
            total: self.total,
            stopped_by_dry_run,
        });
        self.done
    }
}

/// What a dry run says where it stops: that a real run goes on, and, against a known total,
/// how many batches of the size walked and how long at the pace walked.
fn dry_run_stop(done: u64, batches: u64, rate: f64, total: Option<u64>, unit: &str) -> String {
    let mut line = "; a dry run stops there, a real run goes on to the end".to_owned();
    if let Some(total) = total.filter(|t| *t > 0 && done > 0 && batches > 0) {
        let per_batch = done.div_ceil(batches);
        line.push_str(&format!(
            ": ~{total} {unit} in ~{} batches of {per_batch}",
            total.div_ceil(per_batch)
        ));
        if rate > 0.0 {
            line.push_str(&format!(", about {}", shown(total as f64 / rate)));
        }
    }
    line
}

/// `throttle: || ...` as a walk's option: a closure, or an error naming the walk.
/// The `deadline` option: a time (`now() + hours(2)`, `parse_time("2026-12-08T06:00:00Z")`),
/// and how the script wrote it.
pub(crate) fn until_of(walk: &str, value: &Dynamic) -> RhaiResult<(SystemTime, String)> {
    value
        .read_lock::<super::time::Time>()
        .map(|time| (time.to_system(), time.to_string()))
        .ok_or_else(|| {
            runtime_error(format!(
                "{walk}: `deadline` is a time (`now() + hours(2)`, `parse_time(\"2026-12-08T06:00:00Z\")`), not {}",
                crate::kind::of(value)
            ))
        })
}

pub(crate) fn throttle_of(walk: &str, value: &Dynamic) -> RhaiResult<FnPtr> {
    value.clone().try_cast::<FnPtr>().ok_or_else(|| {
        runtime_error(format!(
            "{walk}: `throttle` is a closure (`|| replica_lag() > 5`), not {}",
            crate::kind::of(value)
        ))
    })
}

/// Holds the walk while `throttle` returns true, waiting longer each time (Ctrl-C ends it).
pub(crate) fn throttled(
    pace: &Pace,
    ctx: &NativeCallContext,
    throttle: Option<&FnPtr>,
) -> RhaiResult<()> {
    let Some(throttle) = throttle else {
        return Ok(());
    };
    let mut wait = FIRST_WAIT;
    let mut said = false;
    while throttle.call_within_context::<Dynamic>(ctx, ())?.as_bool() == Ok(true) {
        if !said {
            pace.say("throttled: waiting while `throttle` is true");
            said = true;
        }
        pause(wait)?;
        wait = (wait * 2).min(LONGEST_WAIT);
    }
    if said {
        pace.say("going on");
    }
    Ok(())
}

/// `120000 rows, 2400 rows/s, 40% of ~300000, about 1m15s left`: the share and the time left
/// only where the total is known and not already passed (an estimate can be low).
fn progress_line(done: u64, unit: &str, rate: f64, total: Option<u64>) -> String {
    let mut line = format!("{done} {unit}, {rate:.0} {unit}/s");
    if let Some(total) = total.filter(|t| *t >= done && *t > 0) {
        let share = done as f64 * 100.0 / total as f64;
        line.push_str(&format!(", {share:.0}% of ~{total}"));
        if rate > 0.0 {
            let left = (total - done) as f64 / rate;
            line.push_str(&format!(", about {} left", shown(left)));
        }
    }
    line
}

/// `1h02m`, `3m05s`, `42s`.
fn shown(seconds: f64) -> String {
    // Clamped to 0..=1e9 first: the cast cannot lose a sign or wrap.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let s = seconds.round().clamp(0.0, 1e9) as u64;
    match (s / 3600, s / 60 % 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m{s:02}s"),
        (h, m, _) => format!("{h}h{m:02}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_adapting_size_moves_toward_the_target_within_bounds() {
        let target = Target {
            seconds: 0.5,
            least: 100,
            most: 10_000,
        };
        for (size, took_ms, next) in [
            (1000, 500, 1000),   // on target
            (1000, 250, 2000),   // twice as fast: double
            (1000, 50, 2000),    // ten times as fast: still only double
            (1000, 1000, 500),   // twice as slow: half
            (1000, 60_000, 500), // a stall: only half
            (150, 5000, 100),    // not below the least
            (8000, 100, 10_000), // not above the most
            (1000, 0, 2000),     // too quick to time
        ] {
            assert_eq!(
                target.next(size, Duration::from_millis(took_ms)),
                next,
                "{size} {took_ms}"
            );
        }
    }

    #[test]
    fn the_target_is_a_positive_number_of_seconds() {
        let of = |v: Dynamic| Target::of("batches", &v, 1000, 100_000);
        assert_eq!(
            of(Dynamic::from_float(0.5)).unwrap(),
            Target {
                seconds: 0.5,
                least: 100,
                most: 10_000
            }
        );
        assert_eq!(
            of(Dynamic::from_int(2)).unwrap(),
            Target {
                seconds: 2.0,
                least: 100,
                most: 10_000
            }
        );
        assert_eq!(
            Target::of("b", &Dynamic::from_int(1), 5, 8).unwrap(),
            Target {
                seconds: 1.0,
                least: 1,
                most: 8
            }
        );
        for bad in [
            Dynamic::from_int(0),
            Dynamic::from_float(-1.0),
            Dynamic::from_float(f64::NAN),
            Dynamic::from_int(3601),
            Dynamic::from("1"),
        ] {
            let error = of(bad.clone()).unwrap_err().to_string();
            assert!(
                error.contains(
                    "`target_seconds` is a number of seconds, more than 0 and at most 3600"
                ),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn progress_lines_give_a_share_and_time_left_only_against_a_total() {
        for (done, rate, total, says) in [
            (
                120_000,
                2400.0,
                Some(300_000),
                "120000 rows, 2400 rows/s, 40% of ~300000, about 1m15s left",
            ),
            (5, 0.0, Some(10), "5 rows, 0 rows/s, 50% of ~10"),
            (120_000, 2400.0, None, "120000 rows, 2400 rows/s"),
            // An estimate passed: no share, no time left.
            (301_000, 2400.0, Some(300_000), "301000 rows, 2400 rows/s"),
            (0, 0.0, Some(0), "0 rows, 0 rows/s"),
        ] {
            assert_eq!(progress_line(done, "rows", rate, total), says);
        }
    }

    #[test]
    fn a_dry_run_says_what_a_real_run_would_take_against_a_total() {
        assert_eq!(
            dry_run_stop(3000, 3, 1000.0, Some(300_000), "rows"),
            "; a dry run stops there, a real run goes on to the end: ~300000 rows in ~300 batches of 1000, about 5m00s"
        );
        for total in [None, Some(0)] {
            assert_eq!(
                dry_run_stop(3000, 3, 1000.0, total, "rows"),
                "; a dry run stops there, a real run goes on to the end"
            );
        }
    }

    #[test]
    fn time_left_reads_in_the_largest_units() {
        for (seconds, says) in [
            (0.0, "0s"),
            (41.6, "42s"),
            (185.0, "3m05s"),
            (3720.0, "1h02m"),
            (-5.0, "0s"),
            (f64::INFINITY, "277777h46m"),
        ] {
            assert_eq!(shown(seconds), says, "{seconds}");
        }
    }
}
