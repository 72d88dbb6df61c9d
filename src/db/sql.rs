//! SQL text read as far as std/db needs, the way each database's own lexer reads quotes and
//! comments: the `$1, $2, ...` placeholders (std/db's one style) turned into `SQLite`'s `?1` or
//! `MySQL`'s `?`, and the statement's first keyword (to refuse transaction control, and
//! statements a dry run cannot roll back on `MySQL`). `PostgreSQL` reads `$1` itself.

/// Whose lexer to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Postgres,
    Sqlite,
    Mysql,
}

/// A statement ready for its driver.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Translated {
    pub sql: String,
    /// `MySQL`: which parameter (0-based) each `?` takes, in order; empty elsewhere.
    pub order: Vec<usize>,
    /// The highest `$n` used.
    pub highest: usize,
}

/// Turns `$n` placeholders (outside quotes, names and comments) into the dialect's own. A `?`
/// there is an error naming `$1`: one placeholder style serves every database.
pub(crate) fn translate(sql: &str, dialect: Dialect) -> Result<Translated, String> {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut order = Vec::new();
    let mut highest = 0;
    for (start, end, token) in Lexer::new(sql, dialect) {
        match token {
            Token::Placeholder(n) => {
                highest = highest.max(n);
                match dialect {
                    Dialect::Postgres => out.push_str(&sql[start..end]),
                    Dialect::Sqlite => out.push_str(&format!("?{n}")),
                    Dialect::Mysql => {
                        order.push(n - 1);
                        out.push('?');
                    }
                }
            }
            Token::Question if dialect != Dialect::Postgres => {
                return Err(format!(
                    "std/db writes parameters as $1, $2, ... on every database: write $1 where \
                     the SQL has `?` (at {})",
                    place(sql, start)
                ));
            }
            Token::Open(what) => return Err(format!("the SQL ends inside {what}")),
            _ => out.push_str(&sql[start..end]),
        }
    }
    Ok(Translated {
        sql: out,
        order,
        highest,
    })
}

/// A `MySQL` `INSERT` or `REPLACE` (translated: `?` placeholders) whose `VALUES` is one row of
/// placeholders only, `(?, ?, ?)`, with nothing after it but what takes no placeholder
/// (`ON DUPLICATE KEY UPDATE ...`, a row alias): the bytes of that row. Many parameter sets
/// can then go as one statement of many rows, as `PyMySQL`'s `executemany` sends them; a row
/// that computes anything (`(?, now())`) is left alone, since a function evaluated once per
/// statement (`LAST_INSERT_ID()`) would mean something else over many rows.
pub(crate) fn mysql_values_row(sql: &str) -> Option<(usize, usize)> {
    let mut tokens = Lexer::new(sql, Dialect::Mysql).filter(|(_, _, t)| *t != Token::Blank);
    let text = |start: usize, end: usize| sql[start..end].to_ascii_lowercase();
    let (start, end, token) = tokens.next()?;
    if token != Token::Word || !matches!(text(start, end).as_str(), "insert" | "replace") {
        return None;
    }
    let mut depth = 0_usize;
    loop {
        let (start, end, token) = tokens.next()?;
        match (token, &sql[start..end]) {
            (Token::Word, word)
                if depth == 0
                    && matches!(word.to_ascii_lowercase().as_str(), "values" | "value") =>
            {
                break;
            }
            (Token::Other, "(") => depth += 1,
            (Token::Other, ")") => depth = depth.checked_sub(1)?,
            (Token::Word | Token::Other, _) => {}
            _ => return None,
        }
    }
    let (row_start, _, _) = tokens
        .next()
        .filter(|&(s, e, t)| t == Token::Other && &sql[s..e] == "(")?;
    let row_end = loop {
        tokens.next().filter(|&(_, _, t)| t == Token::Question)?;
        match tokens.next() {
            Some((s, e, Token::Other)) if &sql[s..e] == "," => {}
            Some((s, e, Token::Other)) if &sql[s..e] == ")" => break e,
            _ => return None,
        }
    };
    // What follows is sent once, after every row: words and operators only (no placeholder, no
    // executable comment).
    let plain = |(s, e, t): (usize, usize, Token)| {
        t == Token::Word || t == Token::Other && !sql[s..e].starts_with("/*")
    };
    match tokens.next() {
        None => Some((row_start, row_end)),
        Some((s, e, Token::Word)) if matches!(text(s, e).as_str(), "on" | "as") => {
            tokens.all(plain).then_some((row_start, row_end))
        }
        Some(_) => None,
    }
}

