//! Which config values are secret, and how to keep them out of everything adminsh prints.
//!
//! A value is secret when its key looks like one (`*PASSWORD*`, `*SECRET*`, `*TOKEN*`, `*_KEY`,
//! plus the manifest's extra names) or when it is the password inside a URL. The [`Redactor`]
//! knows every secret value of a release and masks it in any text: command lines, error
//! messages, echoed results.

/// What stands in for a secret wherever adminsh prints one.
pub(crate) const MASK: &str = "****";

/// Secrets shorter than this are masked by key only; masking them inside free text would
/// garble unrelated output (a password of "1" would hide every digit).
const MIN_MASKED_LEN: usize = 4;

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

    pub(crate) fn is_secret(&self, key: &str) -> bool {
        let key = key.to_ascii_uppercase();
        key.contains("PASSWORD")
            || key.contains("SECRET")
            || key.contains("TOKEN")
            || key.ends_with("_KEY")
            || self
                .extra
                .iter()
                .any(|pattern| wildcard_match(pattern, &key))
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

/// The password inside a `scheme://user:password@host` URL, if there is one.
pub(crate) fn url_password(value: &str) -> Option<&str> {
    let after_scheme = &value[value.find("://")? + 3..];
    let authority_end = after_scheme
        .find(['/', '?', '#'])
        .unwrap_or(after_scheme.len());
    let authority = &after_scheme[..authority_end];
    let userinfo = &authority[..authority.rfind('@')?];
    let password = &userinfo[userinfo.find(':')? + 1..];
    (!password.is_empty()).then_some(password)
}

/// Masks known secret values in text.
#[derive(Debug, Clone, Default)]
pub(crate) struct Redactor {
    /// Longest first, so a secret that contains another is masked whole.
    secrets: Vec<String>,
}

impl Redactor {
    pub(crate) fn add(&mut self, secret: &str) {
        if secret.len() >= MIN_MASKED_LEN && !self.secrets.iter().any(|s| s == secret) {
            self.secrets.push(secret.to_owned());
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// Learns the secrets carried by one config entry: the whole value of a secret key, and
    /// the password of any URL.
    pub(crate) fn learn(&mut self, names: &SecretNames, key: &str, value: &str) {
        if names.is_secret(key) {
            self.add(value);
        }
        if let Some(password) = url_password(value) {
            self.add(password);
            if let Some(decoded) = percent_decode(password) {
                self.add(&decoded);
            }
        }
    }

    pub(crate) fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
            }
        }
        out
    }
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

/// How a value is shown when its key is secret: masked whole, or with only a URL's password
/// masked.
pub(crate) fn display_value(names: &SecretNames, key: &str, value: &str) -> String {
    if names.is_secret(key) {
        return MASK.to_owned();
    }
    match url_password(value) {
        Some(password) => value.replacen(&format!(":{password}@"), &format!(":{MASK}@"), 1),
        None => value.to_owned(),
    }
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
            "SECRET_KEY_BASE",
            "GITHUB_TOKEN",
            "AWS_ACCESS_KEY",
            "STRIPE_LIVE",
            "dsn",
        ] {
            assert!(names.is_secret(key), "{key} should be secret");
        }
        for key in ["DATABASE_URL", "KEYS", "PORT", "KEYBOARD", "MY_DSN"] {
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
        assert_eq!(url_password("postgres://u@h/db"), None);
        assert_eq!(url_password("https://h/path?a=b:c@d"), None);
        assert_eq!(url_password("not a url"), None);
    }

    #[test]
    fn redaction_masks_values_and_url_passwords() {
        let names = SecretNames::default();
        let mut r = Redactor::default();
        r.learn(&names, "API_TOKEN", "tok-123456");
        r.learn(&names, "DATABASE_URL", "postgres://app:s%3Acret@db/app");
        assert_eq!(
            r.redact("psql postgres://app:s%3Acret@db/app tok-123456 s:cret"),
            "psql postgres://app:****@db/app **** ****"
        );
        assert_eq!(
            display_value(&names, "DATABASE_URL", "postgres://app:pw12@db/app"),
            "postgres://app:****@db/app"
        );
        assert_eq!(display_value(&names, "API_TOKEN", "x"), MASK);
    }
}
