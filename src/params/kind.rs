//! The value types of parameters, and turning command-line text into Rhai values: integers,
//! floats, bools, real calendar dates, absolute paths, one of some words.

use std::path::{Component, Path, PathBuf};

use rhai::Dynamic;

use super::Kind;
use crate::suggest;

impl Kind {
    pub(crate) fn takes_value(&self) -> bool {
        !matches!(self, Kind::Flag)
    }

    /// `int`, `date`, `fast|safe`: what `<...>` shows after the option.
    pub(crate) fn placeholder(&self) -> String {
        match self {
            Kind::String => "string".into(),
            Kind::Int => "int".into(),
            Kind::Float => "float".into(),
            Kind::Bool => "bool".into(),
            Kind::Date => "date".into(),
            Kind::Path => "path".into(),
            Kind::OneOf(choices) => choices.join("|"),
            Kind::Flag => String::new(),
        }
    }

    /// Converts one command-line value; the error says what was expected, for the caller to
    /// put after the parameter's name (`` `--since` expects a date ``).
    pub(crate) fn convert(&self, text: &str, base: &Path) -> anyhow::Result<Dynamic> {
        let expected = |what: &str| format!("expects {what}, got `{text}`");
        match self {
            Kind::String => Ok(text.to_owned().into()),
            Kind::Int => text
                .parse::<rhai::INT>()
                .map(Dynamic::from)
                .map_err(|_| anyhow::anyhow!(expected("an integer"))),
            Kind::Float => match text.parse::<rhai::FLOAT>() {
                Ok(x) if x.is_finite() => Ok(x.into()),
                _ => Err(anyhow::anyhow!(expected("a number"))),
            },
            Kind::Bool | Kind::Flag => parse_bool(text)
                .map(Dynamic::from)
                .ok_or_else(|| anyhow::anyhow!(expected("true or false (yes/no, 1/0)"))),
            Kind::Date => check_date(text)
                .map(|()| text.to_owned().into())
                .map_err(|why| anyhow::anyhow!("{}{why}", expected("a date (YYYY-MM-DD)"))),
            Kind::Path if text.is_empty() => anyhow::bail!("expects a path, got an empty string"),
            Kind::Path => Ok(normalise(&base.join(text))
                .to_string_lossy()
                .into_owned()
                .into()),
            Kind::OneOf(choices) if choices.iter().any(|c| c == text) => Ok(text.to_owned().into()),
            Kind::OneOf(choices) => {
                let mut message = expected(&format!("one of {}", choices.join(", ")));
                if let Some(close) = suggest::closest(text, choices.iter().map(String::as_str)) {
                    message.push_str(&format!(" (did you mean `{close}`?)"));
                }
                Err(anyhow::anyhow!(message))
            }
        }
    }
}

/// The absolute form of `path`, `.` and `..` resolved lexically (`/app/var/../y` is `/app/y`):
/// the path as the user wrote it, symlinks untouched, whether or not it exists.
fn normalise(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for part in absolute.components() {
        match part {
            Component::CurDir => {}
            // `..` above the root is the root, as the kernel has it.
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Some(true),
        "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// Why a text is no date, said after "got `...`": nothing more when it is not `YYYY-MM-DD`.
enum NoDate {
    Shape,
    Month(u32),
    Day {
        month: &'static str,
        year: u32,
        days: u32,
    },
}

impl std::fmt::Display for NoDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoDate::Shape => Ok(()),
            NoDate::Month(month) => write!(f, ": there is no month {month}"),
            NoDate::Day { month, year, days } => write!(f, ": {month} {year} has {days} days"),
        }
    }
}

/// `YYYY-MM-DD`, a day that exists.
fn check_date(text: &str) -> Result<(), NoDate> {
    let bytes = text.as_bytes();
    let shape = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && [0, 1, 2, 3, 5, 6, 8, 9]
            .iter()
            .all(|&i| bytes[i].is_ascii_digit());
    if !shape {
        return Err(NoDate::Shape);
    }
    let number = |range: std::ops::Range<usize>| text[range].parse::<u32>().unwrap_or(0);
    let (year, month, day) = (number(0..4), number(5..7), number(8..10));
    #[allow(clippy::items_after_statements)] // the names sit beside the one use
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    if !(1..=12).contains(&month) {
        return Err(NoDate::Month(month));
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day == 0 || day > days {
        let month = MONTHS[month as usize - 1];
        return Err(NoDate::Day { month, year, days });
    }
    Ok(())
}
