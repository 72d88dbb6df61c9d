//! The limits adminsh sets on scripts, in one place: sizes and depths no real admin script
//! reaches, so that a runaway script (a string padded to 100 GB, a function recursing forever)
//! stops with an error naming the limit instead of exhausting memory or the stack.
//!
//! Not limited: the number of operations (Ctrl-C and SIGTERM stop a runaway loop; `.timeout()`
//! bounds a command), variables, functions and imported modules. How deeply values may nest is
//! bounded by memory, not by a count: `main` runs adminsh on a thread with a large stack, which
//! is what printing, comparing, copying and freeing a nested value recurse on.

use rhai::{Engine, EvalAltResult, ParseErrorType};

/// The longest string a script may hold, in bytes: 2 GiB. Twice the 1 GiB `.read()` of a
/// command's output that the benchmarks measure; `.each_line()` streams output of any size.
pub const MAX_STRING_BYTES: usize = 2 << 30;

/// The most items an array may hold, nested arrays' items included: 128 Mi (2 GiB of values).
/// Rhai counts a blob's bytes as array items, so this is also the largest blob, 128 MiB:
/// `.read_bytes()` of more says to pipe the output instead.
pub const MAX_ARRAY_ITEMS: usize = 1 << 27;

/// The most entries an object map may hold, nested maps' entries included: 16 Mi.
pub const MAX_MAP_ENTRIES: usize = 1 << 24;

/// How deeply function calls may nest (script functions, closures and callbacks): 64. Set
/// explicitly because rhai's default is 8 in debug builds and 64 in release builds.
pub const MAX_CALL_LEVELS: usize = 64;

/// How deeply expressions and statements may nest in the source, at the top level and inside
/// functions: 64 (rhai's release default; its debug default is 32 and 16).
pub const MAX_EXPR_DEPTH: usize = 64;

/// The longest `.timeout(seconds)` of a command: 365 days. Longer is a mistake (or a way of
/// saying "no timeout", which is what leaving `.timeout()` out means).
pub const MAX_TIMEOUT_SECONDS: u64 = 365 * 24 * 60 * 60;

/// The longest `sleep(seconds)`: 365 days, like `MAX_TIMEOUT_SECONDS`.
pub const MAX_SLEEP_SECONDS: u64 = MAX_TIMEOUT_SECONDS;

/// Sets every limit above on `engine`.
pub fn apply(engine: &mut Engine) {
    engine.set_max_string_size(MAX_STRING_BYTES);
    engine.set_max_array_size(MAX_ARRAY_ITEMS);
    engine.set_max_map_size(MAX_MAP_ENTRIES);
    engine.set_max_call_levels(MAX_CALL_LEVELS);
    engine.set_max_expr_depths(MAX_EXPR_DEPTH, MAX_EXPR_DEPTH);
}

/// The message for an error raised by one of the limits, naming the limit; `None` for other
/// errors. Rhai's own messages ("Length of string too large") do not say what the limit is.
pub fn describe(error: &EvalAltResult) -> Option<String> {
    let message = match error {
        EvalAltResult::ErrorDataTooLarge(what, _) => {
            let (thing, limit) = if what.contains("string") {
                (
                    "a string",
                    format!("{MAX_STRING_BYTES} bytes ({})", bytes(MAX_STRING_BYTES)),
                )
            } else if what.contains("map") {
                ("an object map", format!("{MAX_MAP_ENTRIES} entries"))
            } else if what.contains("array") || what.contains("BLOB") {
                (
                    "an array or blob",
                    format!(
                        "{MAX_ARRAY_ITEMS} items, or {} of bytes",
                        bytes(MAX_ARRAY_ITEMS)
                    ),
                )
            } else {
                return None;
            };
            format!("{what} too large: {thing} may hold at most {limit}")
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

/// `n` bytes for people: `300 MiB`, `2 GiB`, `512 bytes`.
pub fn bytes(n: usize) -> String {
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
    if value.fract() == 0.0 || value >= 100.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rhai::Position;

    #[test]
    fn sizes_for_people() {
        assert_eq!(bytes(512), "512 bytes");
        assert_eq!(bytes(MAX_STRING_BYTES), "2 GiB");
        assert_eq!(bytes(MAX_ARRAY_ITEMS), "128 MiB");
        assert_eq!(bytes(300 << 20), "300 MiB");
        assert_eq!(bytes(1536), "1.5 KiB");
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
        assert!(too_large("Length of string").contains("2147483648 bytes (2 GiB)"));
        assert!(too_large("Size of array/BLOB").contains("134217728 items"));
        assert!(too_large("Size of BLOB").contains("128 MiB"));
        assert!(too_large("Size of object map").contains("16777216 entries"));
        let deep = describe(&EvalAltResult::ErrorStackOverflow(Position::NONE)).unwrap();
        assert!(deep.contains("64"), "{deep}");
        assert!(describe(&EvalAltResult::ErrorTooManyOperations(Position::NONE)).is_none());
    }
}
