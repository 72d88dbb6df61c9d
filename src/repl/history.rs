//! The console history's sink: an input as it is kept in the history file, with every secret
//! masked. A string literal is masked by its value, read back from its escapes (`"a\"b"` holds
//! `a"b`), not by the way it was typed; and whatever its value, a literal given to a secret name
//! (`set_env("NEW_TOKEN", "...")`, `let api_token = "..."`, `#{password: "..."}`) is masked
//! whole, so a new secret never reaches the file, however short.

use crate::release::{MASK, Redactor};

/// `input` with its secrets masked, for the history file.
pub(super) fn mask(input: &str, redactor: &Redactor) -> String {
    let mut out = String::with_capacity(input.len());
    let mut scan = Scan {
        input,
        at: 0,
        code_from: 0,
    };
    // The last significant token named a secret, and then came `:`, `,` or `=`.
    let mut secret_name = false;
    let mut armed = false;
    while let Some(c) = scan.peek() {
        let start = scan.at;
        match c {
            '"' | '`' | '\'' => {
                out.push_str(&redactor.redact(scan.code(start)));
                let (value, typed) = scan.literal(c);
                let masked = redactor.redact(&value);
                if armed && c != '\'' {
                    out.push(c);
                    out.push_str(MASK);
                    out.push(c);
                } else if masked != value {
                    out.push_str(&requote(c, &masked));
                } else {
                    out.push_str(typed);
                }
                secret_name = redactor.is_secret(&value);
                armed = false;
                scan.code_from = scan.at;
            }
            '/' if scan.starts_with("//") || scan.starts_with("/*") => {
                out.push_str(&redactor.redact(scan.code(start)));
                let comment = scan.comment();
                out.push_str(&redactor.redact(comment));
                scan.code_from = scan.at;
            }
            c if c.is_alphanumeric() || c == '_' => {
                let word = scan.word();
                if armed {
                    out.push_str(&redactor.redact(scan.code(start)));
                    out.push_str(MASK);
                    scan.code_from = scan.at;
                }
                secret_name =
                    !word.starts_with(|c: char| c.is_ascii_digit()) && redactor.is_secret(word);
                armed = false;
            }
            c if c.is_whitespace() => scan.bump(),
            ':' | ',' => {
                scan.bump();
                armed = std::mem::take(&mut secret_name);
            }
            '=' => {
                scan.bump();
                let equality = scan.peek() == Some('=');
                armed = std::mem::take(&mut secret_name) && !equality;
            }
            _ => {
                scan.bump();
                secret_name = false;
                armed = false;
            }
        }
    }
    out.push_str(&redactor.redact(scan.code(input.len())));
    out
}

struct Scan<'a> {
    input: &'a str,
    at: usize,
    /// Where the code not yet copied to the output starts.
    code_from: usize,
}

impl<'a> Scan<'a> {
    fn peek(&self) -> Option<char> {
        self.input[self.at..].chars().next()
    }

    fn bump(&mut self) {
        self.at += self.peek().map_or(0, char::len_utf8);
    }

    fn starts_with(&self, text: &str) -> bool {
        self.input[self.at..].starts_with(text)
    }

    /// The code from the last literal or comment up to `end`.
    fn code(&self, end: usize) -> &'a str {
        &self.input[self.code_from..end]
    }

    fn word(&mut self) -> &'a str {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.bump();
        }
        &self.input[start..self.at]
    }

    fn comment(&mut self) -> &'a str {
        let start = self.at;
        let end = if self.starts_with("//") {
            self.input[start..]
                .find('\n')
                .map_or(self.input.len(), |n| start + n)
        } else {
            self.input[start + 2..]
                .find("*/")
                .map_or(self.input.len(), |n| start + 2 + n + 2)
        };
        self.at = end;
        &self.input[start..end]
    }

    /// A literal opened by `quote`: its value (escapes read for `"` and `'`; a back-tick
    /// string as typed) and its text as typed. An unterminated one runs to the end.
    fn literal(&mut self, quote: char) -> (String, &'a str) {
        let start = self.at;
        self.bump();
        let mut value = String::new();
        while let Some(c) = self.peek() {
            self.bump();
            match c {
                c if c == quote => break,
                '\\' if quote != '`' => {
                    if let Some(escaped) = self.escape() {
                        value.push(escaped);
                    }
                }
                c => value.push(c),
            }
        }
        (value, &self.input[start..self.at])
    }

    /// The character an escape after `\` stands for; `None` for a line continuation.
    fn escape(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.bump();
        let hex = |scan: &mut Self, digits: usize| {
            let text = scan.input.get(scan.at..scan.at + digits)?;
            let code = u32::from_str_radix(text, 16).ok()?;
            scan.at += digits;
            char::from_u32(code)
        };
        match c {
            'n' => Some('\n'),
            't' => Some('\t'),
            'r' => Some('\r'),
            '0' => Some('\0'),
            'x' => hex(self, 2).or(Some('x')),
            'u' => hex(self, 4).or(Some('u')),
            'U' => hex(self, 8).or(Some('U')),
            '\n' => {
                while self.peek().is_some_and(char::is_whitespace) {
                    self.bump();
                }
                None
            }
            other => Some(other),
        }
    }
}

/// A masked value as a literal again.
fn requote(quote: char, value: &str) -> String {
    if quote == '`' {
        return format!("`{value}`");
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor() -> Redactor {
        let mut r = Redactor::new(crate::release::SecretNames::default());
        r.add("tok-very-secret");
        r.add("pa\"ss\\wo\nrd");
        r.add("123");
        r
    }

    #[test]
    fn literals_are_masked_by_value_and_by_name() {
        let r = redactor();
        let cases = [
            ("let marker = 12345;", "let marker = 12345;"),
            ("let t = \"tok-very-secret\";", "let t = \"****\";"),
            (r#"let p = "x-pa\"ss\\wo\nrd";"#, r#"let p = "x-****";"#),
            (r#"let p = "pa\u0022ss\\wo\nrd";"#, r#"let p = "****";"#),
            ("print(`a tok-very-secret b`)", "print(`a **** b`)"),
            (
                r#"set_env("NEW_TOKEN", "abc")"#,
                r#"set_env("NEW_TOKEN", "****")"#,
            ),
            (r#"let api_token = "x";"#, r#"let api_token = "****";"#),
            (
                r#"#{password: "x", user: "u"}"#,
                r#"#{password: "****", user: "u"}"#,
            ),
            (r#"if password == "x" { 1 }"#, r#"if password == "x" { 1 }"#),
            (r#"env("DB_PASSWORD")"#, r#"env("DB_PASSWORD")"#),
            (
                "let pin = 4321; // tok-very-secret",
                "let pin = ****; // ****",
            ),
            ("let c = 123 + 1234;", "let c = **** + 1234;"),
            ("\"open tok-very-secret", "\"open ****\""),
            // A URL's password or secret query parameter typed in, though no config has it.
            (
                r#"let u = "http://u:cleartextpw@h/x";"#,
                r#"let u = "http://u:****@h/x";"#,
            ),
            (
                r"http_get(`https://h/x?a=1&password=typed-in`)",
                r"http_get(`https://h/x?a=1&password=****`)",
            ),
        ];
        for (input, masked) in cases {
            assert_eq!(mask(input, &r), masked, "{input}");
        }
    }
}
