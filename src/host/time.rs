//! Times and durations for scripts (jiff): `now()`, `parse_time`, `format`, time zones by name,
//! Unix timestamps, `days(30)` and `duration("90m")`, arithmetic and comparison
//! (`now() - days(30)`). A time prints as ISO-8601 with its offset (`2026-11-26T14:58:43Z`),
//! which SQL and JSON take as it is; a duration prints as `1h 30m`.
//!
//! Time zones come from the system's database (`/usr/share/zoneinfo`), or from the copy
//! compiled into adminsh where there is none (a scratch container).

use jiff::civil::Time as ClockTime;
use jiff::fmt::friendly::{Direction, SpanPrinter};
use jiff::tz::{Offset, TimeZone};
use jiff::{
    RoundMode, SignedDuration, Span, SpanRelativeTo, Timestamp, TimestampRound, Unit, ZonedDateTime,
};
use rhai::{Dynamic, Engine, INT};

use super::def::{Host, RhaiResult, rows, runtime_error};

/// A point in time with the zone it is shown in.
#[derive(Debug, Clone)]
pub(crate) struct Time(ZonedDateTime);

/// A length of time, exact (a day is 24 hours).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Duration(SignedDuration);

impl std::fmt::Display for Time {
    /// ISO-8601 / RFC 3339: `2026-11-26T14:58:43Z`, `2026-11-26T15:58:43+01:00`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let timestamp = self.0.timestamp();
        let offset = self.0.offset();
        if offset == Offset::UTC {
            write!(f, "{timestamp}")
        } else {
            write!(f, "{}", timestamp.display_with_offset(offset))
        }
    }
}

impl std::fmt::Display for Duration {
    /// `1h 30m`, `-45s`, `0s`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const PRINTER: SpanPrinter = SpanPrinter::new().direction(Direction::Sign);
        f.write_str(&PRINTER.duration_to_string(&self.0))
    }
}

/// The value with every time and duration in it made a string (ISO-8601), for JSON.
pub(crate) fn plain(value: &Dynamic) -> Dynamic {
    if let Some(time) = value.read_lock::<Time>() {
        return time.to_string().into();
    }
    if let Some(duration) = value.read_lock::<Duration>() {
        return duration.0.to_string().into();
    }
    if let Some(row) = value.read_lock::<crate::row::Row>() {
        return Dynamic::from_map(row.map_with(plain));
    }
    if value.is_array() {
        let array = value.read_lock::<rhai::Array>().expect("an array");
        return Dynamic::from_array(array.iter().map(plain).collect());
    }
    if value.is_map() {
        let map = value.read_lock::<rhai::Map>().expect("a map");
        return Dynamic::from_map(map.iter().map(|(k, v)| (k.clone(), plain(v))).collect());
    }
    value.clone()
}

impl Time {
    /// The moment, for the system's clock.
    pub(crate) fn to_system(&self) -> std::time::SystemTime {
        let t = self.0.timestamp();
        let offset = std::time::Duration::new(
            t.as_second().unsigned_abs(),
            t.subsec_nanosecond().unsigned_abs(),
        );
        if t.as_second() >= 0 {
            std::time::UNIX_EPOCH + offset
        } else {
            std::time::UNIX_EPOCH - offset
        }
    }

    /// A file's time (mtime), in UTC.
    pub(crate) fn from_system(time: std::time::SystemTime) -> Option<Time> {
        Timestamp::try_from(time)
            .ok()
            .map(|t| Time(t.to_zoned_datetime(TimeZone::UTC)))
    }
}

fn error(what: &str, e: &jiff::Error) -> Box<rhai::EvalAltResult> {
    runtime_error(format!("{what}: {e}"))
}

fn now_in(zone: TimeZone) -> Time {
    // Microseconds, as databases keep them, so a time written and read back is equal.
    let now = Timestamp::now()
        .round(
            TimestampRound::new()
                .smallest(Unit::Microsecond)
                .mode(RoundMode::Trunc),
        )
        .unwrap_or_else(|_| Timestamp::now());
    Time(now.to_zoned_datetime(zone))
}

