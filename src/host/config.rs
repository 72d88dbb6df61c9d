//! Config and release identity for scripts: `env`, `has_env`, `set_env`, `release()`, `mode()`,
//! and `secret(value)`, a value masked as a secret of the config is.

use std::rc::Rc;

use rhai::{Dynamic, Map};

use super::def::{Host, RhaiResult, rows, runtime_error};
use crate::session::Session;
use crate::suggest;

pub(super) fn register(host: &mut Host, session: &Rc<Session>) {
    rows!(host, session;
        "env", "key: String -> String", "The config value of `key`; an error if it is not set",
            move |key: &str| env(&session, key);
        "env", "key: String, default: ? -> ?", "The config value of `key`, or `default`",
            move |key: &str, default: Dynamic| match session.release.config.borrow().get(key) {
                Some(value) => Dynamic::from(value.to_owned()),
                None => default,
            };
        "has_env", "key: String -> bool", "Whether the config has `key`",
            move |key: &str| session.release.config.borrow().get(key).is_some();
        "set_env", "key: String, value: ?", "Sets a config value for the commands that follow",
            move |key: &str, value: Dynamic| set_env(&session, key, &value);
        "release", " -> Map",
            "The release: #{name, root, link, version, version_source, dirty, stage, state_dir, isolation}",
            move || release_map(&session);
        "mode", " -> Map", "How this run goes: #{dry_run, read_only, yes}",
            move || mode_map(&session);
        "secret", "value: String -> String",
            "Masks `value` in everything adminsh writes from now on, as a secret of the config is; returns it",
            move |value: &str| {
                session.release.config.borrow_mut().add_secret(value);
                value.to_owned()
            };
    );
}

/// `env(key)`: an error naming the key, and the closest one set, when it is not.
fn env(session: &Session, key: &str) -> RhaiResult<String> {
    let config = session.release.config.borrow();
    config.get(key).map(str::to_owned).ok_or_else(|| {
        let hint = suggest::closest(key, config.keys())
            .map(|k| format!("; did you mean `{k}`?"))
            .unwrap_or_default();
        runtime_error(format!(
            "config key `{key}` is not set (not in .env, an env file or the environment){hint}"
        ))
    })
}

fn set_env(session: &Session, key: &str, value: &Dynamic) -> RhaiResult<()> {
    if key.is_empty() || key.contains(['=', '\0']) {
        return Err(runtime_error(format!(
            "`{key}` is not a valid variable name"
        )));
    }
    session.set_env(key, &value.to_string());
    Ok(())
}

/// What `mode()` returns: the run's options as they apply (`read_only` also when the stage is
/// one of the manifest's `read_only_stages`).
fn mode_map(session: &Session) -> Map {
    let options = session.options();
    let mut map = Map::new();
    map.insert("dry_run".into(), options.dry_run.into());
    map.insert("read_only".into(), options.read_only.into());
    map.insert("yes".into(), options.yes.into());
    map
}

/// What `release()` returns.
pub(crate) fn release_map(session: &Session) -> Map {
    let release = &session.release;
    let identity = release.identity();
    let isolation = release.isolation();
    let mut map = Map::new();
    let path = |p: &std::path::Path| Dynamic::from(p.display().to_string());
    map.insert("name".into(), release.name.clone().into());
    map.insert("root".into(), path(release.path()));
    map.insert(
        "link".into(),
        release.root.link.as_deref().map_or(Dynamic::UNIT, path),
    );
    map.insert(
        "version".into(),
        identity
            .version
            .clone()
            .map_or(Dynamic::UNIT, Dynamic::from),
    );
    map.insert("version_source".into(), identity.source.into());
    map.insert(
        "dirty".into(),
        release.dirty().map_or(Dynamic::UNIT, Dynamic::from),
    );
    map.insert("stage".into(), release.stage.clone().into());
    map.insert("state_dir".into(), path(&release.state_dir()));
    map.insert(
        "isolation".into(),
        Dynamic::from_array(
            isolation
                .describe()
                .into_iter()
                .map(Dynamic::from)
                .collect(),
        ),
    );
    map
}
