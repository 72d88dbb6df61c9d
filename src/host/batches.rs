//! `batches(items, size, |batch| ...)` and `cmd(...).batches(size, |lines| ...)`: an array, or
//! a command's stdout lines as they come, handed to a closure `size` at a time, with the pace
//! of `db::batches` (a throttle, progress lines, the dry run's stop after three batches, a
//! summary). In a step, how many items the batches that finished held is saved in the step's
//! checkpoint after each one, so a run killed at any moment, run again, skips them and goes on
//! with the batch that was running: at least once, so a batch's work must be safe to do twice.
//! A command is run again from its start and its first lines skipped: its output must come in
//! the same order each time (a sorted list, a file).

use std::ops::{Range, RangeInclusive};
use std::rc::Rc;

use rhai::{Array, Dynamic, FnPtr, Map, NativeCallContext};

use super::callback::Callback;
use super::command::{Cmd, into_rhai, line_text};
use super::def::{Host, RhaiResult, rows, runtime_error};
use super::formats::{CsvFile, header_of, row_of};
use super::pace::{self, Pace, Target};
use crate::process::Output;
use crate::session::Session;

/// Items a batch holds unless the script says.
const DEFAULT_SIZE: u64 = 1000;
/// The most items a batch may hold: they sit in memory together.
const MAX_SIZE: u64 = 100_000;

/// What a `batches` call was asked for.
struct Plan {
    size: u64,
    throttle: Option<FnPtr>,
    /// A size that adapts toward batches of this duration (`target_seconds`).
    target: Option<Target>,
    /// The cursor's name in the checkpoint, and how the walk's lines start.
    name: String,
    /// `deadline`: stop as paused at the end of the first batch past it.
    until: Option<(std::time::SystemTime, String)>,
}

impl Plan {
    /// From `size` as an int or `#{size, throttle, target_seconds, name}`.
    fn from(how: &Dynamic, default_name: String) -> RhaiResult<Plan> {
        let mut plan = Plan {
            size: DEFAULT_SIZE,
            throttle: None,
            target: None,
            name: default_name,
            until: None,
        };
        let mut target = None;
        if how.is_int() {
            plan.size = size_of(how)?;
            return Ok(plan);
        }
        let Some(options) = how.read_lock::<Map>() else {
            return Err(runtime_error(format!(
                "batches: give a batch size (`500`) or options (`#{{size: 500}}`), not {}",
                crate::kind::of(how)
            )));
        };
        for (option, value) in options.iter() {
            match option.as_str() {
                "size" => plan.size = size_of(value)?,
                "throttle" => plan.throttle = Some(pace::throttle_of("batches", value)?),
                "target_seconds" => target = Some(value.clone()),
                "deadline" => plan.until = Some(pace::until_of("batches", value)?),
                "name" => {
                    plan.name = value
                        .clone()
                        .into_string()
                        .ok()
                        .filter(|n| !n.trim().is_empty())
                        .map(|n| format!("batches {n}"))
                        .ok_or_else(|| {
                            runtime_error(format!(
                                "batches: `name` is a string, not {}",
                                crate::kind::of(value)
                            ))
                        })?;
                }
                other => {
                    return Err(runtime_error(format!(
                        "batches: unknown option `{other}` (the options are size, throttle, target_seconds, deadline and name)"
                    )));
                }
            }
        }
        if let Some(value) = target {
            plan.target = Some(Target::of("batches", &value, plan.size, MAX_SIZE)?);
        }
        Ok(plan)
    }
}

fn size_of(value: &Dynamic) -> RhaiResult<u64> {
    value
        .as_int()
        .ok()
        .and_then(|n| u64::try_from(n).ok())
        .filter(|n| (1..=MAX_SIZE).contains(n))
        .ok_or_else(|| {
            runtime_error(format!(
                "batches: the size is a number of items from 1 to {MAX_SIZE}, not {value}"
            ))
        })
}

/// Items arriving one at a time, handed on a batch at a time.
struct Feeder<'a, 'c> {
    session: &'a Session,
    ctx: &'a NativeCallContext<'c>,
    f: Callback<'a, 'c>,
    plan: Plan,
    /// The cursor's name in the checkpoint (`Steps::walk`).
    key: String,
    pace: Pace<'a>,
    /// Items an earlier run finished, skipped as they come again.
    skip: u64,
    seen: u64,
    batch: Array,
    /// A dry run walked its batches: nothing more is handed on.
    stopped: bool,
    /// An item came after the walk stopped: it had more than it walked.
    more_left: bool,
}

