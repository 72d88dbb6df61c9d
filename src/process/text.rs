//! Captured output as a Rhai string, built in place: chunks are validated as UTF-8 and appended
//! to the string's own buffer (which grows with `realloc`), so reading N bytes of output peaks
//! at about N bytes of memory instead of a byte buffer plus a copy. Bytes that are not UTF-8
//! become U+FFFD, and the offset of the first one is kept for the warning.

use rhai::ImmutableString;

#[derive(Default)]
pub(super) struct TextBuilder {
    text: ImmutableString,
    /// The start of a character split across two chunks (at most 3 bytes).
    carry: Vec<u8>,
    /// Bytes taken so far, to report where the first invalid one was.
    offset: usize,
    first_invalid: Option<usize>,
}

impl TextBuilder {
    pub(super) fn push(&mut self, mut bytes: &[u8]) {
        if !self.carry.is_empty() {
            let need = char_len(self.carry[0]);
            while self.carry.len() < need && bytes.first().is_some_and(|&b| is_continuation(b)) {
                self.carry.push(bytes[0]);
                bytes = &bytes[1..];
            }
            if self.carry.len() < need && bytes.is_empty() {
                return;
            }
            let carry = std::mem::take(&mut self.carry);
            if carry.len() < need {
                // Cut short by a byte that cannot continue it.
                self.invalid(self.offset);
                self.offset += carry.len();
            } else {
                self.append(&carry);
            }
        }
        self.append(bytes);
    }

    /// Appends `bytes`, keeping a character cut off at the end for the next chunk.
    fn append(&mut self, bytes: &[u8]) {
        // The usual case, valid throughout, on `from_utf8`'s word-at-a-time path; `utf8_chunks`
        // goes byte by byte.
        if let Ok(valid) = std::str::from_utf8(bytes) {
            self.text.make_mut().push_str(valid);
            self.offset += valid.len();
            return;
        }
        let mut chunks = bytes.utf8_chunks().peekable();
        while let Some(chunk) = chunks.next() {
            let valid = chunk.valid();
            self.text.make_mut().push_str(valid);
            self.offset += valid.len();
            let bad = chunk.invalid();
            if bad.is_empty() {
                continue;
            }
            if chunks.peek().is_none() && is_incomplete(bad) {
                self.carry = bad.to_vec();
                return;
            }
            self.invalid(self.offset);
            self.offset += bad.len();
        }
    }

    fn invalid(&mut self, at: usize) {
        self.first_invalid.get_or_insert(at);
        self.text.make_mut().push('\u{FFFD}');
    }

    /// The text, and the offset of the first byte that was not UTF-8, if any.
    pub(super) fn finish(mut self) -> (ImmutableString, Option<usize>) {
        if !self.carry.is_empty() {
            self.invalid(self.offset);
        }
        (self.text, self.first_invalid)
    }
}

/// Whether `bytes` (the invalid end of a chunk) start a character the next chunk may finish.
fn is_incomplete(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_err_and(|e| e.error_len().is_none())
}

fn is_continuation(byte: u8) -> bool {
    byte & 0xC0 == 0x80
}

/// The length of the UTF-8 sequence a leading byte starts (1 for a byte that starts none).
fn char_len(first: u8) -> usize {
    match first {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(chunks: &[&[u8]]) -> (String, Option<usize>) {
        let mut b = TextBuilder::default();
        for chunk in chunks {
            b.push(chunk);
        }
        let (text, bad) = b.finish();
        (text.to_string(), bad)
    }

    #[test]
    fn split_characters_and_invalid_bytes() {
        let snow = "☃".as_bytes();
        assert_eq!(
            build(&[b"a", &snow[..1], &snow[1..2], &snow[2..], b"b"]),
            ("a☃b".into(), None)
        );
        assert_eq!(build(&[b"ok\xffx"]), ("ok\u{fffd}x".into(), Some(2)));
        assert_eq!(build(&[b"abc", b"d\xfe"]), ("abcd\u{fffd}".into(), Some(4)));
        assert_eq!(build(&[b"xy", &snow[..2]]), ("xy\u{fffd}".into(), Some(2)));
        assert_eq!(build(&[&snow[..1], b"z"]), ("\u{fffd}z".into(), Some(0)));
        for input in [&b"plain"[..], b"\xe2\x98", b"a\xc3\xa9\xff\xf0\x9f\x98\x80"] {
            let expected = String::from_utf8_lossy(input).into_owned();
            for split in 0..input.len() {
                let (a, b) = input.split_at(split);
                assert_eq!(build(&[a, b]).0, expected, "{input:?} split at {split}");
            }
        }
    }
}
