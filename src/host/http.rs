//! HTTP for scripts (ureq with rustls: the static build stays static, Mozilla's roots are
//! compiled in): `http_get`, `http_post`, `http_put`, `http_delete`, `http_request`, each
//! returning `#{status, headers, body}`, and `json(response)`. A status other than 2xx is an
//! error unless `unchecked`; only GET and HEAD run under `--read-only` (and really run under
//! `--dry-run`, where the others are only said). Every URL adminsh prints has its password and
//! the release's secrets masked; each request is recorded in `--json` and the audit like a
//! command. The request runs on a helper thread so Ctrl-C ends the wait at once.

use std::rc::Rc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rhai::{Blob, Dynamic, Map};
use ureq::http;

use super::control;
use super::def::{Host, RhaiResult, rows, runtime_error};
use super::waiting::seconds;
use crate::interrupt;
use crate::session::Session;

/// How long a request may take unless told.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest body read.
const MAX_BODY: u64 = 256 * 1024 * 1024;

/// A request, ready for the helper thread (nothing in it is a Rhai value).
struct Request {
    method: http::Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    timeout: Duration,
    roots: Option<Vec<u8>>,
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// What the options map asked for: `headers`, `json`, `body`, `timeout`, `unchecked`, `ca_file`.
struct Options {
    request: Request,
    unchecked: bool,
    /// The body's type, sent as `content-type` unless a header names one.
    content_type: Option<&'static str>,
}

fn bytes_of(value: &Dynamic) -> Option<Vec<u8>> {
    if let Some(text) = value.read_lock::<rhai::ImmutableString>() {
        return Some(text.as_bytes().to_vec());
    }
    value.read_lock::<Blob>().map(|b| b.clone())
}

/// A body from a script value: a map or an array as JSON, a string as text, a blob as bytes.
fn body(value: &Dynamic) -> RhaiResult<Option<(Vec<u8>, &'static str)>> {
    if value.is_unit() {
        return Ok(None);
    }
    if value.is_map() || value.is_array() || value.is::<crate::row::Row>() {
        let json = serde_json::to_vec(&super::time::plain(value))
            .map_err(|e| runtime_error(format!("http: the body is not JSON: {e}")))?;
        return Ok(Some((json, "application/json")));
    }
    if value.is_string() {
        return Ok(bytes_of(value).map(|b| (b, "text/plain; charset=utf-8")));
    }
    match bytes_of(value) {
        Some(b) => Ok(Some((b, "application/octet-stream"))),
        None => Err(runtime_error(format!(
            "http: a body is a map or an array (sent as JSON), a string or a blob, not {}",
            crate::kind::of(value)
        ))),
    }
}

fn options(
    session: &Session,
    method: &str,
    url: &str,
    given: Option<&Dynamic>,
    options: &Map,
) -> RhaiResult<Options> {
    let method = http::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
        .map_err(|_| runtime_error(format!("http: `{method}` is not an HTTP method")))?;
    let mut asked = Options {
        request: Request {
            method,
            url: url.to_owned(),
            headers: Vec::new(),
            body: None,
            timeout: DEFAULT_TIMEOUT,
            roots: None,
        },
        unchecked: false,
        content_type: None,
    };
    if let Some(given) = given
        && let Some((bytes, kind)) = body(given)?
    {
        asked.request.body = Some(bytes);
        asked.content_type = Some(kind);
    }
    for (key, value) in options {
        asked.set(session, key.as_str(), value)?;
    }
    let has_type = asked
        .request
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
    if let (Some(kind), false) = (asked.content_type, has_type) {
        asked
            .request
            .headers
            .push(("content-type".into(), kind.into()));
    }
    Ok(asked)
}

impl Options {
    /// One entry of the options map.
    fn set(&mut self, session: &Session, key: &str, value: &Dynamic) -> RhaiResult<()> {
        let request = &mut self.request;
        match key {
            "headers" => {
                let headers = value
                    .read_lock::<Map>()
                    .ok_or_else(|| runtime_error("http: `headers` is a map of names to values"))?;
                for (name, value) in headers.iter() {
                    request.headers.push((name.to_string(), value.to_string()));
                }
            }
            "json" => {
                let json = serde_json::to_vec(&super::time::plain(value))
                    .map_err(|e| runtime_error(format!("http: `json` is not JSON: {e}")))?;
                request.body = Some(json);
                self.content_type = Some("application/json");
            }
            "body" => {
                let (bytes, kind) = body(value)?.unwrap_or_default();
                request.body = Some(bytes);
                self.content_type = Some(kind);
            }
            "timeout" => {
                request.timeout = seconds(value, "http's timeout")?;
                if request.timeout.is_zero() {
                    return Err(runtime_error("http's timeout must be more than 0 seconds"));
                }
            }
            "unchecked" => {
                self.unchecked = value.as_bool().map_err(|_| {
                    runtime_error(format!(
                        "http: `unchecked` is true or false, not {}",
                        crate::kind::of(value)
                    ))
                })?;
            }
            "ca_file" => {
                let path = super::file_io::in_release(session, &value.to_string());
                let pem = crate::small_file::read(&path, crate::small_file::MAX_CONFIG_FILE)
                    .map_err(|e| {
                        runtime_error(format!(
                            "http: cannot read the ca_file `{value}`: {}",
                            super::file_io::refusal_reason(&e)
                        ))
                    })?;
                request.roots = Some(pem);
            }
            other => {
                return Err(runtime_error(format!(
                    "http: unknown option `{other}` (the options are headers, json, body, timeout, unchecked and ca_file)"
                )));
            }
        }
        Ok(())
    }
}

/// Sends `request` (on the helper thread).
fn send(request: Request) -> anyhow::Result<Response> {
    let mut tls = ureq::tls::TlsConfig::builder();
    if let Some(pem) = &request.roots {
        let mut certs = Vec::new();
        for item in ureq::tls::parse_pem(pem) {
            match item {
                Ok(ureq::tls::PemItem::Certificate(cert)) => certs.push(cert.to_owned()),
                Ok(_) => {}
                Err(e) => anyhow::bail!("the ca_file is not PEM: {e}"),
            }
        }
        if certs.is_empty() {
            anyhow::bail!("the ca_file holds no certificate");
        }
        tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(request.timeout))
        .http_status_as_error(false)
        .tls_config(tls.build())
        .build()
        .into();
    let mut builder = http::Request::builder()
        .method(request.method.clone())
        .uri(&request.url);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    let sent = match request.body {
        Some(body) => builder.body(body).map(|r| agent.run(r)),
        None => builder.body(()).map(|r| agent.run(r)),
    };
    let mut response = sent?.map_err(|e| anyhow::Error::msg(reason(&e, request.timeout)))?;
    let status = response.status().as_u16();
    let mut headers: Vec<(String, String)> = Vec::new();
    for (name, value) in response.headers() {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match headers.iter_mut().find(|(n, _)| n == name.as_str()) {
            Some((_, joined)) => {
                joined.push_str(", ");
                joined.push_str(&value);
            }
            None => headers.push((name.as_str().to_owned(), value)),
        }
    }
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_BODY)
        .read_to_vec()
        .map_err(|e| anyhow::Error::msg(reason(&e, request.timeout)))?;
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn reason(error: &ureq::Error, timeout: Duration) -> String {
    match error {
        ureq::Error::Timeout(_) => format!("timed out after {}s", timeout.as_secs_f64()),
        ureq::Error::HostNotFound => "host not found".into(),
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused".into()
        }
        ureq::Error::BodyExceedsLimit(_) => {
            format!("the response is larger than {} MiB", MAX_BODY / 1024 / 1024)
        }
        other => {
            let text = other.to_string();
            if text.contains("UnknownIssuer") {
                format!(
                    "{text} (signed by a private CA? give its certificate: #{{ca_file: \"ca.pem\"}})"
                )
            } else {
                text
            }
        }
    }
}

