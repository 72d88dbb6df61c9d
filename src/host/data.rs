//! Data formats for scripts: `parse_json`, `to_json`, `parse_url`.

use rhai::{Dynamic, Map};

use super::def::{Host, RhaiResult, rows, runtime_error};
use crate::release::percent_decode;

pub(super) fn register(host: &mut Host) {
    rows!(host;
        "parse_json", "text: String -> ?", "JSON text to maps and arrays", parse_json;
        "to_json", "value: ? -> String", "A value as compact JSON",
            |value: Dynamic| to_json(&value, false);
        // Typed, so it replaces Rhai's own `to_json` for maps, which writes a time or a command
        // as its Rust type name.
        "to_json", "value: Map -> String", "A map as compact JSON",
            |value: Map| to_json(&value.into(), false);
        "to_json", "value: ?, pretty: bool -> String", "A value as JSON, indented if `pretty`",
            |value: Dynamic, pretty: bool| to_json(&value, pretty);
        "parse_url", "url: String -> Map",
            "#{scheme, user, password, host, port, path, query, without_password}",
            |url: &str| -> RhaiResult<Map> {
                parse_url(url).ok_or_else(|| {
                    runtime_error(
                        "parse_url: expected `scheme://[user[:password]@]host[:port][/path][?query]`",
                    )
                })
            };
    );
}

fn parse_json(text: &str) -> RhaiResult<Dynamic> {
    serde_json::from_str::<Dynamic>(text).map_err(|e| {
        runtime_error(format!(
            "parse_json: {} at line {} column {}",
            strip_position(&e.to_string()),
            e.line(),
            e.column()
        ))
    })
}

fn to_json(value: &Dynamic, pretty: bool) -> RhaiResult<String> {
    let value = &super::time::plain(value);
    let text = if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    };
    text.map_err(|e| runtime_error(format!("to_json: {e}")))
}

/// `serde_json` appends " at line L column C"; the message says it in its own words.
fn strip_position(message: &str) -> &str {
    message.rsplit_once(" at line ").map_or(message, |(m, _)| m)
}

/// The parts of a URL, with user and password percent-decoded. The password is kept out of
/// printed URLs by redaction, not here.
fn parse_url(url: &str) -> Option<Map> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme.is_empty() {
        return None;
    }
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(i) => (&authority[..i], &authority[i + 1..]),
        None => ("", authority),
    };
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let (host, port) = match hostport.strip_prefix('[').and_then(|h| h.find(']')) {
        Some(end) => (&hostport[..end + 2], hostport[end + 2..].strip_prefix(':')),
        None => match hostport.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (hostport, None),
        },
    };
    let port = match port {
        Some(port) => Some(port.parse::<u16>().ok()?),
        None => None,
    };
    let decode = |s: &str| percent_decode(s).unwrap_or_else(|| s.to_owned());
    let mut map = Map::new();
    map.insert("scheme".into(), scheme.to_owned().into());
    map.insert("user".into(), decode(user).into());
    map.insert("password".into(), decode(password).into());
    map.insert("host".into(), host.to_owned().into());
    map.insert(
        "port".into(),
        port.map_or(Dynamic::UNIT, |p| Dynamic::from(rhai::INT::from(p))),
    );
    map.insert("path".into(), path.to_owned().into());
    map.insert("query".into(), query.to_owned().into());
    let without_password = if password.is_empty() {
        url.to_owned()
    } else {
        let authority_start = scheme.len() + 3;
        let userinfo_end = authority_start + userinfo.len();
        format!(
            "{}{}{}",
            &url[..authority_start],
            user,
            &url[userinfo_end..]
        )
    };
    map.insert("without_password".into(), without_password.into());
    Some(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(map: &Map, key: &str) -> String {
        map[key].to_string()
    }

    #[test]
    fn urls() {
        let u = parse_url("postgres://app:p%40ss@db.local:5433/shop?sslmode=off").unwrap();
        assert_eq!(part(&u, "user"), "app");
        assert_eq!(part(&u, "password"), "p@ss");
        assert_eq!(part(&u, "host"), "db.local");
        assert_eq!(part(&u, "port"), "5433");
        assert_eq!(part(&u, "path"), "/shop");
        assert_eq!(part(&u, "query"), "sslmode=off");
        assert_eq!(
            part(&u, "without_password"),
            "postgres://app@db.local:5433/shop?sslmode=off"
        );
        let s = parse_url("sqlite:///var/shop.db").unwrap();
        assert_eq!(part(&s, "host"), "");
        assert_eq!(part(&s, "path"), "/var/shop.db");
        assert!(parse_url("no scheme").is_none());
        assert!(parse_url("pg://h:notaport/x").is_none());
    }
}
