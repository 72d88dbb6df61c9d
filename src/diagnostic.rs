//! Script errors as people read them: `path:line:col: message`, the source line, a caret under
//! the column, then the calls and imports that led there, innermost first.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use rhai::{AST, EvalAltResult, Position};

/// The prefix of the function name Rhai gives a closure (`anon$a3404495cf5f5b16`).
const CLOSURE_PREFIX: &str = "anon$";

/// Where a closure was written: its source, the position of its body, its parameters.
#[derive(Debug, Clone)]
struct Closure {
    source: String,
    pos: Position,
    params: Vec<String>,
}

/// The texts of the sources a run compiled (scripts, modules, `-e`, console inputs), kept so
/// an error in any of them can be shown with its code frame, and where the user stands, so a
/// path is shown as they would type it.
#[derive(Debug, Default)]
pub(crate) struct Sources {
    /// Where the user ran adminsh from.
    origin: PathBuf,
    texts: RefCell<HashMap<String, Rc<str>>>,
    /// The closures of the compiled sources, by the name Rhai gives them.
    closures: RefCell<HashMap<String, Closure>>,
}

impl Sources {
    pub(crate) fn new(origin: PathBuf) -> Self {
        Sources {
            origin,
            texts: RefCell::default(),
            closures: RefCell::default(),
        }
    }

    /// Keeps where each closure of a compiled source was written, so an error inside one, or
    /// the closure printed, names the place rather than Rhai's `anon$…` name.
    pub(crate) fn remember_closures(&self, source: &str, ast: &AST) {
        // Where each closure starts (its `|`): the constant that makes it.
        let mut starts: HashMap<String, Position> = HashMap::new();
        ast.walk(&mut |path| {
            if let Some(rhai::ASTNode::Expr(rhai::Expr::DynamicConstant(value, pos))) = path.last()
                && let Some(pointer) = value.read_lock::<rhai::FnPtr>()
                && pointer.fn_name().starts_with(CLOSURE_PREFIX)
            {
                starts.entry(pointer.fn_name().to_owned()).or_insert(*pos);
            }
            true
        });
        let lib = ast.shared_lib();
        let mut closures = self.closures.borrow_mut();
        for function in ast.iter_functions() {
            if !function.name.starts_with(CLOSURE_PREFIX) || closures.contains_key(function.name) {
                continue;
            }
            let Some(def) = lib.get_script_fn(function.name, function.params.len()) else {
                continue;
            };
            closures.insert(
                function.name.to_owned(),
                Closure {
                    source: source.to_owned(),
                    pos: starts
                        .get(function.name)
                        .copied()
                        .unwrap_or_else(|| def.body.start_position()),
                    params: function.params.iter().map(|p| (*p).to_owned()).collect(),
                },
            );
        }
    }

    /// A closure as people read it: `|x, y| at scripts/fix.rhai:4:17` (`captured` of its
    /// parameters are the variables it captured, not shown); `None` for a function that is
    /// not a closure of a compiled source.
    pub(crate) fn closure(&self, name: &str, captured: usize) -> Option<String> {
        let closures = self.closures.borrow();
        let closure = closures.get(name)?;
        let params = closure
            .params
            .get(captured..)
            .unwrap_or_default()
            .join(", ");
        Some(format!(
            "|{params}| at {}",
            place(&self.shown(&closure.source), closure.pos)
        ))
    }

    /// Where the closure `name` was written, shown as the user reads paths.
    fn closure_place(&self, name: &str) -> Option<String> {
        let closures = self.closures.borrow();
        let closure = closures.get(name)?;
        Some(place(&self.shown(&closure.source), closure.pos))
    }

    /// Keeps a source text so errors in it can be shown with a code frame.
    pub(crate) fn remember(&self, name: &str, text: &str) {
        self.texts.borrow_mut().insert(name.to_owned(), text.into());
    }

    /// The text of source `name`: remembered, embedded (`std/...`) or read from its file.
    pub(crate) fn text(&self, name: &str) -> Option<Rc<str>> {
        if let Some(text) = self.texts.borrow().get(name) {
            return Some(text.clone());
        }
        let text: Rc<str> = crate::stdlib::source(name)
            .map(Into::into)
            .or_else(|| std::fs::read_to_string(name).ok().map(Into::into))?;
        self.remember(name, &text);
        Some(text)
    }

