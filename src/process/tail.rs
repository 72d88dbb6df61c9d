//! The first and the last lines of a command's stderr that a failure message quotes (Ruby and
//! Python print an exception's message first, a shell or a compiler says what failed last),
//! with the count of the lines between. The end is kept as it comes (the last few KiB), and
//! masked whole before anything is cut from it: what the window drops is masked already, and
//! the start is taken from that, so a secret is never cut in half by either window nor split
//! over the `  | ` lines of the message.

use crate::release::Redactor;

/// How much of stderr a failure message shows: the first and the last lines, each end within
/// so many bytes.
const HEAD_LINES: usize = 10;
const TAIL_LINES: usize = 10;
const WINDOW_BYTES: usize = 8 * 1024;

/// The lines a failure message quotes, in order; an `Err(n)` stands for the `n` lines left
/// out between the first and the last ones.
pub(crate) type Quoted = Vec<Result<String, usize>>;

/// A command's stderr as it comes, in bounded memory: its start (masked) and its end.
pub(super) struct Excerpt<'a> {
    /// The start of the masked stderr, up to `WINDOW_BYTES`, from what the end dropped.
    head: Vec<u8>,
    /// How much the end dropped, and the line ends in it.
    dropped: usize,
    dropped_lines: usize,
    /// The end of stderr as it came, masked and cut when it grows well past the window.
    kept: Vec<u8>,
    redactor: &'a Redactor,
}

impl<'a> Excerpt<'a> {
    pub(super) fn new(redactor: &'a Redactor) -> Self {
        Excerpt {
            head: Vec::new(),
            dropped: 0,
            dropped_lines: 0,
            kept: Vec::new(),
            redactor,
        }
    }

    /// Appends `bytes`; when the kept bytes have grown well past the window, masks them and
    /// drops what is before the window (keeping the start of it for the first lines). A secret
    /// still arriving at the end is shorter than the window, so it is never cut; one that
    /// arrived whole is masked by then.
    pub(super) fn push(&mut self, bytes: &[u8]) {
        self.kept.extend_from_slice(bytes);
        let window = WINDOW_BYTES.max(self.redactor.longest());
        if self.kept.len() > 2 * window {
            self.kept = mask(&self.kept, self.redactor);
            let cut = self.kept.len().saturating_sub(window);
            let room = WINDOW_BYTES - self.head.len();
            self.head.extend_from_slice(&self.kept[..cut.min(room)]);
            self.dropped += cut;
            self.dropped_lines += newlines(&self.kept[..cut]);
            self.kept.drain(..cut);
        }
    }

    /// The first and the last lines, masked, for the error message.
    pub(super) fn finish(self) -> Quoted {
        let mut end = mask(&self.kept, self.redactor);
        // The message ends at the command's last words.
        let words = end.iter().rposition(|b| !b.is_ascii_whitespace());
        end.truncate(words.map_or(0, |at| at + 1));
        // The whole (masked) stderr is what was dropped, then `end`.
        let whole = self.dropped + end.len();
        if whole == 0 {
            return Vec::new();
        }
        let total = self.dropped_lines + newlines(&end) + 1;
        // The start: up to `WINDOW_BYTES` of the whole (all that was dropped is in `head`
        // while it has room), cut after a whole character.
        let mut head = self.head;
        let room = WINDOW_BYTES - head.len();
        head.extend_from_slice(&end[..room.min(end.len())]);
        head.truncate(whole_chars(&head));
        let mut first: Vec<&[u8]> = head.split(|&b| b == b'\n').collect();
        if head.len() < whole && first.last().is_some_and(|piece| piece.is_empty()) {
            // Cut just after a line end: nothing of the next line is there.
            first.pop();
        }
        first.truncate(HEAD_LINES);
        // The end: up to `WINDOW_BYTES`, from the start of a character.
        let from = char_start(&end, end.len().saturating_sub(WINDOW_BYTES));
        let mut last: Vec<&[u8]> = end[from..].split(|&b| b == b'\n').collect();
        if self.dropped + from > 0 && last.first().is_some_and(|piece| piece.is_empty()) {
            // Cut just before a line end: nothing of that line is there.
            last.remove(0);
        }
        let last = &last[last.len().saturating_sub(TAIL_LINES)..];
        // `first` are the lines from the first on, `last` the lines up to the last one: the
        // lines between them are counted, the lines in both shown once.
        let last_from = total - last.len();
        let mut quoted: Quoted = first.iter().map(|piece| Ok(line(piece))).collect();
        if last_from > first.len() {
            quoted.push(Err(last_from - first.len()));
        }
        let seen = first.len().saturating_sub(last_from);
        quoted.extend(last.iter().skip(seen).map(|piece| Ok(line(piece))));
        quoted
    }
}