impl<'a, 'c> Feeder<'a, 'c> {
    fn new(
        session: &'a Session,
        ctx: &'a NativeCallContext<'c>,
        f: &'a FnPtr,
        plan: Plan,
        unit: &'static str,
    ) -> RhaiResult<Self> {
        let mut pace = Pace::new(session, plan.name.clone(), unit);
        pace.until(plan.until.clone());
        let key = session.steps.borrow_mut().walk(&plan.name);
        let skip = match session.steps.borrow().cursor(&key) {
            None => 0,
            Some(kept) => kept.as_u64().ok_or_else(|| {
                runtime_error(format!(
                    "{}: the checkpoint's cursor {kept} is not a count of {unit}",
                    plan.name
                ))
            })?,
        };
        if skip > 0 {
            pace.say(&format!(
                "resuming after {skip} {unit} (where an earlier run stopped)"
            ));
        }
        Ok(Feeder {
            session,
            ctx,
            f: Callback::new(ctx, f),
            batch: Array::with_capacity(usize::try_from(plan.size).unwrap_or(0)),
            plan,
            key,
            pace,
            skip,
            seen: 0,
            stopped: false,
            more_left: false,
        })
    }

    /// Takes the next item; `false` for an item after the walk stopped (a dry run's last
    /// batch), which is not walked.
    fn push(&mut self, item: Dynamic) -> RhaiResult<bool> {
        if self.stopped {
            self.more_left = true;
            return Ok(false);
        }
        self.seen += 1;
        if self.seen <= self.skip {
            return Ok(true);
        }
        self.batch.push(item);
        if self.batch.len() as u64 == self.plan.size {
            self.flush()?;
        }
        Ok(true)
    }

    fn flush(&mut self) -> RhaiResult<()> {
        if self.batch.is_empty() || self.stopped {
            return Ok(());
        }
        pace::throttled(&self.pace, self.ctx, self.plan.throttle.as_ref())?;
        let batch = std::mem::replace(
            &mut self.batch,
            Array::with_capacity(usize::try_from(self.plan.size).unwrap_or(0)),
        );
        let n = batch.len() as u64;
        let started = std::time::Instant::now();
        let _ = self.f.call((Dynamic::from_array(batch),))?;
        if let Some(target) = self.plan.target {
            self.plan.size = target.next(n, started.elapsed());
            self.pace.sized(self.plan.size);
        }
        let kept = self
            .session
            .steps
            .borrow_mut()
            .save_cursor(&self.key, serde_json::json!(self.seen))
            .map_err(|e| runtime_error(format!("{}: {e:#}", self.plan.name)))?;
        self.stopped = !self.pace.batch_done(n, kept)?;
        Ok(())
    }

    /// The items are all in: the last batch, then the summary; the items walked.
    fn finish(mut self) -> RhaiResult<rhai::INT> {
        self.flush()?;
        let done = self.pace.finish(self.more_left);
        Ok(rhai::INT::try_from(done).unwrap_or(rhai::INT::MAX))
    }
}

/// An array's items, or a range's numbers (`1..=50_000_000`, never all in memory at once).
fn of_items(
    session: &Session,
    ctx: &NativeCallContext,
    items: impl Iterator<Item = Dynamic>,
    how: &Dynamic,
    f: &FnPtr,
) -> RhaiResult<rhai::INT> {
    let plan = Plan::from(how, "batches".to_owned())?;
    let mut feeder = Feeder::new(session, ctx, f, plan, "items")?;
    let (known, total) = items.size_hint();
    let total = total.filter(|t| *t == known).map(|t| t as u64);
    // A shard walks its contiguous share of the items (an array or a range: their number is
    // known).
    let share = match (&session.options().shard, total) {
        (Some(shard), Some(total)) => {
            let slice = shard.slice(total);
            let which = if slice.is_empty() {
                format!("none of the {total} items")
            } else {
                format!("items {} to {} of {total}", slice.start + 1, slice.end)
            };
            feeder.pace.say(&format!("{}: {which}", shard.shown()));
            slice
        }
        _ => 0..total.unwrap_or(u64::MAX),
    };
    if total.is_some() {
        feeder.pace.expect(share.end - share.start);
    }
    let skip = usize::try_from(share.start).unwrap_or(usize::MAX);
    let take = usize::try_from(share.end - share.start).unwrap_or(usize::MAX);
    for item in items.skip(skip).take(take) {
        if !feeder.push(item)? {
            break;
        }
    }
    feeder.finish()
}

