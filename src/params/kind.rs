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

    /// Converts one command-line value; the error says what was expected.
    pub(crate) fn convert(&self, text: &str, base: &Path) -> Result<Dynamic, String> {
        let expected = |what: &str| format!("expects {what}, got `{text}`");
        match self {
            Kind::String => Ok(text.to_owned().into()),
            Kind::Int => text
                .parse::<rhai::INT>()
                .map(Dynamic::from)
                .map_err(|_| expected("an integer")),
            Kind::Float => match text.parse::<rhai::FLOAT>() {
                Ok(x) if x.is_finite() => Ok(x.into()),
                _ => Err(expected("a number")),
            },
            Kind::Bool | Kind::Flag => parse_bool(text)
                .map(Dynamic::from)
                .ok_or_else(|| expected("true or false (yes/no, 1/0)")),
            Kind::Date => check_date(text)
                .map(|()| text.to_owned().into())
                .map_err(|why| format!("{}{why}", expected("a date (YYYY-MM-DD)"))),
            Kind::Path if text.is_empty() => Err("expects a path, got an empty string".into()),
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
                Err(message)
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

/// `YYYY-MM-DD`, a day that exists; the error is said after "got `...`".
fn check_date(text: &str) -> Result<(), String> {
    let bytes = text.as_bytes();
    let shape = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && [0, 1, 2, 3, 5, 6, 8, 9]
            .iter()
            .all(|&i| bytes[i].is_ascii_digit());
    if !shape {
        return Err(String::new());
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
        return Err(format!(": there is no month {month}"));
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day == 0 || day > days {
        let name = MONTHS[month as usize - 1];
        return Err(format!(": {name} {year} has {days} days"));
    }
    Ok(())
}
