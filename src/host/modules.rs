//! `import` for scripts: `import "std/db" as db;` loads a module of the stdlib compiled into
//! adminsh; any other path is a `.rhai` file beside the importing script.

use std::cell::RefCell;
use std::collections::HashMap;

use rhai::module_resolvers::FileModuleResolver;
use rhai::{Engine, EvalAltResult, Module, ModuleResolver, Position, Scope, Shared};

type SharedModule = Shared<Module>;

use crate::stdlib;

pub struct Resolver {
    files: FileModuleResolver,
    /// Stdlib modules are evaluated once per session, on first import.
    std: RefCell<HashMap<String, SharedModule>>,
}

impl Default for Resolver {
    fn default() -> Self {
        Resolver {
            files: FileModuleResolver::new(),
            std: RefCell::default(),
        }
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
            super::constants::check_import(&self.files, engine, source, path, pos)?;
            return self.files.resolve(engine, source, path, pos);
        };
        if let Some(module) = self.std.borrow().get(name) {
            return Ok(module.clone());
        }
        let text = stdlib::source(path)
            .ok_or_else(|| Box::new(EvalAltResult::ErrorModuleNotFound(path.into(), pos)))?;
        let in_module = |e| Box::new(EvalAltResult::ErrorInModule(path.into(), e, pos));
        let mut ast = engine.compile(text).map_err(|e| in_module(e.into()))?;
        ast.set_source(path);
        let mut module = Module::eval_ast_as_new(Scope::new(), &ast, engine).map_err(in_module)?;
        module.build_index();
        let module: SharedModule = module.into();
        self.std
            .borrow_mut()
            .insert(name.to_owned(), module.clone());
        Ok(module)
    }
}
