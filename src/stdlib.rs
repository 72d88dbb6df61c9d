//! The stdlib: Rhai modules in `stdlib/*.rhai`, compiled into the binary and imported as
//! `import "std/<name>" as <name>;`. This table is the list; a test checks it matches the folder.
//! `std/db` is written in Rust (`src/db/`) and served by the module resolver beside these.
//! Each module documents itself: its `//!` header, and a `///` comment with an example above
//! each public `fn`, which `:help std/<name>`, `--stdlib` and completion read from here.

/// The import path prefix of stdlib modules.
pub(crate) const PREFIX: &str = "std/";

/// Each module's name and source, read from `stdlib/` when adminsh is built.
pub(crate) const MODULES: &[(&str, &str)] = &[
    ("app", include_str!("../stdlib/app.rhai")),
    ("maintenance", include_str!("../stdlib/maintenance.rhai")),
    ("mysql", include_str!("../stdlib/mysql.rhai")),
    ("notify", include_str!("../stdlib/notify.rhai")),
    ("pg", include_str!("../stdlib/pg.rhai")),
];

/// The source of a stdlib module, by its import path (`std/pg`) or its file name as errors
/// show it (`std/pg.rhai`).
pub(crate) fn source(path: &str) -> Option<&'static str> {
    let name = path.strip_prefix(PREFIX)?;
    let name = name.strip_suffix(".rhai").unwrap_or(name);
    MODULES.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// The source name a module's code carries, so that errors in it read `std/pg.rhai:41:9`.
pub(crate) fn file_name(name: &str) -> String {
    format!("{PREFIX}{name}.rhai")
}

/// A module's name from what a user may type for it: `pg`, `std/pg`, `std/pg.rhai`, `pg::`.
pub(crate) fn named(wanted: &str) -> Option<&'static str> {
    let name = wanted.trim().trim_end_matches("::");
    let name = name.strip_prefix(PREFIX).unwrap_or(name);
    let name = name.strip_suffix(".rhai").unwrap_or(name);
    MODULES.iter().map(|(n, _)| *n).find(|n| *n == name)
}

/// One public function of a stdlib module, as its source documents it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Function {
    /// `pg::table_sizes`
    pub name: String,
    /// `pg::table_sizes(limit)`
    pub signature: String,
    /// The first line of its doc comment.
    pub summary: String,
    /// The whole doc comment, `///` taken off (an example in a fenced block).
    pub doc: String,
}

/// The public functions of a module's `source`, in their order: each `fn` line (not
/// `private fn`) with the `///` lines right above it.
pub(crate) fn functions(module: &str, source: &str) -> Vec<Function> {
    let mut functions = Vec::new();
    let mut doc: Vec<&str> = Vec::new();
    for line in source.lines() {
        let line = line.trim();
        if let Some(comment) = line.strip_prefix("///") {
            doc.push(comment.strip_prefix(' ').unwrap_or(comment));
            continue;
        }
        if let Some(rest) = line.strip_prefix("fn ") {
            let header = rest.split('{').next().unwrap_or(rest).trim();
            let name = header.split('(').next().unwrap_or(header).trim();
            functions.push(Function {
                name: format!("{module}::{name}"),
                signature: format!("{module}::{header}"),
                summary: doc.first().map_or_else(String::new, |s| (*s).to_owned()),
                doc: doc.join("\n"),
            });
        }
        doc.clear();
    }
    functions
}

