//! The `.env` file format: `KEY=value` lines, parsed strictly so that a broken line is an
//! error naming the file, line and column instead of a silently missing key.
//!
//! Accepted: blank lines, `# comments`, an optional `export ` prefix, unquoted values (trimmed,
//! ` #` starts a comment), `'single'` quotes (literal), `"double"` quotes (escapes `\n \t \" \\ \$`,
//! may span lines). `${NAME}` in unquoted and double-quoted values expands, in this order, to
//! the value `overrides` gives (the process environment, which wins everywhere), an earlier key
//! of the same file, or the value `fallback` gives (the layers below this file).
//!
//! A leading byte order mark is skipped. A NUL byte anywhere is an error (no environment variable
//! can hold one). Errors quote what they found with invisible characters escaped (`\u{feff}`).

use std::fmt;

/// A line of an env file that cannot be read. Line and column are 1-based.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DotenvError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for DotenvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for DotenvError {}

/// One `KEY=value` entry with the line it was defined on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub key: String,
    pub value: String,
    pub line: usize,
}

pub(crate) fn parse(
    text: &str,
    overrides: &dyn Fn(&str) -> Option<String>,
    fallback: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Entry>, DotenvError> {
    // A byte order mark, as some Windows editors write: invisible, and no part of the first key.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // No environment variable can carry a NUL: every command would fail to start.
    if let Some(at) = text.find('\0') {
        let (line, column) = line_and_column(text, at);
        return Err(DotenvError {
            line,
            column,
            message: "a NUL byte (`\\0`): no environment variable can hold one".into(),
        });
    }
    let mut parser = Parser {
        chars: text.chars().collect(),
        at: 0,
        line: 1,
        line_start: 0,
    };
    let mut entries: Vec<Entry> = Vec::new();
    while parser.skip_blank_and_comments() {
        let line = parser.line;
        let key = parser.key()?;
        let value = parser.value(&|name| {
            overrides(name)
                .or_else(|| {
                    let earlier = entries.iter().rev().find(|e| e.key == name);
                    earlier.map(|e| e.value.clone())
                })
                .or_else(|| fallback(name))
        })?;
        entries.push(Entry { key, value, line });
    }
    Ok(entries)
}

/// The 1-based line and column (in characters) of byte offset `at` of `text`.
pub(crate) fn line_and_column(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

struct Parser {
    chars: Vec<char>,
    at: usize,
    line: usize,
    line_start: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += 1;
        if c == '\n' {
            self.line += 1;
            self.line_start = self.at;
        }
        Some(c)
    }

    fn error(&self, message: impl Into<String>) -> DotenvError {
        DotenvError {
            line: self.line,
            column: self.at - self.line_start + 1,
            message: message.into(),
        }
    }

    fn skip_inline_space(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\r')) {
            self.bump();
        }
    }

    /// Skips to the start of the next entry; false at the end of the file.
    fn skip_blank_and_comments(&mut self) -> bool {
        loop {
            self.skip_inline_space();
            match self.peek() {
                None => return false,
                Some('\n') => {
                    self.bump();
                }
                Some('#') => {
                    while !matches!(self.peek(), None | Some('\n')) {
                        self.bump();
                    }
                }
                Some(_) => return true,
            }
        }
    }

    fn key(&mut self) -> Result<String, DotenvError> {
        let mut key = self.word();
        if key == "export" && matches!(self.peek(), Some(' ' | '\t')) {
            self.skip_inline_space();
            key = self.word();
        }
        if key.is_empty() {
            return Err(self.error(format!(
                "expected a variable name, found `{}`",
                self.peek().map_or("end of line".into(), shown)
            )));
        }
        if key.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(self.error(format!(
                "`{key}` is not a valid name: it starts with a digit"
            )));
        }
        self.skip_inline_space();
        match self.peek() {
            Some('=') => {
                self.bump();
                Ok(key)
            }
            Some('\n') | None => Err(self.error(format!("`{key}` has no `=` and no value"))),
            Some(c) => Err(self.error(format!("expected `=` after `{key}`, found `{}`", shown(c)))),
        }
    }

    fn word(&mut self) -> String {
        let mut word = String::new();
        while let Some(c) = self.peek() {
            if !(c.is_ascii_alphanumeric() || c == '_' || c == '.') {
                break;
            }
            word.push(c);
            self.bump();
        }
        word
    }

    fn value(&mut self, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, DotenvError> {
        self.skip_inline_space();
        let value = match self.peek() {
            Some('\'') => self.single_quoted()?,
            Some('"') => self.double_quoted(lookup)?,
            _ => return self.unquoted(lookup),
        };
        self.skip_inline_space();
        match self.peek() {
            None | Some('\n' | '#') => {
                while !matches!(self.peek(), None | Some('\n')) {
                    self.bump();
                }
                Ok(value)
            }
            Some(c) => {
                Err(self.error(format!("unexpected `{}` after the closing quote", shown(c))))
            }
        }
    }

    fn single_quoted(&mut self) -> Result<String, DotenvError> {
        let open = self.error("");
        self.bump();
        let mut value = String::new();
        loop {
            match self.bump() {
                Some('\'') => return Ok(value),
                Some(c) => value.push(c),
                None => return Err(unterminated(open, '\'')),
            }
        }
    }

    fn double_quoted(
        &mut self,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<String, DotenvError> {
        let open = self.error("");
        self.bump();
        let mut value = String::new();
        loop {
            match self.bump() {
                Some('"') => return Ok(value),
                Some('\\') => match self.bump() {
                    Some('n') => value.push('\n'),
                    Some('t') => value.push('\t'),
                    Some('r') => value.push('\r'),
                    Some(c @ ('"' | '\\' | '$' | '\'')) => value.push(c),
                    Some(c) => {
                        value.push('\\');
                        value.push(c);
                    }
                    None => return Err(unterminated(open, '"')),
                },
                Some('$') => self.expansion(&mut value, lookup)?,
                Some(c) => value.push(c),
                None => return Err(unterminated(open, '"')),
            }
        }
    }

    fn unquoted(&mut self, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, DotenvError> {
        let mut value = String::new();
        while let Some(c) = self.peek() {
            if c == '\n' || (c == '#' && value.ends_with([' ', '\t'])) {
                break;
            }
            if c == '"' || c == '\'' {
                return Err(self.error(format!(
                    "unexpected `{c}` inside an unquoted value; quote the whole value"
                )));
            }
            self.bump();
            if c == '$' {
                self.expansion(&mut value, lookup)?;
            } else {
                value.push(c);
            }
        }
        while !matches!(self.peek(), None | Some('\n')) {
            self.bump();
        }
        Ok(value.trim_end().to_owned())
    }

    /// Called after a `$`: expands `${NAME}`; a `$` not followed by `{` stays literal.
    fn expansion(
        &mut self,
        value: &mut String,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(), DotenvError> {
        if self.peek() != Some('{') {
            value.push('$');
            return Ok(());
        }
        let open = self.error("");
        self.bump();
        let name = self.word();
        if self.bump() != Some('}') || name.is_empty() {
            return Err(DotenvError {
                message: "`${` must be followed by a name and `}`".into(),
                column: open.column - 1,
                ..open
            });
        }
        value.push_str(&lookup(&name).unwrap_or_default());
        Ok(())
    }
}

/// A character as an error message quotes it: escaped when a terminal would not show it.
fn shown(c: char) -> String {
    escape_invisible(&c.to_string()).into_owned()
}

fn unterminated(open: DotenvError, quote: char) -> DotenvError {
    DotenvError {
        message: format!("the quote `{quote}` opened here is never closed"),
        ..open
    }
}

/// A value as `--env` lists it, in `.env` syntax: bare when that reads back the same, else in
/// double quotes with `\\ \" \$ \n \r \t` escaped as `.env` reads them. Other control and
/// invisible characters are shown as [`escape_invisible`] does (`\x1b`, `\u{feff}`), so a
/// listing never sends a raw escape sequence to the terminal; those two forms do not read back.
pub(crate) fn quote(value: &str) -> String {
    let plain = !value.starts_with([' ', '\t'])
        && !value.ends_with([' ', '\t'])
        && !value.contains(['"', '\'', '#', '$', '\\'])
        && !value.chars().any(is_invisible);
    if plain {
        return value.to_owned();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' | '"' | '$' => {
                out.push('\\');
                out.push(c);
            }
            _ => push_escaped(&mut out, c),
        }
    }
    out.push('"');
    out
}

/// `text` with every character a terminal would not show as itself escaped: control
/// characters (`\n`, `\r`, `\t`, `\0`, `\x1b`, `\x7f`, `\u{85}`) and invisible ones (a byte
/// order mark `\u{feff}`, zero-width spaces and joiners, bidirectional overrides, soft
/// hyphens). Letters of any script stay as they are. For messages that quote what a user gave.
pub(crate) fn escape_invisible(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_invisible) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_escaped(&mut out, c);
    }
    out.into()
}

