//! `import` for scripts: `import "std/db" as db;` loads a module of the stdlib compiled into
//! adminsh; any other path is a `.rhai` file beside the importing script (for `-e` and the
//! console, in the release root). Admin code ships with the release: a module file outside the
//! release root, found after resolving `..` and symlinks, is refused unless
//! `--allow-outside-release` was given. A module file that is not UTF-8 says so, with the byte.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use rhai::{Engine, EvalAltResult, Module, ModuleResolver, Position, Scope, Shared};

type SharedModule = Shared<Module>;

use crate::stdlib;

pub(crate) struct Resolver {
    /// The release root, physical (symlinks resolved).
    root: PathBuf,
    allow_outside_release: bool,
    /// Stdlib modules written in Rust (`std/db`).
    native: HashMap<&'static str, SharedModule>,
    /// Modules are evaluated once per session, on first import: stdlib ones by name...
    std: RefCell<HashMap<String, SharedModule>>,
    /// ...files by their physical path.
    files: RefCell<HashMap<PathBuf, SharedModule>>,
    /// The module files being evaluated now, outermost first: an import of one of them again is
    /// a cycle, which would recurse until the stack overflows.
    loading: RefCell<Vec<PathBuf>>,
}

/// How deep imports may nest (a module importing a module ...): far beyond real code, well
/// within the stack.
const MAX_NESTING: usize = 32;

impl Resolver {
    pub(crate) fn new(root: &Path, allow_outside_release: bool) -> Self {
        Resolver {
            root: root.to_path_buf(),
            allow_outside_release,
            native: HashMap::new(),
            std: RefCell::default(),
            files: RefCell::default(),
            loading: RefCell::default(),
        }
    }

    /// The file `import "path"` names: `.rhai` added, beside `source` when that is a file,
    /// else in the release root; `..` resolved in the name (not through symlinks).
    fn file(&self, source: Option<&str>, path: &str) -> PathBuf {
        let file = if Path::new(path)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("rhai"))
        {
            PathBuf::from(path)
        } else {
            PathBuf::from(format!("{path}.rhai"))
        };
        let dir = source
            .map(Path::new)
            .filter(|s| s.is_absolute())
            .and_then(Path::parent)
            .unwrap_or(&self.root);
        normalize(&dir.join(file))
    }

    fn load_file(
        &self,
        engine: &Engine,
        path: &str,
        file: &Path,
        pos: Position,
    ) -> Result<SharedModule, Box<EvalAltResult>> {
        let refused = |message: String| Box::new(EvalAltResult::ErrorRuntime(message.into(), pos));
        let real = match file.canonicalize() {
            Ok(real) => real,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(EvalAltResult::ErrorModuleNotFound(path.into(), pos).into());
            }
            Err(e) => {
                return Err(refused(format!(
                    "cannot read module {}: {e}",
                    file.display()
                )));
            }
        };
        if let Some(message) = outside(&self.root, &real, self.allow_outside_release) {
            return Err(refused(format!("`import \"{path}\"`: {message}")));
        }
        if let Some(module) = self.files.borrow().get(&real) {
            return Ok(module.clone());
        }
        let shown = shown(&self.root, file);
        let bytes = crate::small_file::read(&real, crate::small_file::MAX_CONFIG_FILE).map_err(
            |e| match e {
                crate::small_file::Refusal::NotRegular(_) => {
                    refused(format!("module {shown} is not a regular file"))
                }
                e => refused(format!("cannot read module {shown}: {e}")),
            },
        )?;
        let text = String::from_utf8(bytes).map_err(|e| {
            refused(format!(
                "module {shown} is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ))
        })?;
        let loading = self.loading.borrow().clone();
        if let Some(at) = loading.iter().position(|l| *l == real) {
            let chain: Vec<String> = loading[at..]
                .iter()
                .map(|l| self::shown(&self.root, l))
                .collect();
            return Err(refused(format!(
                "circular import: {} -> {shown}",
                chain.join(" -> ")
            )));
        }
        if loading.len() >= MAX_NESTING {
            return Err(refused(format!(
                "imports nest more than {MAX_NESTING} deep (at {shown})"
            )));
        }
        let in_module = |e| Box::new(EvalAltResult::ErrorInModule(path.into(), e, pos));
        let mut ast = engine.compile(&text).map_err(|e| in_module(e.into()))?;
        // Before it runs: assigning into a constant map would abort adminsh (constants.rs).
        super::constants::check(&ast, &text).map_err(in_module)?;
        // Its own imports resolve beside it; errors in it name the file.
        ast.set_source(file.display().to_string());
        self.loading.borrow_mut().push(real.clone());
        let module = Module::eval_ast_as_new(Scope::new(), &ast, engine);
        self.loading.borrow_mut().pop();
        let mut module = module.map_err(in_module)?;
        module.build_index();
        let module: SharedModule = module.into();
        self.files.borrow_mut().insert(real, module.clone());
        Ok(module)
    }
}

