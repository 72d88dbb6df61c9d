//! A script's messages to the operator: `info`, `warn` and `error`, through adminsh's own log
//! (`crate::log`), and `would`, what a dry run says instead of acting; and `print` and `debug` of values that Rhai would escape (strings in a list
//! or map, a string's `debug`), masked before Rhai formats them.

use std::rc::Rc;

use rhai::{Array, Dynamic, Engine, ImmutableString, Map, NativeCallContext, Variant};

use super::def::{Host, rows};
use crate::log::Level;
use crate::row::Row;
use crate::session::Session;

pub(super) fn register(host: &mut Host, session: &Rc<Session>) {
    rows!(host, session;
        "info", "message: ?", "Logs `info: message` to stderr",
            move |message: Dynamic| say(&session, Level::Info, &message);
        "warn", "message: ?", "Logs `warning: message` to stderr",
            move |message: Dynamic| say(&session, Level::Warn, &message);
        "error", "message: ?", "Logs `error: message` to stderr",
            move |message: Dynamic| say(&session, Level::Error, &message);
        "would", "action: String -> bool",
            "In a dry run: says `dry run: would <action>`, lists it in the summary and returns true; otherwise returns false",
            move |action: &str| would(&session, action);
    );
    masked_values(&mut host.engine, session);
}

/// What a stdlib module (or a script) does instead of an action a dry run must not take.
fn would(session: &Session, action: &str) -> bool {
    if session.options().dry_run {
        session.would(action, action);
    }
    session.options().dry_run
}

fn say(session: &Session, level: Level, message: &Dynamic) {
    session.message(level, &text(&session.redactor(), message));
}

/// Rhai hands `on_print` and `on_debug` text it has already escaped; these give it the value
/// masked first. Not host functions of their own: `print` and `debug` are Rhai's.
fn masked_values(engine: &mut Engine, session: &Rc<Session>) {
    engine.register_fn(
        "print",
        masking(session, "to_string", |v: &mut Array| {
            Dynamic::from_array(v.clone())
        }),
    );
    engine.register_fn(
        "print",
        masking(session, "to_string", |v: &mut Map| {
            Dynamic::from_map(v.clone())
        }),
    );
    engine.register_fn(
        "debug",
        masking(session, "to_debug", |v: &mut Array| {
            Dynamic::from_array(v.clone())
        }),
    );
    engine.register_fn(
        "debug",
        masking(session, "to_debug", |v: &mut Map| {
            Dynamic::from_map(v.clone())
        }),
    );
    engine.register_fn(
        "print",
        masking(session, "to_string", |v: &mut Row| Dynamic::from(v.clone())),
    );
    engine.register_fn(
        "debug",
        masking(session, "to_debug", |v: &mut Row| Dynamic::from(v.clone())),
    );
    let session = Rc::clone(session);
    engine.register_fn(
        "debug",
        move |ctx: NativeCallContext, v: ImmutableString| {
            masked(&session, &ctx, &Dynamic::from(v), "to_debug")
        },
    );
}

/// `print` or `debug` (`how` is the conversion Rhai calls) of a `T`, `value` making it a script
/// value: masked, then formatted.
fn masking<T: Variant + Clone>(
    session: &Rc<Session>,
    how: &'static str,
    value: fn(&mut T) -> Dynamic,
) -> impl for<'a> Fn(NativeCallContext<'a>, &mut T) -> ImmutableString + 'static {
    let session = Rc::clone(session);
    move |ctx, v| masked(&session, &ctx, &value(v), how)
}

/// `value` with the release's secrets masked, formatted as `how` (`to_string`, `to_debug`) does.
fn masked(
    session: &Session,
    ctx: &NativeCallContext,
    value: &Dynamic,
    how: &str,
) -> ImmutableString {
    let value = session.redactor().value(value);
    ctx.call_native_fn::<ImmutableString>(how, (value,))
        .unwrap_or_default()
}

/// A value as a message: a string as it is, anything else in Rhai's notation; masked.
pub(crate) fn text(redactor: &crate::release::Redactor, value: &Dynamic) -> String {
    match value.as_immutable_string_ref() {
        Ok(text) => redactor.redact(&text).into_owned(),
        Err(_) => redactor.value(value).to_string(),
    }
}
