//! A command's stdout as lines at native speed, for the line operations that need no per-line
//! closure (`count_lines`, `grep`, `grep_count`, `head`, `tail`, `columns`): output is cut
//! into blocks of whole lines as it is read (a line cut across reads is gathered once, the
//! rest searched in place), and a pattern is searched for over a whole block, as grep does,
//! rather than tried line by line.
//!
//! Searching a block gives the same answer as trying each line because the pattern is
//! rewritten so that it cannot match a newline (`\s`, `[^x]` lose `\n`; what needs one fails)
//! and `^`/`$` match at line ends (with `\r\n` too). A pattern that names the very start or
//! end of the text (`\A`, `\z`) falls back to trying each line.

use memchr::{memchr, memchr_iter, memrchr};
use regex_automata::meta;
use regex_automata::{Input, Span};
use regex_syntax::hir::{Class, ClassBytes, ClassBytesRange, ClassUnicode, ClassUnicodeRange};
use regex_syntax::hir::{Hir, HirKind, Look};

use super::lines::MAX_LINE;

/// Cuts chunks of output into blocks of whole lines, each line ending in `\n`.
#[derive(Default)]
pub(crate) struct Blocks {
    /// The start of a line cut off at the end of the last chunk.
    pending: Vec<u8>,
    too_long: bool,
}

impl Blocks {
    /// Hands `each` the blocks of whole lines that `chunk` completes; at the end of the
    /// output (`chunk` empty), a last line without a newline is given one. `false` once
    /// `each` said stop or a line was longer than `MAX_LINE`.
    pub(crate) fn push(&mut self, chunk: &[u8], each: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        if chunk.is_empty() {
            if self.pending.is_empty() {
                return true;
            }
            self.pending.push(b'\n');
            let line = std::mem::take(&mut self.pending);
            return each(&line);
        }
        let Some(first) = memchr(b'\n', chunk) else {
            return self.keep(chunk);
        };
        let mut start = 0;
        if !self.pending.is_empty() {
            if !self.keep(&chunk[..=first]) {
                return false;
            }
            let go_on = each(&self.pending);
            self.pending.clear();
            if !go_on {
                return false;
            }
            start = first + 1;
        }
        let last = memrchr(b'\n', chunk).unwrap_or(first);
        if start <= last && !each(&chunk[start..=last]) {
            return false;
        }
        self.keep(&chunk[last + 1..])
    }

    fn keep(&mut self, part: &[u8]) -> bool {
        // The newline a gathered line ends with is not counted against the limit.
        let without_newline = part.strip_suffix(b"\n").unwrap_or(part);
        if self.pending.len() + without_newline.len() > MAX_LINE {
            self.too_long = true;
            return false;
        }
        self.pending.extend_from_slice(part);
        true
    }

    /// Whether a line was longer than `MAX_LINE` (reading stopped there).
    pub(crate) fn too_long(&self) -> bool {
        self.too_long
    }
}

/// The longest line the line operations take, in bytes without the newline.
pub(crate) const LONGEST_LINE: usize = MAX_LINE;

