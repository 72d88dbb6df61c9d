//! The limits adminsh sets on scripts, in one place: sizes and depths no real admin script
//! reaches, so that a runaway script (a string padded to 100 GB, a function recursing forever)
//! stops with an error naming the limit instead of exhausting memory or the stack.
//!
//! Call and expression depths are the engine's own limits. Sizes are not: once rhai has any
//! size limit it measures a whole array after every change to it, so a loop that appends to an
//! array becomes quadratic (200,000 `push`es: 0.14 s without, 32 s with). Sizes are checked
//! instead where one operation makes data out of a number (`pad`, `blob(n)`), before anything
//! is allocated (`hardened.rs`). Data built up step by step is bounded by memory, not by these.
//!
//! Not limited either: the number of operations (Ctrl-C and SIGTERM stop a runaway loop;
//! `.timeout()` bounds a command), variables, functions and imported modules. How deeply values
//! may nest is bounded by memory, not by a count: `main` runs adminsh on a thread with a large
//! stack, which is what printing, comparing, copying and freeing a nested value recurse on.

use rhai::{Engine, EvalAltResult, ParseErrorType};

/// The longest string one operation may make, in bytes: 2 GiB.
pub(crate) const MAX_STRING_BYTES: usize = 2 << 30;

/// The largest blob one operation may make, in bytes: 2 GiB, as for strings.
pub(crate) const MAX_BLOB_BYTES: usize = MAX_STRING_BYTES;

/// The most items padding may give an array, nested arrays' items included: 16 Mi (256 MiB of
/// values; a few times that for values of adminsh's types, commands say).
pub(crate) const MAX_ARRAY_ITEMS: usize = 1 << 24;

/// The most map entries padding an array may make, nested maps' entries included: 16 Mi.
pub(crate) const MAX_MAP_ENTRIES: usize = 1 << 24;

/// How deeply function calls may nest (script functions, closures and callbacks): 64. Set
/// explicitly because rhai's default is 8 in debug builds and 64 in release builds.
pub(crate) const MAX_CALL_LEVELS: usize = 64;

/// How deeply expressions and statements may nest in the source, at the top level and inside
/// functions: 64 (rhai's release default; its debug default is 32 and 16).
pub(crate) const MAX_EXPR_DEPTH: usize = 64;

/// The longest `.timeout(seconds)` of a command: 365 days. Longer is a mistake (or a way of
/// saying "no timeout", which is what leaving `.timeout()` out means).
pub(crate) const MAX_TIMEOUT_SECONDS: u64 = 365 * 24 * 60 * 60;

/// The longest one wait of a script (`sleep`, `retry`'s backoff, `wait_until`'s timeout and
/// interval): a week (`waiting.rs`).
pub(crate) const MAX_WAIT_SECONDS: u64 = 7 * 24 * 60 * 60;

/// Sets the engine's own limits, the depths, on `engine`.
pub(crate) fn apply(engine: &mut Engine) {
    engine.set_max_call_levels(MAX_CALL_LEVELS);
    engine.set_max_expr_depths(MAX_EXPR_DEPTH, MAX_EXPR_DEPTH);
}

/// The message for an error raised by one of the limits, naming the limit; `None` for other
/// errors. Rhai's own messages ("Stack overflow") do not say what the limit is.
pub(crate) fn describe(error: &EvalAltResult) -> Option<String> {
    let message = match error {
        EvalAltResult::ErrorDataTooLarge(what, _) => {
            let (thing, limit) = if what.contains("string") {
                ("a string", sized(MAX_STRING_BYTES))
            } else if what.contains("map") {
                ("padding", format!("{MAX_MAP_ENTRIES} map entries"))
            } else if what == "Size of BLOB" {
                ("a blob", sized(MAX_BLOB_BYTES))
            } else if what.contains("array") {
                ("an array", format!("{MAX_ARRAY_ITEMS} items"))
            } else {
                return None;
            };
            format!("{what} too large: {thing} may have at most {limit}")
        }
        EvalAltResult::ErrorStackOverflow(_) => {
            format!("too many nested function calls: calls may nest at most {MAX_CALL_LEVELS} deep")
        }
        EvalAltResult::ErrorParsing(ParseErrorType::ExprTooDeep, _) => {
            format!("Syntax error: expression nested too deeply: at most {MAX_EXPR_DEPTH} levels")
        }
        _ => return None,
    };
    Some(message)
}

/// `2147483648 bytes (2 GiB)`
fn sized(n: usize) -> String {
    format!("{n} bytes ({})", bytes(n))
}

/// `n` bytes for people: `300 MiB`, `2 GiB`, `512 bytes`.
pub(crate) fn bytes(n: usize) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} bytes");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let shown = format!("{value:.1}");
    format!(
        "{} {}",
        shown.strip_suffix(".0").unwrap_or(&shown),
        UNITS[unit]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rhai::Position;

    #[test]
    fn sizes_for_people() {
        assert_eq!(bytes(512), "512 bytes");
        assert_eq!(bytes(MAX_STRING_BYTES), "2 GiB");
        assert_eq!(bytes(300 << 20), "300 MiB");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes((16 << 20) + 1), "16 MiB");
    }

    #[test]
    fn limit_errors_name_the_limit() {
        let too_large = |what: &str| {
            describe(&EvalAltResult::ErrorDataTooLarge(
                what.into(),
                Position::NONE,
            ))
            .unwrap()
        };
        let bytes = "at most 2147483648 bytes (2 GiB)";
        assert!(too_large("Length of string").ends_with(bytes));
        assert!(too_large("Size of BLOB").ends_with(bytes));
        assert!(too_large("Size of array/BLOB").ends_with("at most 16777216 items"));
        assert!(too_large("Size of object map").ends_with("at most 16777216 map entries"));
        let deep = describe(&EvalAltResult::ErrorStackOverflow(Position::NONE)).unwrap();
        assert!(deep.contains("64"), "{deep}");
        assert!(describe(&EvalAltResult::ErrorTooManyOperations(Position::NONE)).is_none());
    }
}