/// Where the statement begins: past the blanks and comments before its first token, as this
/// dialect's lexer reads them. adminsh sends the statement from here, so that what the server
/// runs begins with the keyword adminsh judged it by, whatever a comment or an odd character
/// before it would have meant to the server.
pub(crate) fn start(sql: &str, dialect: Dialect) -> usize {
    Lexer::new(sql, dialect)
        .find(|(_, _, token)| *token != Token::Blank)
        .map_or(sql.len(), |(start, _, _)| start)
}

/// `MySQL`'s executable comments (`/*! ... */`, `/*M! ... */`): text the server runs that
/// looks like a comment. The byte where the first one opens, outside quotes.
pub(crate) fn executable_comment(sql: &str) -> Option<usize> {
    Lexer::new(sql, Dialect::Mysql)
        .find(|&(start, _, token)| {
            token == Token::Other && {
                let rest = &sql[start..];
                rest.starts_with("/*!") || rest.starts_with("/*M!") || rest.starts_with("/*m!")
            }
        })
        .map(|(start, _, _)| start)
}

/// The statement's first keyword, lower-case ("" when it has none), past comments and `(`.
pub(crate) fn first_keyword(sql: &str, dialect: Dialect) -> String {
    keywords(sql, dialect, 1).pop().unwrap_or_default()
}

/// A `WITH` whose parts change rows (`with gone as (delete ... returning id) select ...`): the
/// count the server gives is of the rows it returned, not of those it changed.
pub(crate) fn data_modifying_with(sql: &str, dialect: Dialect) -> bool {
    let words = keywords(sql, dialect, usize::MAX);
    words.first().is_some_and(|w| w == "with")
        && words
            .iter()
            .any(|w| matches!(w.as_str(), "insert" | "update" | "delete" | "merge"))
}

/// The first `n` keywords (words outside quotes and comments), lower-case.
pub(crate) fn keywords(sql: &str, dialect: Dialect, n: usize) -> Vec<String> {
    let mut words = Vec::new();
    let mut tokens = Lexer::new(sql, dialect);
    while words.len() < n {
        match tokens.next() {
            Some((start, end, Token::Word)) => words.push(sql[start..end].to_ascii_lowercase()),
            Some((_, _, Token::Other | Token::Blank)) => {}
            _ => break,
        }
    }
    words
}

/// Why a statement is one adminsh keeps to itself, if it is: transaction control (adminsh
/// opens and ends transactions, so that rollback on error, the dry-run sandbox and read-only
/// mode hold) and switching the session's read-only mode off.
pub(crate) fn reserved(sql: &str, dialect: Dialect) -> Option<String> {
    let words = keywords(sql, dialect, 4);
    let first = words.first().map_or("", String::as_str);
    let control = matches!(
        first,
        "begin" | "start" | "commit" | "end" | "rollback" | "abort" | "savepoint" | "release"
    ) && !(first == "start"
        && words.get(1).is_some_and(|w| w == "replica" || w == "slave"));
    if control {
        return Some(transaction_control(first));
    }
    if !matches!(first, "set" | "reset" | "pragma") {
        return None;
    }
    let lower = sql.to_ascii_lowercase();
    let read_only_switch = (first == "set" || first == "reset")
        && (lower.contains("read_only")
            || lower.contains("characteristics")
            || words.iter().any(|w| w == "transaction"));
    let query_only = first == "pragma" && lower.contains("query_only");
    if read_only_switch || query_only {
        return Some(MODE_SWITCH.to_owned());
    }
    None
}