/// ISO-8601 / RFC 3339 (an offset or `Z`; a `[Zone/Name]` annotation; a date alone, midnight;
/// no offset, UTC), else RFC 2822.
fn parse(text: &str) -> RhaiResult<Time> {
    let text = text.trim();
    if let Ok(zoned) = text.parse::<ZonedDateTime>() {
        return Ok(Time(zoned));
    }
    let iso = jiff::fmt::temporal::Pieces::parse(text).and_then(|pieces| {
        // A zone the text names but the database has not is an error, never UTC.
        if let Some(annotation) = pieces.time_zone_annotation() {
            annotation.to_time_zone()?;
        }
        let datetime = pieces
            .date()
            .to_datetime(pieces.time().unwrap_or(ClockTime::midnight()));
        let zone = match pieces.to_numeric_offset() {
            Some(offset) if offset != Offset::UTC => TimeZone::fixed(offset),
            _ => TimeZone::UTC,
        };
        datetime.to_zoned_datetime(zone)
    });
    let iso_error = match iso {
        Ok(zoned) => return Ok(Time(zoned)),
        Err(e) => e,
    };
    if let Ok(zoned) = jiff::fmt::rfc2822::parse(text) {
        return Ok(Time(zoned));
    }
    Err(runtime_error(format!(
        "parse_time: `{text}` is not an ISO-8601 time (2026-11-26T14:30:00Z) or an RFC 2822 one ({iso_error}); for another form give its format: parse_time(text, \"%d/%m/%Y %H:%M\")"
    )))
}

/// `text` read with a strftime `format`; without an offset or zone in it, UTC.
fn parse_with(text: &str, format: &str) -> RhaiResult<Time> {
    let what = format!("parse_time(`{text}`, `{format}`)");
    let parts = jiff::fmt::strtime::parse(format, text).map_err(|e| error(&what, &e))?;
    if parts.offset().is_some() || parts.iana_time_zone().is_some() {
        return parts
            .to_zoned_datetime()
            .map(Time)
            .map_err(|e| error(&what, &e));
    }
    let datetime = parts
        .to_datetime()
        .or_else(|_| {
            parts
                .to_date()
                .map(|d| d.to_datetime(ClockTime::midnight()))
        })
        .map_err(|e| error(&what, &e))?;
    datetime
        .to_zoned_datetime(TimeZone::UTC)
        .map(Time)
        .map_err(|e| error(&what, &e))
}

fn zone(name: &str) -> RhaiResult<TimeZone> {
    if name.eq_ignore_ascii_case("utc") || name == "Z" {
        return Ok(TimeZone::UTC);
    }
    if name == "local" {
        return Ok(TimeZone::system());
    }
    jiff::tz::db().get(name).map_err(|_| {
        let names: Vec<String> = jiff::tz::db().available().map(|n| n.to_string()).collect();
        // `Europe/Pari` is closer to `Europe/Paris` than to `PRC`.
        let candidates = names
            .iter()
            .map(String::as_str)
            .filter(|n| n.contains('/') == name.contains('/'));
        let close = crate::suggest::ranked(name, candidates);
        let hint = match close.as_slice() {
            [] => String::new(),
            [one] => format!(" (did you mean `{one}`?)"),
            [one, two, ..] => format!(" (did you mean `{one}` or `{two}`?)"),
        };
        runtime_error(format!(
            "unknown time zone `{name}`{hint}: zones are named as in the tz database, such as `Europe/Paris` or `America/New_York`"
        ))
    })
}

