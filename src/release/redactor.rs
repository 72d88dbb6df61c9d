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
//! Whatever their length, values are also masked by their key: a secret config key in
//! `--env`, a `--new-password=...` argument, a map entry `password: ...`.

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
            value.clone()
        }
    }
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
