//! Progress for long work: `progress(total)` gives a bar with `.inc(n)`, `.message(text)`,
//! `.finish()`; `each_progress(items, |item| ...)` runs a closure per item with a bar. Drawn in
//! place on stderr when it is a terminal; as a plain line every tenth of the way otherwise
//! (logs, CI), so output stays readable in both.

use std::cell::RefCell;
use std::io::{IsTerminal, Write};
use std::rc::Rc;
use std::time::{Duration, Instant};

use rhai::{Array, FnPtr, NativeCallContext};

use super::callback::Callback;
use super::def::{Host, RhaiResult, rows};

/// Redraws at most this often on a terminal.
const REDRAW: Duration = Duration::from_millis(100);
const WIDTH: usize = 30;

#[derive(Clone)]
pub(crate) struct Progress(Rc<RefCell<Bar>>);

struct Bar {
    total: u64,
    done: u64,
    message: String,
    terminal: bool,
    last_draw: Option<Instant>,
    /// Tenths of the way already reported as plain lines.
    reported_tenths: u64,
    /// The last plain line written: `finish` does not repeat it.
    last_line: String,
    finished: bool,
}

impl Progress {
    pub(crate) fn new(total: u64) -> Self {
        Progress(Rc::new(RefCell::new(Bar {
            total,
            done: 0,
            message: String::new(),
            terminal: std::io::stderr().is_terminal(),
            last_draw: None,
            reported_tenths: 0,
            last_line: String::new(),
            finished: false,
        })))
    }

    pub(crate) fn inc(&self, n: u64) {
        let mut bar = self.0.borrow_mut();
        bar.done = bar.done.saturating_add(n);
        bar.draw(false);
    }

    pub(crate) fn message(&self, text: &str) {
        let mut bar = self.0.borrow_mut();
        text.clone_into(&mut bar.message);
        bar.draw(false);
    }

    /// `3/10 rows`: how far it is, and its message.
    pub(crate) fn state(&self) -> String {
        let bar = self.0.borrow();
        let mut text = format!("{}/{}", bar.done, bar.total);
        if !bar.message.is_empty() {
            text.push(' ');
            text.push_str(&bar.message);
        }
        text
    }

    pub(crate) fn finish(&self) {
        let mut bar = self.0.borrow_mut();
        if !bar.finished {
            bar.finished = true;
            bar.draw(true);
        }
    }
}

impl Bar {
    /// How much of `whole` is done: `done / total` of it, rounded down, at most `whole` (work
    /// beyond the total counts as all of it; no total, as all done). Computed in 128 bits, so
    /// no count or total a script can give overflows.
    fn share(&self, whole: u64) -> u64 {
        if self.total == 0 {
            return whole;
        }
        let done = u128::from(self.done.min(self.total));
        u64::try_from(done * u128::from(whole) / u128::from(self.total)).unwrap_or(whole)
    }

    fn draw(&mut self, last: bool) {
        let mut err = std::io::stderr().lock();
        let shown = self.done;
        if self.terminal {
            let now = Instant::now();
            if !last && self.last_draw.is_some_and(|at| now - at < REDRAW) {
                return;
            }
            self.last_draw = Some(now);
            let filled = usize::try_from(self.share(WIDTH as u64)).unwrap_or(WIDTH);
            let _ = write!(
                err,
                "\r\x1b[2K[{}{}] {shown}/{} {}",
                "=".repeat(filled),
                " ".repeat(WIDTH - filled),
                self.total,
                self.message
            );
            if last {
                let _ = writeln!(err);
            }
        } else {
            let tenths = self.share(10);
            if tenths > self.reported_tenths || last {
                self.reported_tenths = tenths;
                let percent = self.share(100);
                let message = if self.message.is_empty() {
                    String::new()
                } else {
                    format!(" {}", self.message)
                };
                let line = format!("progress: {shown}/{} ({percent}%){message}", self.total);
                if line != self.last_line {
                    let _ = writeln!(err, "{line}");
                    self.last_line = line;
                }
            }
        }
    }
}

pub(super) fn register(host: &mut Host) {
    host.engine.register_type_with_name::<Progress>("Progress");
    rows!(host;
        "progress", "total: int -> Progress", "A progress bar on stderr for `total` units of work",
            |total: rhai::INT| Progress::new(u64::try_from(total).unwrap_or(0));
        "inc", "bar: Progress", "Advances the bar by one", |p: &mut Progress| p.inc(1);
        "inc", "bar: Progress, n: int", "Advances the bar by `n`",
            |p: &mut Progress, n: rhai::INT| p.inc(u64::try_from(n).unwrap_or(0));
        "message", "bar: Progress, text: String", "Shows `text` beside the bar",
            |p: &mut Progress, text: &str| p.message(text);
        "finish", "bar: Progress", "Draws the bar one last time and ends its line",
            |p: &mut Progress| p.finish();
        "each_progress", "items: Array, callback: FnPtr",
            "Calls `callback` with each item, showing a progress bar",
            |ctx: NativeCallContext, items: Array, each: FnPtr| each_progress(&ctx, items, &each);
    );
}

fn each_progress(ctx: &NativeCallContext, items: Array, each: &FnPtr) -> RhaiResult<()> {
    let bar = Progress::new(items.len() as u64);
    let mut each = Callback::new(ctx, each);
    for item in items {
        let _ = each.call((item,))?;
        bar.inc(1);
    }
    bar.finish();
    Ok(())
}