impl Resolver {
    /// Serves `std/<name>` with a module written in Rust.
    pub(crate) fn with_native(mut self, name: &'static str, module: SharedModule) -> Self {
        self.native.insert(name, module);
        self
    }
}

impl ModuleResolver for Resolver {
    fn resolve(
        &self,
        engine: &Engine,
        source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<SharedModule, Box<EvalAltResult>> {
        let Some(name) = path.strip_prefix(stdlib::PREFIX) else {
            return self.load_file(engine, path, &self.file(source, path), pos);
        };
        if let Some(module) = self.native.get(name) {
            return Ok(module.clone());
        }
        if let Some(module) = self.std.borrow().get(name) {
            return Ok(module.clone());
        }
        let text = stdlib::source(path)
            .ok_or_else(|| Box::new(EvalAltResult::ErrorModuleNotFound(path.into(), pos)))?;
        let in_module = |e| Box::new(EvalAltResult::ErrorInModule(path.into(), e, pos));
        let mut ast = engine.compile(text).map_err(|e| in_module(e.into()))?;
        // Errors inside it read `std/pg.rhai:41:9`.
        ast.set_source(stdlib::file_name(name));
        let mut module = Module::eval_ast_as_new(Scope::new(), &ast, engine).map_err(in_module)?;
        module.build_index();
        let module: SharedModule = module.into();
        self.std
            .borrow_mut()
            .insert(name.to_owned(), module.clone());
        Ok(module)
    }
}

/// Why code at `real` (a physical path) may not run against the release at `root`: `None`
/// when it is inside, or when `allowed`.
pub(crate) fn outside(root: &Path, real: &Path, allowed: bool) -> Option<String> {
    (!allowed && !real.starts_with(root)).then(|| {
        format!(
            "{} is outside the release at {}: admin code must ship with the release it runs \
             against (pass --allow-outside-release to run it anyway)",
            real.display(),
            root.display()
        )
    })
}

/// A path as messages show it: relative to the release root when inside it.
fn shown(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// `a/b/../c` as `a/c`, `./` dropped: a name for messages and sources, not a check (that
/// resolves symlinks too).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                // `/..` is `/`.
                Some(Component::RootDir) => {}
                _ => out.push(".."),
            },
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_files_are_found_beside_the_importer_or_in_the_root() {
        let resolver = Resolver::new(Path::new("/srv/app"), false);
        let cases = [
            (
                Some("/srv/app/scripts/job.rhai"),
                "lib/x",
                "/srv/app/scripts/lib/x.rhai",
            ),
            (
                Some("/srv/app/scripts/a/job.rhai"),
                "../lib/x",
                "/srv/app/scripts/lib/x.rhai",
            ),
            (Some("/srv/app/scripts/job.rhai"), "../../../x", "/x.rhai"),
            // Above the root is the root, as the system reads `/..`.
            (
                Some("/srv/app/scripts/job.rhai"),
                "../../../../../x",
                "/x.rhai",
            ),
            (
                Some("-e"),
                "scripts/lib/x.rhai",
                "/srv/app/scripts/lib/x.rhai",
            ),
            (None, "./lib/x", "/srv/app/lib/x.rhai"),
            (
                Some("/srv/app/scripts/job.rhai"),
                "/srv/other/mod",
                "/srv/other/mod.rhai",
            ),
        ];
        for (source, path, file) in cases {
            assert_eq!(
                resolver.file(source, path),
                Path::new(file),
                "{source:?} {path}"
            );
        }
    }
}
