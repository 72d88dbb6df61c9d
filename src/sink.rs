//! Where a run's own words go: a script's `print` on stdout, or on stderr when stdout carries
//! the `--json` report; and, in a dry run, the list of what it would have done. A closed reader
//! loses the words, never the run.

use std::cell::RefCell;
use std::io::Write;

#[derive(Debug, Default)]
pub(crate) struct Sink {
    /// stdout carries the `--json` report.
    json: bool,
    /// What a dry run would have done, one line each.
    would: RefCell<Vec<String>>,
}

impl Sink {
    pub(crate) fn new(json: bool) -> Self {
        Sink {
            json,
            would: RefCell::default(),
        }
    }

    /// A script's `print`.
    pub(crate) fn print(&self, text: &str) {
        // A closed stdout (`adminsh x | head`) must not stop a script mid-way.
        let _ = if self.json {
            writeln!(std::io::stderr().lock(), "{text}")
        } else {
            writeln!(std::io::stdout().lock(), "{text}")
        };
    }

    /// In a dry run: says on stderr what would have been done (`action`) and keeps `listed`
    /// (under the step running now, if any) for the summary.
    pub(crate) fn would(&self, action: &str, listed: &str, step: Option<&str>) {
        let _ = writeln!(std::io::stderr().lock(), "dry run: would {action}");
        let line = match step {
            Some(step) => format!("step {step}: {listed}"),
            None => listed.to_owned(),
        };
        self.would.borrow_mut().push(line);
    }

    /// What the dry run would have done, in order.
    pub(crate) fn dry_run_summary(&self) -> Vec<String> {
        self.would.borrow().clone()
    }
}
