//! Times and durations from scripts: parsing and formatting, zones, Unix timestamps,
//! arithmetic and comparison, and the errors for text that is not a time.

use crate::support::Test;

#[track_caller]
fn prints(expr: &str, expected: &str) {
    Test::new()
        .args(&["-e", expr])
        .env("TZ", "Europe/Paris")
        .stdout(&format!("{expected}\n"))
        .run();
}

#[test]
fn parse_and_format() {
    for (expr, expected) in [
        (
            r#"parse_time("2026-11-26T10:00:00Z")"#,
            "2026-11-26T10:00:00Z",
        ),
        (
            r#"parse_time("2026-11-26T10:00:00.25Z")"#,
            "2026-11-26T10:00:00.25Z",
        ),
        (
            r#"parse_time("2026-11-26T10:00:00+01:00")"#,
            "2026-11-26T10:00:00+01:00",
        ),
        (
            r#"parse_time("2026-11-26T10:00:00-05:30")"#,
            "2026-11-26T10:00:00-05:30",
        ),
        (
            r#"parse_time("2026-11-26T10:00:00+00:00")"#,
            "2026-11-26T10:00:00Z",
        ),
        (
            r#"parse_time("2026-11-26 10:00:00")"#,
            "2026-11-26T10:00:00Z",
        ),
        (
            r#"parse_time("  2026-11-26T10:00  ")"#,
            "2026-11-26T10:00:00Z",
        ),
        (r#"parse_time("2026-11-26")"#, "2026-11-26T00:00:00Z"),
        (
            r#"parse_time("2026-07-01T10:00:00+02:00[Europe/Paris]")"#,
            "2026-07-01T10:00:00+02:00",
        ),
        (
            r#"parse_time("2026-07-01T10:00:00+02:00[Europe/Paris]").zone()"#,
            "Europe/Paris",
        ),
        (
            r#"parse_time("Thu, 26 Nov 2026 10:00:00 +0100")"#,
            "2026-11-26T10:00:00+01:00",
        ),
        (
            r#"parse_time("26/11/2026", "%d/%m/%Y")"#,
            "2026-11-26T00:00:00Z",
        ),
        (
            r#"parse_time("26/11/2026 10:30", "%d/%m/%Y %H:%M")"#,
            "2026-11-26T10:30:00Z",
        ),
        (
            r#"parse_time("26/11/2026 10:30 +0200", "%d/%m/%Y %H:%M %z")"#,
            "2026-11-26T10:30:00+02:00",
        ),
        (
            r#"parse_time("2026-11-26T10:00:00Z").format("%Y-%m-%d %H:%M:%S")"#,
            "2026-11-26 10:00:00",
        ),
        (
            r#"parse_time("2026-11-26T10:00:00Z").format("%A %d %B %Y")"#,
            "Thursday 26 November 2026",
        ),
        (
            r#"parse_time("2026-11-26T10:00:00Z").to_rfc2822()"#,
            "Thu, 26 Nov 2026 10:00:00 +0000",
        ),
        (
            r#"let t = parse_time("2026-11-26T10:00:00Z"); [t.year(), t.month(), t.day(), t.hour(), t.minute(), t.second(), t.weekday()]"#,
            "[2026, 11, 26, 10, 0, 0, 4]",
        ),
        (
            r#"`due ${parse_time("2026-11-26")}`"#,
            "due 2026-11-26T00:00:00Z",
        ),
        (
            r#""due " + parse_time("2026-11-26")"#,
            "due 2026-11-26T00:00:00Z",
        ),
        (
            r#"[parse_time("2026-11-26")]"#,
            r#"[time("2026-11-26T00:00:00Z")]"#,
        ),
        (
            r#"to_json(#{at: parse_time("2026-11-26T10:00:00+01:00"), every: minutes(90), list: [from_unix(0)]})"#,
            r#"{"at":"2026-11-26T10:00:00+01:00","every":"PT1H30M","list":["1970-01-01T00:00:00Z"]}"#,
        ),
    ] {
        prints(expr, expected);
    }
}

#[test]
fn zones_and_unix_timestamps() {
    for (expr, expected) in [
        ("from_unix(0)", "1970-01-01T00:00:00Z"),
        ("from_unix(1795687200)", "2026-11-26T10:00:00Z"),
        ("from_unix_millis(1500)", "1970-01-01T00:00:01.5Z"),
        (
            r#"parse_time("2026-11-26T10:00:00+01:00").unix()"#,
            "1795683600",
        ),
        (
            r#"parse_time("1970-01-01T00:00:02.5Z").unix_millis()"#,
            "2500",
        ),
        (
            r#"from_unix(0).in_zone("Asia/Tokyo")"#,
            "1970-01-01T09:00:00+09:00",
        ),
        (r#"from_unix(0).in_zone("Asia/Tokyo").hour()"#, "9"),
        (r#"from_unix(0).in_zone("Asia/Tokyo").zone()"#, "Asia/Tokyo"),
        (
            r#"parse_time("2026-07-01T12:00:00Z").in_zone("America/New_York")"#,
            "2026-07-01T08:00:00-04:00",
        ),
        (
            r#"parse_time("2026-07-01T12:00:00Z").in_zone("local")"#,
            "2026-07-01T14:00:00+02:00",
        ),
        (r#"from_unix(0).in_zone("UTC").zone()"#, "UTC"),
        (
            r#"parse_time("2026-11-26T10:00:00+05:30").zone()"#,
            "+05:30",
        ),
        ("now_local().zone()", "Europe/Paris"),
        ("now().zone()", "UTC"),
        (
            r#"re_match(`${now()}`, "^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{1,6})?Z$")"#,
            "true",
        ),
        ("now_local() - now() < seconds(5)", "true"),
    ] {
        prints(expr, expected);
    }
}

#[test]
fn durations_arithmetic_and_comparison() {
    for (expr, expected) in [
        ("days(30)", "720h"),
        ("hours(2)", "2h"),
        ("minutes(90)", "1h 30m"),
        ("seconds(1.5)", "1s 500ms"),
        ("seconds(-90)", "-1m 30s"),
        ("weeks(1) == days(7)", "true"),
        (r#"duration("90m")"#, "1h 30m"),
        (r#"duration("1h 30m")"#, "1h 30m"),
        (r#"duration("2 days")"#, "48h"),
        (r#"duration("2d 4h")"#, "52h"),
        (r#"duration("1.5h")"#, "1h 30m"),
        (r#"duration("PT1H30M")"#, "1h 30m"),
        (r#"duration("PT1H30M").to_iso()"#, "PT1H30M"),
        (r#"duration("90m").as_minutes()"#, "90"),
        (
            "[days(2).as_days(), days(2).as_hours(), minutes(2).as_seconds(), seconds(1.5).as_millis()]",
            "[2, 48, 120, 1500]",
        ),
        (
            r#"parse_time("2026-11-26T10:00:00Z") - days(30)"#,
            "2026-10-27T10:00:00Z",
        ),
        (
            r#"parse_time("2026-11-26T10:00:00Z") + hours(2) + minutes(30)"#,
            "2026-11-26T12:30:00Z",
        ),
        (
            r#"hours(1) + parse_time("2026-11-26T10:00:00Z")"#,
            "2026-11-26T11:00:00Z",
        ),
        (
            r#"parse_time("2026-11-26T10:00:00Z") - parse_time("2026-11-25T09:30:00Z")"#,
            "24h 30m",
        ),
        (
            r#"(parse_time("2026-11-26T10:00:00Z") - parse_time("2026-11-26T11:00:00Z")).as_seconds()"#,
            "-3600",
        ),
        // A day is 24 hours, also across a change of clocks.
        (
            r#"parse_time("2026-10-24T12:00:00+02:00[Europe/Paris]") + days(1)"#,
            "2026-10-25T11:00:00+01:00",
        ),
        ("hours(1) * 3", "3h"),
        ("2 * hours(1)", "2h"),
        ("hours(1) / 4", "15m"),
        ("hours(2) - minutes(30)", "1h 30m"),
        ("hours(2) > minutes(90)", "true"),
        ("hours(1) == minutes(60)", "true"),
        ("hours(1) != minutes(61)", "true"),
        ("now() > now() - seconds(1)", "true"),
        ("now() - days(30) < now()", "true"),
        (
            r#"from_unix(0) == parse_time("1970-01-01T01:00:00+01:00")"#,
            "true",
        ),
        (
            r#"parse_time("2026-01-01") <= parse_time("2026-01-01T00:00:00Z")"#,
            "true",
        ),
        (
            r#"let a = [parse_time("2026-03-01"), parse_time("2026-01-01")]; a.sort(|a, b| if a < b { -1 } else { 1 }); a"#,
            r#"[time("2026-01-01T00:00:00Z"), time("2026-03-01T00:00:00Z")]"#,
        ),
    ] {
        prints(expr, expected);
    }
}

#[test]
fn text_that_is_not_a_time_or_a_duration_is_an_error() {
    for (expr, message) in [
        (
            r#"parse_time("2026-13-01")"#,
            "parse_time: `2026-13-01` is not an ISO-8601 time (2026-11-26T14:30:00Z) or an RFC 2822 one (",
        ),
        (
            r#"parse_time("yesterday")"#,
            "parse_time: `yesterday` is not an ISO-8601 time",
        ),
        (
            r#"parse_time("")"#,
            "parse_time: `` is not an ISO-8601 time",
        ),
        (
            r#"parse_time("2026-02-30")"#,
            "parse_time: `2026-02-30` is not",
        ),
        (
            r#"parse_time("26/11/2026 10:30", "%d/%m/%Y")"#,
            "parse_time(`26/11/2026 10:30`, `%d/%m/%Y`): ",
        ),
        (
            r#"parse_time("26/11", "%d/%m")"#,
            "parse_time(`26/11`, `%d/%m`): ",
        ),
        (r#"from_unix(0).format("%")"#, "format(`%`): "),
        (
            r#"from_unix(0).in_zone("America/New_Yrok")"#,
            "unknown time zone `America/New_Yrok` (did you mean `America/New_York`?)",
        ),
        (
            r#"from_unix(0).in_zone("Nowhere/Land")"#,
            "unknown time zone `Nowhere/Land`: ",
        ),
        (
            "from_unix(9223372036854775807)",
            "from_unix: parameter 'Unix timestamp seconds' is not in the required range",
        ),
        (
            r#"duration("x")"#,
            "duration: `x` is not a duration such as `90m`, `1h 30m`, `2 days` or `PT1H30M` (",
        ),
        // A zone the database has not is an error, never UTC.
        (
            r#"parse_time("2026-11-26T09:00:00[Mars/Olympus]")"#,
            "failed to find time zone `Mars/Olympus` in time zone database",
        ),
        (
            r#"parse_time("2026-11-26T09:00:00+01:00[Mars/Olympus]")"#,
            "failed to find time zone `Mars/Olympus` in time zone database",
        ),
        (
            r#"duration("1 month")"#,
            "duration: `1 month` has no fixed length (months and years differ in days); use days or weeks\n",
        ),
        (
            r#"duration("1 year 2 days")"#,
            "duration: `1 year 2 days` has no fixed length (months and years differ in days); use days or weeks\n",
        ),
        (
            "days(9223372036854775807)",
            "days(9223372036854775807) is too long a duration",
        ),
        ("seconds(1e300)", "seconds(1e300) is too long a duration"),
        (r#"hours("2")"#, "hours takes a number, not a string"),
        ("hours(2) / 0", "a duration divided by zero"),
        ("hours(1) * 9223372036854775807", "duration out of range"),
        ("from_unix(253402207200) + days(1)", "time out of range: "),
    ] {
        Test::new()
            .args(&["-e", expr])
            .status(1)
            .stderr_contains(message)
            .run();
    }
}
