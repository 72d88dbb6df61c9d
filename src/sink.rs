//! Where a run's own words go on the terminal: a script's `print` on stdout (or on stderr when
//! stdout carries the `--json` report), its `debug` and log messages on stderr, and, in a dry
//! run, the list of what it would have done; under `--json`, the tables `print_table` printed
//! are also kept for the report. Each text is masked here, raw, before it is prefixed or
//! written. A closed reader loses the words, never the run.

use std::cell::{Cell, RefCell};

use rhai::Dynamic;

use crate::log::{self, Level};
use crate::release::Redactor;

/// How many tables the `--json` report keeps: a script printing one per loop turn must not
/// grow adminsh without bound. Later tables are still printed.
const MAX_TABLES: usize = 1000;

#[derive(Debug, Default)]
pub(crate) struct Sink {
    /// stdout carries the `--json` report.
    json: bool,
    /// What a dry run would have done, one line each.
    would: RefCell<Vec<String>>,
    /// What `print_table` printed, masked, for the `--json` report.
    tables: RefCell<Vec<Dynamic>>,
    /// More than [`MAX_TABLES`] were printed (and that was said).
    tables_full: Cell<bool>,
}

impl Sink {
    pub(crate) fn new(json: bool) -> Self {
        Sink {
            json,
            would: RefCell::default(),
            tables: RefCell::default(),
            tables_full: Cell::new(false),
        }
    }

    /// Whether stdout carries the `--json` report.
    pub(crate) fn is_json(&self) -> bool {
        self.json
    }

    /// Keeps a table `print_table` printed (its rows, masked) for the report: the first
    /// [`MAX_TABLES`]; at the next, says once that the rest are not kept.
    pub(crate) fn keep_table(&self, rows: Dynamic) {
        let mut tables = self.tables.borrow_mut();
        if tables.len() < MAX_TABLES {
            tables.push(rows);
        } else if !self.tables_full.replace(true) {
            log::warn(&format!(
                "--json keeps the first {MAX_TABLES} tables print_table printed; later ones are printed, not kept"
            ));
        }
    }

    /// The tables printed, in order.
    pub(crate) fn tables(&self) -> Vec<Dynamic> {
        self.tables.borrow().clone()
    }

    /// A script's `print`.
    pub(crate) fn print(&self, redactor: &Redactor, text: &str) {
        let line = format!("{}\n", redactor.redact(text));
        if self.json {
            log::err(&line);
        } else {
            log::out(&line);
        }
    }

    /// In a dry run: says on stderr what would have been done (`action`) and keeps `listed`
    /// (under the step running now, if any) for the summary.
    pub(crate) fn would(
        &self,
        redactor: &Redactor,
        action: &str,
        listed: &str,
        step: Option<&str>,
    ) {
        log::err(&format!("dry run: would {}\n", redactor.redact(action)));
        let line = match step {
            Some(step) => format!("step {step}: {listed}"),
            None => listed.to_owned(),
        };
        self.would
            .borrow_mut()
            .push(redactor.redact(&line).into_owned());
    }

    /// What the dry run would have done, in order.
    pub(crate) fn dry_run_summary(&self) -> Vec<String> {
        self.would.borrow().clone()
    }
}

/// A script's `debug`, after `place` (`script.rhai:3: `), on stderr.
pub(crate) fn debug(redactor: &Redactor, place: &str, text: &str) {
    log::err(&format!("{place}{}\n", redactor.redact(text)));
}

/// A script's `info`, `warn` or `error`, on stderr.
pub(crate) fn message(redactor: &Redactor, level: Level, text: &str) {
    log::emit(level, &redactor.redact(text));
}

/// A line of adminsh's own about the run that names what the script chose (a step's name, a
/// lock's), on stderr.
pub(crate) fn say(redactor: &Redactor, text: &str) {
    log::err(&format!("{}\n", redactor.redact(text)));
}