/// Why transaction control (`keyword` begins it) is refused.
pub(crate) fn transaction_control(keyword: &str) -> String {
    format!(
        "`{keyword}`: adminsh begins and ends transactions itself (db::transaction(|| ...)), so \
         that rollback on errors, the dry-run sandbox and read-only mode hold"
    )
}

/// Why a statement that changes the session's transaction mode is refused.
pub(crate) const MODE_SWITCH: &str = "a statement that changes the session's transaction mode: \
     adminsh sets it (read-only with --read-only; db::transaction for transactions)";

/// Functions that act outside the transaction: by these names, or names that begin so.
const OUTSIDE_PREFIXES: &[&str] = &["dblink", "lo_import", "lo_export", "pg_file_"];
const OUTSIDE_NAMES: &[&str] = &[
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_promote",
    "pg_switch_wal",
    "pg_create_restore_point",
    "pg_create_logical_replication_slot",
    "pg_create_physical_replication_slot",
    "pg_drop_replication_slot",
    "pg_replication_origin_create",
    "pg_read_file",
    "pg_read_binary_file",
    "pg_ls_dir",
    "outfile",
    "dumpfile",
    "load_file",
    "sys_exec",
    "sys_eval",
];

/// Whether a function (its name in lower case) acts outside the transaction.
pub(crate) fn acts_outside(name: &str) -> bool {
    OUTSIDE_NAMES.contains(&name) || OUTSIDE_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Why what `name` names is refused in a guarded mode.
pub(crate) fn outside_refusal(name: &str) -> String {
    format!(
        "`{name}` acts outside the transaction (another connection, the server's files or \
         sessions), where a dry run's rollback and a read-only transaction do not reach"
    )
}

/// What a statement names that acts outside the transaction, where neither a rollback nor a
/// read-only transaction reaches: another connection (`dblink`), the server's files (`COPY`,
/// `lo_import`, `INTO OUTFILE`), other sessions (`pg_terminate_backend`), the server's
/// configuration. Refused in a dry run and under `--read-only`; a name written in double
/// quotes counts as well. A function of the app's that does such things inside is beyond any
/// reading of the SQL: give such runs a role that may only read.
pub(crate) fn outside_effects(sql: &str, dialect: Dialect) -> Option<String> {
    let names = Lexer::new(sql, dialect).filter_map(|(start, end, token)| {
        let text = &sql[start..end];
        match token {
            Token::Word => Some(text.to_ascii_lowercase()),
            Token::Other if text.len() >= 2 && text.starts_with('"') => Some(
                text[1..text.len() - 1]
                    .replace("\"\"", "\"")
                    .to_ascii_lowercase(),
            ),
            _ => None,
        }
    });
    let copy = first_keyword(sql, dialect) == "copy";
    for name in names {
        if copy || acts_outside(&name) {
            return Some(outside_refusal(if copy { "copy" } else { &name }));
        }
    }
    None
}

/// In a dry run or under `--read-only` on `MySQL`, only plain statements run: no executable
/// comment (text the server runs though it looks like a comment), and a first keyword that
/// reads or changes rows, nothing that changes the session, calls a procedure or reaches a file.
pub(crate) fn plain_mysql(sql: &str) -> Result<(), String> {
    if let Some(at) = executable_comment(sql) {
        return Err(format!(
            "an executable comment (`/*!`) at {}: MySQL runs its text, so a dry run or a \
             read-only run does not take it",
            place(sql, at)
        ));
    }
    let words = keywords(sql, Dialect::Mysql, 2);
    let first = words.first().map_or("", String::as_str);
    let temporary = words.get(1).is_some_and(|w| w == "temporary");
    let plain = matches!(
        first,
        "select"
            | "insert"
            | "update"
            | "delete"
            | "replace"
            | "with"
            | "values"
            | "table"
            | "show"
            | "explain"
            | "describe"
            | "desc"
    ) || (matches!(first, "create" | "drop") && temporary);
    if plain {
        Ok(())
    } else {
        Err(format!(
            "`{first}` in a dry run or a read-only run on MySQL: only plain statements (select, \
             insert, update, delete, replace, with, show, explain) run there"
        ))
    }
}

/// Whether `MySQL` commits the transaction around this statement itself (DDL and the like), so a
/// dry run could not roll it back.
pub(crate) fn mysql_commits_implicitly(sql: &str) -> bool {
    let words = keywords(sql, Dialect::Mysql, 2);
    let first = words.first().map_or("", String::as_str);
    let temporary = words.get(1).is_some_and(|w| w == "temporary");
    match first {
        "create" | "drop" => !temporary,
        "alter" | "rename" | "truncate" | "grant" | "revoke" | "lock" | "unlock" | "flush"
        | "analyze" | "optimize" | "repair" | "install" | "uninstall" | "reset" | "purge"
        | "cache" | "change" | "load" => true,
        _ => false,
    }
}

/// `line L, column C` of byte `at`.
pub(crate) fn place(sql: &str, at: usize) -> String {
    let before = &sql[..at.min(sql.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    format!("line {line}, column {column}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// A name or keyword.
    Word,
    /// `$n`.
    Placeholder(usize),
    /// `?` outside quotes.
    Question,
    /// Whitespace or a comment.
    Blank,
    /// Anything else: quotes, numbers, operators.
    Other,
    /// A quote or comment that does not end.
    Open(&'static str),
}

struct Lexer<'a> {
    text: &'a [u8],
    at: usize,
    dialect: Dialect,
    done: bool,
}

impl<'a> Lexer<'a> {
    fn new(sql: &'a str, dialect: Dialect) -> Self {
        Lexer {
            text: sql.as_bytes(),
            at: 0,
            dialect,
            done: false,
        }
    }

    fn byte(&self, i: usize) -> u8 {
        self.text.get(i).copied().unwrap_or(0)
    }

    /// Past a quote that opened before `i` and closes with `quote` (doubled is one; with
    /// `backslash`, `\x` is one character).
    fn after_quote(&self, mut i: usize, quote: u8, backslash: bool) -> Option<usize> {
        while i < self.text.len() {
            let b = self.text[i];
            if backslash && b == b'\\' {
                i += 2;
            } else if b != quote {
                i += 1;
            } else if self.byte(i + 1) == quote {
                i += 2;
            } else {
                return Some(i + 1);
            }
        }
        None
    }

    fn after_block_comment(&self, mut i: usize) -> Option<usize> {
        let nested = self.dialect == Dialect::Postgres;
        let mut depth = 0;
        while i + 1 < self.text.len() {
            let opens = self.text[i] == b'/' && self.text[i + 1] == b'*' && (nested || depth == 0);
            let closes = self.text[i] == b'*' && self.text[i + 1] == b'/';
            if opens {
                depth += 1;
                i += 2;
            } else if closes {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Some(i);
                }
            } else {
                i += 1;
            }
        }
        None
    }

    /// The end of a `--` (or `MySQL`'s `#`) comment: the end of the line, where the database's
    /// own lexer ends it (`PostgreSQL` ends one at `\r` too).
    fn after_line(&self, mut i: usize) -> usize {
        let pg = self.dialect == Dialect::Postgres;
        while i < self.text.len() && !(self.text[i] == b'\n' || pg && self.text[i] == b'\r') {
            i += 1;
        }
        i
    }

    /// The token at `i`: where it ends, and what it is.
    fn token(&self, i: usize) -> (usize, Token) {
        let b = self.text[i];
        let next = self.byte(i + 1);
        let mysql = self.dialect == Dialect::Mysql;
        let pg = self.dialect == Dialect::Postgres;
        let open = |end: Option<usize>, what| {
            end.map_or((self.text.len(), Token::Open(what)), |e| (e, Token::Other))
        };
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => (i + 1, Token::Blank),
            // MySQL reads `--` as a comment only before a space or a control character.
            b'-' if next == b'-' && (!mysql || self.byte(i + 2) <= b' ') => {
                (self.after_line(i), Token::Blank)
            }
            b'#' if mysql => (self.after_line(i), Token::Blank),
            // MySQL runs the text of `/*! ... */` and `/*M! ... */`: not a blank.
            b'/' if next == b'*' => match self.after_block_comment(i) {
                Some(end)
                    if mysql
                        && (self.byte(i + 2) == b'!'
                            || matches!(self.byte(i + 2), b'M' | b'm')
                                && self.byte(i + 3) == b'!') =>
                {
                    (end, Token::Other)
                }
                Some(end) => (end, Token::Blank),
                None => (self.text.len(), Token::Open("a /* comment")),
            },
            b'\'' => open(self.after_quote(i + 1, b'\'', mysql), "a quoted string"),
            b'"' => open(self.after_quote(i + 1, b'"', mysql), "a quoted name"),
            b'`' if !pg => open(self.after_quote(i + 1, b'`', false), "a quoted name"),
            b'[' if self.dialect == Dialect::Sqlite => {
                let close = self.text[i..].iter().position(|&c| c == b']');
                open(close.map(|c| i + c + 1), "a [quoted name]")
            }
            b'E' | b'e' if pg && next == b'\'' => {
                open(self.after_quote(i + 2, b'\'', true), "a quoted string")
            }
            b'$' if self.byte(i + 1).is_ascii_digit() && !self.word_before(i) => {
                let mut end = i + 1;
                while self.byte(end).is_ascii_digit() {
                    end += 1;
                }
                let n = std::str::from_utf8(&self.text[i + 1..end])
                    .ok()
                    .and_then(|d| d.parse().ok())
                    .unwrap_or(0);
                if n == 0 {
                    (end, Token::Other)
                } else {
                    (end, Token::Placeholder(n))
                }
            }
            b'$' if pg => self.dollar_quote(i),
            b'?' => (i + 1, Token::Question),
            _ if is_word(b, false) => {
                let mut end = i + 1;
                while end < self.text.len() && is_word(self.text[end], true) {
                    end += 1;
                }
                (end, Token::Word)
            }
            _ if b.is_ascii_digit() => {
                let mut end = i + 1;
                while end < self.text.len()
                    && (self.text[end].is_ascii_alphanumeric() || self.text[end] == b'.')
                {
                    end += 1;
                }
                (end, Token::Other)
            }
            _ => (i + 1, Token::Other),
        }
    }

    /// Whether a name ends just before `i` (so `a$1` is a name, not a placeholder).
    fn word_before(&self, i: usize) -> bool {
        i > 0 && is_word(self.text[i - 1], true)
    }

    /// `PostgreSQL`'s `$tag$ ... $tag$` (or a lone `$`).
    fn dollar_quote(&self, i: usize) -> (usize, Token) {
        let mut j = i + 1;
        while j < self.text.len() && self.text[j] != b'$' && is_word(self.text[j], true) {
            j += 1;
        }
        if self.byte(j) != b'$' {
            return (i + 1, Token::Other);
        }
        let tag = &self.text[i..=j];
        let rest = &self.text[j + 1..];
        match rest.windows(tag.len()).position(|w| w == tag) {
            Some(p) => (j + 1 + p + tag.len(), Token::Other),
            None => (self.text.len(), Token::Open("a dollar-quoted string")),
        }
    }
}

impl Iterator for Lexer<'_> {
    type Item = (usize, usize, Token);

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.at >= self.text.len() {
            return None;
        }
        let start = self.at;
        let (end, token) = self.token(start);
        // Never split a UTF-8 character: a token that ends inside one takes it whole.
        let mut end = end.min(self.text.len());
        while end < self.text.len() && (self.text[end] & 0xC0) == 0x80 {
            end += 1;
        }
        self.at = end;
        if matches!(token, Token::Open(_)) {
            self.done = true;
        }
        Some((start, end, token))
    }
}

