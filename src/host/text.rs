//! Regular expressions for scripts (the `regex` crate's syntax): `re_match`, `re_find`,
//! `re_find_all`, `re_captures`, `re_captures_all`, `re_replace`, `re_split`, `re_escape`, and
//! `regex(pattern, flags)` for a compiled pattern with flags. A pattern given as a string is
//! compiled once and kept (a loop over a log does not compile it per line); a bad one is an
//! error that shows where in the pattern it went wrong.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use rhai::{Array, Dynamic, Map};

use super::def::{Host, RhaiResult, rows, runtime_error};

/// A compiled pattern, as scripts see it (`regex("...")`).
#[derive(Debug, Clone)]
pub(crate) struct Regex(pub Rc<regex::Regex>, pub Flags);

/// Flags as letters: `i` case-insensitive, `m` multi-line (`^`/`$` at every line), `s` `.`
/// matches a newline too, `x` whitespace and `#` comments ignored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub(crate) struct Flags {
    case_insensitive: bool,
    multi_line: bool,
    dot_all: bool,
    verbose: bool,
}

impl Flags {
    pub(crate) fn case_insensitive(self) -> bool {
        self.case_insensitive
    }

    pub(crate) fn verbose(self) -> bool {
        self.verbose
    }

    fn parse(letters: &str) -> RhaiResult<Flags> {
        let mut flags = Flags::default();
        for letter in letters.chars() {
            match letter {
                'i' => flags.case_insensitive = true,
                'm' => flags.multi_line = true,
                's' => flags.dot_all = true,
                'x' => flags.verbose = true,
                other => {
                    return Err(runtime_error(format!(
                        "regex: unknown flag {other:?} (flags are i: ignore case, m: multi-line, s: `.` matches newlines, x: verbose)"
                    )));
                }
            }
        }
        Ok(flags)
    }
}

/// Patterns compiled from strings, so a loop does not compile the same one again each time.
const CACHED: usize = 256;

thread_local! {
    static CACHE: RefCell<HashMap<(String, Flags), Rc<regex::Regex>>> = RefCell::default();
}

/// The compiled `pattern`, from the cache when it was compiled before. Shared, not cloned: a
/// `regex::Regex` clone starts with no search cache of its own, and building one costs more
/// than matching a short line.
pub(crate) fn compile(pattern: &str, flags: Flags) -> RhaiResult<Rc<regex::Regex>> {
    let key = (pattern.to_owned(), flags);
    if let Some(re) = CACHE.with(|c| c.borrow().get(&key).cloned()) {
        return Ok(re);
    }
    let re = regex::RegexBuilder::new(pattern)
        .case_insensitive(flags.case_insensitive)
        .multi_line(flags.multi_line)
        .dot_matches_new_line(flags.dot_all)
        .ignore_whitespace(flags.verbose)
        .build()
        .map_err(|e| bad_pattern(pattern, flags, &e))?;
    let re = Rc::new(re);
    CACHE.with(|c| {
        let mut cache = c.borrow_mut();
        if cache.len() >= CACHED {
            cache.clear();
        }
        cache.insert(key, re.clone());
    });
    Ok(re)
}

/// A pattern argument: a string (compiled, cached) or a `regex(...)` value.
pub(crate) fn pattern(value: &Dynamic) -> RhaiResult<Rc<regex::Regex>> {
    pattern_and_flags(value).map(|(re, _)| re)
}

/// A pattern argument, with the flags it was compiled with.
pub(crate) fn pattern_and_flags(value: &Dynamic) -> RhaiResult<(Rc<regex::Regex>, Flags)> {
    if let Some(text) = value.read_lock::<rhai::ImmutableString>() {
        return Ok((compile(&text, Flags::default())?, Flags::default()));
    }
    if let Some(re) = value.read_lock::<Regex>() {
        return Ok((re.0.clone(), re.1));
    }
    Err(runtime_error(format!(
        "a pattern is a string or a regex(...), not {}",
        crate::kind::of(value)
    )))
}

/// Why a pattern does not compile, and where: the parser's own words, the pattern, and a caret
/// under the character where it went wrong.
fn bad_pattern(pattern: &str, flags: Flags, error: &regex::Error) -> Box<rhai::EvalAltResult> {
    let parsed = regex_syntax::ParserBuilder::new()
        .case_insensitive(flags.case_insensitive)
        .multi_line(flags.multi_line)
        .dot_matches_new_line(flags.dot_all)
        .ignore_whitespace(flags.verbose)
        .build()
        .parse(pattern);
    let (kind, span) = match &parsed {
        Err(regex_syntax::Error::Parse(e)) => (e.kind().to_string(), *e.span()),
        Err(regex_syntax::Error::Translate(e)) => (e.kind().to_string(), *e.span()),
        _ => {
            return match error {
                regex::Error::CompiledTooBig(limit) => runtime_error(format!(
                    "bad regex `{pattern}`: it compiles to more than {limit} bytes (a repetition such as `{{10000}}` is too big)"
                )),
                other => runtime_error(format!("bad regex `{pattern}`: {other}")),
            };
        }
    };
    // Shown on one line: a pattern's own newlines (verbose mode) would move the caret.
    let shown: String = pattern
        .chars()
        .map(|c| if c == '\n' { ' ' } else { c })
        .collect();
    let column = pattern[..span.start.offset].chars().count();
    runtime_error(format!(
        "bad regex: {kind}, at character {}:\n    {shown}\n    {}^",
        column + 1,
        " ".repeat(column)
    ))
}

