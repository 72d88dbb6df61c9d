//! The output of several processes running at once (the hosts of `--each`, the shards of
//! `--shards`, the pods of an Indexed Job) on one terminal: each line whole, marked with where
//! it came from (`[app1] `, `[shard 2/4] `), so lines never mix and every line says whose it is.
//! A leaf: bytes in, bytes out; a line that is not UTF-8 passes as it is.

use std::io::{Read, Write};

/// Writes the complete lines of `pending + bytes`, each prefixed `[label] `, in one write per
/// chunk so lines of processes running at once never mix; keeps the unfinished rest in `pending`.
pub(crate) fn prefix_lines(label: &str, bytes: &[u8], pending: &mut Vec<u8>, out: &mut dyn Write) {
    pending.extend_from_slice(bytes);
    let Some(last) = pending.iter().rposition(|&b| b == b'\n') else {
        return;
    };
    let rest = pending.split_off(last + 1);
    let _ = out.write_all(&prefixed(label, pending));
    let _ = out.flush();
    *pending = rest;
}

/// Complete lines, each with `[label] ` in front.
pub(crate) fn prefixed(label: &str, lines: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(lines.len() + 16);
    for line in lines.split_inclusive(|&b| b == b'\n') {
        out.extend_from_slice(format!("[{label}] ").as_bytes());
        out.extend_from_slice(line);
    }
    out
}

/// Copies `pipe` to `out` a whole line at a time, each marked `[label] `, until it ends; a last
/// line without its newline is given one.
pub(crate) fn relay(mut pipe: impl Read, label: &str, out: &mut dyn Write) {
    let mut pending = Vec::new();
    let mut buffer = vec![0; 16 * 1024];
    loop {
        match pipe.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => prefix_lines(label, &buffer[..n], &mut pending, out),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    if !pending.is_empty() {
        pending.push(b'\n');
        prefix_lines(label, &[], &mut pending, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_prefixed_whole() {
        let mut pending = Vec::new();
        let mut out = Vec::new();
        prefix_lines("app1", b"one\ntw", &mut pending, &mut out);
        assert_eq!(out, b"[app1] one\n");
        prefix_lines("app1", b"o\n\nthree", &mut pending, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "[app1] one\n[app1] two\n[app1] \n"
        );
        assert_eq!(pending, b"three");
    }

    #[test]
    fn a_relayed_pipe_keeps_its_bytes_and_ends_its_last_line() {
        let mut out = Vec::new();
        relay(&b"one\n\xff two\nlast"[..], "shard 1/2", &mut out);
        assert_eq!(
            out,
            b"[shard 1/2] one\n[shard 1/2] \xff two\n[shard 1/2] last\n"
        );
        let mut out = Vec::new();
        relay(&b""[..], "x", &mut out);
        assert!(out.is_empty());
    }
}
