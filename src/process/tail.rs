//! The end of a command's stderr that a failure message quotes. The bytes are kept as they
//! come (the last few KiB), and masked whole before anything is cut from them, so a secret is
//! never cut in half by the window nor split over the `  | ` lines of the message.

use crate::release::secrets::Redactor;

/// How much of stderr a failure message shows.
const TAIL_LINES: usize = 10;
const TAIL_BYTES: usize = 8 * 1024;

/// The end of stderr, kept as it comes.
pub(super) struct Tail<'a> {
    kept: Vec<u8>,
    redactor: &'a Redactor,
}

impl<'a> Tail<'a> {
    pub(super) fn new(redactor: &'a Redactor) -> Self {
        Tail {
            kept: Vec::new(),
            redactor,
        }
    }

    /// Appends `bytes`; when the kept bytes have grown well past the window, masks them and
    /// drops what is before the window. A secret still arriving at the end is shorter than the
    /// window, so it is never cut; one that arrived whole is masked by then.
    pub(super) fn push(&mut self, bytes: &[u8]) {
        self.kept.extend_from_slice(bytes);
        let window = TAIL_BYTES.max(self.redactor.longest());
        if self.kept.len() > 2 * window {
            self.kept = mask(&self.kept, self.redactor);
            let cut = self.kept.len().saturating_sub(window);
            self.kept.drain(..cut);
        }
    }

    /// The last lines, masked, for the error message.
    pub(super) fn finish(self) -> String {
        cut(&mask(&self.kept, self.redactor))
    }
}

/// The last lines of a whole stderr (`output()`), masked before it is cut.
pub(super) fn of(stderr: &[u8], redactor: &Redactor) -> String {
    cut(&mask(stderr, redactor))
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

/// The last `TAIL_LINES` lines of the last `TAIL_BYTES`.
fn cut(stderr: &[u8]) -> String {
    let start = stderr.len().saturating_sub(TAIL_BYTES);
    let text = String::from_utf8_lossy(&stderr[start..]);
    let lines: Vec<&str> = text.trim_end().lines().collect();
    lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_keeps_the_last_lines() {
        let redactor = Redactor::default();
        let mut tail = Tail::new(&redactor);
        for i in 0..5000 {
            tail.push(format!("line{i}\n").as_bytes());
        }
        assert!(tail.kept.len() <= 2 * TAIL_BYTES);
        let text = tail.finish();
        assert_eq!(text.lines().count(), TAIL_LINES);
        assert!(text.ends_with("line4999"));
    }

    #[test]
    fn a_secret_is_masked_before_the_window_cuts_it() {
        let key = format!(
            "-----BEGIN KEY-----\n{}\n-----END KEY-----",
            "k3y".repeat(4000)
        );
        let mut redactor = Redactor::default();
        redactor.add("s3cr3t-at-the-edge");
        redactor.add(&key);
        // Fed in pieces that cut both secrets, with the window's edge inside each.
        for filler in [TAIL_BYTES - 9, TAIL_BYTES - 2, 2 * TAIL_BYTES - 5] {
            let stderr = format!(
                "{}\ns3cr3t-at-the-edge{}\n{key}\n",
                "x".repeat(filler),
                "y".repeat(TAIL_BYTES - 30)
            );
            let mut tail = Tail::new(&redactor);
            for piece in stderr.as_bytes().chunks(1000) {
                tail.push(piece);
            }
            for text in [tail.finish(), of(stderr.as_bytes(), &redactor)] {
                let leaked = text.contains("k3yk3y") || text.contains("edge");
                assert!(!leaked && text.ends_with("****"), "filler {filler}");
            }
        }
    }
}
