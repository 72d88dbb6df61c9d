//! A script's messages to the operator: `info`, `warn` and `error`, through adminsh's own log
//! (`crate::log`); and `print` and `debug` of values that Rhai would escape (strings in a list
//! or map, a string's `debug`), masked before Rhai formats them.

use std::rc::Rc;

use rhai::{Array, Dynamic, ImmutableString, Map, NativeCallContext};

use super::def::Host;
use crate::log::Level;
use crate::session::Session;

pub(super) fn register(host: &mut Host, session: &Rc<Session>) {
    let levels = [
        ("info", Level::Info, "Logs `info: message` to stderr"),
        ("warn", Level::Warn, "Logs `warning: message` to stderr"),
        ("error", Level::Error, "Logs `error: message` to stderr"),
    ];
    for (name, level, doc) in levels {
        let s = session.clone();
        host.def(name, "message: ?", doc, move |message: Dynamic| {
            s.message(level, &text(&s.redactor(), &message));
        });
    }
    // Rhai hands `on_print` and `on_debug` text it has already escaped; these give it the
    // value masked first. Not host functions of their own: `print` and `debug` are Rhai's.
    let s = session.clone();
    let masked = move |ctx: &NativeCallContext, value: Dynamic, how: &str| {
        let value = s.redactor().value(&value);
        ctx.call_native_fn::<ImmutableString>(how, (value,))
            .unwrap_or_default()
    };
    let engine = &mut host.engine;
    let m = masked.clone();
    engine.register_fn("print", move |ctx: NativeCallContext, v: &mut Array| {
        m(&ctx, Dynamic::from_array(v.clone()), "to_string")
    });
    let m = masked.clone();
    engine.register_fn("print", move |ctx: NativeCallContext, v: &mut Map| {
        m(&ctx, Dynamic::from_map(v.clone()), "to_string")
    });
    let m = masked.clone();
    engine.register_fn("debug", move |ctx: NativeCallContext, v: &mut Array| {
        m(&ctx, Dynamic::from_array(v.clone()), "to_debug")
    });
    let m = masked.clone();
    engine.register_fn("debug", move |ctx: NativeCallContext, v: &mut Map| {
        m(&ctx, Dynamic::from_map(v.clone()), "to_debug")
    });
    engine.register_fn(
        "debug",
        move |ctx: NativeCallContext, v: ImmutableString| {
            masked(&ctx, Dynamic::from(v), "to_debug")
        },
    );
}

/// A value as a message: a string as it is, anything else in Rhai's notation; masked.
pub(crate) fn text(redactor: &crate::release::secrets::Redactor, value: &Dynamic) -> String {
    match value.as_immutable_string_ref() {
        Ok(text) => redactor.redact(&text).into_owned(),
        Err(_) => redactor.value(value).to_string(),
    }
}
