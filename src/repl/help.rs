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

/// Host and stdlib functions, for `:help` and completion: listed the first time either asks,
/// not before the first prompt.
pub(super) struct Catalog {
    docs: Vec<FnDoc>,
    listed: std::cell::OnceCell<Vec<Function>>,
}

impl Catalog {
    pub(super) fn new(docs: Vec<FnDoc>) -> Self {
        Catalog {
            docs,
            listed: std::cell::OnceCell::new(),
        }
    }

    pub(super) fn functions(&self) -> &[Function] {
        self.listed.get_or_init(|| {
            let mut functions = host_functions(&self.docs);
            for (name, source) in crate::stdlib::MODULES {
                functions.extend(module_functions(name, source));
            }
            functions
        })
    }
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

/// The public functions of a stdlib module, as its doc comments describe them.
pub(super) fn module_functions(module: &str, source: &str) -> Vec<Function> {
    crate::stdlib::functions(module, source)
        .into_iter()
        .map(|f| Function {
            name: f.name,
            signature: f.signature,
            doc: f.summary,
            is_method: false,
        })
        .collect()
}

/// The console's own commands and what they do.
pub(super) const META: &[(&str, &str)] = &[
    (":help", "this list"),
    (
        ":help std/NAME",
        "a stdlib module's functions, each with an example (std/pg, ...)",
    ),
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
        out.push_str(&format!("  {name:14}  {doc}\n"));
    }
    out.push_str("Keys: Tab completes, Ctrl-C clears the line or stops what runs, Ctrl-D quits.\n");
    out
}

/// The text of `:help std/NAME` (or `:help NAME`): a stdlib module's description and each
/// function with its doc and example; for `std/db`, written in Rust, its functions' docs.
pub(super) fn module(wanted: &str, functions: &[Function]) -> Result<String, String> {
    if let Some(name) = crate::stdlib::named(wanted) {
        return Ok(crate::stdlib::help(name).unwrap_or_default());
    }
    let name = wanted.trim().trim_end_matches("::");
    if matches!(name, "db" | "std/db") {
        let mut out = String::from("std/db (built in; import \"std/db\" as db;)\n");
        for f in functions.iter().filter(|f| f.name.starts_with("db::")) {
            out.push_str(&format!("  {}  {}\n", f.signature, f.doc));
        }
        return Ok(out);
    }
    let known: Vec<String> = std::iter::once("std/db".to_owned())
        .chain(
            crate::stdlib::MODULES
                .iter()
                .map(|(n, _)| format!("{}{n}", crate::stdlib::PREFIX)),
        )
        .collect();
    Err(format!(
        "no stdlib module `{wanted}`: there are {} (:help alone lists every function)",
        known.join(", ")
    ))
}