/// A line without its `\r\n` or `\n`.
fn bare(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The lines of a block, first to last, without their line ends.
pub(crate) fn lines(block: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    memchr_iter(b'\n', block).map(move |end| {
        let line = bare(&block[start..=end]);
        start = end + 1;
        line
    })
}

/// The last `n` lines of a block, last first.
pub(crate) fn last_lines(block: &[u8], n: usize) -> impl Iterator<Item = &[u8]> {
    let mut end = block.len();
    std::iter::from_fn(move || {
        if end == 0 {
            return None;
        }
        let start = memrchr(b'\n', &block[..end - 1]).map_or(0, |p| p + 1);
        let line = bare(&block[start..end]);
        end = start;
        Some(line)
    })
    .take(n)
}

/// The newlines in a chunk.
pub(crate) fn newlines(chunk: &[u8]) -> usize {
    memchr_iter(b'\n', chunk).count()
}

/// A pattern compiled to find matching lines.
pub(crate) enum Matcher {
    /// Searched over a whole block (the pattern cannot match across a line end).
    Block(meta::Regex, Box<meta::Cache>),
    /// Tried on each line.
    Line(regex::bytes::Regex),
}

impl Matcher {
    /// `pattern`, known to compile (the text functions checked it), with its flags.
    pub(crate) fn new(
        pattern: &str,
        case_insensitive: bool,
        verbose: bool,
    ) -> Result<Matcher, String> {
        let hir = regex_syntax::ParserBuilder::new()
            .case_insensitive(case_insensitive)
            .ignore_whitespace(verbose)
            .multi_line(true)
            .crlf(true)
            .build()
            .parse(pattern)
            .map_err(|e| e.to_string())?;
        if let Some(hir) = single_line(hir) {
            let re = meta::Regex::builder()
                .build_from_hir(&hir)
                .map_err(|e| e.to_string())?;
            let cache = Box::new(re.create_cache());
            return Ok(Matcher::Block(re, cache));
        }
        regex::bytes::RegexBuilder::new(pattern)
            .case_insensitive(case_insensitive)
            .ignore_whitespace(verbose)
            .build()
            .map(Matcher::Line)
            .map_err(|e| e.to_string())
    }

    /// Hands `found` each line of `block` that matches, in order, without its line end;
    /// `false` once `found` said stop.
    pub(crate) fn matches(&mut self, block: &[u8], found: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        match self {
            Matcher::Line(re) => lines(block).filter(|line| re.is_match(line)).all(found),
            Matcher::Block(re, cache) => {
                // The block's last byte is a newline: the search ends before it, so `$` sees it.
                let end = block.len() - 1;
                let mut at = 0;
                while at <= end {
                    let input = Input::new(block).span(Span { start: at, end });
                    let Some(m) = re.search_with(cache, &input) else {
                        break;
                    };
                    let start = m.start();
                    let line_end = start + memchr(b'\n', &block[start..]).unwrap_or(end - start);
                    let line_start = memrchr(b'\n', &block[at..start]).map_or(at, |p| at + p + 1);
                    if !found(bare(&block[line_start..=line_end])) {
                        return false;
                    }
                    at = line_end + 1;
                }
                true
            }
        }
    }
}

/// `hir` unable to match a newline, or `None` when it names the start or end of the text.
fn single_line(hir: Hir) -> Option<Hir> {
    Some(match hir.into_kind() {
        HirKind::Empty => Hir::empty(),
        HirKind::Literal(literal) if literal.0.contains(&b'\n') => Hir::fail(),
        HirKind::Literal(literal) => Hir::literal(literal.0),
        HirKind::Class(Class::Unicode(mut class)) => {
            class.difference(&ClassUnicode::new([ClassUnicodeRange::new('\n', '\n')]));
            Hir::class(Class::Unicode(class))
        }
        HirKind::Class(Class::Bytes(mut class)) => {
            class.difference(&ClassBytes::new([ClassBytesRange::new(b'\n', b'\n')]));
            Hir::class(Class::Bytes(class))
        }
        HirKind::Look(Look::Start | Look::End) => return None,
        HirKind::Look(look) => Hir::look(look),
        HirKind::Repetition(mut repetition) => {
            repetition.sub = Box::new(single_line(*repetition.sub)?);
            Hir::repetition(repetition)
        }
        HirKind::Capture(mut capture) => {
            capture.sub = Box::new(single_line(*capture.sub)?);
            Hir::capture(capture)
        }
        HirKind::Concat(parts) => {
            Hir::concat(parts.into_iter().map(single_line).collect::<Option<_>>()?)
        }
        HirKind::Alternation(parts) => {
            Hir::alternation(parts.into_iter().map(single_line).collect::<Option<_>>()?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines of `text` that match, found block by block with the text cut at every
    /// place, and line by line: all must agree.
    fn grep(pattern: &str, text: &str) -> Vec<String> {
        let per_line: Vec<String> = {
            let re = regex::Regex::new(pattern).unwrap();
            text.lines()
                .filter(|l| re.is_match(l))
                .map(str::to_owned)
                .collect()
        };
        for cut in 0..=text.len() {
            let mut matcher = Matcher::new(pattern, false, false).unwrap();
            let mut blocks = Blocks::default();
            let mut seen = Vec::new();
            let (a, b) = text.as_bytes().split_at(cut);
            let chunks = [a, b]
                .into_iter()
                .filter(|c| !c.is_empty())
                .chain([&b""[..]]);
            for chunk in chunks {
                blocks.push(chunk, &mut |block| {
                    matcher.matches(block, &mut |line| {
                        seen.push(String::from_utf8(line.to_vec()).unwrap());
                        true
                    })
                });
            }
            assert_eq!(seen, per_line, "{pattern:?} over {text:?} cut at {cut}");
        }
        per_line
    }

    #[test]
    fn a_block_search_finds_what_each_line_would() {
        let text = "order 1 ok\nerror: order 2\n\nERROR order 3\r\nlast line error";
        assert_eq!(grep("error", text), ["error: order 2", "last line error"]);
        assert_eq!(
            grep("(?i)^error", text),
            ["error: order 2", "ERROR order 3"]
        );
        assert_eq!(grep("^$", text), [""]);
        assert_eq!(grep("3$", text), ["ERROR order 3"]);
        assert_eq!(
            grep("order\\s+\\d$", text),
            ["error: order 2", "ERROR order 3"]
        );
        assert_eq!(grep("ok[^z]*error", text), Vec::<String>::new());
        assert_eq!(grep("[^x]", text).len(), 4);
        assert_eq!(grep("\\Aerror", text), ["error: order 2"]);
        assert_eq!(grep("\\bline\\b", text), ["last line error"]);
        assert_eq!(grep("", "a\n\nb\n"), ["a", "", "b"]);
        assert_eq!(grep("x", ""), Vec::<String>::new());
    }

    #[test]
    fn only_patterns_naming_the_text_ends_are_tried_line_by_line() {
        let block = |p: &str| matches!(Matcher::new(p, false, false), Ok(Matcher::Block(..)));
        assert!(block("^a.*b$"));
        assert!(block("a\\sb"));
        assert!(!block("\\Aa"));
        assert!(!block("a\\z"));
    }

    #[test]
    fn blocks_hold_whole_lines_and_last_lines_come_last_first() {
        let mut blocks = Blocks::default();
        let mut seen = Vec::new();
        for chunk in [&b"a\nb"[..], b"c\nd\ne", b"", b""] {
            blocks.push(chunk, &mut |block| {
                seen.push(String::from_utf8(block.to_vec()).unwrap());
                true
            });
        }
        assert_eq!(seen, ["a\n", "bc\n", "d\n", "e\n"]);
        let tail: Vec<&[u8]> = last_lines(b"1\n2\r\n3\n", 2).collect();
        assert_eq!(tail, [&b"3"[..], b"2"]);
        assert_eq!(
            lines(b"x\r\n\ny\n").collect::<Vec<_>>(),
            [&b"x"[..], b"", b"y"]
        );
        assert_eq!(newlines(b"a\nb\n"), 2);
    }
}
