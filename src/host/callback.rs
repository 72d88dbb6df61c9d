//! A script's closure called many times from a host function: once per line of a command
//! (`each_line`), per row (`db::each`), per batch or per item. A leaf beside `def.rs`.
//!
//! `FnPtr::call_within_context` is made for one call: each call clones the whole evaluation
//! state (the global state with its function libraries and imports), starts an empty function
//! resolution cache and a new scope, so a one-line body paid ~400 ns before its first
//! statement. `Callback` takes those once, when the loop starts, and reuses them; the
//! resolution cache then finds the closure's function (and every function its body calls)
//! without hashing a name again. A pointer that is not to a script's function (`Fn("print")`)
//! goes the general way.

use rhai::{
    Caches, Dynamic, EvalContext, FnPtr, FuncArgs, GlobalRuntimeState, NativeCallContext, Scope,
    StaticVec,
};

use super::def::RhaiResult;

pub(crate) struct Callback<'a, 'c> {
    ctx: &'a NativeCallContext<'c>,
    pointer: &'a FnPtr,
    /// The state a call evaluates in, taken once: only a script's own function gets it.
    fast: Option<Fast>,
}

/// What `call_within_context` builds afresh on every call.
struct Fast {
    global: GlobalRuntimeState,
    caches: Caches,
    scope: Scope<'static>,
}

impl<'a, 'c> Callback<'a, 'c> {
    pub(crate) fn new(ctx: &'a NativeCallContext<'c>, pointer: &'a FnPtr) -> Self {
        let fast = pointer.is_anonymous().then(|| Fast {
            global: ctx.global_runtime_state().clone(),
            caches: Caches::new(),
            scope: Scope::new(),
        });
        Callback { ctx, pointer, fast }
    }

    /// Calls the closure with `args` after its curried values (the variables it captured).
    pub(crate) fn call(&mut self, args: impl FuncArgs) -> RhaiResult<Dynamic> {
        let Some(fast) = self.fast.as_mut() else {
            return self.pointer.call_within_context(self.ctx, args);
        };
        let mut values: StaticVec<Dynamic> = self.pointer.curry().iter().cloned().collect();
        args.parse(&mut values);
        let mut refs: StaticVec<&mut Dynamic> = values.iter_mut().collect();
        let mut eval = EvalContext::new(
            self.ctx.engine(),
            &mut fast.global,
            &mut fast.caches,
            &mut fast.scope,
            None,
        );
        eval.call_fn_raw(self.pointer.fn_name(), false, false, &mut refs)
    }
}
