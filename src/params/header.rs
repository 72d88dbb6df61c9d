//! Reading a script's header: the run of `//!` lines at the very top of the script (after an
//! optional `#!` line). Its first line of text is the summary, its other lines of text are
//! what `--help` shows, and its lines starting with `@` declare the parameters. Every mistake
//! is an error naming its line and column, never a declaration silently ignored.

use std::path::Path;

use super::{Header, HeaderError, Kind, Param, Presence, TYPES};
use crate::suggest;

/// One `//!` line of the header: its number, the column where its text starts, the text.
struct DocLine<'a> {
    number: usize,
    column: usize,
    text: &'a str,
}

/// The header's lines, and the number of the first line after the header.
fn header_lines(text: &str) -> (Vec<DocLine<'_>>, usize) {
    let mut lines = Vec::new();
    let mut next = 1;
    for (i, line) in text.lines().enumerate() {
        next = i + 1;
        if i == 0 && line.starts_with("#!") {
            continue;
        }
        let Some(text) = doc_text(line) else {
            return (lines, next);
        };
        lines.push(DocLine {
            number: i + 1,
            column: line.chars().count() - text.chars().count() + 1,
            text,
        });
        next = i + 2;
    }
    (lines, next)
}

/// The text of a `//!` line (after `//!` and one space), or `None` for any other line.
fn doc_text(line: &str) -> Option<&str> {
    let rest = line.trim_start().strip_prefix("//!")?;
    Some(rest.strip_prefix(' ').unwrap_or(rest))
}

/// The first line of the header's text, however its directives read: what `--list` shows
/// even for a header with an error.
pub(crate) fn summary(text: &str) -> Option<String> {
    header_lines(text)
        .0
        .iter()
        .map(|l| l.text.trim())
        .find(|t| !t.is_empty() && !t.starts_with('@'))
        .map(str::to_owned)
}

const DIRECTIVES: [&str; 3] = ["@param", "@flag", "@no-params"];

impl Header {
    /// Reads the header of a script's text; its first error, if any.
    pub(crate) fn parse(text: &str) -> Result<Header, HeaderError> {
        let (header, errors) = Header::parse_all(text);
        match errors.into_iter().next() {
            Some(error) => Err(error),
            None => Ok(header),
        }
    }

    /// Reads the header of a script's text: what it declares, and every error in it (a line
    /// with an error declares nothing), in the order of the lines.
    pub(crate) fn parse_all(text: &str) -> (Header, Vec<HeaderError>) {
        let (lines, after) = header_lines(text);
        let mut header = Header::default();
        let mut errors = Vec::new();
        let mut texts: Vec<&str> = Vec::new();
        let mut no_params_at = None;
        for line in &lines {
            let trimmed = line.text.trim_start();
            if !trimmed.starts_with('@') {
                texts.push(line.text.trim_end());
                continue;
            }
            let mut cursor = Cursor {
                line: line.number,
                column: line.column + (line.text.chars().count() - trimmed.chars().count()),
                rest: trimmed,
            };
            header.declares = true;
            if let Err(error) = directive(&mut cursor, &mut header, &mut no_params_at) {
                errors.push(error);
            }
        }
        if let Some(error) = no_params_at.filter(|_| !header.params.is_empty()) {
            errors.push(error);
        }
        // A declaration below the header would be silently ignored: say so instead.
        for (i, line) in text.lines().enumerate().skip(after.saturating_sub(1)) {
            let Some(doc) = doc_text(line) else { continue };
            let trimmed = doc.trim_start();
            if let Some(directive) = DIRECTIVES.iter().find(|d| {
                trimmed.starts_with(*d)
                    && !trimmed[d.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '-')
            }) {
                errors.push(HeaderError {
                    line: i + 1,
                    column: line.chars().count() - trimmed.chars().count() + 1,
                    message: format!(
                        "`{directive}` below the header: the header is the `//!` lines at the \
                         top of the script, with no other line between them"
                    ),
                });
            }
        }
        errors.sort_by_key(|e| (e.line, e.column));
        let mut texts = texts.into_iter().skip_while(|t| t.trim().is_empty());
        header.summary = texts.next().map(|t| t.trim().to_owned());
        header.details = texts
            .skip_while(|t| t.trim().is_empty())
            .map(str::to_owned)
            .collect();
        while header.details.last().is_some_and(|t| t.trim().is_empty()) {
            header.details.pop();
        }
        (header, errors)
    }
}

