//! A detached run has no terminal: `confirm()` and `ask()` cannot be answered there, so
//! `--detach` without `--yes` looks for them before the run starts, in the script and in the
//! modules it imports by a constant path (transitively, the stdlib aside: it asks nothing), and
//! refuses to start a run that would only stop at its first question. The calls are found in
//! the code's tokens, so a word in a comment or a string is not one.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rhai::Token;

use crate::params;

/// Imports nest at most this deep (as `host::modules` allows).
const MAX_NESTING: usize = 32;

/// One call that would ask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Question {
    /// The file it is in (as given), or `-e`.
    pub source: PathBuf,
    pub line: usize,
    /// `confirm` or `ask`.
    pub call: &'static str,
}

/// The questions `text` (from `source`: a script's path, or `-e`) and its imports would ask.
/// `root` is where imports of `-e` are found.
pub(crate) fn find(text: &str, source: &Path, root: &Path) -> Vec<Question> {
    let engine = rhai::Engine::new_raw();
    let mut found = Vec::new();
    let mut seen = HashSet::new();
    scan(&engine, text, source, root, 0, &mut seen, &mut found);
    found
}

fn scan(
    engine: &rhai::Engine,
    text: &str,
    source: &Path,
    root: &Path,
    depth: usize,
    seen: &mut HashSet<PathBuf>,
    found: &mut Vec<Question>,
) {
    let text = match text.strip_prefix("#!") {
        Some(rest) => format!("//{rest}"),
        None => text.to_owned(),
    };
    let Some(tokens) = params::tokens(engine, &text) else {
        // Code that does not lex fails when it compiles, before any question.
        return;
    };
    let at = |i: usize| tokens.get(i).map(|(token, _)| token);
    for (i, (token, pos)) in tokens.iter().enumerate() {
        match token {
            Token::Identifier(name)
                if matches!(at(i + 1), Some(Token::LeftParen | Token::Unit))
                    && !(i > 0 && matches!(at(i - 1), Some(Token::Fn))) =>
            {
                let call = match name.as_str() {
                    "confirm" => "confirm",
                    "ask" => "ask",
                    _ => continue,
                };
                found.push(Question {
                    source: source.to_path_buf(),
                    line: pos.line().unwrap_or(0),
                    call,
                });
            }
            Token::Import => {
                let Some(Token::StringConstant(path)) = at(i + 1) else {
                    continue;
                };
                if path.starts_with("std/") || depth >= MAX_NESTING {
                    continue;
                }
                let file = module_file(source, root, path);
                let Ok(real) = file.canonicalize() else {
                    continue;
                };
                if !seen.insert(real.clone()) {
                    continue;
                }
                if let Ok(module) = std::fs::read_to_string(&real) {
                    scan(engine, &module, &file, root, depth + 1, seen, found);
                }
            }
            _ => {}
        }
    }
}

/// The file `import "path"` in `source` names: `.rhai` added, beside `source` when that is a
/// file, else in the release root (as `host::modules` resolves it).
fn module_file(source: &Path, root: &Path, path: &str) -> PathBuf {
    let file = if Path::new(path)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("rhai"))
    {
        PathBuf::from(path)
    } else {
        PathBuf::from(format!("{path}.rhai"))
    };
    let dir = Some(source)
        .filter(|s| s.is_absolute())
        .and_then(Path::parent)
        .unwrap_or(root);
    dir.join(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_are_found_in_the_code_and_its_imports_not_in_comments() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("scripts/lib")).unwrap();
        std::fs::write(
            root.join("scripts/lib/ui.rhai"),
            "import \"std/db\" as db;\nfn sure() {\n    confirm(\"sure?\")\n}\n",
        )
        .unwrap();
        let script = root.join("scripts/go.rhai");
        let text = "#!/usr/bin/env adminsh\n// confirm(\"not this\")\nimport \"lib/ui\" as ui;\nimport \"lib/ui\" as again;\nlet s = \"ask(x)\";\nfn ask(q) { q }\nlet n = ask(\"how many?\", \"3\");\n";
        let found = find(text, &script, root);
        let lines: Vec<(String, usize, &str)> = found
            .iter()
            .map(|q| {
                let name = q.source.file_name().unwrap().to_string_lossy().into_owned();
                (name, q.line, q.call)
            })
            .collect();
        assert_eq!(
            lines,
            [
                ("ui.rhai".to_owned(), 3, "confirm"),
                ("go.rhai".to_owned(), 7, "ask")
            ]
        );
        assert!(find("print(\"hello\")", Path::new("-e"), root).is_empty());
        assert!(find("let x = \"", Path::new("-e"), root).is_empty());
    }
}
