//! The terminal side of the console: rustyline with completion of host functions (their
//! parameters shown), methods after `.`, stdlib functions after `db::` and `pg::`, variables,
//! config keys inside `env("`, console commands and the modules `:help` takes; a prompt naming
//! the stage, red for a dangerous one; history in a file per app with secrets masked.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};

use super::help::{self, Catalog};
use crate::session::Session;

const RED: &str = "\x1b[1;31m";
const CYAN: &str = "\x1b[36m";
const RESET: &str = "\x1b[0m";

/// What completion draws on; the variables change after every input.
pub(super) struct Completion {
    pub catalog: Rc<Catalog>,
    pub variables: Rc<RefCell<Vec<String>>>,
    pub session: Rc<Session>,
}

impl Helper for Completion {}
impl Validator for Completion {}
impl Highlighter for Completion {}
impl Hinter for Completion {
    type Hint = String;
}

impl Completer for Completion {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        Ok(self.candidates(&line[..pos]))
    }
}

impl Completion {
    /// Where the word being completed starts, and what it could become.
    pub(super) fn candidates(&self, before: &str) -> (usize, Vec<Pair>) {
        if let Some(found) = module_names(before) {
            return found;
        }
        let start = before
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .map_or(0, |i| i + 1);
        let word = &before[start..];
        let prefix = &before[..start];
        let plain = |name: &str| Pair {
            display: name.to_owned(),
            replacement: name.to_owned(),
        };
        let mut found: Vec<Pair> = Vec::new();
        if prefix.trim().is_empty() && word.starts_with(':') {
            found.extend(
                help::META
                    .iter()
                    .map(|(name, _)| name.split(' ').next().unwrap_or(name))
                    .filter(|name| name.starts_with(word))
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .map(plain),
            );
        } else if ["env(\"", "has_env(\"", "env('", "set_env(\""]
            .iter()
            .any(|opening| prefix.ends_with(opening))
        {
            let config = self.session.release.config.borrow();
            found.extend(config.keys().filter(|k| k.starts_with(word)).map(plain));
        } else {
            let method = prefix.ends_with('.');
            let mut seen = std::collections::BTreeSet::new();
            for f in self.catalog.functions() {
                if f.is_method == method && f.name.starts_with(word) && seen.insert(&f.signature) {
                    found.push(Pair {
                        display: f.signature.clone(),
                        replacement: format!("{}(", f.name),
                    });
                }
            }
            if !method {
                let variables = self.variables.borrow();
                found.extend(
                    variables
                        .iter()
                        .filter(|v| v.starts_with(word))
                        .map(|v| plain(v)),
                );
            }
        }
        // One function name with several signatures completes once.
        found.dedup_by(|a, b| a.replacement == b.replacement && a.replacement.ends_with('('));
        (start, found)
    }
}

/// After `:help `: the stdlib modules (`std/db`, `std/pg`, ...) whose names start with what
/// was typed; `None` elsewhere.
fn module_names(before: &str) -> Option<(usize, Vec<Pair>)> {
    let rest = before.trim_start().strip_prefix(":help ")?;
    let word = rest.trim_start();
    let start = before.len() - word.len();
    let names = std::iter::once("db").chain(crate::stdlib::MODULES.iter().map(|(n, _)| *n));
    let found = names
        .map(|n| format!("{}{n}", crate::stdlib::PREFIX))
        .filter(|n| n.starts_with(word))
        .map(|n| Pair {
            display: n.clone(),
            replacement: n,
        })
        .collect();
    Some((start, found))
}

/// The prompt: the app and its stage, in red (and in capitals) for a dangerous stage.
pub(super) struct Prompt {
    raw: String,
    styled: String,
}

impl Prompt {
    pub(super) fn new(session: &Session, continuation: bool, colour: bool) -> Self {
        let release = &session.release;
        let dangerous = release.is_dangerous();
        let stage = if dangerous {
            release.stage.to_uppercase()
        } else {
            release.stage.clone()
        };
        let main = format!("{} ({stage})> ", release.name);
        let raw = if continuation {
            format!("{}... ", " ".repeat(main.chars().count().saturating_sub(4)))
        } else {
            main
        };
        let styled = match (colour, dangerous) {
            (false, _) => raw.clone(),
            (true, true) => format!("{RED}{raw}{RESET}"),
            (true, false) => format!("{CYAN}{raw}{RESET}"),
        };
        Prompt { raw, styled }
    }
}

impl rustyline::Prompt for Prompt {
    fn raw(&self) -> &str {
        &self.raw
    }

    fn styled(&self) -> &str {
        &self.styled
    }
}

/// The banner shown when the console opens.
pub(super) fn banner(session: &Session, colour: bool) -> String {
    let release = &session.release;
    let version = release
        .identity()
        .version
        .as_deref()
        .map_or("unknown version".to_owned(), |v| {
            v.chars().take(12).collect()
        });
    let mut text = format!(
        "adminsh console: {} {version} at {}, stage {}\n",
        release.name,
        release.path().display(),
        release.stage
    );
    if release.is_dangerous() {
        let warning = format!(
            "{}: commands run against the live {} release\n",
            release.stage.to_uppercase(),
            release.stage
        );
        text.push_str(&if colour {
            format!("{RED}{warning}{RESET}")
        } else {
            warning
        });
    }
    text.push_str(":help lists the host API and console commands; Ctrl-D quits.\n");
    text
}

/// The history file of this app: `$XDG_STATE_HOME/adminsh/`, else `~/.local/state/adminsh/`,
/// named after the app and its root so two apps never share one.
pub(super) fn history_path(session: &Session) -> Option<PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    let root = session.release.path().to_string_lossy();
    let hash = crate::hash::fnv(root.as_bytes());
    Some(base.join("adminsh").join(format!(
        "{}-{:08x}.history",
        session.release.name,
        hash & 0xffff_ffff
    )))
}