/// An int or a float times `unit` seconds.
fn amount(value: &Dynamic, unit: i64, what: &str) -> RhaiResult<Duration> {
    let too_big = || runtime_error(format!("{what}({value}) is too long a duration"));
    if let Ok(n) = value.as_int() {
        let seconds = n.checked_mul(unit).ok_or_else(too_big)?;
        return Ok(Duration(SignedDuration::from_secs(seconds)));
    }
    if let Ok(x) = value.as_float() {
        return SignedDuration::try_from_secs_f64(x * unit as f64)
            .map(Duration)
            .map_err(|_| too_big());
    }
    Err(runtime_error(format!(
        "{what} takes a number, not {}",
        crate::kind::of(value)
    )))
}

/// `90m`, `1h 30m`, `2 days`, `1.5h`, ISO-8601 `PT1H30M`; a day is 24 hours.
fn parse_duration(text: &str) -> RhaiResult<Duration> {
    if let Ok(d) = text.parse::<SignedDuration>() {
        return Ok(Duration(d));
    }
    let span = text.parse::<Span>().map_err(|e| {
        runtime_error(format!(
            "duration: `{text}` is not a duration such as `90m`, `1h 30m`, `2 days` or `PT1H30M` ({e})"
        ))
    })?;
    span.to_duration(SpanRelativeTo::days_are_24_hours())
        .map(Duration)
        .map_err(|e| {
            if span.get_years() != 0 || span.get_months() != 0 {
                runtime_error(format!(
                    "duration: `{text}` has no fixed length (months and years differ in days); \
                     use days or weeks"
                ))
            } else {
                runtime_error(format!("duration: `{text}`: {e}"))
            }
        })
}

fn shift(time: &Time, by: SignedDuration) -> RhaiResult<Time> {
    time.0
        .checked_add(by)
        .map(Time)
        .map_err(|e| error("time out of range", &e))
}

fn in_duration(value: Option<SignedDuration>) -> RhaiResult<Duration> {
    value
        .map(Duration)
        .ok_or_else(|| runtime_error("duration out of range"))
}

/// `+`, `-`, `*`, `/` and the comparisons. Operators, not functions a script calls by name, so
/// they are registered on the engine directly and documented in the manual's prose
/// (`docs/src/time.md`).
fn operators(engine: &mut Engine) {
    engine.register_fn("-", |a: Time, b: Time| Duration(a.0.duration_since(&b.0)));
    engine.register_fn("+", |a: Time, d: Duration| shift(&a, d.0));
    engine.register_fn("+", |d: Duration, a: Time| shift(&a, d.0));
    engine.register_fn("-", |a: Time, d: Duration| shift(&a, -d.0));
    engine.register_fn("+", |a: Duration, b: Duration| {
        in_duration(a.0.checked_add(b.0))
    });
    engine.register_fn("-", |a: Duration, b: Duration| {
        in_duration(a.0.checked_sub(b.0))
    });
    engine.register_fn("-", |a: Duration| in_duration(a.0.checked_neg()));
    engine.register_fn("*", |a: Duration, n: INT| {
        in_duration(i32::try_from(n).ok().and_then(|n| a.0.checked_mul(n)))
    });
    engine.register_fn("*", |n: INT, a: Duration| {
        in_duration(i32::try_from(n).ok().and_then(|n| a.0.checked_mul(n)))
    });
    engine.register_fn("/", |a: Duration, n: INT| -> RhaiResult<Duration> {
        match i32::try_from(n) {
            Ok(0) => Err(runtime_error("a duration divided by zero")),
            Ok(n) => in_duration(a.0.checked_div(n)),
            Err(_) => Ok(Duration(SignedDuration::ZERO)),
        }
    });
    macro_rules! compare {
        ($ty:ty, $key:expr) => {
            engine.register_fn("==", |a: $ty, b: $ty| ($key)(&a) == ($key)(&b));
            engine.register_fn("!=", |a: $ty, b: $ty| ($key)(&a) != ($key)(&b));
            engine.register_fn("<", |a: $ty, b: $ty| ($key)(&a) < ($key)(&b));
            engine.register_fn("<=", |a: $ty, b: $ty| ($key)(&a) <= ($key)(&b));
            engine.register_fn(">", |a: $ty, b: $ty| ($key)(&a) > ($key)(&b));
            engine.register_fn(">=", |a: $ty, b: $ty| ($key)(&a) >= ($key)(&b));
        };
    }
    compare!(Time, |t: &Time| t.0.timestamp());
    compare!(Duration, |d: &Duration| d.0);
}