/// The URL as adminsh shows it: no password, the release's secrets masked.
fn shown(session: &Session, url: &str) -> String {
    let without_password = match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            match rest[..authority_end].rfind('@') {
                Some(at) => {
                    let userinfo = &rest[..at];
                    let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
                    let masked = if user.len() < userinfo.len() {
                        format!("{user}:****")
                    } else {
                        user.to_owned()
                    };
                    format!("{scheme}://{masked}{}", &rest[at..])
                }
                None => url.to_owned(),
            }
        }
        None => url.to_owned(),
    };
    session.redact(&without_password)
}

/// Records a request (`GET https://...`, masked) among the commands, for `--json` and the audit.
fn record(
    session: &Session,
    line: &str,
    status: Option<i32>,
    duration: Duration,
    error: Option<&str>,
) {
    session.spawner.record(crate::record::CommandRecord {
        stages: vec![line.split(' ').map(str::to_owned).collect()],
        status,
        duration,
        error: error.map(str::to_owned),
        statement: None,
    });
}

/// One request: refused under `--read-only` and only said under `--dry-run` unless it reads;
/// recorded; a status other than 2xx an error unless `unchecked`.
fn request(
    session: &Session,
    method: &str,
    url: &str,
    given: Option<&Dynamic>,
    given_options: &Map,
) -> RhaiResult<Map> {
    let Options {
        request, unchecked, ..
    } = options(session, method, url, given, given_options)?;
    let method = request.method.clone();
    let line = format!("{method} {}", shown(session, url));
    let reads = matches!(method, http::Method::GET | http::Method::HEAD);
    if !reads && session.options().read_only {
        return Err(runtime_error(format!("refused in read-only mode: {line}")));
    }
    if !reads && session.options().dry_run {
        session.would(&format!("send {line}"), &line);
        return Ok(response_map(0, Map::new(), String::new()));
    }
    let started = Instant::now();
    let response = answer(session, &line, started, request)?;
    let status = response.status;
    let body = String::from_utf8_lossy(&response.body).into_owned();
    let ok = (200..300).contains(&status);
    let failure = (!ok && !unchecked).then(|| failure(session, &line, status, &body));
    record(
        session,
        &line,
        Some(i32::from(status)),
        started.elapsed(),
        failure.as_deref(),
    );
    if let Some(message) = failure {
        return Err(runtime_error(message));
    }
    let headers = response
        .headers
        .into_iter()
        .map(|(name, value)| (name.into(), value.into()))
        .collect();
    Ok(response_map(status.into(), headers, body))
}