/// Bytes that should be text, shown as [`escape_invisible`] shows text, each byte that is not
/// UTF-8 as `\xNN`.
pub(crate) fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        out.push_str(&escape_invisible(chunk.valid()));
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out
}

/// Whether `c` shows as something other than itself (or as nothing) on a terminal.
pub(crate) fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{ad}'
                | '\u{61c}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206f}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{e0000}'..='\u{e007f}'
        )
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\0' => out.push_str("\\0"),
        c if c.is_ascii() && is_invisible(c) => out.push_str(&format!("\\x{:02x}", c as u32)),
        c if is_invisible(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Vec<(String, String)> {
        let home = |name: &str| (name == "HOME").then(|| "/home/app".to_owned());
        parse(text, &home, &|_| None)
            .unwrap()
            .into_iter()
            .map(|e| (e.key, e.value))
            .collect()
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn values() {
        let text = "# comment\n\nA=1\nexport B = two words  # note\nC='lit ${A} #x'\nD=\"q\\n${A}\"\nE=\nF=a#b\nG=${HOME}/x\nH=\"multi\nline\"\n";
        assert_eq!(
            parse_ok(text),
            pairs(&[
                ("A", "1"),
                ("B", "two words"),
                ("C", "lit ${A} #x"),
                ("D", "q\n1"),
                ("E", ""),
                ("F", "a#b"),
                ("G", "/home/app/x"),
                ("H", "multi\nline"),
            ])
        );
    }

    #[test]
    fn a_leading_byte_order_mark_is_skipped() {
        assert_eq!(
            parse_ok("\u{feff}A=1\nB=2\n"),
            pairs(&[("A", "1"), ("B", "2")])
        );
    }

    #[test]
    fn errors_name_line_and_column() {
        let cases = [
            ("A=1\nB\n", 2, 2, "`B` has no `=` and no value"),
            ("A=1\n  B C=2\n", 2, 5, "expected `=` after `B`, found `C`"),
            (
                "A=\"open\nB=2\n",
                1,
                3,
                "the quote `\"` opened here is never closed",
            ),
            ("=1\n", 1, 1, "expected a variable name, found `=`"),
            (
                "1A=1\n",
                1,
                3,
                "`1A` is not a valid name: it starts with a digit",
            ),
            ("A='x' y\n", 1, 7, "unexpected `y` after the closing quote"),
            ("A=${B\n", 1, 3, "`${` must be followed by a name and `}`"),
            (
                "A=1\nB=x\0y\n",
                2,
                4,
                "a NUL byte (`\\0`): no environment variable can hold one",
            ),
            (
                "# \0 even here\n",
                1,
                3,
                "a NUL byte (`\\0`): no environment variable can hold one",
            ),
            (
                "A=1\n\u{feff}B=2\n",
                2,
                1,
                "expected a variable name, found `\\u{feff}`",
            ),
            (
                "A\x1b[31m=1\n",
                1,
                2,
                "expected `=` after `A`, found `\\x1b`",
            ),
            (
                "A='x'\u{202e}\n",
                1,
                6,
                "unexpected `\\u{202e}` after the closing quote",
            ),
        ];
        for (text, line, column, message) in cases {
            let err = parse(text, &|_| None, &|_| None).unwrap_err();
            assert_eq!(
                err,
                DotenvError {
                    line,
                    column,
                    message: message.into()
                },
                "for {text:?}"
            );
        }
    }

    #[test]
    fn listings_and_messages_escape_what_a_terminal_would_not_show() {
        // (value, as --env lists it, as a message quotes it)
        let cases = [
            ("plain", "plain", "plain"),
            ("", "", ""),
            ("two words", "two words", "two words"),
            (
                "\x1b[31mred\x1b[0m",
                "\"\\x1b[31mred\\x1b[0m\"",
                "\\x1b[31mred\\x1b[0m",
            ),
            ("a\tb", "\"a\\tb\"", "a\\tb"),
            ("line\nnext\r", "\"line\\nnext\\r\"", "line\\nnext\\r"),
            ("\u{feff}KEY", "\"\\u{feff}KEY\"", "\\u{feff}KEY"),
            ("ab\u{202e}cd", "\"ab\\u{202e}cd\"", "ab\\u{202e}cd"),
            (
                "zero\u{200b}width",
                "\"zero\\u{200b}width\"",
                "zero\\u{200b}width",
            ),
            (
                "del\x7f c1\u{85}",
                "\"del\\x7f c1\\u{85}\"",
                "del\\x7f c1\\u{85}",
            ),
            ("nul\0", "\"nul\\0\"", "nul\\0"),
            (
                "$HOME \"q\" \\",
                "\"\\$HOME \\\"q\\\" \\\\\"",
                "$HOME \"q\" \\",
            ),
            (
                "café ünïcode 日本",
                "café ünïcode 日本",
                "café ünïcode 日本",
            ),
        ];
        for (value, listed, quoted) in cases {
            assert_eq!(quote(value), listed, "quote({value:?})");
            assert_eq!(
                escape_invisible(value),
                quoted,
                "escape_invisible({value:?})"
            );
            // What .env can spell reads back as the same value.
            if !value
                .chars()
                .any(|c| is_invisible(c) && !matches!(c, '\n' | '\r' | '\t'))
            {
                let read = parse(&format!("K={listed}\n"), &|_| None, &|_| None).unwrap();
                assert_eq!(read[0].value, value, "{listed} reads back");
            }
        }
        assert_eq!(
            escape_bytes(b"caf\xe9 \x1b \xff\xfe ok"),
            "caf\\xe9 \\x1b \\xff\\xfe ok"
        );
    }
}