/// Reads one `@` line into the header; `no_params_at` keeps where `@no-params` was, for the
/// error if the header declares parameters too.
fn directive(
    cursor: &mut Cursor,
    header: &mut Header,
    no_params_at: &mut Option<HeaderError>,
) -> Result<(), HeaderError> {
    let at = cursor.column;
    let directive = cursor.take_while(|c| c == '@' || c == '-' || c.is_alphanumeric());
    match directive {
        "@param" | "@flag" => {
            let param = parse_param(cursor, directive == "@flag")?;
            if param.key == "help" {
                return Err(cursor.error_at(at, "`help` is taken by --help"));
            }
            if header.params.iter().any(|p| p.key == param.key) {
                return Err(
                    cursor.error_at(at, format!("parameter `{}` is declared twice", param.key))
                );
            }
            header.params.push(param);
        }
        "@no-params" => {
            cursor.skip_spaces();
            if !cursor.rest.is_empty() {
                return Err(cursor.error("`@no-params` takes nothing after it"));
            }
            *no_params_at = Some(cursor.error_at(
                at,
                "`@no-params` says the script takes no parameters, but it declares some",
            ));
        }
        other => {
            return Err(cursor.error_at(
                at,
                format!(
                    "unknown directive `{other}` (expected {})",
                    DIRECTIVES.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// Reads a directive's text left to right, knowing the column of what it reads.
struct Cursor<'a> {
    line: usize,
    column: usize,
    rest: &'a str,
}

impl<'a> Cursor<'a> {
    fn error(&self, message: impl Into<String>) -> HeaderError {
        self.error_at(self.column, message)
    }

    fn error_at(&self, column: usize, message: impl Into<String>) -> HeaderError {
        HeaderError {
            line: self.line,
            column,
            message: message.into(),
        }
    }

    fn advance(&mut self, bytes: usize) -> &'a str {
        let (taken, rest) = self.rest.split_at(bytes);
        self.column += taken.chars().count();
        self.rest = rest;
        taken
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'a str {
        let end = self.rest.find(|c| !keep(c)).unwrap_or(self.rest.len());
        self.advance(end)
    }

    /// Skips spaces; whether there were any.
    fn skip_spaces(&mut self) -> bool {
        !self.take_while(char::is_whitespace).is_empty()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.rest.starts_with(c) {
            self.advance(c.len_utf8());
            true
        } else {
            false
        }
    }

    fn peek(&self) -> Option<char> {
        self.rest.chars().next()
    }

    /// What `found` names in a message: the next character, or the end of the line.
    fn found(&self) -> String {
        match self.peek() {
            Some(c) => format!("`{c}`"),
            None => "the end of the line".into(),
        }
    }
}

/// What follows `@param` (`NAME: TYPE[?] [= DEFAULT] description`) or `@flag` (`NAME
/// description`).
fn parse_param(cursor: &mut Cursor, flag: bool) -> Result<Param, HeaderError> {
    let directive = if flag { "@flag" } else { "@param" };
    if !cursor.skip_spaces() && cursor.peek().is_some() {
        return Err(cursor.error(format!("expected a space after `{directive}`")));
    }
    let spelled = parse_name(cursor, directive)?;
    let mut param = Param {
        spelled: spelled.to_owned(),
        key: spelled.replace('-', "_"),
        kind: Kind::Flag,
        presence: Presence::Optional,
        doc: String::new(),
    };
    if flag {
        end_flag_name(cursor)?;
    } else {
        parse_type_and_default(cursor, &mut param)?;
    }
    cursor.rest.trim().clone_into(&mut param.doc);
    Ok(param)
}

/// A parameter's name as spelled: a letter or `_`, then letters, digits, `_` or `-`.
fn parse_name<'a>(cursor: &mut Cursor<'a>, directive: &str) -> Result<&'a str, HeaderError> {
    let at = cursor.column;
    let spelled = cursor.take_while(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !spelled.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        return Err(cursor.error_at(
            at,
            format!(
                "expected a parameter name after `{directive}` (a letter or `_`, then letters, \
                 digits, `_` or `-`), found {}",
                if spelled.is_empty() {
                    cursor.found()
                } else {
                    format!("`{spelled}`")
                }
            ),
        ));
    }
    Ok(spelled)
}

/// After a flag's name: a space and its description, or the end; no type, no default.
fn end_flag_name(cursor: &mut Cursor) -> Result<(), HeaderError> {
    let spaced = cursor.skip_spaces();
    match cursor.peek() {
        Some(':') => Err(cursor.error(
            "a flag has no type: it is true when given (declare `@param NAME: bool` for \
             a flag that takes a value)",
        )),
        Some('=') => Err(cursor.error("a flag has no default: it is false unless given")),
        Some(_) if !spaced => {
            Err(cursor.error(format!("unexpected {} in the flag's name", cursor.found())))
        }
        _ => Ok(()),
    }
}

/// After a parameter's name: `: TYPE`, `?` if it is optional, and `= DEFAULT` if it has one.
fn parse_type_and_default(cursor: &mut Cursor, param: &mut Param) -> Result<(), HeaderError> {
    cursor.skip_spaces();
    if !cursor.eat(':') {
        return Err(cursor.error(format!(
            "expected `:` and a type after `{}`, found {}",
            param.spelled,
            cursor.found()
        )));
    }
    cursor.skip_spaces();
    param.kind = parse_type(cursor)?;
    param.presence = if cursor.eat('?') {
        Presence::Optional
    } else {
        Presence::Required
    };
    let spaced = cursor.skip_spaces();
    if cursor.peek() == Some('=') {
        param.presence = parse_default_clause(cursor, param)?;
    } else if !spaced && cursor.peek().is_some() {
        return Err(cursor.error(format!(
            "unexpected {} after the type (expected `?`, `= default` or a description)",
            cursor.found()
        )));
    }
    Ok(())
}

/// `= DEFAULT` after the type (a value of that type), then the space before the description.
fn parse_default_clause(cursor: &mut Cursor, param: &Param) -> Result<Presence, HeaderError> {
    let equals = cursor.column;
    cursor.eat('=');
    if param.presence == Presence::Optional {
        return Err(cursor.error_at(
            equals,
            "an optional parameter (`?`) has no default: drop the `?` or the default",
        ));
    }
    cursor.skip_spaces();
    let at = cursor.column;
    let value = parse_default(cursor)?;
    // Paths are made absolute when bound; here only their shape is checked.
    if let Err(why) = param.kind.convert(&value, Path::new("/")) {
        return Err(cursor.error_at(at, format!("the default {why}")));
    }
    if !cursor.skip_spaces() && cursor.peek().is_some() {
        return Err(cursor.error(format!(
            "expected a space before the description, found {}",
            cursor.found()
        )));
    }
    Ok(Presence::Default(value))
}

fn parse_type(cursor: &mut Cursor) -> Result<Kind, HeaderError> {
    let at = cursor.column;
    let name = cursor.take_while(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let kind = match name {
        "string" => Kind::String,
        "int" => Kind::Int,
        "float" => Kind::Float,
        "bool" => Kind::Bool,
        "date" => Kind::Date,
        "path" => Kind::Path,
        "one-of" => Kind::OneOf(parse_choices(cursor)?),
        "" => {
            return Err(cursor.error(format!(
                "expected a type ({}), found {}",
                TYPES.join(", "),
                cursor.found()
            )));
        }
        other => {
            let mut message = format!("unknown type `{other}` (expected {})", TYPES.join(", "));
            let names = TYPES.iter().map(|t| t.trim_end_matches("(a|b)"));
            if let Some(close) = suggest::closest(other, names) {
                message.push_str(&format!("; did you mean `{close}`?"));
            }
            return Err(cursor.error_at(at, message));
        }
    };
    Ok(kind)
}

/// `(a|b|c)` after `one-of`.
fn parse_choices(cursor: &mut Cursor) -> Result<Vec<String>, HeaderError> {
    if !cursor.eat('(') {
        return Err(cursor.error(format!(
            "expected `(` and the choices after `one-of`: `one-of(fast|safe)`, found {}",
            cursor.found()
        )));
    }
    let mut choices: Vec<String> = Vec::new();
    loop {
        let at = cursor.column;
        let choice = cursor.take_while(|c| !matches!(c, '|' | ')') && !c.is_whitespace());
        if choice.is_empty() {
            return Err(cursor.error(format!("expected a choice, found {}", cursor.found())));
        }
        if choices.iter().any(|c| c == choice) {
            return Err(cursor.error_at(at, format!("choice `{choice}` is listed twice")));
        }
        choices.push(choice.to_owned());
        if cursor.eat(')') {
            return Ok(choices);
        }
        if !cursor.eat('|') {
            return Err(cursor.error(format!(
                "expected `|` or `)` after a choice, found {}",
                cursor.found()
            )));
        }
    }
}

/// A default: one word, or a `"quoted string"` with `\"` and `\\` escapes.
fn parse_default(cursor: &mut Cursor) -> Result<String, HeaderError> {
    if cursor.peek() != Some('"') {
        let word = cursor.take_while(|c| !c.is_whitespace());
        if word.is_empty() {
            return Err(cursor.error("expected a default value after `=`"));
        }
        return Ok(word.to_owned());
    }
    let start = cursor.column;
    cursor.eat('"');
    let mut value = String::new();
    let mut chars = cursor.rest.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                cursor.advance(i + 1);
                return Ok(value);
            }
            '\\' => {
                if let Some((_, e @ ('"' | '\\'))) = chars.next() {
                    value.push(e);
                } else {
                    cursor.advance(i);
                    return Err(cursor.error("only `\\\"` and `\\\\` are escapes in a default"));
                }
            }
            c => value.push(c),
        }
    }
    Err(cursor.error_at(
        start,
        "unterminated string: the default has no closing `\"`",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::tests::{FULL, header};

    fn error(lines: &str) -> String {
        Header::parse(lines).unwrap_err().to_string()
    }

    #[test]
    fn a_full_header() {
        let h = header(FULL);
        assert!(h.declares);
        assert_eq!(h.summary.as_deref(), Some("Normalise the records."));
        assert_eq!(h.details, ["Touches only bad rows.", "  Safe to re-run."]);
        let keys: Vec<&str> = h.params.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "since", "batch", "ratio", "mode", "note", "out", "verbose", "dry_run"
            ]
        );
        assert_eq!(h.params[0].presence, Presence::Required);
        assert_eq!(h.params[0].doc, "Only records created after this");
        assert_eq!(h.params[1].presence, Presence::Default("500".into()));
        assert_eq!(h.params[2].doc, "");
        assert_eq!(
            h.params[3].kind,
            Kind::OneOf(vec!["fast".into(), "safe".into()])
        );
        assert_eq!(h.params[4].presence, Presence::Optional);
        assert_eq!(h.params[7].kind, Kind::Flag);
        assert_eq!(h.params[7].spelled, "dry-run");
        assert_eq!(
            h.usage(),
            "--since <date> [--batch <int>] [--ratio <float>] [--mode <fast|safe>] \
             [--note <string>] [--out <path>] [--verbose <bool>] [--dry-run]"
        );
    }

    #[test]
    fn headers_without_declarations() {
        let h = header("//! Fix it.\n//! More.\nlet x = 1;\n// @param not: a header\n");
        assert!(!h.declares);
        assert_eq!(h.summary.as_deref(), Some("Fix it."));
        assert_eq!(header("print(1);"), Header::default());
        assert_eq!(
            summary("//! @param x: int\n//! The summary.\n").unwrap(),
            "The summary."
        );
        assert_eq!(
            summary("//! @param x: nope\n//!\n//! Still.\n").unwrap(),
            "Still."
        );
    }

    #[test]
    fn quoted_defaults() {
        let h = header(r#"//! @param s: string = "two words \"q\" \\"  Doc"#);
        assert_eq!(
            h.params[0].presence,
            Presence::Default(r#"two words "q" \"#.into())
        );
        assert_eq!(h.params[0].doc, "Doc");
        assert!(
            h.help("x")
                .contains(r#"Doc [default: "two words \"q\" \\"]"#)
        );
        let h = header(r#"//! @param s: string = """#);
        assert_eq!(h.params[0].presence, Presence::Default(String::new()));
    }

    #[test]
    #[allow(clippy::too_many_lines)] // one table of malformed headers
    fn header_errors_point_at_the_line_and_column() {
        assert_eq!(
            error("//! Fix.\n//! @param batch: integer = 5"),
            "2:19: unknown type `integer` (expected string, int, float, bool, date, path, \
             one-of(a|b)); did you mean `int`?"
        );
        assert_eq!(
            error("//! @param a: int\n//! @flag a"),
            "2:5: parameter `a` is declared twice"
        );
        assert_eq!(
            error("//! @param dry-run: int\n//!   @flag dry_run"),
            "2:7: parameter `dry_run` is declared twice"
        );
        assert_eq!(
            error("//! @param help: int"),
            "1:5: `help` is taken by --help"
        );
        assert_eq!(
            error("//! @parm a: int"),
            "1:5: unknown directive `@parm` (expected @param, @flag, @no-params)"
        );
        assert_eq!(
            error("//! @param a int"),
            "1:14: expected `:` and a type after `a`, found `i`"
        );
        assert_eq!(
            error("//! @param 1a: int"),
            "1:12: expected a parameter name after `@param` (a letter or `_`, then letters, \
             digits, `_` or `-`), found `1a`"
        );
        assert_eq!(
            error("//! @param"),
            "1:11: expected a parameter name after `@param` (a letter or `_`, then letters, \
             digits, `_` or `-`), found the end of the line"
        );
        assert_eq!(
            error("//! @param a:"),
            "1:14: expected a type (string, int, float, bool, date, path, one-of(a|b)), found \
             the end of the line"
        );
        assert_eq!(
            error("//! @param a: int = five"),
            "1:21: the default expects an integer, got `five`"
        );
        assert_eq!(
            error("//! @param a: date = 2026-02-29"),
            "1:22: the default expects a date (YYYY-MM-DD), got `2026-02-29`: February 2026 \
             has 28 days"
        );
        assert_eq!(
            error("//! @param a: int? = 5"),
            "1:20: an optional parameter (`?`) has no default: drop the `?` or the default"
        );
        assert_eq!(
            error("//! @param a: int,"),
            "1:18: unexpected `,` after the type (expected `?`, `= default` or a description)"
        );
        assert_eq!(
            error("//! @param a: one-of(x|y|x)"),
            "1:26: choice `x` is listed twice"
        );
        assert_eq!(
            error("//! @param a: one-of(x|)"),
            "1:24: expected a choice, found `)`"
        );
        assert_eq!(
            error("//! @param a: one-of x"),
            "1:21: expected `(` and the choices after `one-of`: `one-of(fast|safe)`, found ` `"
        );
        assert_eq!(
            error("//! @param a: one-of(x|y = x"),
            "1:25: expected `|` or `)` after a choice, found ` `"
        );
        assert_eq!(
            error("//! @param a: one-of(fast|safe) = slow"),
            "1:35: the default expects one of fast, safe, got `slow`"
        );
        assert_eq!(
            error(r#"//! @param a: string = "open"#),
            "1:24: unterminated string: the default has no closing `\"`"
        );
        assert_eq!(
            error("//! @flag a: bool"),
            "1:12: a flag has no type: it is true when given (declare `@param NAME: bool` for a \
             flag that takes a value)"
        );
        assert_eq!(
            error("//! @flag a = true"),
            "1:13: a flag has no default: it is false unless given"
        );
        assert_eq!(
            error("//! @no-params\n//! @flag a"),
            "1:5: `@no-params` says the script takes no parameters, but it declares some"
        );
        assert_eq!(
            error("//! Fix.\n\n//! @param a: int\n"),
            "3:5: `@param` below the header: the header is the `//!` lines at the top of the \
             script, with no other line between them"
        );
        assert_eq!(
            error("//! Fix.\nlet x = 1;\n  //!   @flag b"),
            "3:9: `@flag` below the header: the header is the `//!` lines at the top of the \
             script, with no other line between them"
        );
    }
}
