//! Line operations on a command's stdout that need no per-line closure, run in Rust at the
//! speed of the pipe: `count_lines`, `grep`, `grep_count`, `head`, `tail`, `columns`. Output is
//! streamed: counting and `tail` keep constant memory whatever its size, `head` stops the
//! command once it has its lines.

use std::collections::VecDeque;
use std::rc::Rc;

use rhai::{Array, Dynamic, INT};

use super::command::{Cmd, into_rhai};
use super::def::{Host, RhaiResult, rows, runtime_error};
use super::text;
use crate::process::Output;
use crate::process::scan::{self, Blocks, Matcher};
use crate::session::Session;

fn line_text(line: &[u8]) -> Dynamic {
    String::from_utf8_lossy(line).into_owned().into()
}

/// Runs `c`, handing `each` its stdout a block of whole lines at a time (`false` stops it).
fn scan_blocks(session: &Session, c: &Cmd, each: &mut dyn FnMut(&[u8]) -> bool) -> RhaiResult<()> {
    let mut blocks = Blocks::default();
    let mut chunks = |chunk: &[u8]| blocks.push(chunk, each);
    let finished = session.run(&c.0, Output::Chunks(&mut chunks));
    if blocks.too_long() {
        return Err(runtime_error(format!(
            "command `{}` printed a line longer than {} MiB, more than a line operation takes; it was stopped (.read() and .read_bytes() take output of any shape)",
            c.0.shown(&session.redactor()),
            scan::LONGEST_LINE / (1024 * 1024)
        )));
    }
    finished.map(drop).map_err(into_rhai)
}

fn matcher(pattern: &Dynamic) -> RhaiResult<Matcher> {
    let (re, flags) = text::pattern_and_flags(pattern)?;
    Matcher::new(re.as_str(), flags.case_insensitive(), flags.verbose())
        .map_err(|e| runtime_error(format!("bad regex: {e}")))
}

fn count(n: INT, what: &str) -> RhaiResult<usize> {
    usize::try_from(n).map_err(|_| {
        runtime_error(format!(
            "{what} takes a number of lines, 0 or more, not {n}"
        ))
    })
}

fn grep_count(session: &Session, c: &Cmd, pattern: &Dynamic) -> RhaiResult<INT> {
    let mut matcher = matcher(pattern)?;
    let mut n: INT = 0;
    scan_blocks(session, c, &mut |block| {
        matcher.matches(block, &mut |_| {
            n += 1;
            true
        })
    })?;
    Ok(n)
}

/// The fields of a line: split on `delimiter`, or on runs of whitespace (as awk does) when
/// there is none.
fn fields(line: &str, delimiter: Option<&str>) -> Dynamic {
    let fields: Array = match delimiter {
        Some(d) => line.split(d).map(|f| f.to_owned().into()).collect(),
        None => line
            .split_whitespace()
            .map(|f| f.to_owned().into())
            .collect(),
    };
    fields.into()
}

fn columns(session: &Session, c: &Cmd, delimiter: Option<&str>) -> RhaiResult<Array> {
    if delimiter == Some("") {
        return Err(runtime_error(
            "columns: the delimiter is empty (columns() with no argument splits on whitespace)",
        ));
    }
    let mut rows = Array::new();
    scan_blocks(session, c, &mut |block| {
        for line in scan::lines(block) {
            rows.push(fields(&String::from_utf8_lossy(line), delimiter));
        }
        true
    })?;
    Ok(rows)
}

/// The line operations, each running the command: counting, matching, cutting, splitting.
pub(super) fn register(host: &mut Host, session: &Rc<Session>) {
    rows!(host, session;
        "count_lines", "cmd: Cmd -> int",
            "Runs it; the number of lines of stdout (constant memory)",
            move |c: &mut Cmd| count_lines(&session, c);
        "grep_count", "cmd: Cmd, pattern: ? -> int",
            "Runs it; the number of stdout lines `pattern` (a string or a regex) matches",
            move |c: &mut Cmd, pattern: Dynamic| grep_count(&session, c, &pattern);
        "grep", "cmd: Cmd, pattern: ? -> Array",
            "Runs it; the stdout lines `pattern` (a string or a regex) matches",
            move |c: &mut Cmd, pattern: Dynamic| grep(&session, c, &pattern);
        "head", "cmd: Cmd, n: int -> Array",
            "Runs it until it has printed `n` lines; those lines (the command is then stopped)",
            move |c: &mut Cmd, n: INT| head(&session, c, n);
        "tail", "cmd: Cmd, n: int -> Array",
            "Runs it; the last `n` lines of stdout (keeping only those, whatever the output's size)",
            move |c: &mut Cmd, n: INT| tail(&session, c, n);
        "columns", "cmd: Cmd -> Array",
            "Runs it; each stdout line split on runs of whitespace (as awk does): an array of arrays",
            move |c: &mut Cmd| columns(&session, c, None);
        "columns", "cmd: Cmd, delimiter: String -> Array",
            "Runs it; each stdout line split on `delimiter`: an array of arrays",
            move |c: &mut Cmd, delimiter: &str| columns(&session, c, Some(delimiter));
    );
}

fn count_lines(session: &Session, c: &Cmd) -> RhaiResult<INT> {
    let mut newlines = 0;
    let mut unterminated = false;
    let mut chunks = |chunk: &[u8]| {
        if let Some(&last) = chunk.last() {
            newlines += scan::newlines(chunk);
            unterminated = last != b'\n';
        }
        true
    };
    session
        .run(&c.0, Output::Chunks(&mut chunks))
        .map_err(into_rhai)?;
    INT::try_from(newlines + usize::from(unterminated))
        .map_err(|_| runtime_error("count_lines: too many lines"))
}

fn grep(session: &Session, c: &Cmd, pattern: &Dynamic) -> RhaiResult<Array> {
    let mut matcher = matcher(pattern)?;
    let mut found = Array::new();
    scan_blocks(session, c, &mut |block| {
        matcher.matches(block, &mut |line| {
            found.push(line_text(line));
            true
        })
    })?;
    Ok(found)
}

fn head(session: &Session, c: &Cmd, n: INT) -> RhaiResult<Array> {
    let n = count(n, "head")?;
    let mut kept = Array::new();
    if n == 0 {
        return Ok(kept);
    }
    scan_blocks(session, c, &mut |block| {
        for line in scan::lines(block) {
            kept.push(line_text(line));
            if kept.len() == n {
                return false;
            }
        }
        true
    })?;
    Ok(kept)
}

fn tail(session: &Session, c: &Cmd, n: INT) -> RhaiResult<Array> {
    let n = count(n, "tail")?;
    let mut kept: VecDeque<Dynamic> = VecDeque::new();
    scan_blocks(session, c, &mut |block| {
        let last: Vec<&[u8]> = scan::last_lines(block, n).collect();
        for line in last.into_iter().rev() {
            if kept.len() == n {
                kept.pop_front();
            }
            kept.push_back(line_text(line));
        }
        true
    })?;
    Ok(kept.into())
}