/// The first and the last lines of a whole stderr (`output()`), masked before they are cut.
pub(super) fn of(stderr: &[u8], redactor: &Redactor) -> Quoted {
    let mut excerpt = Excerpt::new(redactor);
    excerpt.push(stderr);
    excerpt.finish()
}

/// `bytes` with the secrets in them masked. An incomplete character at the end (the rest
/// still in the pipe) is kept as bytes.
fn mask(bytes: &[u8], redactor: &Redactor) -> Vec<u8> {
    let text_end = match std::str::from_utf8(bytes) {
        Err(e) if e.error_len().is_none() => e.valid_up_to(),
        _ => bytes.len(),
    };
    let text = String::from_utf8_lossy(&bytes[..text_end]);
    let mut masked = redactor.redact(&text).into_owned().into_bytes();
    masked.extend_from_slice(&bytes[text_end..]);
    masked
}

fn newlines(bytes: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', bytes).count()
}

/// Whether `byte` continues a UTF-8 character.
fn continues(byte: u8) -> bool {
    byte & 0xc0 == 0x80
}

/// `at`, or the start of the character `at` is inside of.
fn char_start(bytes: &[u8], mut at: usize) -> usize {
    while at > 0 && at < bytes.len() && continues(bytes[at]) {
        at -= 1;
    }
    at
}

/// How much of `bytes` is whole characters: all of it, or up to a character cut at the end.
fn whole_chars(bytes: &[u8]) -> usize {
    let Some(lead) = (1..=4.min(bytes.len()))
        .map(|back| bytes.len() - back)
        .find(|&at| !continues(bytes[at]))
    else {
        return bytes.len();
    };
    let len = match bytes[lead] {
        0xf0.. => 4,
        0xe0.. => 3,
        0xc0.. => 2,
        _ => 1,
    };
    if lead + len > bytes.len() {
        lead
    } else {
        bytes.len()
    }
}

