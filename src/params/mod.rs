//! A script's declared parameters: what its header says (`header.rs` reads it), the binding of
//! a command line (`--since 2026-11-01 --dry`) to the `PARAMS` map the script reads, checked
//! and converted before the script's first line runs, and the help and usage they make.
//!
//! ```text
//! //! Normalise the records.                                   (the summary)
//! //! @param since: date  Only records created after this      (required)
//! //! @param batch: int = 500  Rows per transaction            (a default)
//! //! @param note: string?  A note for the log                 (optional: `()` when absent)
//! //! @param mode: one-of(fast|safe) = safe  How to go about it
//! //! @flag dry  Print what would change                       (bool, false unless given)
//! //! @no-params                                               (takes none, but knows --help)
//! ```

mod header;
mod help;
mod kind;
mod misplaced;
mod uses;

use std::path::Path;

use rhai::{Dynamic, Map};

use crate::error::Error;
use crate::suggest;

pub(crate) use header::summary;
pub(crate) use misplaced::{refuse_misplaced_flags, shadowed_names};
pub(crate) use uses::{check_uses, tokens};

/// The value types a parameter can have.
pub(crate) const TYPES: [&str; 7] = [
    "string",
    "int",
    "float",
    "bool",
    "date",
    "path",
    "one-of(a|b)",
];

/// What a script's header says about it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Header {
    /// The first line of text.
    pub summary: Option<String>,
    /// The lines of text after the summary (directives left out), for `--help`.
    pub details: Vec<String>,
    pub params: Vec<Param>,
    /// The header declares the script's parameters (`@param`, `@flag` or `@no-params`): only
    /// then is the command line bound to `PARAMS` and `--help` answered by adminsh.
    pub declares: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Param {
    /// The name as the header spells it (`dry-run`), shown as `--dry-run`.
    pub spelled: String,
    /// The name as `PARAMS` keys it: `-` becomes `_` (`dry_run`).
    pub key: String,
    pub kind: Kind,
    pub presence: Presence,
    pub doc: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    String,
    Int,
    Float,
    Bool,
    /// `YYYY-MM-DD`, a real calendar date; the script gets the text.
    Date,
    /// Made absolute; the script gets the text.
    Path,
    OneOf(Vec<String>),
    /// `@flag`: a bool given by its presence alone.
    Flag,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Presence {
    Required,
    /// `TYPE?`: `()` when not given.
    Optional,
    /// `= value`, as written (checked against the type when the header is read).
    Default(String),
}

/// A header line that cannot be read: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HeaderError {
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for HeaderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

/// Where relative paths of a command line and of defaults are relative to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Places<'a> {
    /// The current directory: for paths the user types.
    pub cwd: &'a Path,
    /// The release root: for paths the script's defaults name.
    pub root: &'a Path,
}

impl Header {
    /// Whether the command line asks for the script's help (`-h` or `--help` before any `--`).
    pub(crate) fn wants_help(&self, args: &[String]) -> bool {
        self.declares
            && args
                .iter()
                .take_while(|a| *a != "--")
                .any(|a| a == "--help" || a == "-h")
    }

    /// The command line as `PARAMS`: every declared name, converted, defaults filled in.
    /// Words after `--` are left alone (the script finds them in `ARGS`).
    pub(crate) fn bind(&self, script: &str, args: &[String], places: Places) -> Result<Map, Error> {
        // `@no-params`: nothing at all, not even words after `--`.
        if self.params.is_empty()
            && let Some(word) = args.first()
        {
            return Err(usage(
                script,
                format!(
                    "unexpected argument `{word}`: the script takes no arguments (its header \
                     says `@no-params`)"
                ),
            ));
        }
        let given = self.given(script, args, places.cwd)?;
        self.check_missing(script, &given)?;
        self.with_defaults(script, given, places.root)
    }

