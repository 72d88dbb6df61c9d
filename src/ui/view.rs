//! The web view's HTML comes from templates (`templates/`, compiled into the binary) whose
//! every value is HTML-escaped unless a template says otherwise (none does), and an undefined
//! name is an error rather than an empty string. The page's one script and one style sheet
//! (`assets/`) are inside the binary too: nothing comes from elsewhere.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::value::{Serde, Value};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

use crate::error::Error;

/// The templates, by name.
const TEMPLATES: [(&str, &str); 6] = [
    ("base.html", include_str!("templates/base.html")),
    ("runs.html", include_str!("templates/runs.html")),
    ("run.html", include_str!("templates/run.html")),
    ("scripts.html", include_str!("templates/scripts.html")),
    ("audit.html", include_str!("templates/audit.html")),
    ("said.html", include_str!("templates/said.html")),
];

/// The assets: name, content type, content.
const ASSETS: [(&str, &str, &str); 2] = [
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("assets/app.css"),
    ),
];

pub(crate) struct Views {
    env: Environment<'static>,
}

impl Views {
    pub(crate) fn new() -> Result<Views, Error> {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| AutoEscape::Html);
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        for (name, text) in TEMPLATES {
            env.add_template(name, text)
                .map_err(|e| anyhow::anyhow!("the web view's template {name}: {e:#}"))?;
        }
        Ok(Views { env })
    }

    /// The page `name` with `context`; a template that fails is a 500 naming why.
    pub(crate) fn page(&self, name: &str, context: impl Serialize) -> Response {
        let rendered = self
            .env
            .get_template(name)
            .and_then(|template| template.render(Value::from(Serde(context))));
        match rendered {
            Ok(html) => Html(html).into_response(),
            Err(e) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("adminsh --ui: the page {name} cannot be made: {e:#}\n"),
            )
                .into_response(),
        }
    }
}

/// `/assets/NAME`.
pub(super) async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, kind, text)) => ([(header::CONTENT_TYPE, *kind)], *text).into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset\n").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_compile_and_escape_every_value() {
        let views = Views::new().unwrap();
        let template = views.env.template_from_str("{{ x }}").unwrap();
        let html = template
            .render(minijinja::context! { x => "<script>alert(1)</script>" })
            .unwrap();
        assert_eq!(html, "&lt;script&gt;alert(1)&lt;&#x2f;script&gt;");
    }
}