/// One line as the message shows it.
fn line(piece: &[u8]) -> String {
    let piece = piece.strip_suffix(b"\r").unwrap_or(piece);
    String::from_utf8_lossy(piece).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines quoted, joined by spaces, `[n]` for `n` lines left out.
    fn joined(quoted: &Quoted) -> String {
        quoted
            .iter()
            .map(|l| l.clone().unwrap_or_else(|n| format!("[{n}]")))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn numbered(from: usize, to: usize) -> String {
        (from..=to)
            .map(|i| format!("line{i}\n"))
            .collect::<Vec<_>>()
            .concat()
    }

    fn words(from: usize, to: usize) -> String {
        (from..=to)
            .map(|i| format!("line{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn the_excerpt_keeps_the_first_and_the_last_lines() {
        let redactor = Redactor::default();
        let cases = [
            (String::new(), String::new()),
            ("\n \n".to_owned(), String::new()),
            ("one".to_owned(), "one".to_owned()),
            ("one\r\ntwo\r\n\n".to_owned(), "one two".to_owned()),
            (numbered(1, 3), words(1, 3)),
            (numbered(1, 20), words(1, 20)),
            (
                numbered(1, 21),
                format!("{} [1] {}", words(1, 10), words(12, 21)),
            ),
            (
                numbered(1, 23),
                format!("{} [3] {}", words(1, 10), words(14, 23)),
            ),
        ];
        for (stderr, want) in &cases {
            assert_eq!(&joined(&of(stderr.as_bytes(), &redactor)), want, "{stderr}");
            // The same, written a few bytes at a time.
            let mut excerpt = Excerpt::new(&redactor);
            for chunk in stderr.as_bytes().chunks(3) {
                excerpt.push(chunk);
            }
            assert_eq!(&joined(&excerpt.finish()), want, "{stderr} in chunks");
        }
    }

    #[test]
    fn much_output_is_kept_in_bounded_memory_counting_what_is_left_out() {
        let redactor = Redactor::default();
        for pieces in [1, 7, 4096] {
            let stderr = numbered(1, 5000);
            let mut excerpt = Excerpt::new(&redactor);
            for piece in stderr.as_bytes().chunks(pieces) {
                excerpt.push(piece);
                assert!(excerpt.kept.len() <= 2 * WINDOW_BYTES + pieces);
                assert!(excerpt.head.len() <= WINDOW_BYTES);
            }
            let quoted = excerpt.finish();
            assert_eq!(
                joined(&quoted),
                format!("{} [4980] {}", words(1, 10), words(4991, 5000)),
                "in pieces of {pieces}"
            );
        }
    }

    #[test]
    fn long_lines_are_cut_to_the_windows() {
        let redactor = Redactor::default();
        // Three lines of 6 KiB: the start shows the first and part of the second, the end
        // part of the second and the third; nothing is left out.
        let stderr = ['a', 'b', 'c']
            .iter()
            .map(|&c| format!("{}\n", c.to_string().repeat(6 * 1024)))
            .collect::<Vec<_>>()
            .concat();
        let quoted = of(stderr.as_bytes(), &redactor);
        let shown: Vec<String> = quoted.iter().map(|l| l.clone().unwrap()).collect();
        assert_eq!(shown.len(), 3);
        assert_eq!(shown[0], "a".repeat(6 * 1024));
        assert_eq!(shown[1], "b".repeat(2 * 1024 - 1));
        assert_eq!(shown[2], "c".repeat(6 * 1024));
        // One huge line: shown once, from its start.
        let quoted = of("é".repeat(20 * 1024).as_bytes(), &redactor);
        let [Ok(shown)] = &quoted[..] else {
            unreachable!()
        };
        assert!(shown.len() <= WINDOW_BYTES && shown.chars().all(|c| c == 'é'));
    }

    #[test]
    fn a_secret_is_masked_before_either_window_cuts_it() {
        let key = format!(
            "-----BEGIN KEY-----\n{}\n-----END KEY-----",
            "k3y".repeat(4000)
        );
        let mut redactor = Redactor::default();
        redactor.add("s3cr3t-at-the-edge");
        redactor.add(&key);
        // Fed in pieces that cut both secrets, with the windows' edges inside each: the end's
        // window, and the start's (the first `WINDOW_BYTES` of what the end dropped).
        for filler in [
            WINDOW_BYTES - 9,
            WINDOW_BYTES - 2,
            2 * WINDOW_BYTES - 5,
            3 * WINDOW_BYTES,
        ] {
            for stderr in [
                format!(
                    "{}\ns3cr3t-at-the-edge{}\n{key}\n",
                    "x".repeat(filler),
                    "y".repeat(WINDOW_BYTES - 30)
                ),
                format!(
                    "{}s3cr3t-at-the-edge\n{key}\n{}\n",
                    "x".repeat(filler),
                    "z\n".repeat(3 * WINDOW_BYTES)
                ),
            ] {
                for pieces in [1000, 4096, stderr.len()] {
                    let mut excerpt = Excerpt::new(&redactor);
                    for piece in stderr.as_bytes().chunks(pieces) {
                        excerpt.push(piece);
                    }
                    for quoted in [excerpt.finish(), of(stderr.as_bytes(), &redactor)] {
                        let text = joined(&quoted);
                        let leaked = ["k3yk3y", "s3cr3t", "edge"]
                            .iter()
                            .any(|part| text.contains(part));
                        assert!(!leaked, "filler {filler}, pieces of {pieces}: {text}");
                    }
                }
            }
        }
    }
}