    /// What the command line gives each parameter, converted (paths from `cwd`), up to `--`.
    fn given(&self, script: &str, args: &[String], cwd: &Path) -> Result<Given, Error> {
        let mut given: Given = vec![None; self.params.len()];
        let mut words = args.iter();
        while let Some(word) = words.next() {
            if word == "--" {
                break;
            }
            let (index, inline) = self.option(script, word)?;
            let param = &self.params[index];
            let shown = format!("--{}", param.spelled);
            if given[index].is_some() {
                return Err(usage(script, format!("`{shown}` is given twice")));
            }
            let text = param.value_text(script, inline, &mut words)?;
            let value = (param.kind)
                .convert(text, cwd)
                .map_err(|why| usage(script, format!("`{shown}` {why}")))?;
            given[index] = Some(value);
        }
        Ok(given)
    }

    /// The parameter a word (`--name` or `--name=value`) names, by its index, and the value
    /// written after its `=`.
    fn option<'w>(&self, script: &str, word: &'w str) -> Result<(usize, Option<&'w str>), Error> {
        let Some(option) = word.strip_prefix("--").filter(|o| !o.is_empty()) else {
            return Err(usage(
                script,
                format!(
                    "unexpected argument `{word}`: the script takes --options only (words \
                     after `--` are left to it)"
                ),
            ));
        };
        let (name, inline) = match option.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (option, None),
        };
        let key = name.replace('-', "_");
        let Some(index) = self.params.iter().position(|p| p.key == key) else {
            let mut message = format!("unknown option `--{name}`");
            let names = self.params.iter().map(|p| p.spelled.as_str());
            if let Some(close) = suggest::closest(name, names) {
                message.push_str(&format!(" (did you mean `--{close}`?)"));
            }
            return Err(usage(script, message));
        };
        Ok((index, inline))
    }

    /// Refuses a command line without every required parameter, naming those it lacks.
    fn check_missing(&self, script: &str, given: &Given) -> Result<(), Error> {
        let missing: Vec<String> = self
            .params
            .iter()
            .zip(given)
            .filter(|(p, v)| p.presence == Presence::Required && v.is_none())
            .map(|(p, _)| format!("`{}`", p.synopsis()))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(usage(script, format!("missing {}", missing.join(", "))))
    }

    /// `PARAMS`: what was given, else the default (paths from `root`), `false` for a flag, or
    /// `()`.
    fn with_defaults(&self, script: &str, given: Given, root: &Path) -> Result<Map, Error> {
        let mut map = Map::new();
        for (param, value) in self.params.iter().zip(given) {
            let value = match (value, &param.presence) {
                (Some(value), _) => value,
                (None, _) if param.kind == Kind::Flag => false.into(),
                (None, Presence::Default(text)) => {
                    (param.kind).convert(text, root).map_err(|why| {
                        usage(
                            script,
                            format!("the default of `--{}` {why}", param.spelled),
                        )
                    })?
                }
                (None, _) => Dynamic::UNIT,
            };
            map.insert(param.key.as_str().into(), value);
        }
        Ok(map)
    }

    /// `PARAMS` as the script will see it, without a command line: every declared name, with
    /// its default, `false` for a flag, `()` for the others (what `--check` compiles with).
    pub(crate) fn shape(&self) -> Map {
        let mut map = Map::new();
        for param in &self.params {
            let value = match &param.presence {
                _ if param.kind == Kind::Flag => false.into(),
                Presence::Default(text) => (param.kind)
                    .convert(text, Path::new("/"))
                    .unwrap_or(Dynamic::UNIT),
                _ => Dynamic::UNIT,
            };
            map.insert(param.key.as_str().into(), value);
        }
        map
    }
}

/// What a command line gives each parameter, in the header's order.
type Given = Vec<Option<Dynamic>>;

