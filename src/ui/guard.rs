//! Every request passes here first. The token: in the URL printed once (`?token=`), then in a
//! cookie of this port's own (`HttpOnly`, `SameSite=Strict`), and the URL with the token is
//! left at once for one without it, so it stays out of the history and of any `Referer`. A
//! request without it is refused, as is one whose `Host` is not this address (a page elsewhere
//! whose name was made to point here: DNS rebinding). An action also needs the page's CSRF
//! token from its form, and, where the browser says, to come from this origin. Every answer
//! carries a content security policy that runs only the page's own script and style and frames
//! nothing.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Ui;

/// What the web view refuses with when there is no token.
const NO_TOKEN: &str = "adminsh --ui: refused: this request has no valid token. Open the URL that `adminsh --ui` printed when it started (http://127.0.0.1:PORT/?token=...).\n";

pub(super) async fn guard(State(ui): State<Arc<Ui>>, request: Request, next: Next) -> Response {
    if !host_is_ours(&ui, request.headers()) {
        return refused(
            StatusCode::FORBIDDEN,
            "adminsh --ui: refused: this request is not addressed to 127.0.0.1 or localhost\n",
        );
    }
    let cookie = cookie_name(&ui);
    let from_query = token_in_query(request.uri().query());
    let from_cookie = cookie_value(request.headers(), &cookie);
    let mut response = if from_query.as_deref().is_some_and(|t| same(t, &ui.token)) {
        // Once the token is in the cookie, the address without it: a path of this site only
        // (`//host/` would be another site's).
        let path = request.uri().path();
        let path = if path.starts_with("//") { "/" } else { path };
        let mut response =
            (StatusCode::SEE_OTHER, [(header::LOCATION, path.to_owned())]).into_response();
        let set = format!("{cookie}={}; Path=/; HttpOnly; SameSite=Strict", ui.token);
        if let Ok(value) = HeaderValue::from_str(&set) {
            response.headers_mut().insert(header::SET_COOKIE, value);
        }
        response
    } else if from_cookie.as_deref().is_some_and(|t| same(t, &ui.token)) {
        next.run(request).await
    } else {
        refused(StatusCode::FORBIDDEN, NO_TOKEN)
    };
    secure(response.headers_mut());
    response
}

/// An action's checks: actions on, the form's CSRF token, and the browser's word that the
/// request comes from this page's origin. The refusal to answer with, if refused.
pub(super) fn refusal(ui: &Ui, headers: &HeaderMap, csrf: &str) -> Option<Response> {
    if !ui.allow_actions {
        return Some(refused(
            StatusCode::FORBIDDEN,
            "adminsh --ui: refused: actions are off; start the web view with `adminsh --ui --allow-actions` to stop, pause, resume and start runs\n",
        ));
    }
    let origin_ok = headers.get(header::ORIGIN).is_none_or(|o| {
        o.to_str()
            .is_ok_and(|o| origins(ui).iter().any(|ours| ours == o))
    });
    let site_ok = headers
        .get("sec-fetch-site")
        .is_none_or(|s| s.as_bytes() == b"same-origin");
    if !same(csrf, &ui.csrf) || !origin_ok || !site_ok {
        return Some(refused(
            StatusCode::FORBIDDEN,
            "adminsh --ui: refused: this action does not come from a page of this web view (its CSRF token is missing or wrong, or it comes from another site)\n",
        ));
    }
    None
}

fn refused(status: StatusCode, text: &'static str) -> Response {
    let mut response = (status, text).into_response();
    secure(response.headers_mut());
    response
}

/// The headers every answer carries.
fn secure(headers: &mut HeaderMap) {
    let set = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in set {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

/// The cookie of this web view: one per port, as a browser sends a cookie for 127.0.0.1 to
/// every port.
fn cookie_name(ui: &Ui) -> String {
    format!("adminsh_ui_{}", ui.port)
}

fn origins(ui: &Ui) -> [String; 2] {
    [
        format!("http://127.0.0.1:{}", ui.port),
        format!("http://localhost:{}", ui.port),
    ]
}

fn host_is_ours(ui: &Ui, headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    [
        format!("127.0.0.1:{}", ui.port),
        format!("localhost:{}", ui.port),
    ]
    .iter()
    .any(|ours| ours == host)
}

fn token_in_query(query: Option<&str>) -> Option<String> {
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
        .map(str::to_owned)
}

fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name).then(|| value.to_owned())
        })
}

/// Compares a secret in a time that does not depend on where the first difference is.
fn same(given: &str, secret: &str) -> bool {
    let (a, b) = (given.as_bytes(), secret.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_found_where_they_are_sent_and_compared_whole() {
        assert_eq!(
            token_in_query(Some("a=1&token=abc")),
            Some("abc".to_owned())
        );
        assert_eq!(token_in_query(Some("tokens=abc")), None);
        assert_eq!(token_in_query(None), None);
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("x=1; adminsh_ui_8=t0k"),
        );
        assert_eq!(
            cookie_value(&headers, "adminsh_ui_8"),
            Some("t0k".to_owned())
        );
        assert_eq!(cookie_value(&headers, "adminsh_ui_9"), None);
        assert!(same("abc", "abc"));
        assert!(!same("abd", "abc"));
        assert!(!same("ab", "abc"));
        assert!(!same("", "abc"));
    }
}
