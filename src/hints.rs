//! Hints for the mistakes people make most in Rhai, added to the error they cause: a closure
//! called like a function (`count(x)` for `count.call(x)`), a stdlib module used without its
//! `import`, a misspelt function (the closest names, as for scripts and options).

use rhai::{EvalAltResult, ParseErrorType, Position};

use crate::step_code::call_text;
use crate::{stdlib, suggest};

/// Functions of Rhai itself that scripts call most, offered besides the host API's and the
/// script's own when a name is misspelt.
const RHAI_FUNCTIONS: &[&str] = &[
    "abs",
    "all",
    "call",
    "ceiling",
    "chars",
    "clear",
    "contains",
    "curry",
    "drain",
    "ends_with",
    "filter",
    "find",
    "floor",
    "for_each",
    "get",
    "index_of",
    "insert",
    "is_empty",
    "join",
    "keys",
    "len",
    "map",
    "max",
    "min",
    "pad",
    "parse_float",
    "parse_int",
    "pop",
    "push",
    "reduce",
    "remove",
    "replace",
    "retain",
    "reverse",
    "round",
    "shift",
    "some",
    "sort",
    "split",
    "starts_with",
    "sub_string",
    "to_float",
    "to_int",
    "to_lower",
    "to_string",
    "to_upper",
    "trim",
    "type_of",
    "values",
];

/// What the code that failed knows besides its text: the host API's names, and the variables
/// it had (the console's, from earlier inputs), each with whether it holds a closure.
#[derive(Default)]
pub(crate) struct Known<'a> {
    pub functions: Vec<&'a str>,
    pub variables: Vec<(String, bool)>,
}

/// The hint for `error` at `pos` in the source `text`, if it is a known mistake.
pub(crate) fn hint(
    error: &EvalAltResult,
    pos: Position,
    text: Option<&str>,
    known: &Known,
) -> Option<String> {
    match error {
        EvalAltResult::ErrorParsing(ParseErrorType::ModuleUndefined(name), _) => {
            stdlib::source(&format!("{}{name}", stdlib::PREFIX)).map(|_| {
                format!(
                    "`{name}::` needs its import first: `import \"{}{name}\" as {name};`",
                    stdlib::PREFIX
                )
            })
        }
        EvalAltResult::ErrorFunctionNotFound(signature, _) => {
            let name = signature.split([' ', '(']).next()?;
            if name.contains("::") || name.is_empty() {
                return None;
            }
            let text = text.unwrap_or_default();
            closure_variable(name, pos, text, known)
                .or_else(|| misspelt(name, text, &known.functions))
        }
        // `l.transaction(|| l.exec(..))`: Rhai lends `l` to the method called on it.
        EvalAltResult::ErrorDataRace(what, _) if what.ends_with("'transaction'") => Some(
            "the closure uses the handle whose transaction it runs in, which Rhai lends to that \
             call: take the handle as the closure's parameter, `l.transaction(|tx| tx.exec(...))`, \
             or call it as a function, `transaction(l, || l.exec(...))`"
                .to_owned(),
        ),
        _ => None,
    }
}

/// Where the script calls `h.transaction(...)` with a closure that uses `h` again: the call a
/// data race on `'transaction'` comes from, which Rhai raises before the call, with no place.
/// The first such call in the text, at its method's name.
pub(crate) fn lent_handle_call(error: &EvalAltResult, text: &str) -> Option<Position> {
    const CALL: &str = ".transaction(";
    if !matches!(error, EvalAltResult::ErrorDataRace(what, _) if what.ends_with("'transaction'")) {
        return None;
    }
    let is_name = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(CALL).find_map(|(at, _)| {
        let before = &text[..at];
        let receiver = &before[before.trim_end_matches(is_name).len()..];
        let after = &text[at + CALL.len()..];
        let used_again = after
            .match_indices(&format!("{receiver}."))
            .any(|(i, _)| !after[..i].ends_with(is_name));
        if receiver.is_empty() || !used_again {
            return None;
        }
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 2;
        Some(Position::new(
            u16::try_from(line).ok()?,
            u16::try_from(column).ok()?,
        ))
    })
}

