//! Splitting a command's stdout into lines for `each_line`, in time linear in the output: each
//! byte is searched for a newline once and copied at most once (a line cut across reads is
//! gathered, a line within one read is handed over in place).
//!
//! A line may be at most `MAX_LINE` bytes (64 MiB, without its newline). A longer one is not
//! cut into pieces, which would hand the callback something that is not a line: reading stops,
//! the command is stopped (its stdout is closed), and `each_line` fails with an error naming the
//! limit. `.read()` and `.read_bytes()` take output of any shape.

/// The longest line `each_line` hands over, in bytes without the newline.
pub(super) const MAX_LINE: usize = 64 * 1024 * 1024;

/// Why line splitting stopped before the end of the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stopped {
    /// The callback returned `false` (or failed).
    ByCallback,
    /// A line was longer than the limit.
    LineTooLong,
}

pub(super) struct Lines<'a> {
    each: &'a mut dyn FnMut(&[u8]) -> bool,
    /// The start of a line cut off at the end of the last read.
    pending: Vec<u8>,
    max: usize,
    stopped: Option<Stopped>,
}

impl<'a> Lines<'a> {
    pub(super) fn new(each: &'a mut dyn FnMut(&[u8]) -> bool) -> Self {
        Lines::with_max(each, MAX_LINE)
    }

    fn with_max(each: &'a mut dyn FnMut(&[u8]) -> bool, max: usize) -> Self {
        Lines {
            each,
            pending: Vec::new(),
            max,
            stopped: None,
        }
    }

    /// Hands over the lines `bytes` completes; `false` once splitting has stopped.
    pub(super) fn push(&mut self, bytes: &[u8]) -> bool {
        let mut rest = bytes;
        while self.stopped.is_none() {
            let Some(newline) = rest.iter().position(|&b| b == b'\n') else {
                if self.pending.len() + rest.len() > self.max {
                    self.stopped = Some(Stopped::LineTooLong);
                } else {
                    self.pending.extend_from_slice(rest);
                }
                break;
            };
            let (end, after) = (&rest[..newline], &rest[newline + 1..]);
            rest = after;
            if self.pending.len() + end.len() > self.max {
                self.stopped = Some(Stopped::LineTooLong);
            } else if self.pending.is_empty() {
                self.hand_over(end);
            } else {
                self.pending.extend_from_slice(end);
                let line = std::mem::take(&mut self.pending);
                self.hand_over(&line);
            }
        }
        self.stopped.is_none()
    }

    /// Hands over the last line, if the output did not end with a newline.
    pub(super) fn end(&mut self) {
        if self.stopped.is_none() && !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.hand_over(&line);
        }
    }

    pub(super) fn stopped(&self) -> Option<Stopped> {
        self.stopped
    }

    fn hand_over(&mut self, line: &[u8]) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if !(self.each)(line) {
            self.stopped = Some(Stopped::ByCallback);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines handed over for `chunks`, and why splitting stopped.
    fn split(
        chunks: &[&[u8]],
        max: usize,
        stop_at: Option<&str>,
    ) -> (Vec<String>, Option<Stopped>) {
        let mut seen = Vec::new();
        let mut each = |line: &[u8]| {
            let line = String::from_utf8(line.to_vec()).unwrap();
            let go_on = stop_at != Some(line.as_str());
            seen.push(line);
            go_on
        };
        let mut lines = Lines::with_max(&mut each, max);
        for chunk in chunks {
            if !lines.push(chunk) {
                break;
            }
        }
        lines.end();
        let stopped = lines.stopped();
        (seen, stopped)
    }

    #[test]
    fn lines_across_and_within_reads() {
        let lines = |v: &[&str]| v.iter().map(ToString::to_string).collect::<Vec<_>>();
        assert_eq!(
            split(&[b"a\nb", b"c\r", b"\n\nd"], 100, None),
            (lines(&["a", "bc", "", "d"]), None)
        );
        assert_eq!(split(&[b"x\n"], 100, None), (lines(&["x"]), None));
        assert_eq!(split(&[b"", b""], 100, None), (lines(&[]), None));
        let whole = b"one\r\ntwo\nthree\n\nfour";
        for cut in 0..whole.len() {
            let (a, b) = whole.split_at(cut);
            assert_eq!(
                split(&[a, b], 100, None).0,
                lines(&["one", "two", "three", "", "four"]),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn the_callback_can_stop() {
        let (seen, stopped) = split(&[b"a\nb\nc\n"], 100, Some("b"));
        assert_eq!((seen.len(), stopped), (2, Some(Stopped::ByCallback)));
    }

    #[test]
    fn a_line_longer_than_the_limit_stops_splitting() {
        // Exactly the limit is fine, in one read or across several.
        assert_eq!(split(&[b"12345\n"], 5, None).0, ["12345"]);
        assert_eq!(split(&[b"12", b"345\n", b"ab"], 5, None).0, ["12345", "ab"]);
        assert_eq!(split(&[b"12", b"345"], 5, None).0, ["12345"]);
        for chunks in [
            &[&b"ok\n123456\nx\n"[..]][..],
            &[b"ok\n1234", b"56"],
            &[b"ok\n", b"123", b"456\n"],
        ] {
            assert_eq!(
                split(chunks, 5, None),
                (vec!["ok".to_owned()], Some(Stopped::LineTooLong)),
                "{chunks:?}"
            );
        }
    }
}