/// A command's stdout lines. A command that fails leaves its last, partial batch undone (the
/// next run resumes before it) and is the script's error.
fn of_lines(
    session: &Session,
    ctx: &NativeCallContext,
    c: &Cmd,
    how: &Dynamic,
    f: &FnPtr,
) -> RhaiResult<rhai::INT> {
    let shown = c.0.shown(&session.redactor());
    let plan = Plan::from(how, format!("batches `{shown}`"))?;
    let mut feeder = Feeder::new(session, ctx, f, plan, "lines")?;
    let mut failure = None;
    let mut warned = false;
    // A shard takes every Nth line: how many lines there will be is not known.
    let shard = session.options().shard.clone().filter(|s| s.count > 1);
    if let Some(shard) = &shard {
        feeder.pace.say(&format!(
            "{}: every {} line from line {}",
            shard.shown(),
            nth(shard.count),
            shard.index + 1
        ));
    }
    let mut position = 0;
    let mut each = |line: &[u8]| {
        position += 1;
        if shard.as_ref().is_some_and(|s| !s.takes(position - 1)) {
            return true;
        }
        let line = line_text(session, &c.0, line, &mut warned);
        match feeder.push(line.into()) {
            Ok(go_on) => go_on,
            Err(e) => {
                failure = Some(e);
                false
            }
        }
    };
    let finished = session.run(&c.0, Output::Lines(&mut each));
    if let Some(e) = failure {
        return Err(e);
    }
    // A command stopped because the walk stopped (a dry run) has not failed.
    if !feeder.stopped {
        finished.map_err(into_rhai)?;
    }
    feeder.finish()
}

/// `2nd`, `3rd`, `4th`, `11th`, `21st`.
fn nth(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// `shard()`: which shard this run is, or `()` outside a sharded run.
fn shard_of(session: &Session) -> Dynamic {
    let Some(shard) = &session.options().shard else {
        return Dynamic::UNIT;
    };
    let mut map = Map::new();
    map.insert(
        "index".into(),
        Dynamic::from_int(rhai::INT::from(shard.index)),
    );
    map.insert(
        "count".into(),
        Dynamic::from_int(rhai::INT::from(shard.count)),
    );
    map.insert("run".into(), shard.run.clone().into());
    map.into()
}

/// A CSV file's records, read as the walk goes: each a map by the header (an array without
/// one). A record that is not UTF-8 has U+FFFD in place of its bad bytes, said once; a record
/// the CSV reader cannot read is an error naming the file and its line. A shard takes every
/// Nth record, the file's length not being known in advance.
fn of_csv(
    session: &Session,
    ctx: &NativeCallContext,
    csv: &CsvFile,
    how: &Dynamic,
    f: &FnPtr,
) -> RhaiResult<rhai::INT> {
    let plan = Plan::from(how, format!("batches {}", csv.path))?;
    let file = open_regular(session, &csv.path)?;
    let mut feeder = Feeder::new(session, ctx, f, plan, "records")?;
    let mut reader = csv
        .layout
        .reader(std::io::BufReader::with_capacity(1 << 16, file));
    let header = header_of(&mut reader, &format!("csv_file `{}`", csv.path), csv.layout)?;
    let shard = session.options().shard.clone().filter(|s| s.count > 1);
    if let Some(shard) = &shard {
        feeder.pace.say(&format!(
            "{}: every {} record from record {}",
            shard.shown(),
            nth(shard.count),
            shard.index + 1
        ));
    }
    let mut record = csv::ByteRecord::new();
    let mut position = 0;
    let mut warned = false;
    loop {
        if let Some(signal) = crate::interrupt::signal() {
            return Err(super::control::interrupted(signal));
        }
        let more = reader.read_byte_record(&mut record).map_err(|e| {
            let line = e
                .position()
                .map_or(String::new(), |p| format!(":{}", p.line()));
            runtime_error(format!("csv_file `{}{line}`: {e}", csv.path))
        })?;
        if !more {
            break;
        }
        position += 1;
        if shard.as_ref().is_some_and(|s| !s.takes(position - 1)) {
            continue;
        }
        let values: Vec<std::borrow::Cow<'_, str>> =
            record.iter().map(String::from_utf8_lossy).collect();
        if !warned
            && values
                .iter()
                .any(|v| matches!(v, std::borrow::Cow::Owned(_)))
        {
            warned = true;
            session.message(
                crate::log::Level::Warn,
                &format!(
                    "csv_file `{}` has bytes that are not UTF-8 (record {position}); they were replaced with U+FFFD",
                    csv.path
                ),
            );
        }
        let row = row_of(&header, values.iter().map(AsRef::as_ref), csv.layout);
        if !feeder.push(row)? {
            break;
        }
    }
    feeder.finish()
}

/// The regular file at `path` in the release, opened to read: a FIFO or a device is refused
/// rather than waited on.
fn open_regular(session: &Session, path: &str) -> RhaiResult<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let full = super::file_io::in_release(session, path);
    let opened = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&full)
        .and_then(|file| {
            if file.metadata()?.is_file() {
                Ok(file)
            } else {
                Err(std::io::Error::other("it is not a regular file"))
            }
        });
    opened.map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file or directory".to_owned(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
            _ => e.to_string(),
        };
        runtime_error(format!("csv_file: cannot read `{path}`: {why}"))
    })
}

