//! Which config values are secret: the whole value of a key that looks like one (`*PASSWORD*`,
//! `*SECRET*`, `*TOKEN*`, `*_KEY`, a `PIN`, plus the manifest's extra names), and, whatever the
//! key, the password of every URL in a value and every query parameter whose name says it is
//! secret (`?password=...`). The [`Redactor`] (in `redactor.rs`) learns them and masks them.

/// Decides which keys are secret.
#[derive(Debug, Clone, Default)]
pub(crate) struct SecretNames {
    extra: Vec<String>,
}

impl SecretNames {
    /// `extra` are the manifest's additional secret names; `*` matches any run of characters.
    pub(crate) fn new(extra: Vec<String>) -> Self {
        Self {
            extra: extra.into_iter().map(|s| s.to_ascii_uppercase()).collect(),
        }
    }

    /// Whether a config key, a parameter (`new-password`), a map key or a query parameter
    /// names a secret.
    pub(crate) fn is_secret(&self, key: &str) -> bool {
        let key = key.to_ascii_uppercase().replace('-', "_");
        key.contains("PASSWORD")
            || key.contains("PASSWD")
            || key.contains("PASSPHRASE")
            || key.contains("SECRET")
            || key.contains("TOKEN")
            || key.ends_with("_KEY")
            || key.split('_').any(|word| word == "PIN")
            || self
                .extra
                .iter()
                .any(|pattern| wildcard_match(pattern, &key))
    }

    /// The secrets inside `value` whatever its key: the password of every URL in it (a list of
    /// URLs has one each; a password may hold a `/`), and the value of every query parameter
    /// whose name is secret (`?sslpassword=...&token=...`).
    pub(crate) fn secrets_in<'a>(&self, value: &'a str) -> Vec<&'a str> {
        let mut found: Vec<&str> = value
            .match_indices("://")
            .filter_map(|(at, _)| password_after_scheme(&value[at + 3..]))
            .collect();
        if value.contains("://") {
            found.extend(self.query_secrets(value));
        }
        found
    }

    /// Values of `name=value` pairs after a `?` or `&` whose name is secret.
    fn query_secrets<'a>(&self, value: &'a str) -> impl Iterator<Item = &'a str> {
        value.match_indices(['?', '&']).filter_map(move |(at, _)| {
            let pair = &value[at + 1..];
            let end = pair
                .find(|c: char| matches!(c, '&' | '#' | ';') || c.is_whitespace())
                .unwrap_or(pair.len());
            let (name, secret) = pair[..end].split_once('=')?;
            (!secret.is_empty() && self.is_secret(name)).then_some(secret)
        })
    }
}

/// `*` matches any run of characters; everything else matches itself.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// The password of the first `scheme://user:password@host` URL in `value`, if there is one.
#[cfg(test)]
pub(crate) fn url_password(value: &str) -> Option<&str> {
    password_after_scheme(&value[value.find("://")? + 3..])
}

/// The password of a URL, given what follows its `://`. The user name ends at the first `:`;
/// the password at the last `@` before the path; when there is none there, a `/` is taken to
/// be part of the password (`u:pa/ss@host`), which then ends at the first `@` before the query.
fn password_after_scheme(after: &str) -> Option<&str> {
    let ends_word = |c: char| c.is_whitespace() || matches!(c, '?' | '#');
    let user_end = after.find(|c: char| matches!(c, ':' | '@' | '/') || ends_word(c))?;
    let rest = after[user_end..].strip_prefix(':')?;
    let authority_end = rest
        .find(|c: char| c == '/' || ends_word(c))
        .unwrap_or(rest.len());
    let at = if let Some(at) = rest[..authority_end].rfind('@') {
        at
    } else {
        let limit = rest.find(ends_word).unwrap_or(rest.len());
        let limit = limit.min(rest.find("://").unwrap_or(rest.len()));
        let at = rest[..limit].find('@')?;
        // Only a `/` makes the password run past the authority.
        if !rest[..at].contains('/') {
            return None;
        }
        at
    };
    let password = &rest[..at];
    (!password.is_empty()).then_some(password)
}

/// Decodes `%XX` escapes; `None` when there are none or they do not form UTF-8.
pub(crate) fn percent_decode(text: &str) -> Option<String> {
    if !text.contains('%') {
        return None;
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        let names = SecretNames::new(vec!["STRIPE_*".into(), "DSN".into()]);
        for key in [
            "DB_PASSWORD",
            "password",
            "new-password",
            "SECRET_KEY_BASE",
            "GITHUB_TOKEN",
            "AWS_ACCESS_KEY",
            "api-key",
            "STRIPE_LIVE",
            "dsn",
            "APP_PIN",
            "pin",
            "GPG_PASSPHRASE",
        ] {
            assert!(names.is_secret(key), "{key} should be secret");
        }
        for key in [
            "DATABASE_URL",
            "KEYS",
            "PORT",
            "KEYBOARD",
            "MY_DSN",
            "SHIPPING",
            "PINGDOM_URL",
        ] {
            assert!(!names.is_secret(key), "{key} should not be secret");
        }
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("A*B*C", "AxxBxxC"));
        assert!(wildcard_match("*_PASS", "DB_PASS"));
        assert!(!wildcard_match("A*B", "AxxBx"));
        assert!(wildcard_match("*", "ANY"));
        assert!(!wildcard_match("AB", "ABC"));
    }

    #[test]
    fn url_passwords() {
        assert_eq!(url_password("postgres://u:p4ss@h:5432/db"), Some("p4ss"));
        assert_eq!(url_password("postgres://u:p@ss@h/db"), Some("p@ss"));
        assert_eq!(url_password("postgres://u:pa/ss@h/db"), Some("pa/ss"));
        assert_eq!(url_password("redis://:pw@h:6379"), Some("pw"));
        assert_eq!(url_password("postgres://u@h/db"), None);
        assert_eq!(url_password("https://h/path?a=b:c@d"), None);
        assert_eq!(url_password("https://h:8080/path"), None);
        assert_eq!(url_password("not a url"), None);
    }

    #[test]
    fn every_url_and_secret_query_parameter_of_a_value() {
        let names = SecretNames::default();
        assert_eq!(
            names.secrets_in("redis://:one@h1:6379,redis://:two@h2:6379/0 x://u:th/ree@h3"),
            ["one", "two", "th/ree"]
        );
        assert_eq!(
            names.secrets_in("postgres://h/db?user=u&password=q1&sslmode=require&api_token=q2"),
            ["q1", "q2"]
        );
        assert!(names.secrets_in("a?password=x without a url").is_empty());
    }
}