/// A letter, `_` or any non-ASCII byte; with `part`, also digits and `$`.
fn is_word(b: u8, part: bool) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80 || (part && (b.is_ascii_digit() || b == b'$'))
}

/// The SQL uses `$highest` but `given` parameters came.
pub(crate) fn counted(highest: usize, given: usize) -> super::DbError {
    super::DbError::failed(format!(
        "the SQL uses {} parameter{} ($1..${highest}), {given} {} given",
        highest,
        if highest == 1 { "" } else { "s" },
        if given == 1 { "was" } else { "were" }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mysql_insert_of_one_row_of_placeholders_can_take_many_rows() {
        fn row(sql: &str) -> Option<&str> {
            mysql_values_row(sql).map(|(s, e)| &sql[s..e])
        }
        for (sql, found) in [
            ("insert into t (a, b) values (?, ?)", Some("(?, ?)")),
            ("INSERT INTO t VALUES(?,?)", Some("(?,?)")),
            ("replace into t (a) value (?)", Some("(?)")),
            (
                "insert ignore into `values` (a) values ( ? )",
                Some("( ? )"),
            ),
            (
                "insert into t (a) values (?) on duplicate key update a = values(a)",
                Some("(?)"),
            ),
            (
                "insert into t (a) values (?) as new on duplicate key update a = new.a",
                Some("(?)"),
            ),
            ("insert into t (a) values (?) /* done */", Some("(?)")),
            ("insert into t (a, b) values (?, now())", None),
            ("insert into t (a, b) values (?, 'x')", None),
            ("insert into t (a) values (?), (?)", None),
            (
                "insert into t (a) values (?) on duplicate key update a = ?",
                None,
            ),
            ("insert into t (a) select ? from dual", None),
            ("insert into t set a = ?", None),
            ("insert into t (a) values ((?))", None),
            ("insert into t (a) values (?) /*! , (1) */", None),
            ("insert into t (a) values (?) as n /*! , (1) */", None),
            (
                "insert into t (a) values (?) on duplicate key update a = 'x'",
                Some("(?)"),
            ),
            ("insert into t (a) values (?);", None),
            ("update t set a = ? where b in (values (1))", None),
            ("insert into t (a) values ()", None),
            ("insert into t (a) values (?", None),
            ("explain insert into t (a) values (?)", None),
            ("insert into t (a) values (?) returning id", None),
            // The row opens with `(` and closes with `)`, nothing else.
            ("insert into t (a) values + ?)", None),
            ("insert into t (a) values (?]", None),
        ] {
            assert_eq!(row(sql), found, "{sql}");
        }
    }

    /// Where each database's own lexer says the statement begins: what adminsh sends.
    #[test]
    fn a_statement_begins_where_the_databases_lexer_says() {
        use Dialect::{Mysql, Postgres, Sqlite};
        let cases = [
            ("select 1", Postgres, "select 1"),
            ("  \t\nselect 1", Postgres, "select 1"),
            ("/* a */ -- b\nselect 1", Postgres, "select 1"),
            // PostgreSQL ends a `--` comment at a carriage return; SQLite and MySQL do not.
            ("/* */--\rcommit", Postgres, "commit"),
            ("/* */--\rcommit", Sqlite, ""),
            ("/* */-- \rcommit", Mysql, ""),
            ("/* /* */ */ commit", Postgres, "commit"),
            ("\x0ccommit", Postgres, "commit"),
            // MySQL: `--` is a comment only before a space or a control character.
            ("--\tx\ncommit", Mysql, "commit"),
            ("--\x0bx\ncommit", Mysql, "commit"),
            ("--x\ncommit", Mysql, "--x\ncommit"),
            ("#x\ncommit", Mysql, "commit"),
            ("#x\ncommit", Postgres, "#x\ncommit"),
            // MySQL runs an executable comment's text: it is where the statement begins.
            (
                "/*!40000 commit */ select 1",
                Mysql,
                "/*!40000 commit */ select 1",
            ),
            ("/* x */ /*M! commit */", Mysql, "/*M! commit */"),
            ("/*!40000 commit */ select 1", Postgres, "select 1"),
            ("-- only a comment", Postgres, ""),
            ("", Sqlite, ""),
        ];
        for (sql, dialect, sent) in cases {
            assert_eq!(&sql[start(sql, dialect)..], sent, "{sql:?} {dialect:?}");
        }
    }

    #[test]
    fn guarded_mysql_takes_plain_statements_only() {
        for sql in [
            "select 1",
            "insert into t values (1)",
            " update t set a = 1",
            "with x as (select 1) select * from x",
            "create temporary table t (a int)",
            "show tables",
        ] {
            assert_eq!(plain_mysql(sql), Ok(()), "{sql}");
        }
        for sql in [
            "/*!40000 set session transaction read write */",
            "select 1 /*!, (select 2) */",
            "select 1 /*M! , 2 */",
            "set autocommit = 1",
            "do sleep(1)",
            "call p()",
            "create table t (a int)",
            "lock tables t write",
            "xa start 'x'",
            "prepare s from 'commit'",
            "handler t open",
            "load data infile '/etc/passwd' into table t",
        ] {
            assert!(plain_mysql(sql).is_err(), "{sql}");
        }
        assert_eq!(executable_comment("select '/*!' as x"), None);
    }

    #[test]
    fn what_acts_outside_the_transaction_is_named() {
        use Dialect::{Mysql, Postgres};
        for (sql, dialect, name) in [
            (
                "select pg_terminate_backend(42)",
                Postgres,
                "pg_terminate_backend",
            ),
            (
                "select \"pg_cancel_backend\"(42)",
                Postgres,
                "pg_cancel_backend",
            ),
            (
                "select public.dblink_exec('db', 'delete from t')",
                Postgres,
                "dblink_exec",
            ),
            (
                "SELECT * FROM DBLINK('db', 'select 1') AS t(a int)",
                Postgres,
                "dblink",
            ),
            ("select lo_import('/etc/passwd')", Postgres, "lo_import"),
            ("copy t to '/tmp/t.csv'", Postgres, "copy"),
            ("/* x */ COPY t FROM PROGRAM 'id'", Postgres, "copy"),
            ("select pg_reload_conf()", Postgres, "pg_reload_conf"),
            ("select * from t into outfile '/tmp/t'", Mysql, "outfile"),
            ("select load_file('/etc/passwd')", Mysql, "load_file"),
        ] {
            let why = outside_effects(sql, dialect).unwrap_or_default();
            assert!(
                why.starts_with(&format!("`{name}` acts outside")),
                "{sql}: {why}"
            );
        }
        for (sql, dialect) in [
            ("select 'dblink_exec(1)'", Postgres),
            ("select 1 -- pg_terminate_backend", Postgres),
            ("select copy from t", Postgres),
            ("update t set a = 1", Mysql),
        ] {
            assert_eq!(outside_effects(sql, dialect), None, "{sql}");
        }
    }

    fn sqlite(sql: &str) -> String {
        translate(sql, Dialect::Sqlite).unwrap().sql
    }

    #[test]
    fn placeholders_outside_quotes_and_comments() {
        assert_eq!(
            sqlite("select $1, '$2', \"$3\", [$4], `$5` -- $6\n /* $7 */ from t where a$8 = $2"),
            "select ?1, '$2', \"$3\", [$4], `$5` -- $6\n /* $7 */ from t where a$8 = ?2"
        );
        let my = translate(
            "update t set a = $2, b = '\\'$1' where id = $1 or x = $2",
            Dialect::Mysql,
        )
        .unwrap();
        assert_eq!(
            my.sql,
            "update t set a = ?, b = '\\'$1' where id = ? or x = ?"
        );
        assert_eq!(my.order, vec![1, 0, 1]);
        assert_eq!(my.highest, 2);
        let pg = translate("select $$ $1 $$, $tag$ $2 $tag$, $3", Dialect::Postgres).unwrap();
        assert_eq!(pg.highest, 3);
        assert_eq!(sqlite("select 'é', $1 -- ü"), "select 'é', ?1 -- ü");
    }

    #[test]
    fn a_question_mark_names_the_style_and_open_quotes_are_errors() {
        let e = translate("select * from t where id = ?", Dialect::Sqlite).unwrap_err();
        assert!(
            e.contains("write $1 where the SQL has `?` (at line 1, column 28)"),
            "{e}"
        );
        assert!(translate("select '?'", Dialect::Mysql).is_ok());
        assert!(
            translate("select '?", Dialect::Mysql)
                .unwrap_err()
                .contains("quoted string")
        );
        assert!(translate("select data ? 'k' from t", Dialect::Postgres).is_ok());
    }

    /// A `WITH` counts as changing rows only when one of its parts does.
    #[test]
    fn a_data_modifying_with_is_told_from_a_reading_one() {
        use Dialect::Postgres;
        assert!(data_modifying_with(
            "with gone as (delete from t returning id) select count(*) from gone",
            Postgres
        ));
        assert!(data_modifying_with(
            "WITH n AS (SELECT 1) UPDATE t SET a = 1",
            Postgres
        ));
        assert!(!data_modifying_with(
            "with x as (select 1) select * from x",
            Postgres
        ));
        assert!(!data_modifying_with("delete from t", Postgres));
        assert!(!data_modifying_with(
            "with x as (select 'delete') select * from x",
            Postgres
        ));
    }

    #[test]
    fn keywords_and_reserved_statements() {
        assert_eq!(
            first_keyword("  -- c\n (select 1)", Dialect::Postgres),
            "select"
        );
        assert!(reserved("COMMIT", Dialect::Postgres).is_some());
        assert!(reserved("/* x */ begin transaction", Dialect::Sqlite).is_some());
        assert!(reserved("set default_transaction_read_only = off", Dialect::Postgres).is_some());
        assert!(reserved("SET SESSION TRANSACTION READ WRITE", Dialect::Mysql).is_some());
        assert!(reserved("pragma query_only = 0", Dialect::Sqlite).is_some());
        assert!(reserved("set search_path = app", Dialect::Postgres).is_none());
        assert!(reserved("update t set a = 1", Dialect::Postgres).is_none());
        // Every word that controls a transaction, as the statement's first.
        for sql in [
            "begin",
            "start transaction",
            "commit",
            "end",
            "rollback",
            "abort",
            "savepoint s",
            "release s",
        ] {
            assert!(reserved(sql, Dialect::Postgres).is_some(), "{sql}");
        }
        // `START` begins a transaction, except where it starts replication (MySQL).
        assert!(reserved("start transaction read write", Dialect::Postgres).is_some());
        assert!(reserved("START TRANSACTION", Dialect::Mysql).is_some());
        assert!(reserved("start replica", Dialect::Mysql).is_none());
        assert!(reserved("start slave", Dialect::Mysql).is_none());
        // Each of the ways a session's read-only mode is switched, alone.
        assert!(reserved("reset default_transaction_read_only", Dialect::Postgres).is_some());
        assert!(
            reserved(
                "set session characteristics as transaction read write",
                Dialect::Postgres
            )
            .is_some()
        );
        assert!(reserved("reset all", Dialect::Postgres).is_none());
        assert!(reserved("pragma foreign_keys = on", Dialect::Sqlite).is_none());
        assert!(mysql_commits_implicitly("CREATE TABLE t (id int)"));
        assert!(mysql_commits_implicitly("alter table t add b int"));
        assert!(mysql_commits_implicitly("TRUNCATE t"));
        assert!(!mysql_commits_implicitly(
            "create temporary table t (id int)"
        ));
        assert!(!mysql_commits_implicitly("insert into t values (1)"));
    }
}
