//! `PARAMS` as a script uses it, checked when the script compiles: reading a name the header
//! does not declare (`PARAMS.bacth`) or assigning to `PARAMS` is an error before anything
//! runs, `--check` included. `PARAMS` is a constant, and Rhai's optimizer folds
//! `PARAMS.name` into its value: without this check a misspelt name would silently be `()`,
//! and an assignment would crash rhai 1.27 (an `unreachable!` in its evaluator).

use rhai::{Engine, Position, Token};

use crate::suggest;

/// Finds the first misuse of `PARAMS` in `text`; `declared` are its keys.
pub(crate) fn check_uses(
    engine: &Engine,
    text: &str,
    declared: &[&str],
) -> Result<(), (Position, String)> {
    let Some(tokens) = tokens(engine, text) else {
        // The compiler reports what cannot be read.
        return Ok(());
    };
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i].0 {
            // A script that names something else PARAMS knows what it does.
            Token::Let | Token::Const if is_params(tokens.get(i + 1)) => return Ok(()),
            Token::Identifier(_) if is_params(tokens.get(i)) => {
                let after_dot = i > 0 && matches!(tokens[i - 1].0, Token::Period | Token::Elvis);
                if !after_dot {
                    i = check_chain(&tokens, i, declared)?;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

fn is_params(token: Option<&(Token, Position)>) -> bool {
    matches!(token, Some((Token::Identifier(name), _)) if name.as_str() == "PARAMS")
}

/// The tokens of `text`, interpolated strings followed as the parser does; `None` for text
/// that does not lex.
pub(crate) fn tokens(engine: &Engine, text: &str) -> Option<Vec<(Token, Position)>> {
    let inputs = [text];
    let (stream, control) = engine.lex(&inputs);
    let mut tokens = Vec::new();
    // The brace depth inside each open `${...}` of an interpolated string.
    let mut interpolations: Vec<usize> = Vec::new();
    for (token, pos) in stream {
        match &token {
            Token::EOF => break,
            Token::LexError(_) => return None,
            Token::InterpolatedString(_) => interpolations.push(0),
            Token::LeftBrace | Token::MapStart => {
                if let Some(depth) = interpolations.last_mut() {
                    *depth += 1;
                }
            }
            Token::RightBrace => {
                if let Some(depth) = interpolations.last_mut() {
                    *depth -= 1;
                    if *depth == 0 {
                        // The `${...}` is closed: the string goes on.
                        interpolations.pop();
                        control.borrow_mut().is_within_text = true;
                    }
                }
            }
            _ => {}
        }
        tokens.push((token, pos));
    }
    Some(tokens)
}

/// Checks `PARAMS` at `start` and what follows it (`.name`, `["name"]`, method calls);
/// returns the index after the chain.
fn check_chain(
    tokens: &[(Token, Position)],
    start: usize,
    declared: &[&str],
) -> Result<usize, (Position, String)> {
    let unknown = |name: &str, pos: Position| {
        let mut message = format!("`PARAMS` has no `{name}`");
        if let Some(close) = suggest::closest(name, declared.iter().copied()) {
            message.push_str(&format!(" (did you mean `{close}`?)"));
        }
        if declared.is_empty() {
            message.push_str(": the script declares no parameters");
        } else {
            message.push_str(&format!(": the script declares {}", declared.join(", ")));
        }
        Err((pos, message))
    };
    let token = |j: usize| tokens.get(j).map(|t| &t.0);
    let mut j = start + 1;
    let mut first = true;
    loop {
        match token(j) {
            Some(Token::Period | Token::Elvis) => {
                let Some((Token::Identifier(name), pos)) = tokens.get(j + 1) else {
                    break;
                };
                // `()` is one token.
                let call = matches!(token(j + 2), Some(Token::LeftParen | Token::Unit));
                if first && !call && !declared.contains(&name.as_str()) {
                    return unknown(name, *pos);
                }
                first = false;
                j += 2;
                match token(j) {
                    Some(Token::Unit) => j += 1,
                    Some(Token::LeftParen) => j = after_closing(tokens, j),
                    _ => {}
                }
            }
            Some(Token::LeftBracket | Token::QuestionBracket) => {
                if let (Some((Token::StringConstant(name), pos)), Some(Token::RightBracket)) =
                    (tokens.get(j + 1), token(j + 2))
                    && first
                    && !declared.contains(&name.as_str())
                {
                    return unknown(name, *pos);
                }
                first = false;
                j = after_closing(tokens, j);
            }
            _ => break,
        }
    }
    if let Some(next) = token(j)
        && (*next == Token::Equals || next.is_op_assignment())
    {
        return Err((
            tokens[start].1,
            "`PARAMS` is a constant: copy a value into a variable to change it \
             (`let batch = PARAMS.batch;`)"
                .into(),
        ));
    }
    Ok(j)
}

/// The index after the bracket that closes the one at `open_at` (`[`, `?[` or `(`).
fn after_closing(tokens: &[(Token, Position)], open_at: usize) -> usize {
    let mut depth = 0usize;
    for (j, (token, _)) in tokens.iter().enumerate().skip(open_at) {
        match token {
            Token::LeftBracket | Token::QuestionBracket | Token::LeftParen => depth += 1,
            Token::RightBracket | Token::RightParen => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return j + 1;
                }
            }
            _ => {}
        }
    }
    tokens.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<(), String> {
        check_uses(&Engine::new_raw(), text, &["batch", "since", "dry_run"]).map_err(
            |(pos, message)| {
                format!(
                    "{}:{}: {message}",
                    pos.line().unwrap(),
                    pos.position().unwrap_or(0)
                )
            },
        )
    }

    #[test]
    fn declared_names_and_method_calls_pass() {
        for ok in [
            "let b = PARAMS.batch; PARAMS.since.len(); PARAMS?.dry_run",
            "for k in PARAMS.keys() { print(PARAMS[k]); }",
            r#"PARAMS["batch"] + 1; PARAMS == #{}; PARAMS.batch == 1"#,
            "print(`${PARAMS.since} and ${#{a: PARAMS.batch}.a} then ${PARAMS.dry_run}`);",
            "// PARAMS.nope = 1\nlet s = \"PARAMS.nope\";",
            "x.PARAMS.nope",
            "let PARAMS = #{}; PARAMS.anything = 1;",
            "let x = ;",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn misspelt_names_and_assignments_are_errors() {
        assert_eq!(
            check("let b = 1;\nprint(PARAMS.bach);"),
            Err(
                "2:14: `PARAMS` has no `bach` (did you mean `batch`?): the script declares \
                 batch, since, dry_run"
                    .into()
            )
        );
        assert_eq!(
            check(r#"print(`${PARAMS.since} ${PARAMS["dry"]}`)"#),
            Err(
                "1:33: `PARAMS` has no `dry` (did you mean `dry_run`?): the script declares \
                 batch, since, dry_run"
                    .into()
            )
        );
        let constant = "`PARAMS` is a constant: copy a value into a variable to change it \
                        (`let batch = PARAMS.batch;`)";
        for (text, at) in [
            ("PARAMS.batch = 2;", "1:1"),
            ("  PARAMS.batch += 2;", "1:3"),
            (r#"PARAMS["since"] = "x";"#, "1:1"),
            ("PARAMS.since[0] = 'x';", "1:1"),
            ("PARAMS = #{};", "1:1"),
        ] {
            assert_eq!(check(text), Err(format!("{at}: {constant}")), "{text}");
        }
        assert_eq!(
            check_uses(&Engine::new_raw(), "PARAMS.x", &[])
                .unwrap_err()
                .1,
            "`PARAMS` has no `x`: the script declares no parameters"
        );
    }
}
