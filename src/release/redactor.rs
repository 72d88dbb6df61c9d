//! Masking: the release's secret values, and the one way each output channel hides them. A
//! channel masks the raw value (a string, a command's word, a script's value, a command's
//! whole stderr) before it escapes, quotes, prefixes or cuts it, so no shape of a secret
//! (quotes, backslashes, newlines, `'`) slips past the mask.
//!
//! How long a secret is decides where it is looked for:
//! - 4 characters or more: anywhere, inside any text;
//! - 3 characters (a PIN): where it stands as a word of its own, between characters that are
//!   not letters or digits (`pin 123`, `--pin=123`), never inside `1234` or `a123`;
//! - 1 or 2 characters: only where a whole value is the secret (a string, a command's word, an
//!   argument), as a text search would hide every `1` adminsh prints.
//!
//! A secret of 16 characters or more (on one line) is also masked where a server changed it
//! on its way back: re-cased (`Key (lower(name))=(...)`, ASCII letters compared without case)
//! or cut short (mariadb's `Duplicate entry '...'` keeps 64 characters and `...`): any 12 or
//! more of its first characters are masked.
//!
//! Whatever their length, values are also masked by their key: a secret config key in
//! `--env`, a `--new-password=...` argument, a map entry `password: ...`; a value of a URL's
//! query (`?pin=42`) is a whole value. And in any text, the password of every URL in it and
//! every secret-named query parameter (`?password=...`) are masked, though no config holds
//! them: a URL the script built itself.

use std::borrow::Cow;

use rhai::Dynamic;

use super::secrets::{SecretNames, percent_decode};

/// What stands in for a secret wherever adminsh prints one.
pub(crate) const MASK: &str = "****";

/// Secrets at least this many characters long are masked inside any text.
pub(crate) const SEARCHED_LEN: usize = 4;
/// Secrets this many characters long are masked where they stand as a word.
const WORD_LEN: usize = 3;
/// A line of a multi-line secret (a private key) at least this long is masked on its own too:
/// a command may print one line of it.
const SECRET_LINE_LEN: usize = 16;
/// Secrets (of one line) at least this long are also masked re-cased or cut short.
const LONG_LEN: usize = 16;
/// How much of a long secret's beginning, cut short, is still masked: 12 characters.
const CUT_LEN: usize = 12;

/// Masks known secret values.
#[derive(Debug, Clone, Default)]
pub(crate) struct Redactor {
    names: SecretNames,
    /// Searched for in any text.
    searched: Vec<String>,
    /// Masked where they stand as a word.
    words: Vec<String>,
    /// Masked where a whole value is one of them.
    whole: Vec<String>,
    /// The long ones of `searched`, in ASCII lower case: also masked re-cased or cut short.
    long: Vec<String>,
}

impl Redactor {
    pub(crate) fn new(names: SecretNames) -> Self {
        Redactor {
            names,
            ..Redactor::default()
        }
    }

    /// Whether `key` names a secret.
    pub(crate) fn is_secret(&self, key: &str) -> bool {
        self.names.is_secret(key)
    }

    /// Learns one secret value (and each long line of a multi-line one). A flag's value
    /// (`true`, `off`, `1`) under a secret-looking key (`SECRET_ROTATION=true`) is no secret:
    /// it is masked by its key, never looked for in text.
    pub(crate) fn add(&mut self, secret: &str) {
        const FLAGS: [&str; 8] = ["true", "false", "yes", "no", "on", "off", "0", "1"];
        if FLAGS.iter().any(|flag| secret.eq_ignore_ascii_case(flag)) {
            return;
        }
        let list = match secret.chars().count() {
            0 => return,
            n if n >= SEARCHED_LEN => &mut self.searched,
            WORD_LEN => &mut self.words,
            _ => &mut self.whole,
        };
        if list.iter().any(|s| s == secret) {
            return;
        }
        list.push(secret.to_owned());
        if secret.chars().count() >= LONG_LEN && !secret.contains('\n') {
            self.long.push(secret.to_ascii_lowercase());
        }
        if secret.contains('\n') {
            for line in secret.lines().map(|l| l.trim_end_matches('\r')) {
                // PEM armour (`-----BEGIN PRIVATE KEY-----`) is no secret.
                let armour = line.starts_with("-----") && line.ends_with("-----");
                if line.chars().count() >= SECRET_LINE_LEN && !armour {
                    self.add(line);
                }
            }
        }
    }