/// The time family: the two values and their operators, then a table per subject.
pub(super) fn register(host: &mut Host) {
    host.engine.register_type_with_name::<Time>("Time");
    host.engine.register_type_with_name::<Duration>("Duration");
    operators(&mut host.engine);
    times(host);
    parts(host);
    durations(host);
}

/// Making a time (now, parsed, from a Unix timestamp) and showing it.
fn times(host: &mut Host) {
    rows!(host;
        "now", "-> Time", "The current time, in UTC", || now_in(TimeZone::UTC);
        "now_local", "-> Time", "The current time, in the system's time zone (TZ, /etc/localtime)",
            || now_in(TimeZone::system());
        "parse_time", "text: String -> Time",
            "ISO-8601 (2026-11-26T14:30:00Z, +01:00, a date alone; no offset: UTC) or RFC 2822",
            parse;
        "parse_time", "text: String, format: String -> Time",
            "`text` read with a strftime format (%Y-%m-%d %H:%M:%S); no offset in it: UTC",
            parse_with;
        "from_unix", "seconds: int -> Time",
            "The time `seconds` after 1970-01-01T00:00:00Z, in UTC",
            |seconds: INT| -> RhaiResult<Time> {
                Timestamp::from_second(seconds)
                    .map(|t| Time(t.to_zoned_datetime(TimeZone::UTC)))
                    .map_err(|e| error("from_unix", &e))
            };
        "from_unix_millis", "millis: int -> Time",
            "The time `millis` milliseconds after 1970-01-01T00:00:00Z, in UTC",
            |millis: INT| -> RhaiResult<Time> {
                Timestamp::from_millisecond(millis)
                    .map(|t| Time(t.to_zoned_datetime(TimeZone::UTC)))
                    .map_err(|e| error("from_unix_millis", &e))
            };
        "unix", "time: Time -> int", "Seconds since 1970-01-01T00:00:00Z",
            |t: &mut Time| t.0.timestamp().as_second();
        "unix_millis", "time: Time -> int", "Milliseconds since 1970-01-01T00:00:00Z",
            |t: &mut Time| t.0.timestamp().as_millisecond();
        "format", "time: Time, format: String -> String",
            "The time as strftime `format` says (%Y-%m-%d %H:%M:%S %Z)",
            |t: &mut Time, format: &str| -> RhaiResult<String> {
                jiff::fmt::strtime::format(format, &t.0)
                    .map_err(|e| error(&format!("format(`{format}`)"), &e))
            };
        "to_rfc2822", "time: Time -> String",
            "The time as RFC 2822 (mail, HTTP): Thu, 26 Nov 2026 14:30:00 +0000",
            |t: &mut Time| -> RhaiResult<String> {
                jiff::fmt::rfc2822::to_string(&t.0).map_err(|e| error("to_rfc2822", &e))
            };
        "in_zone", "time: Time, zone: String -> Time",
            "The same time shown in a zone by name (Europe/Paris, UTC, local)",
            |t: &mut Time, name: &str| -> RhaiResult<Time> {
                Ok(Time(t.0.with_time_zone(zone(name)?)))
            };
        "zone", "time: Time -> String",
            "The name of the time's zone (Europe/Paris, UTC), or its offset (+01:00)",
            |t: &mut Time| zone_name(&t.0);
    );
}