/// A module's own description: its `//!` lines, the marker taken off.
pub(crate) fn about(source: &str) -> String {
    let lines: Vec<&str> = source
        .lines()
        .map_while(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect();
    lines.join("\n")
}

/// The text of `:help std/<name>` and `--stdlib <name>`: the module's description, then each
/// function's signature and documentation.
pub(crate) fn help(name: &str) -> Option<String> {
    let source = source(&format!("{PREFIX}{name}"))?;
    let mut out = format!(
        "{}{name} (import \"{PREFIX}{name}\" as {name};)\n\n{}\n",
        PREFIX,
        about(source)
    );
    for f in functions(name, source) {
        out.push_str(&format!("\n{}\n", f.signature));
        for line in f.doc.lines() {
            if line.is_empty() {
                out.push('\n');
            } else {
                out.push_str(&format!("    {line}\n"));
            }
        }
    }
    Some(out)
}

/// The text of `--stdlib`: each module with its functions' signatures and summaries.
pub(crate) fn listing() -> String {
    let mut out = String::new();
    for (name, source) in MODULES {
        let functions = functions(name, source);
        let summary = about(source);
        let first = summary.lines().next().unwrap_or_default();
        out.push_str(&format!("{PREFIX}{name}: {first}\n"));
        let width = functions
            .iter()
            .map(|f| f.signature.len())
            .max()
            .unwrap_or(0);
        for f in functions {
            out.push_str(&format!("  {:width$}  {}\n", f.signature, f.summary));
        }
    }
    out.push_str(&format!(
        "{PREFIX}db is built in (`:help` in the console lists it); `adminsh --stdlib NAME` shows a module's functions with examples\n"
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stdlib_file_is_listed_and_compiles() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/stdlib");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "rhai"))
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = MODULES.iter().map(|(n, _)| n.to_string()).collect();
        listed.sort();
        assert_eq!(on_disk, listed, "stdlib/ and stdlib::MODULES differ");
        // With adminsh's limits, which debug builds would otherwise set lower.
        let mut engine = rhai::Engine::new();
        crate::limits::apply(&mut engine);
        for (name, text) in MODULES {
            engine
                .compile(text)
                .unwrap_or_else(|e| panic!("std/{name}: {e}"));
        }
    }

    #[test]
    fn every_public_function_has_a_doc_with_an_example() {
        for (name, source) in MODULES {
            let about = about(source);
            let first = about.lines().next().unwrap_or_default();
            assert!(
                first.ends_with('.') && about.lines().nth(1).is_none_or(str::is_empty),
                "std/{name}'s //! header starts with a sentence of its own: {first:?}"
            );
            let functions = functions(name, source);
            assert!(!functions.is_empty(), "std/{name} has no public function");
            for f in functions {
                assert!(!f.summary.is_empty(), "{} has no /// doc", f.signature);
                // One line, a sentence, then a blank line or the example.
                let second = f.doc.lines().nth(1).unwrap_or_default();
                assert!(
                    f.summary.ends_with('.') && f.summary.len() <= 100 && second.is_empty(),
                    "{}: the doc's first line is a sentence of its own: {:?}",
                    f.signature,
                    f.summary
                );
                assert!(
                    f.doc.contains("```") && f.doc.contains(&format!("{name}::")),
                    "{}'s doc has no example (a ``` block calling {name}::...)",
                    f.signature
                );
            }
        }
    }

    #[test]
    fn the_stdlib_chapter_documents_every_stdlib_function() {
        let chapter = include_str!("../docs/src/stdlib.md");
        let examples: Vec<&str> = chapter
            .split("```rhai\n")
            .skip(1)
            .filter_map(|rest| rest.split("```").next())
            .collect();
        for (name, source) in MODULES {
            for f in functions(name, source) {
                let call = format!("{}(", f.name);
                assert!(
                    chapter.contains(&format!("`{call}")),
                    "docs/src/stdlib.md's table lacks {}",
                    f.signature
                );
                assert!(
                    examples.iter().any(|e| e.contains(&call)),
                    "no example in docs/src/stdlib.md calls {}",
                    f.name
                );
            }
        }
    }

    #[test]
    fn functions_come_with_their_docs() {
        let source = "//! A module.\n/// Rows.\n///\n/// ```\n/// m::query(\"x\")\n/// ```\nfn query(sql) {\n}\n// not a doc\nprivate fn client() {}\n/// Scalar.\nfn scalar(sql, params) { x }\n";
        let found: Vec<(String, String, String)> = functions("m", source)
            .into_iter()
            .map(|f| (f.signature, f.summary, f.doc))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "m::query(sql)".to_owned(),
                    "Rows.".to_owned(),
                    "Rows.\n\n```\nm::query(\"x\")\n```".to_owned()
                ),
                (
                    "m::scalar(sql, params)".to_owned(),
                    "Scalar.".to_owned(),
                    "Scalar.".to_owned()
                )
            ]
        );
        assert_eq!(about(source), "A module.");
    }

    #[test]
    fn a_module_is_named_as_users_type_it() {
        for wanted in ["pg", "std/pg", "std/pg.rhai", "pg::", " pg "] {
            assert_eq!(named(wanted), Some("pg"), "{wanted:?}");
        }
        for wanted in ["", "db", "std/", "pgx", "std/pg/x"] {
            assert_eq!(named(wanted), None, "{wanted:?}");
        }
        assert!(source("std/pg").is_some() && source("std/pg.rhai").is_some());
        assert_eq!(source("pg"), None);
    }
}