    /// Learns the secrets carried by one config entry: the whole value of a secret key, and
    /// the passwords and secret query parameters inside any value (also percent-decoded).
    pub(crate) fn learn(&mut self, key: &str, value: &str) {
        if self.names.is_secret(key) {
            self.add(value);
        }
        for found in self.names.secrets_in(value) {
            self.add(found);
            if let Some(decoded) = percent_decode(found) {
                self.add(&decoded);
            }
        }
    }

    /// The longest secret, in bytes: how much text a cut must keep to see one whole.
    pub(crate) fn longest(&self) -> usize {
        self.searched.iter().map(String::len).max().unwrap_or(0)
    }

    /// `text` with every secret in it masked.
    pub(crate) fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let spans = self.spans(text);
        if spans.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end) in spans {
            out.push_str(&text[at..start]);
            out.push_str(MASK);
            at = end;
        }
        out.push_str(&text[at..]);
        Cow::Owned(out)
    }

    /// Where secrets are in `text`, as sorted byte ranges that do not overlap (overlapping
    /// secrets are masked as one).
    fn spans(&self, text: &str) -> Vec<(usize, usize)> {
        if self.whole.iter().chain(&self.words).any(|s| s == text) {
            return vec![(0, text.len())];
        }
        let mut spans = Vec::new();
        for secret in &self.searched {
            spans.extend(occurrences(text, secret));
        }
        self.long_spans(text, &mut spans);
        // URLs' passwords and secret query parameters, though no config holds them.
        for found in self.names.secrets_in(text) {
            let start = found.as_ptr() as usize - text.as_ptr() as usize;
            spans.push((start, start + found.len()));
        }
        if !(self.whole.is_empty() && self.words.is_empty()) {
            for (start, end) in query_values(text) {
                let value = &text[start..end];
                if self.whole.iter().chain(&self.words).any(|s| s == value) {
                    spans.push((start, end));
                }
            }
        }
        for secret in &self.words {
            let bounded = |&(start, end): &(usize, usize)| {
                let before = text[..start].chars().next_back();
                let after = text[end..].chars().next();
                !before.is_some_and(char::is_alphanumeric)
                    && !after.is_some_and(char::is_alphanumeric)
            };
            spans.extend(occurrences(text, secret).filter(bounded));
        }
        spans.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(spans.len());
        for (start, end) in spans {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        merged
    }

    /// Where a long secret is in `text` re-cased or cut short: from each place its first
    /// [`CUT_LEN`] characters are (ASCII case aside), as far as the rest goes on matching.
    fn long_spans(&self, text: &str, spans: &mut Vec<(usize, usize)>) {
        if self.long.is_empty() {
            return;
        }
        // ASCII lower case keeps every byte where it was: the spans hold for `text`.
        let lower = text.to_ascii_lowercase();
        for secret in &self.long {
            let head = secret
                .char_indices()
                .nth(CUT_LEN)
                .map_or(secret.len(), |(at, _)| at);
            for (at, _) in lower.match_indices(&secret[..head]) {
                let same = lower.as_bytes()[at..]
                    .iter()
                    .zip(secret.as_bytes())
                    .take_while(|(a, b)| a == b)
                    .count();
                let mut end = at + same;
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                spans.push((at, end));
            }
        }
    }

    /// The words of a command line or of a script's arguments, each masked, and masked by
    /// key: the value of `NAME=value` and `--name=value` when the name is secret, and the
    /// word after a secret `--name`.
    pub(crate) fn words<S: AsRef<str>>(&self, words: &[S]) -> Vec<String> {
        let mut hide_next = false;
        words
            .iter()
            .map(|word| {
                let word = word.as_ref();
                if std::mem::take(&mut hide_next) && !word.starts_with('-') {
                    return MASK.to_owned();
                }
                if let Some((name, _)) = word.split_once('=') {
                    if self.is_secret_name(name) {
                        return format!("{name}={MASK}");
                    }
                } else if word.starts_with("--") && self.is_secret_name(word) {
                    hide_next = true;
                }
                self.redact(word).into_owned()
            })
            .collect()
    }

    /// `--new-password`, `DB_PASSWORD`: a name of an option or variable that is secret.
    fn is_secret_name(&self, name: &str) -> bool {
        let bare = name.trim_start_matches('-');
        !bare.is_empty()
            && bare
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            && self.names.is_secret(bare)
    }

    /// How a config value is shown (`--env`): masked whole when its key is secret, else with
    /// every secret inside it masked.
    pub(crate) fn display(&self, key: &str, value: &str) -> String {
        if self.names.is_secret(key) {
            MASK.to_owned()
        } else {
            self.redact(value).into_owned()
        }
    }

    /// A script's value with every string in it masked, and every entry of a map whose key
    /// is secret (other than a bool or `()`) replaced by the mask: what a channel shows or
    /// writes instead of the value.
    pub(crate) fn value(&self, value: &Dynamic) -> Dynamic {
        if let Ok(text) = value.as_immutable_string_ref() {
            match self.redact(&text) {
                Cow::Borrowed(_) => value.clone(),
                Cow::Owned(masked) => masked.into(),
            }
        } else if value.is_char() {
            let text = value.to_string();
            match self.redact(&text) {
                Cow::Borrowed(_) => value.clone(),
                Cow::Owned(masked) => masked.into(),
            }
        } else if value.is_array() {
            let array = value.read_lock::<rhai::Array>();
            let items = array.iter().flat_map(|a| a.iter());
            let mut masked = Dynamic::from_array(items.map(|v| self.value(v)).collect());
            // The tag says what the value is (a query's rows keep their column order by it).
            masked.set_tag(value.tag());
            masked
        } else if let Some(row) = value.read_lock::<crate::row::Row>() {
            // A row leaves the script as a map that keeps its column order.
            self.value(&row.to_tagged_map())
        } else if value.is_map() {
            let map = value.read_lock::<rhai::Map>();
            let entries = map.iter().flat_map(|m| m.iter());
            let masked = entries
                .map(|(key, v)| {
                    let hidden = self.names.is_secret(key) && !(v.is_unit() || v.is_bool());
                    let v = if hidden { MASK.into() } else { self.value(v) };
                    (key.clone(), v)
                })
                .collect();
            let mut masked = Dynamic::from_map(masked);
            masked.set_tag(value.tag());
            masked
        } else {
            // A number (a PIN), a timestamp, a command: every part of a value is masked, as
            // its text is what a channel shows (`()` and a bool read as no secret ever does).
            let text = value.to_string();
            match self.redact(&text) {
                Cow::Borrowed(_) => value.clone(),
                Cow::Owned(masked) => masked.into(),
            }
        }
    }
}