    /// A source name as the user should see it.
    pub(crate) fn shown(&self, name: &str) -> String {
        shown(name, &self.origin)
    }
}

/// A source name (a script path, `-e`, `std/db`) as the user should see it: a file under the
/// directory adminsh was started in (`origin`), relative to it.
pub(crate) fn shown(name: &str, origin: &Path) -> String {
    let path = Path::new(name);
    match path.strip_prefix(origin) {
        Ok(relative) if path.is_absolute() && !origin.as_os_str().is_empty() => {
            relative.display().to_string()
        }
        _ => name.to_owned(),
    }
}

/// The name of the frame of a step's body in an error's call chain: `in step "backfill"`.
pub(crate) fn step_frame(name: &str) -> String {
    format!("{STEP_FRAME}{name:?}")
}

const STEP_FRAME: &str = "step ";

/// A function of the call chain as people read it: a step by its name, a closure by where it
/// was written, any other function by its name.
fn frame_name(name: &str, sources: &Sources) -> String {
    if name.starts_with(STEP_FRAME) {
        name.to_owned()
    } else if name.starts_with(CLOSURE_PREFIX) {
        match sources.closure_place(name) {
            Some(place) => format!("the closure at {place}"),
            None => "a closure".to_owned(),
        }
    } else {
        format!("`{name}`")
    }
}

/// Renders an error raised while compiling or running the script named `source`, with the
/// code frame from `sources` (script file, module, `-e`, stdlib) and paths shown as the user
/// reads them.
/// `known` (the host API's names, the variables) makes the hints for common mistakes.
pub(crate) fn render(
    error: EvalAltResult,
    source: &str,
    sources: &Sources,
    known: &crate::hints::Known,
) -> String {
    let text_of = |name: &str| sources.text(name);
    let show = |name: &str| sources.shown(name);
    let mut current = source.to_owned();
    let mut callers = Vec::new();
    let mut error = error;
    loop {
        error = match error {
            EvalAltResult::ErrorInFunctionCall(name, callee_source, inner, pos) => {
                callers.push(format!(
                    "in {}, called at {}",
                    frame_name(&name, sources),
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
    let text = text_of(&current);
    let mut pos = error.take_position();
    if pos.is_none()
        && let Some(site) = text
            .as_deref()
            .and_then(|text| crate::hints::lent_handle_call(&error, text))
    {
        pos = site;
    }
    let mut message = match &error {
        EvalAltResult::ErrorRuntime(value, _) if value.is_string() => value.to_string(),
        EvalAltResult::ErrorRuntime(value, _) => format!("uncaught exception: {value}"),
        other => crate::limits::describe(other)
            .unwrap_or_else(|| crate::hints::plain_types(&other.to_string())),
    };
    if let Some(hint) = crate::hints::hint(&error, pos, text.as_deref(), known) {
        message.push_str(&format!("; {hint}"));
    }
    let mut out = format!("{}: {message}", place(&show(&current), pos));
    if let (Some(line), Some(text)) = (pos.line(), text) {
        out.push_str(&frame(&text, line, pos.position().unwrap_or(1)));
    }
    for caller in callers.iter().rev() {
        out.push_str(&format!("\n  {caller}"));
    }
    out
}

/// An error found in a script's text by adminsh itself (its header, say), rendered as Rhai's
/// are: `shown:line:col: message` and a code frame.
pub(crate) fn at(shown: &str, text: &str, line: usize, column: usize, message: &str) -> String {
    format!(
        "{shown}:{line}:{column}: {message}{}",
        frame(text, line, column)
    )
}

/// Every error of a script's header, each as `at` renders it, in the order of the lines.
pub(crate) fn header_errors(
    shown: &str,
    text: &str,
    errors: &[crate::params::HeaderError],
) -> String {
    let rendered: Vec<String> = errors
        .iter()
        .map(|e| at(shown, text, e.line, e.column, &e.message))
        .collect();
    rendered.join("\n")
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
    if let Some(name) = path.strip_prefix(crate::stdlib::PREFIX) {
        return crate::stdlib::file_name(name);
    }
    let file = if std::path::Path::new(path)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("rhai"))
    {
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
        assert_eq!(module_source("std/pg", "scripts/fix.rhai"), "std/pg.rhai");
    }
}