/// `zone(time)`: the zone's name, else its offset.
fn zone_name(time: &ZonedDateTime) -> String {
    match time.time_zone().iana_name() {
        Some(name) => name.to_owned(),
        None if time.offset() == Offset::UTC => "UTC".to_owned(),
        None => {
            let seconds = time.offset().seconds();
            let sign = if seconds < 0 { '-' } else { '+' };
            let minutes = seconds.unsigned_abs() / 60;
            format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
        }
    }
}

/// A time's calendar parts, and the time as text.
fn parts(host: &mut Host) {
    rows!(host;
        "year", "time: Time -> int", "The year", |t: &mut Time| INT::from(t.0.year());
        "month", "time: Time -> int", "The month, 1 to 12", |t: &mut Time| INT::from(t.0.month());
        "day", "time: Time -> int", "The day of the month, 1 to 31",
            |t: &mut Time| INT::from(t.0.day());
        "hour", "time: Time -> int", "The hour, 0 to 23", |t: &mut Time| INT::from(t.0.hour());
        "minute", "time: Time -> int", "The minute, 0 to 59",
            |t: &mut Time| INT::from(t.0.minute());
        "second", "time: Time -> int", "The second, 0 to 59",
            |t: &mut Time| INT::from(t.0.second());
        "weekday", "time: Time -> int", "The day of the week, 1 (Monday) to 7 (Sunday)",
            |t: &mut Time| INT::from(t.0.weekday().to_monday_one_offset());
        "to_string", "time: Time -> String", "ISO-8601 with the offset: 2026-11-26T14:30:00Z",
            |t: &mut Time| t.to_string();
        "to_debug", "time: Time -> String", "The time, for debug()",
            |t: &mut Time| format!("time(\"{t}\")");
    );
}

/// Making a duration, its whole units, and the duration as text.
fn durations(host: &mut Host) {
    rows!(host;
        "seconds", "n: ? -> Duration", "A duration of `n` seconds (an int or a float)",
            |n: Dynamic| amount(&n, 1, "seconds");
        "minutes", "n: ? -> Duration", "A duration of `n` minutes",
            |n: Dynamic| amount(&n, 60, "minutes");
        "hours", "n: ? -> Duration", "A duration of `n` hours",
            |n: Dynamic| amount(&n, 3600, "hours");
        "days", "n: ? -> Duration", "A duration of `n` days of 24 hours",
            |n: Dynamic| amount(&n, 86400, "days");
        "weeks", "n: ? -> Duration", "A duration of `n` weeks",
            |n: Dynamic| amount(&n, 7 * 86400, "weeks");
        "duration", "text: String -> Duration",
            "A duration from text: 90m, 1h 30m, 2 days, 1.5h, PT1H30M", parse_duration;
        "as_seconds", "d: Duration -> int", "The whole seconds in a duration",
            |d: &mut Duration| d.0.as_secs();
        "as_minutes", "d: Duration -> int", "The whole minutes in a duration",
            |d: &mut Duration| d.0.as_secs() / 60;
        "as_hours", "d: Duration -> int", "The whole hours in a duration",
            |d: &mut Duration| d.0.as_secs() / 3600;
        "as_days", "d: Duration -> int", "The whole days (of 24 hours) in a duration",
            |d: &mut Duration| d.0.as_secs() / 86400;
        "as_millis", "d: Duration -> int", "The whole milliseconds in a duration",
            |d: &mut Duration| -> RhaiResult<INT> {
                INT::try_from(d.0.as_millis()).map_err(|_| runtime_error("duration out of range"))
            };
        "to_string", "d: Duration -> String", "The duration as 1h 30m",
            |d: &mut Duration| d.to_string();
        "to_iso", "d: Duration -> String",
            "The duration as ISO-8601 (PT1H30M), as SQL intervals take it",
            |d: &mut Duration| d.0.to_string();
        "to_debug", "d: Duration -> String", "The duration, for debug()",
            |d: &mut Duration| format!("duration(\"{d}\")");
    );
}