fn text_of(found: Option<regex::Match<'_>>) -> Dynamic {
    found.map_or(Dynamic::UNIT, |m| Dynamic::from(m.as_str().to_owned()))
}

/// A match's groups: each by number (`"0"` is the whole match) and each named one by name;
/// `()` for a group that took no part.
fn groups(re: &regex::Regex, caps: &regex::Captures<'_>) -> Map {
    let mut map = Map::new();
    for (i, name) in re.capture_names().enumerate() {
        let value = text_of(caps.get(i));
        if let Some(name) = name {
            map.insert(name.into(), value.clone());
        }
        map.insert(i.to_string().into(), value);
    }
    map
}

/// `re_find_all`'s element for one match, as Python's `findall` gives it: the whole match
/// without groups, the group with one, an array of the groups with more.
fn found(caps: &regex::Captures<'_>) -> Dynamic {
    match caps.len() {
        1 => text_of(caps.get(0)),
        2 => text_of(caps.get(1)),
        n => Dynamic::from_array((1..n).map(|i| text_of(caps.get(i))).collect()),
    }
}

/// The regex family: the `Regex` value, then the functions taking a pattern.
pub(super) fn register(host: &mut Host) {
    host.engine.register_type_with_name::<Regex>("Regex");
    rows!(host;
        "regex", "pattern: String -> Regex", "A compiled regular expression",
            |pattern: &str| -> RhaiResult<Regex> {
                Ok(Regex(compile(pattern, Flags::default())?, Flags::default()))
            };
        "regex", "pattern: String, flags: String -> Regex",
            "A compiled regular expression with flags: i (ignore case), m (multi-line), s, x",
            |pattern: &str, flags: &str| -> RhaiResult<Regex> {
                let flags = Flags::parse(flags)?;
                Ok(Regex(compile(pattern, flags)?, flags))
            };
        "to_string", "re: Regex -> String", "The pattern",
            |re: &mut Regex| re.0.as_str().to_owned();
        "to_debug", "re: Regex -> String", "The pattern, for debug()",
            |re: &mut Regex| format!("regex({:?})", re.0.as_str());
    );
    matching(host);
}

/// `re_match` and the rest: `text` against a pattern (a string or a regex).
fn matching(host: &mut Host) {
    rows!(host;
        "re_match", "text: String, pattern: ? -> bool",
            "Whether `pattern` (a string or a regex) matches anywhere in `text`",
            |text: &str, p: Dynamic| -> RhaiResult<bool> { Ok(pattern(&p)?.is_match(text)) };
        "re_find", "text: String, pattern: ? -> ?",
            "The first match of `pattern` in `text`, or () when there is none",
            |text: &str, p: Dynamic| -> RhaiResult<Dynamic> {
                Ok(text_of(pattern(&p)?.find(text)))
            };
        "re_find_all", "text: String, pattern: ? -> Array",
            "Every match (the group's text when `pattern` has one group, an array for several)",
            |text: &str, p: Dynamic| -> RhaiResult<Array> {
                let re = pattern(&p)?;
                Ok(re.captures_iter(text).map(|c| found(&c)).collect())
            };
        "re_captures", "text: String, pattern: ? -> ?",
            "The first match's groups as a map (by name, and \"0\", \"1\", ... by number), or ()",
            |text: &str, p: Dynamic| -> RhaiResult<Dynamic> {
                let re = pattern(&p)?;
                Ok(re.captures(text).map_or(Dynamic::UNIT, |c| groups(&re, &c).into()))
            };
        "re_captures_all", "text: String, pattern: ? -> Array",
            "Every match's groups, each a map as re_captures gives it",
            |text: &str, p: Dynamic| -> RhaiResult<Array> {
                let re = pattern(&p)?;
                Ok(re.captures_iter(text).map(|c| groups(&re, &c).into()).collect())
            };
        "re_replace", "text: String, pattern: ?, replacement: String -> String",
            "`text` with every match replaced (`$1`, `${name}` insert groups; `$$` is a `$`)",
            |text: &str, p: Dynamic, replacement: &str| -> RhaiResult<String> {
                Ok(pattern(&p)?.replace_all(text, replacement).into_owned())
            };
        "re_split", "text: String, pattern: ? -> Array",
            "The parts of `text` between matches of `pattern`",
            |text: &str, p: Dynamic| -> RhaiResult<Array> {
                Ok(pattern(&p)?.split(text).map(|part| Dynamic::from(part.to_owned())).collect())
            };
        "re_escape", "text: String -> String",
            "`text` with every regex metacharacter escaped, to match it literally",
            |text: &str| regex::escape(text);
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(pattern: &str) -> String {
        match compile(pattern, Flags::default()) {
            Ok(_) => panic!("{pattern} compiled"),
            Err(e) => match *e {
                rhai::EvalAltResult::ErrorRuntime(m, _) => m.to_string(),
                other => panic!("{other}"),
            },
        }
    }

    #[test]
    fn a_bad_pattern_shows_where() {
        assert_eq!(
            message("ab(c"),
            "bad regex: unclosed group, at character 3:\n    ab(c\n      ^"
        );
        assert_eq!(
            message("é[z-a]"),
            "bad regex: invalid character class range, the start must be <= the end, at character 3:\n    é[z-a]\n      ^"
        );
        assert!(message("a{100000}{100000}").contains("compiles to more than"));
    }
}
