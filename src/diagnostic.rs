//! Script errors as people read them: `path:line:col: message`, the source line, a caret under
//! the column, then the calls and imports that led there, innermost first.

use std::path::Path;

use rhai::{EvalAltResult, Position};

/// Renders an error raised while compiling or running the script named `source`.
/// `text_of` gives the text of a source name (script file, module, `-e`, stdlib).
/// `show` turns a source name into what the user sees (a path relative to where they are).
pub fn render(
    error: EvalAltResult,
    source: &str,
    text_of: &dyn Fn(&str) -> Option<std::rc::Rc<str>>,
    show: &dyn Fn(&str) -> String,
) -> String {
    let mut current = source.to_owned();
    let mut callers = Vec::new();
    let mut error = error;
    loop {
        error = match error {
            EvalAltResult::ErrorInFunctionCall(name, callee_source, inner, pos) => {
                callers.push(format!(
                    "in `{name}`, called at {}",
                    place(&show(&current), pos)
                ));
                if !callee_source.is_empty() && callee_source != current {
                    // A function of an imported module names the module by its import path.
                    current = if text_of(&callee_source).is_some() {
                        callee_source
                    } else {
                        module_source(&callee_source, &current)
                    };
                }
                *inner
            }
            EvalAltResult::ErrorInModule(path, inner, pos) => {
                callers.push(format!(
                    "in module `{path}`, imported at {}",
                    place(&show(&current), pos)
                ));
                current = module_source(&path, &current);
                *inner
            }
            other => {
                error = other;
                break;
            }
        };
    }
    let pos = error.take_position();
    let message = match &error {
        EvalAltResult::ErrorRuntime(value, _) if value.is_string() => value.to_string(),
        EvalAltResult::ErrorRuntime(value, _) => format!("uncaught exception: {value}"),
        other => crate::host::limits::describe(other).unwrap_or_else(|| other.to_string()),
    };
    let mut out = format!("{}: {message}", place(&show(&current), pos));
    if let (Some(line), Some(text)) = (pos.line(), text_of(&current)) {
        out.push_str(&frame(&text, line, pos.position().unwrap_or(1)));
    }
    for caller in callers.iter().rev() {
        out.push_str(&format!("\n  {caller}"));
    }
    out
}

/// An error found in a script's text by adminsh itself (its header, say), rendered as Rhai's
/// are: `shown:line:col: message` and a code frame.
pub fn at(shown: &str, text: &str, line: usize, column: usize, message: &str) -> String {
    format!(
        "{shown}:{line}:{column}: {message}{}",
        frame(text, line, column)
    )
}

/// `source:line:col`, or just `source` when there is no position.
fn place(source: &str, pos: Position) -> String {
    match (pos.line(), pos.position()) {
        (Some(line), Some(col)) => format!("{source}:{line}:{col}"),
        (Some(line), None) => format!("{source}:{line}:1"),
        _ => source.to_owned(),
    }
}

/// The source file a module import path names, as the file resolver finds it: beside the
/// importing script, with `.rhai` added. Stdlib paths are their own names.
fn module_source(path: &str, importer: &str) -> String {
    if path.starts_with(crate::stdlib::PREFIX) {
        return path.to_owned();
    }
    let file = if path.ends_with(".rhai") {
        path.to_owned()
    } else {
        format!("{path}.rhai")
    };
    match Path::new(importer).parent() {
        Some(dir) if !Path::new(path).is_absolute() => dir.join(file).display().to_string(),
        _ => file,
    }
}

/// The numbered source line and a caret under `column` (1-based, in characters).
fn frame(text: &str, line: usize, column: usize) -> String {
    let Some(source_line) = text.lines().nth(line - 1) else {
        return String::new();
    };
    let number = line.to_string();
    let gutter = " ".repeat(number.len());
    // Keep tabs so the caret lines up under the same column as the code above it.
    let pad: String = source_line
        .chars()
        .take(column.saturating_sub(1))
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    format!("\n {number} | {source_line}\n {gutter} | {pad}^")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_point_at_the_column() {
        assert_eq!(
            frame("let a = 1;\n\tlet b = c;\n", 2, 10),
            "\n 2 | \tlet b = c;\n   | \t        ^"
        );
        assert_eq!(frame("x", 5, 1), "");
    }

    #[test]
    fn module_sources_sit_beside_the_importer() {
        assert_eq!(
            module_source("lib/h", "scripts/fix.rhai"),
            "scripts/lib/h.rhai"
        );
        assert_eq!(module_source("std/db", "scripts/fix.rhai"), "std/db");
    }
}
