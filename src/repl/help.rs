//! What the console knows about the host API, generated from the functions registered on the
//! engine (their signatures and one-line docs, recorded as each is registered) and the stdlib modules, so `:help` and
//! completion can never drift from what scripts can call.

use crate::host::FnDoc;

/// One callable function as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Function {
    /// `cmd`, or `db::query` for a stdlib module function.
    pub name: String,
    /// `cmd(prog: String, args: Array) -> Cmd`
    pub signature: String,
    pub doc: String,
    /// Called as a method: `x.run()`.
    pub is_method: bool,
}

/// The host functions, sorted by name then signature.
pub(super) fn host_functions(docs: &[FnDoc]) -> Vec<Function> {
    let mut functions: Vec<Function> = docs
        .iter()
        .map(|d| Function {
            name: d.name.to_owned(),
            signature: d.signature(),
            doc: d.doc.to_owned(),
            is_method: d.is_method(),
        })
        .collect();
    functions.sort_by(|a, b| (&a.name, &a.signature).cmp(&(&b.name, &b.signature)));
    functions
}

/// The public functions of a stdlib module, from its source: `fn name(params)` lines and the
/// `///` comment above each.
pub(super) fn module_functions(module: &str, source: &str) -> Vec<Function> {
    let mut functions = Vec::new();
    let mut doc = String::new();
    for line in source.lines() {
        let line = line.trim();
        if let Some(comment) = line.strip_prefix("///") {
            if doc.is_empty() {
                comment.trim().clone_into(&mut doc);
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("fn ") {
            let header = rest.split('{').next().unwrap_or(rest).trim();
            let name = header.split('(').next().unwrap_or(header).trim();
            if !doc.is_empty() {
                functions.push(Function {
                    name: format!("{module}::{name}"),
                    signature: format!("{module}::{header}"),
                    doc: std::mem::take(&mut doc),
                    is_method: false,
                });
            }
        }
        doc.clear();
    }
    functions
}

/// The console's own commands and what they do.
pub(super) const META: &[(&str, &str)] = &[
    (":help", "this list"),
    (
        ":env",
        "the resolved config, secrets masked, with the layer of each value",
    ),
    (":release", "the release: root, version, stage, isolation"),
    (":vars", "the variables defined in this session"),
    (
        ":load FILE",
        "run a script (a path or a name under scripts/) into this session",
    ),
    (
        ":reset",
        "forget every variable and function of this session",
    ),
    (":quit", "leave (Ctrl-D does too)"),
];

/// The text of `:help`.
pub(super) fn text(functions: &[Function]) -> String {
    let mut out = String::from("Host functions (methods are called as cmd(...).name(...)):\n");
    let width = functions
        .iter()
        .map(|f| f.signature.len())
        .max()
        .unwrap_or(0)
        .min(60);
    for f in functions {
        out.push_str(&format!("  {:width$}  {}\n", f.signature, f.doc));
    }
    out.push_str("Console commands:\n");
    for (name, doc) in META {
        out.push_str(&format!("  {name:12}  {doc}\n"));
    }
    out.push_str("Keys: Tab completes, Ctrl-C clears the line or stops what runs, Ctrl-D quits.\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_functions_come_with_their_docs() {
        let source = "/// Rows.\nfn query(sql) {\n}\n// not a doc\nfn client() {}\n/// Scalar.\nfn scalar(sql) { x }\n";
        let names: Vec<(String, String)> = module_functions("db", source)
            .into_iter()
            .map(|f| (f.signature, f.doc))
            .collect();
        assert_eq!(
            names,
            [
                ("db::query(sql)".to_owned(), "Rows.".to_owned()),
                ("db::scalar(sql)".to_owned(), "Scalar.".to_owned())
            ]
        );
    }
}
