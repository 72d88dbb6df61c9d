//! The `.env` file format: `KEY=value` lines, parsed strictly so that a broken line is an
//! error naming the file, line and column instead of a silently missing key.
//!
//! Accepted: blank lines, `# comments`, an optional `export ` prefix, unquoted values (trimmed,
//! ` #` starts a comment), `'single'` quotes (literal), `"double"` quotes (escapes `\n \t \" \\ \$`,
//! may span lines). `${NAME}` in unquoted and double-quoted values expands, in this order, to
//! the value `overrides` gives (the process environment, which wins everywhere), an earlier key
//! of the same file, or the value `fallback` gives (the layers below this file).

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
                self.peek().map_or("end of line".into(), |c| c.to_string())
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
            Some(c) => Err(self.error(format!("expected `=` after `{key}`, found `{c}`"))),
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
            Some(c) => Err(self.error(format!("unexpected `{c}` after the closing quote"))),
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

fn unterminated(open: DotenvError, quote: char) -> DotenvError {
    DotenvError {
        message: format!("the quote `{quote}` opened here is never closed"),
        ..open
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
}