/// Sends `request` on a helper thread and waits for its answer, Ctrl-C ending the wait at once
/// (the thread is left to end with the process). No answer is recorded, and the script's error.
fn answer(
    session: &Session,
    line: &str,
    started: Instant,
    request: Request,
) -> RhaiResult<Response> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(send(request));
    });
    let result = loop {
        if let Some(signal) = interrupt::signal() {
            record(session, line, None, started.elapsed(), Some("interrupted"));
            return Err(control::interrupted(signal));
        }
        match rx.recv_timeout(Duration::from_millis(10)) {
            Ok(result) => break result,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                break Err(anyhow::anyhow!("the request ended without an answer"));
            }
        }
    };
    result.map_err(|e| {
        let message = session.redact(&format!("{line}: {e}"));
        record(session, line, None, started.elapsed(), Some(&message));
        runtime_error(message)
    })
}

/// The error of a status other than 2xx: the status, its reason and the start of the body,
/// masked.
fn failure(session: &Session, line: &str, status: u16, body: &str) -> String {
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let mut message = format!("{line} failed: {status} {reason}");
    let excerpt: Vec<&str> = body.lines().take(5).collect();
    if !excerpt.is_empty() {
        message.push_str("\nthe start of its body:");
        for l in excerpt {
            let cut: String = l.chars().take(200).collect();
            message.push_str(&format!("\n  | {cut}"));
        }
    }
    session.redact(&message)
}

/// What the request functions return: `#{status, headers, body}`.
fn response_map(status: rhai::INT, headers: Map, body: String) -> Map {
    let mut map = Map::new();
    map.insert("status".into(), Dynamic::from(status));
    map.insert("headers".into(), headers.into());
    map.insert("body".into(), body.into());
    map
}

/// The HTTP family: a row per method, with and without options, then `json(response)`.
pub(super) fn register(host: &mut Host, session: &Rc<Session>) {
    rows!(host, session;
        "http_get", "url: String -> Map",
            "GETs a URL; #{status, headers, body} (a status other than 2xx is an error)",
            move |url: &str| request(&session, "GET", url, None, &Map::new());
        "http_get", "url: String, options: Map -> Map",
            "GET with options: #{headers, timeout, unchecked, ca_file}",
            move |url: &str, options: Map| request(&session, "GET", url, None, &options);
        "http_post", "url: String, body: ? -> Map",
            "POSTs a body: a map or an array as JSON, a string as text, a blob as bytes",
            move |url: &str, body: Dynamic| {
                request(&session, "POST", url, Some(&body), &Map::new())
            };
        "http_post", "url: String, body: ?, options: Map -> Map",
            "POST with options: #{headers, timeout, unchecked, ca_file}",
            move |url: &str, body: Dynamic, options: Map| {
                request(&session, "POST", url, Some(&body), &options)
            };
        "http_put", "url: String, body: ? -> Map",
            "PUTs a body: a map or an array as JSON, a string as text, a blob as bytes",
            move |url: &str, body: Dynamic| {
                request(&session, "PUT", url, Some(&body), &Map::new())
            };
        "http_put", "url: String, body: ?, options: Map -> Map",
            "PUT with options: #{headers, timeout, unchecked, ca_file}",
            move |url: &str, body: Dynamic, options: Map| {
                request(&session, "PUT", url, Some(&body), &options)
            };
        "http_delete", "url: String -> Map", "DELETEs a URL; #{status, headers, body}",
            move |url: &str| request(&session, "DELETE", url, None, &Map::new());
        "http_delete", "url: String, options: Map -> Map",
            "DELETE with options: #{headers, json, body, timeout, unchecked, ca_file}",
            move |url: &str, options: Map| request(&session, "DELETE", url, None, &options);
        "http_request", "method: String, url: String, options: Map -> Map",
            "Any method (HEAD, PATCH, ...) with options: #{headers, json, body, timeout, unchecked, ca_file}",
            move |method: &str, url: &str, options: Map| {
                request(&session, method, url, None, &options)
            };
        "json", "response: Map -> ?", "An HTTP response's body parsed as JSON", json;
    );
}

/// `json(response)`: the body of a response map, parsed.
fn json(response: Map) -> RhaiResult<Dynamic> {
    let body = response
        .get("body")
        .map(ToString::to_string)
        .ok_or_else(|| {
            runtime_error("json(response): the map has no `body` (is it an HTTP response?)")
        })?;
    serde_json::from_str::<Dynamic>(&body).map_err(|e| {
        runtime_error(format!(
            "the response body is not JSON: {e} (it starts {:?})",
            body.chars().take(80).collect::<String>()
        ))
    })
}