/// `count(x)` where `count` is a variable or a parameter: a closure is called with `.call`.
fn closure_variable(name: &str, pos: Position, text: &str, known: &Known) -> Option<String> {
    let call = pos
        .line()
        .and_then(|line| call_text(text, line, pos.position().unwrap_or(1)))
        .and_then(|call| call.strip_prefix(name))
        .filter(|args| args.starts_with('('))
        .map_or_else(
            || format!("{name}.call(...)"),
            |args| format!("{name}.call{args}"),
        );
    let variable = known.variables.iter().find(|(n, _)| n == name);
    let declared = match variable {
        Some((_, true)) => Some(Declared::Closure),
        Some((_, false)) => Some(Declared::Variable),
        None => declaration(name, text),
    };
    match declared? {
        Declared::Closure => Some(format!("`{name}` holds a closure: call it as `{call}`")),
        Declared::Variable => Some(format!(
            "`{name}` is a variable, not a function: if it holds a closure, call it as `{call}`"
        )),
        Declared::Parameter => Some(format!(
            "`{name}` is a parameter, not a function: if it holds a closure, call it as `{call}`"
        )),
    }
}

enum Declared {
    /// `let name = |...| ...` or `let name = Fn(...)`.
    Closure,
    /// `let name = ...` of anything else.
    Variable,
    /// A parameter of a function or a closure.
    Parameter,
}

/// How the script declares `name`, if it does: a variable (holding a closure or not) or a
/// parameter. Read from the text, as people write it; no function of that name is defined.
fn declaration(name: &str, text: &str) -> Option<Declared> {
    let words = identifiers(text);
    if words.windows(2).any(|w| w[0].1 == "fn" && w[1].1 == name) {
        return None;
    }
    let mut found = None;
    for window in words.windows(2) {
        let [(_, keyword), (end, word)] = window else {
            continue;
        };
        if (*keyword == "let" || *keyword == "const") && *word == name {
            let rest = text[*end..].trim_start();
            let Some(value) = rest.strip_prefix('=').filter(|v| !v.starts_with('=')) else {
                continue;
            };
            let value = value.trim_start();
            if value.starts_with('|') || value.starts_with("Fn(") {
                return Some(Declared::Closure);
            }
            found = Some(Declared::Variable);
        }
    }
    found.or_else(|| is_parameter(name, text).then_some(Declared::Parameter))
}

/// Whether `name` is a parameter of a function (`fn f(name)`) or a closure (`|name|`).
fn is_parameter(name: &str, text: &str) -> bool {
    let is_name = |part: &str| part.trim() == name;
    let functions = text.split("fn ").skip(1).filter_map(|rest| {
        let open = rest.find('(')?;
        let close = rest[open..].find(')')? + open;
        Some(rest[open + 1..close].to_owned())
    });
    let closures = text.split('|').skip(1).step_by(2).map(str::to_owned);
    functions
        .chain(closures)
        .any(|params| params.split(',').any(is_name))
}

/// A misspelt function: the closest of the host API, Rhai's common functions and the
/// script's own.
fn misspelt(name: &str, text: &str, functions: &[&str]) -> Option<String> {
    // Any name of one or two letters is "close" to too many.
    if name.chars().count() < 3 {
        return None;
    }
    let words = identifiers(text);
    let own = words.windows(2).filter(|w| w[0].1 == "fn").map(|w| w[1].1);
    let mut candidates: Vec<&str> = functions
        .iter()
        .copied()
        .chain(RHAI_FUNCTIONS.iter().copied())
        .chain(own)
        .filter(|c| *c != name)
        .collect();
    candidates.sort_unstable();
    candidates.dedup();
    let close = suggest::ranked(name, candidates);
    match close.as_slice() {
        [] => None,
        [one] => Some(format!("did you mean `{one}`?")),
        [first, second, ..] => Some(format!("did you mean `{first}` or `{second}`?")),
    }
}

