//! The stdlib: Rhai modules in `stdlib/*.rhai`, compiled into the binary and imported as
//! `import "std/<name>" as <name>;`. This table is the list; a test checks it matches the folder.
//! `std/db` is written in Rust (`src/db/`) and served by the module resolver beside these.

/// The import path prefix of stdlib modules.
pub(crate) const PREFIX: &str = "std/";

/// Each module's name and source.
pub(crate) const MODULES: &[(&str, &str)] = &[];

/// The source of `std/<name>`.
pub(crate) fn source(path: &str) -> Option<&'static str> {
    let name = path.strip_prefix(PREFIX)?;
    MODULES.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stdlib_file_is_listed_and_compiles() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/stdlib");
        // No folder: no module written in Rhai.
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "rhai"))
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = MODULES.iter().map(|(n, _)| n.to_string()).collect();
        listed.sort();
        assert_eq!(on_disk, listed, "stdlib/ and stdlib::MODULES differ");
        let engine = rhai::Engine::new();
        for (name, text) in MODULES {
            engine
                .compile(text)
                .unwrap_or_else(|e| panic!("std/{name}: {e}"));
        }
    }
}