impl Param {
    /// The text of this parameter's value: written after `=`, `true` for a flag, else the next
    /// word (which must not be an option).
    fn value_text<'w>(
        &self,
        script: &str,
        inline: Option<&'w str>,
        words: &mut std::slice::Iter<'w, String>,
    ) -> Result<&'w str, Error> {
        match (inline, self.kind.takes_value()) {
            (Some(text), _) => Ok(text),
            (None, false) => Ok("true"),
            (None, true) => match words.next() {
                Some(next) if !next.starts_with("--") => Ok(next.as_str()),
                _ => {
                    let shown = format!("--{}", self.spelled);
                    Err(usage(
                        script,
                        format!(
                            "`{shown}` needs a value: `{shown} <{}>` (or `{shown}=VALUE` for a \
                             value starting with `--`)",
                            self.kind.placeholder()
                        ),
                    ))
                }
            },
        }
    }
}

/// A command line the script's parameters do not take: the message, and where help is.
fn usage(script: &str, message: String) -> Error {
    Error::usage(format!(
        "{script}: {message}\n  (adminsh {script} --help shows its parameters)"
    ))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn header(lines: &str) -> Header {
        Header::parse(lines).unwrap_or_else(|e| panic!("{e}"))
    }

    fn bind(header: &Header, args: &[&str]) -> Result<Map, String> {
        let args: Vec<String> = args.iter().map(ToString::to_string).collect();
        let places = Places {
            cwd: Path::new("/home/me/work"),
            root: Path::new("/srv/app"),
        };
        header.bind("fix", &args, places).map_err(|e| {
            let text = e.to_string();
            let text = text.strip_prefix("fix: ").unwrap_or(&text);
            text.strip_suffix("\n  (adminsh fix --help shows its parameters)")
                .unwrap_or(text)
                .to_owned()
        })
    }

    fn shown(map: &Map) -> String {
        Dynamic::from(map.clone()).to_string()
    }

    pub(crate) const FULL: &str = "#!/usr/bin/env adminsh
//! Normalise the records.
//!
//! Touches only bad rows.
//!   Safe to re-run.
//!
//! @param since: date  Only records created after this
//! @param batch: int = 500  Rows per transaction
//! @param ratio: float = 0.5
//! @param mode: one-of(fast|safe) = safe  How to go about it
//! @param note: string?  A note for the log
//! @param out: path = tmp/out.csv  Where to write
//! @param verbose: bool = no
//! @flag dry-run  Print what would change
print(1);
";

    #[test]
    fn binding_converts_and_fills_defaults() {
        let h = header(FULL);
        assert_eq!(
            shown(&bind(&h, &["--since", "2024-02-29"]).unwrap()),
            "#{\"batch\": 500, \"dry_run\": false, \"mode\": \"safe\", \"note\": (), \
             \"out\": \"/srv/app/tmp/out.csv\", \"ratio\": 0.5, \"since\": \"2024-02-29\", \
             \"verbose\": false}"
        );
        let all = [
            "--since=2026-11-01",
            "--batch",
            "-3",
            "--ratio=1e2",
            "--mode",
            "fast",
            "--note=",
            "--out",
            "../x.csv",
            "--verbose",
            "YES",
            "--dry_run",
            "--",
            "rest",
            "--since",
        ];
        assert_eq!(
            shown(&bind(&h, &all).unwrap()),
            "#{\"batch\": -3, \"dry_run\": true, \"mode\": \"fast\", \"note\": \"\", \
             \"out\": \"/home/me/x.csv\", \"ratio\": 100.0, \"since\": \"2026-11-01\", \
             \"verbose\": true}"
        );
        let m = bind(
            &h,
            &[
                "--since",
                "2026-01-01",
                "--dry-run=false",
                "--out",
                "/abs/./p",
            ],
        );
        let m = m.unwrap();
        assert!(!m["dry_run"].as_bool().unwrap());
        assert_eq!(m["out"].to_string(), "/abs/p");
    }

    #[test]
    fn conversion_errors_name_the_option() {
        let h = header(FULL);
        let since = |v: &str| bind(&h, &["--since", v]).unwrap_err();
        assert_eq!(
            since("2026-02-30"),
            "`--since` expects a date (YYYY-MM-DD), got `2026-02-30`: February 2026 has 28 days"
        );
        assert_eq!(
            since("2026-13-01"),
            "`--since` expects a date (YYYY-MM-DD), got `2026-13-01`: there is no month 13"
        );
        assert_eq!(
            since("1/2/2026"),
            "`--since` expects a date (YYYY-MM-DD), got `1/2/2026`"
        );
        assert_eq!(
            since("2100-02-29"),
            "`--since` expects a date (YYYY-MM-DD), got `2100-02-29`: February 2100 has 28 days"
        );
        assert!(bind(&h, &["--since", "2000-02-29"]).is_ok());
        let with = |args: &[&str]| {
            let mut all = vec!["--since", "2026-01-01"];
            all.extend(args);
            bind(&h, &all).unwrap_err()
        };
        assert_eq!(
            with(&["--batch", "ten"]),
            "`--batch` expects an integer, got `ten`"
        );
        assert_eq!(
            with(&["--batch=1.5"]),
            "`--batch` expects an integer, got `1.5`"
        );
        assert_eq!(
            with(&["--batch", "99999999999999999999"]),
            "`--batch` expects an integer, got `99999999999999999999`"
        );
        assert_eq!(
            with(&["--ratio", "nan"]),
            "`--ratio` expects a number, got `nan`"
        );
        assert_eq!(
            with(&["--ratio", "half"]),
            "`--ratio` expects a number, got `half`"
        );
        assert_eq!(
            with(&["--verbose", "maybe"]),
            "`--verbose` expects true or false (yes/no, 1/0), got `maybe`"
        );
        assert_eq!(
            with(&["--dry-run=perhaps"]),
            "`--dry-run` expects true or false (yes/no, 1/0), got `perhaps`"
        );
        assert_eq!(
            with(&["--mode", "sage"]),
            "`--mode` expects one of fast, safe, got `sage` (did you mean `safe`?)"
        );
        assert_eq!(
            with(&["--mode", "zzzzzz"]),
            "`--mode` expects one of fast, safe, got `zzzzzz`"
        );
        assert_eq!(
            with(&["--out="]),
            "`--out` expects a path, got an empty string"
        );
    }

    #[test]
    fn command_line_errors() {
        let h = header(FULL);
        assert_eq!(bind(&h, &[]).unwrap_err(), "missing `--since <date>`");
        let h2 = header("//! @param a: int\n//! @param b-c: path\n//! @flag d");
        assert_eq!(
            bind(&h2, &["--d"]).unwrap_err(),
            "missing `--a <int>`, `--b-c <path>`"
        );
        assert_eq!(
            bind(&h, &["--sinse", "2026-01-01"]).unwrap_err(),
            "unknown option `--sinse` (did you mean `--since`?)"
        );
        assert_eq!(bind(&h, &["--zzz"]).unwrap_err(), "unknown option `--zzz`");
        assert_eq!(
            bind(&h, &["stray"]).unwrap_err(),
            "unexpected argument `stray`: the script takes --options only (words after `--` \
             are left to it)"
        );
        assert_eq!(
            bind(&h, &["-d"]).unwrap_err(),
            "unexpected argument `-d`: the script takes --options only (words after `--` are \
             left to it)"
        );
        assert_eq!(
            bind(&h, &["--since"]).unwrap_err(),
            "`--since` needs a value: `--since <date>` (or `--since=VALUE` for a value \
             starting with `--`)"
        );
        assert_eq!(
            bind(&h, &["--since", "--dry-run"]).unwrap_err(),
            "`--since` needs a value: `--since <date>` (or `--since=VALUE` for a value \
             starting with `--`)"
        );
        assert_eq!(
            bind(&h, &["--since", "2026-01-01", "--dry-run", "--dry_run"]).unwrap_err(),
            "`--dry-run` is given twice"
        );
        let note = bind(
            &h,
            &["--since", "2026-01-01", "--note=--odd", "--batch", "-1"],
        );
        assert_eq!(note.unwrap()["note"].to_string(), "--odd");
    }
}