/// The identifiers of `text` with the byte offset just after each, outside strings and
/// comments only roughly (enough to find declarations).
fn identifiers(text: &str) -> Vec<(usize, &str)> {
    let mut words = Vec::new();
    let mut start = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        let part = c.is_alphanumeric() || c == '_';
        match (start, part) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                words.push((i, &text[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    words
}

/// `Function not found: cmdd (&str | ImmutableString | String)` as a script's author reads
/// it: Rhai's three names for a string type said once.
pub(crate) fn plain_types(message: &str) -> String {
    message.replace("&str | ImmutableString | String", "string")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lent_handle_is_found_where_its_closure_uses_it_again() {
        let race = EvalAltResult::ErrorDataRace(
            "argument #1 of function 'transaction'".into(),
            Position::NONE,
        );
        let cases: &[(&str, Option<(u16, u16)>)] = &[
            ("l.transaction(|| l.exec(1))", Some((1, 3))),
            (
                "let x = 1;\n  conn.transaction(|| {\n    conn.exec(1)\n  })",
                Some((2, 8)),
            ),
            ("l.transaction(|tx| tx.exec(1))", None),
            ("l.transaction(|| xl.exec(1))", None),
            ("db::transaction(|| db::exec(1))", None),
            ("(l).transaction(|| l.exec(1))", None),
            (
                "a.transaction(|tx| 1);\nb.transaction(|| b.exec(1))",
                Some((2, 3)),
            ),
            ("é.transaction(|| é.exec(1))", Some((1, 3))),
        ];
        for (text, want) in cases {
            let got = lent_handle_call(&race, text).map(|p| {
                (
                    u16::try_from(p.line().unwrap()).unwrap(),
                    u16::try_from(p.position().unwrap()).unwrap(),
                )
            });
            assert_eq!(got, *want, "{text:?}");
        }
        let other =
            EvalAltResult::ErrorDataRace("argument #1 of function 'each'".into(), Position::NONE);
        assert_eq!(
            lent_handle_call(&other, "l.transaction(|| l.exec(1))"),
            None
        );
    }

    fn hint_for(code: &str, line: usize, column: usize, signature: &str) -> Option<String> {
        let error = EvalAltResult::ErrorFunctionNotFound(signature.into(), Position::NONE);
        let pos = Position::new(u16::try_from(line).unwrap(), u16::try_from(column).unwrap());
        let known = Known {
            functions: vec!["cmd", "run", "read", "exists"],
            variables: vec![("earlier".into(), true), ("value".into(), false)],
        };
        hint(&error, pos, Some(code), &known)
    }

    #[test]
    fn hints_for_common_mistakes() {
        let cases = [
            (
                "let count = |x| x; count(1)",
                1,
                20,
                "count (i64)",
                Some("`count` holds a closure: call it as `count.call(1)`"),
            ),
            (
                "const f = Fn(\"g\"); f()",
                1,
                20,
                "f ()",
                Some("`f` holds a closure: call it as `f.call()`"),
            ),
            (
                "let n = 1; n(2, 3)",
                1,
                12,
                "n (i64, i64)",
                Some(
                    "`n` is a variable, not a function: if it holds a closure, call it as `n.call(2, 3)`",
                ),
            ),
            (
                "fn apply(f, x) { f(x) }",
                1,
                18,
                "f (i64)",
                Some(
                    "`f` is a parameter, not a function: if it holds a closure, call it as `f.call(x)`",
                ),
            ),
            (
                "[1].map(|g| g(1))",
                1,
                13,
                "g (i64)",
                Some(
                    "`g` is a parameter, not a function: if it holds a closure, call it as `g.call(1)`",
                ),
            ),
            (
                "cmdd(\"x\")",
                1,
                1,
                "cmdd (&str | ImmutableString | String)",
                Some("did you mean `cmd`?"),
            ),
            (
                "cmd(\"x\").runn()",
                1,
                10,
                "runn (Cmd)",
                Some("did you mean `run`?"),
            ),
            (
                "fn helper() {}\nhelpr()",
                2,
                1,
                "helpr ()",
                Some("did you mean `helper`?"),
            ),
            (
                "[1].lenn()",
                1,
                5,
                "lenn (array)",
                Some("did you mean `len`?"),
            ),
            ("zzzzzz()", 1, 1, "zzzzzz ()", None),
            ("fx()", 1, 1, "fx ()", None),
            (
                "earlier(1)",
                1,
                1,
                "earlier (i64)",
                Some("`earlier` holds a closure: call it as `earlier.call(1)`"),
            ),
            (
                "value(1)",
                1,
                1,
                "value (i64)",
                Some(
                    "`value` is a variable, not a function: if it holds a closure, call it as `value.call(1)`",
                ),
            ),
        ];
        for (code, line, column, signature, want) in cases {
            assert_eq!(
                hint_for(code, line, column, signature).as_deref(),
                want,
                "{code}"
            );
        }
    }

    #[test]
    fn a_stdlib_module_used_without_its_import() {
        // `db` is a module of the engine itself (no import needed); the stdlib's Rhai modules
        // each get the hint naming their import.
        for (module, _) in stdlib::MODULES {
            let name = module.trim_start_matches(stdlib::PREFIX);
            let path = format!("{}{name}", stdlib::PREFIX);
            let undefined = EvalAltResult::ErrorParsing(
                ParseErrorType::ModuleUndefined(name.into()),
                Position::NONE,
            );
            assert_eq!(
                hint(&undefined, Position::NONE, None, &Known::default()),
                Some(format!(
                    "`{name}::` needs its import first: `import \"{path}\" as {name};`"
                ))
            );
        }
        let other = EvalAltResult::ErrorParsing(
            ParseErrorType::ModuleUndefined("h".into()),
            Position::NONE,
        );
        assert_eq!(hint(&other, Position::NONE, None, &Known::default()), None);
    }
}
