//! The code of one `step(...)` call, cut out of its script's source: what a checkpoint hashes,
//! so editing a completed step (and only that) makes it run again. Positions play no part, so
//! editing lines above a step leaves it done.

/// The text of the call whose name starts at `line`:`column` (1-based), from the name to its
/// closing parenthesis; `None` when the source there is not a complete call.
pub(crate) fn call_text(source: &str, line: usize, column: usize) -> Option<&str> {
    let line_start = source
        .split_inclusive('\n')
        .take(line.checked_sub(1)?)
        .map(str::len)
        .sum::<usize>();
    let start = line_start
        + source[line_start..]
            .char_indices()
            .nth(column.checked_sub(1)?)
            .map(|(i, _)| i)?;
    let open = start + source[start..].find('(')?;
    let end = matching_close(source.as_bytes(), open)?;
    Some(&source[start..=end])
}

/// The index of the `)`, `]` or `}` closing the bracket at `open`, skipping strings, characters
/// and comments.
fn matching_close(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            b'"' | b'\'' => i = skip_quoted(bytes, i)?,
            b'`' => i = skip_backtick(bytes, i)?,
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = bytes[i..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |n| i + n);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => i = skip_block_comment(bytes, i)?,
            _ => {}
        }
        i += 1;
    }
    None
}

/// From an opening `"` or `'`, the index of its closing quote.
fn skip_quoted(bytes: &[u8], open: usize) -> Option<usize> {
    let quote = bytes[open];
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b if b == quote => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// From an opening back-tick, the index of its closing one; `${...}` inside is code.
fn skip_backtick(bytes: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'`' => return Some(i),
            b'$' if bytes.get(i + 1) == Some(&b'{') => i = matching_close(bytes, i + 1)?,
            _ => {}
        }
        i += 1;
    }
    None
}

/// From `/*`, the index of the `/` closing it (Rhai block comments nest).
fn skip_block_comment(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0;
    let mut i = open;
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 1;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_out_the_whole_call() {
        let source = "let a = 1;\n  step(\"copy\", || {\n    cmd(\"cp\", [\"a)\", `x ${f(\"}\")} y`]).run(); // )\n    /* ) /* ( */ */ let c = ')';\n  });\nafter();\n";
        let text = call_text(source, 2, 3).unwrap();
        assert!(text.starts_with("step(\"copy\""), "{text}");
        assert!(text.ends_with("  })"), "{text}");
        assert_eq!(call_text("step(\"x\", || {", 1, 1), None);
        assert_eq!(call_text("x", 5, 1), None);
    }
}