/// The values of a URL's query in `text` (after `?` or `&`, up to `&`, `#`, `;` or a space),
/// as byte ranges.
fn query_values(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    text.match_indices(['?', '&']).filter_map(move |(at, _)| {
        let pair = &text[at + 1..];
        let end = pair
            .find(|c: char| matches!(c, '&' | '#' | ';') || c.is_whitespace())
            .unwrap_or(pair.len());
        let equals = pair[..end].find('=')?;
        Some((at + 1 + equals + 1, at + 1 + end))
    })
}

/// Every start of `secret` in `text` (overlapping ones too), as byte ranges.
fn occurrences<'a>(text: &'a str, secret: &'a str) -> impl Iterator<Item = (usize, usize)> + 'a {
    let step = secret.chars().next().map_or(1, char::len_utf8);
    let mut from = 0;
    std::iter::from_fn(move || {
        let at = from + text.get(from..)?.find(secret)?;
        from = at + step;
        Some((at, at + secret.len()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor(secrets: &[&str]) -> Redactor {
        let mut r = Redactor::default();
        for s in secrets {
            r.add(s);
        }
        r
    }

    #[test]
    fn redaction_masks_values_and_url_passwords() {
        let mut r = Redactor::default();
        r.learn("API_TOKEN", "tok-123456");
        r.learn("DATABASE_URL", "postgres://app:s%3Acret@db/app");
        assert_eq!(
            r.redact("psql postgres://app:s%3Acret@db/app tok-123456 s:cret"),
            "psql postgres://app:****@db/app **** ****"
        );
        assert_eq!(
            r.display("DATABASE_URL", "postgres://app:s%3Acret@db/app"),
            "postgres://app:****@db/app"
        );
        assert_eq!(r.display("API_TOKEN", "x"), MASK);
        assert_eq!(
            r.display("PGOPTS", "--password=tok-123456"),
            "--password=****"
        );
    }

    #[test]
    fn long_secrets_are_masked_cut_short_or_re_cased() {
        let secret = "Tok-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";
        let r = redactor(&[secret, "Short-Secret1"]);
        for (text, masked) in [
            (format!("x {secret} y"), "x **** y".to_owned()),
            (
                format!("entry '{}...'", &secret[..20]),
                "entry '****...'".to_owned(),
            ),
            (
                format!("=({})", secret.to_lowercase()),
                "=(****)".to_owned(),
            ),
            (format!("{}!", secret.to_uppercase()), "****!".to_owned()),
            (format!("{}|", &secret[..12]), "****|".to_owned()),
            (format!("{}|", &secret[..11]), format!("{}|", &secret[..11])),
            (format!("{}X", &secret[..30]), "****X".to_owned()),
            // Shorter than 16: exact only.
            ("short-secret1".to_owned(), "short-secret1".to_owned()),
            ("Short-Secret1".to_owned(), MASK.to_owned()),
            ("Short-Secr".to_owned(), "Short-Secr".to_owned()),
        ] {
            assert_eq!(r.redact(&text), masked, "{text}");
        }
    }

    #[test]
    fn a_cut_that_falls_inside_a_character_masks_up_to_that_character() {
        // The text and the secret share the first byte of `è` and `é` (0xc3), not the second:
        // the mask ends before the character, which stays whole.
        let r = redactor(&["Tok-abcdefghijklmné-rest"]);
        assert_eq!(r.redact("Tok-abcdefghijklmnè!"), "****è!");
        assert_eq!(r.redact("tok-ABCDEFGHIJKLMNé-REST."), "****.");
    }

    #[test]
    fn urls_built_by_a_script_and_short_query_values_are_masked() {
        let r = redactor(&["42"]);
        for (text, masked) in [
            ("postgres://u:built@db/x", "postgres://u:****@db/x"),
            (
                "https://h/x?password=p1&a=2",
                "https://h/x?password=****&a=2",
            ),
            ("https://h/x?a=42", "https://h/x?a=****"),
            ("https://h/x?a=1&b=42#top", "https://h/x?a=1&b=****#top"),
            ("https://h/x?a=421&b=x42", "https://h/x?a=421&b=x42"),
            ("n=42 of 42", "n=42 of 42"),
            ("42", MASK),
        ] {
            assert_eq!(r.redact(text), masked, "{text}");
        }
    }

    #[test]
    fn every_part_of_a_value_is_masked() {
        let r = redactor(&["42", "7.5"]);
        let value: Dynamic = rhai::Engine::new()
            .eval("[42, 421, #{n: 42, m: [7.5, 7]}, '4', true, ()]")
            .unwrap();
        assert_eq!(
            r.value(&value).to_string(),
            r#"["****", 421, #{"m": ["****", 7], "n": "****"}, '4', true, ()]"#
        );
    }

    #[test]
    fn overlapping_secrets_are_masked_as_one() {
        let r = redactor(&["abcdef", "defghi", "aaaa"]);
        assert_eq!(r.redact("x abcdefghi y"), "x **** y");
        assert_eq!(r.redact("aaaaa"), "****");
    }

    #[test]
    fn short_secrets_are_masked_as_words_or_whole_values() {
        let r = redactor(&["123", "7"]);
        assert_eq!(r.redact("123"), MASK);
        assert_eq!(r.redact("pin 123, --pin=123"), "pin ****, --pin=****");
        assert_eq!(r.redact("1234 a123 123b"), "1234 a123 123b");
        assert_eq!(r.redact("7"), MASK);
        assert_eq!(r.redact("step 7 of 17"), "step 7 of 17");
        let flags = redactor(&["true", "OFF", "1"]);
        assert_eq!(flags.redact("true off 1"), "true off 1");
        assert_eq!(flags.display("SECRET_ROTATION", "true"), MASK);
    }

    #[test]
    fn multi_line_secrets_mask_their_long_lines_too() {
        let key = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\nshort\n-----END PRIVATE KEY-----\n";
        let r = redactor(&[key]);
        assert_eq!(r.redact(&format!("a{key}b")), "a****b");
        assert_eq!(r.redact("line: MIIEvQIBADANBgkqhkiG9w0B"), "line: ****");
        assert_eq!(
            r.redact("-----BEGIN PRIVATE KEY-----"),
            "-----BEGIN PRIVATE KEY-----"
        );
    }

    #[test]
    fn words_are_masked_by_value_and_by_key() {
        let r = redactor(&["hunter22", "42"]);
        assert_eq!(
            r.words(&[
                "psql",
                "--password=x",
                "PGPASSWORD=y",
                "--new-password",
                "z",
                "--token",
                "--verbose",
                "it's-hunter22",
                "42",
                "select password=1",
            ]),
            [
                "psql",
                "--password=****",
                "PGPASSWORD=****",
                "--new-password",
                "****",
                "--token",
                "--verbose",
                "it's-****",
                "****",
                "select password=1",
            ]
        );
    }

    #[test]
    fn values_are_masked_inside_and_by_key() {
        let r = redactor(&["s\"cr\\et"]);
        let value: Dynamic = rhai::Engine::new()
            .eval(r#"#{list: ["s\"cr\\et", 1], password: "abc", pin: 12, show_secrets: true, note: 'c'}"#)
            .unwrap();
        assert_eq!(
            r.value(&value).to_string(),
            r#"#{"list": ["****", 1], "note": 'c', "password": "****", "pin": "****", "show_secrets": true}"#
        );
    }
}
