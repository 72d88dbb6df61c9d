//! Shell quoting, the one place it is done: a command line shown to the user (errors, dry runs,
//! `print(cmd)`, `--json`, the audit log) and the line ssh hands to the remote login shell. A
//! quoted word reads back as exactly that one word in sh, bash, zsh and fish.

use std::borrow::Cow;

/// `word` as a shell reads it back as one word: as it is when made only of characters no shell
/// treats specially, else in single quotes (a `'` inside becomes `'\''`).
pub(crate) fn quote(word: &str) -> Cow<'_, str> {
    // `=` and `%` are plain inside a word, but zsh expands a leading `=` (`=ls`) and old fish
    // versions a leading `%`.
    let plain = !word.is_empty()
        && !word.starts_with(['=', '%'])
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-./:=@%+,".contains(&b));
    if plain {
        Cow::Borrowed(word)
    } else {
        Cow::Owned(format!("'{}'", word.replace('\'', r"'\''")))
    }
}

/// `quote` for a word shown to the user with its secrets masked: the mask stands unquoted
/// (`postgres://u:****@db`) when the rest of the word needs no quotes.
pub(crate) fn quote_masked(word: &str) -> Cow<'_, str> {
    let mask = crate::release::MASK;
    if word.contains(mask) {
        let rest = word.replace(mask, "");
        if rest.is_empty() || matches!(quote(&rest), Cow::Borrowed(_)) {
            return Cow::Borrowed(word);
        }
    }
    quote(word)
}

/// `quote` for a path on another host: a leading `~/` (or a lone `~`) stays outside the quotes,
/// so that host's shell expands it to the home directory there.
pub(crate) fn quote_home(path: &str) -> Cow<'_, str> {
    match path.strip_prefix("~/") {
        Some("") => Cow::Borrowed(path),
        Some(rest) => Cow::Owned(format!("~/{}", quote(rest))),
        None if path == "~" => Cow::Borrowed(path),
        None => quote(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_only_when_a_shell_would_change_them() {
        let cases = [
            ("psql", "psql"),
            ("a=b", "a=b"),
            ("/srv/app", "/srv/app"),
            (
                "--url=postgres://u@h:5432/db",
                "--url=postgres://u@h:5432/db",
            ),
            ("", "''"),
            ("select 1; drop", "'select 1; drop'"),
            ("it's", r"'it'\''s'"),
            ("$HOME", "'$HOME'"),
            ("*", "'*'"),
            ("~", "'~'"),
            ("=ls", "'=ls'"),
            ("%1", "'%1'"),
            ("a\nb", "'a\nb'"),
        ];
        for (word, quoted) in cases {
            assert_eq!(quote(word), quoted, "{word:?}");
        }
    }

    #[test]
    fn a_masked_word_keeps_its_mask_unquoted_when_the_rest_is_plain() {
        assert_eq!(quote_masked("****"), "****");
        assert_eq!(
            quote_masked("postgres://u:****@db/x"),
            "postgres://u:****@db/x"
        );
        assert_eq!(quote_masked("it's ****"), r"'it'\''s ****'");
        assert_eq!(quote_masked("a b"), "'a b'");
    }

    #[test]
    fn a_home_path_keeps_its_tilde_outside_the_quotes() {
        assert_eq!(quote_home("/srv/app"), "/srv/app");
        assert_eq!(quote_home("/srv/shop's app"), r"'/srv/shop'\''s app'");
        assert_eq!(quote_home("~/apps/$shop"), "~/'apps/$shop'");
        assert_eq!(quote_home("~/apps"), "~/apps");
        assert_eq!(quote_home("~/"), "~/");
        assert_eq!(quote_home("~"), "~");
        assert_eq!(quote_home("~x"), "'~x'");
    }
}