pub(super) fn register(host: &mut Host, session: &Rc<Session>) {
    rows!(host, session;
        "batches", "items: Array, size: ?, callback: FnPtr -> int",
            "Calls `callback` with the items `size` at a time (or #{size, throttle, target_seconds, name}); in a step, a killed run resumes after the last batch done",
            move |ctx: NativeCallContext, items: Array, how: Dynamic, f: FnPtr| of_items(&session, &ctx, items.into_iter(), &how, &f);
        "batches", "numbers: Range, size: ?, callback: FnPtr -> int",
            "Calls `callback` with the numbers of `range(a, b)` `size` at a time, as for an array",
            move |ctx: NativeCallContext, numbers: Range<rhai::INT>, how: Dynamic, f: FnPtr| {
                of_items(&session, &ctx, numbers.map(Dynamic::from_int), &how, &f)
            };
        "batches", "numbers: RangeInclusive, size: ?, callback: FnPtr -> int",
            "Calls `callback` with the numbers of `a..=b` `size` at a time, as for an array",
            move |ctx: NativeCallContext, numbers: RangeInclusive<rhai::INT>, how: Dynamic, f: FnPtr| {
                of_items(&session, &ctx, numbers.map(Dynamic::from_int), &how, &f)
            };
        "batches", "cmd: Cmd, size: ?, callback: FnPtr -> int",
            "Runs it, calling `callback` with its stdout lines `size` at a time (or #{size, throttle, target_seconds, name}); in a step, a killed run resumes after the last batch done",
            move |ctx: NativeCallContext, c: &mut Cmd, how: Dynamic, f: FnPtr| of_lines(&session, &ctx, c, &how, &f);
        "batches", "csv: CsvFile, size: ?, callback: FnPtr -> int",
            "Calls `callback` with the records of a CSV file `size` at a time, read as the walk goes; in a step, a killed run resumes after the last batch done",
            move |ctx: NativeCallContext, csv: CsvFile, how: Dynamic, f: FnPtr| of_csv(&session, &ctx, &csv, &how, &f);
        "shard", " -> ?",
            "Which shard this run is, #{index, count, run} (index from 0), with --shards N or in an Indexed Job's pod; () otherwise",
            move || shard_of(&session);
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals_read_as_english() {
        for (n, said) in [
            (2, "2nd"),
            (3, "3rd"),
            (4, "4th"),
            (11, "11th"),
            (12, "12th"),
            (13, "13th"),
            (21, "21st"),
            (22, "22nd"),
            (101, "101st"),
            (111, "111th"),
        ] {
            assert_eq!(nth(n), said);
        }
    }

    fn plan(how: &str) -> RhaiResult<Plan> {
        let value: Dynamic = rhai::Engine::new().eval(how).unwrap();
        Plan::from(&value, "batches".into())
    }

    #[test]
    fn a_shard_says_every_nth_as_english_does() {
        for (n, said) in [
            (1, "1st"),
            (2, "2nd"),
            (3, "3rd"),
            (4, "4th"),
            (10, "10th"),
            (11, "11th"),
            (12, "12th"),
            (13, "13th"),
            (21, "21st"),
            (22, "22nd"),
            (23, "23rd"),
            (101, "101st"),
            (111, "111th"),
            (112, "112th"),
            (1013, "1013th"),
        ] {
            assert_eq!(nth(n), said);
        }
    }

    #[test]
    fn sizes_and_options_are_checked_naming_what_is_wrong() {
        assert_eq!(plan("500").unwrap().size, 500);
        assert_eq!(plan("#{size: 7}").unwrap().size, 7);
        assert_eq!(plan("#{}").unwrap().size, DEFAULT_SIZE);
        assert_eq!(plan(r#"#{name: "ids"}"#).unwrap().name, "batches ids");
        for (how, says) in [
            ("0", "the size is a number of items from 1 to 100000, not 0"),
            ("-3", "from 1 to 100000, not -3"),
            ("100001", "from 1 to 100000, not 100001"),
            ("#{size: 1.5}", "not 1.5"),
            (
                "\"10\"",
                "give a batch size (`500`) or options (`#{size: 500}`), not a string",
            ),
            ("#{throttle: 1}", "`throttle` is a closure"),
            ("#{name: 1}", "`name` is a string, not an int"),
            ("#{name: \"\"}", "`name` is a string"),
            (
                "#{target_seconds: \"1\"}",
                "`target_seconds` is a number of seconds",
            ),
            ("#{limit: 1}", "unknown option `limit`"),
        ] {
            let error = plan(how).err().unwrap().to_string();
            assert!(error.contains(says), "{how}: {error}");
        }
    }
}
