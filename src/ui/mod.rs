//! `adminsh --ui`: a web view of the release's runs, served by adminsh itself on 127.0.0.1:
//! the scripts with their parameters, the recent detached runs, one run's live output, steps
//! and progress, the audit log; with `--allow-actions`, stop, pause, resume and start.
//!
//! What it keeps out, and how: a random token printed once in the URL and checked on every
//! request (then kept in a cookie of this port's own, `SameSite=Strict`, `HttpOnly`); a
//! `Host` other than this address refused (DNS rebinding); a CSRF token in every form, checked
//! with the request's `Origin` and `Sec-Fetch-Site`; actions off unless asked for; every text
//! masked by the release's redactor before it is escaped (templates escape every value), and a
//! content security policy that runs only the page's own script (no asset from elsewhere:
//! everything is inside the binary).
//!
//! | file | what it holds |
//! | --- | --- |
//! | `state.rs` | `Ui`: what every request reads (paths, tokens, the redactor), made from the release once |
//! | `guard.rs` | the token, the host, the CSRF token, the headers every answer carries |
//! | `view.rs` | the templates (`templates/`, HTML escaped by default) and the assets (`assets/`) |
//! | `pages.rs` | the pages: runs, one run, scripts, the audit log |
//! | `events.rs` | a run's live output, progress, steps and status as server-sent events |
//! | `actions.rs` | stop, pause, resume, start, each audited with the user who started the page; a target's runs |

mod actions;
mod events;
mod guard;
mod pages;
mod state;
mod view;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::routing::{get, post};

use crate::error::{Error, interrupted_code};
use crate::interrupt;
use crate::options::Flags;
use crate::release::Release;

pub(crate) use state::Ui;

/// `adminsh --ui`: serves the web view until Ctrl-C; the exit code.
pub(crate) fn serve(
    release: &Release,
    flags: &Flags,
    allow_actions: bool,
    port: u16,
) -> Result<i32, Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the web view's runtime")?;
    interrupt::install();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
        let port = listener.local_addr().context("no local address")?.port();
        let ui = Arc::new(Ui::new(release, flags, allow_actions, port)?);
        tell(&ui, flags);
        axum::serve(listener, router(ui))
            .with_graceful_shutdown(interrupted())
            .await
            .context("the web view stopped")?;
        Ok::<(), Error>(())
    })?;
    crate::log::err_line("adminsh: web view stopped");
    Ok(interrupted_code(
        interrupt::signal().unwrap_or(libc::SIGINT),
    ))
}

/// The routes, every one behind the guard.
fn router(ui: Arc<Ui>) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/runs", get(pages::runs))
        .route("/runs/{id}", get(pages::run))
        .route("/runs/{id}/events", get(events::events))
        .route("/runs/{id}/pause", post(actions::pause))
        .route("/runs/{id}/resume", post(actions::resume))
        .route("/runs/{id}/stop", post(actions::stop))
        .route("/targets/{name}/runs", get(actions::target_runs))
        .route("/scripts", get(pages::scripts))
        .route("/scripts/start", post(actions::start))
        .route("/audit", get(pages::audit))
        .route("/assets/{name}", get(view::asset))
        .layer(axum::middleware::from_fn_with_state(
            ui.clone(),
            guard::guard,
        ))
        .with_state(ui)
}

/// The URL, with its token, once on stdout; what it is on stderr.
fn tell(ui: &Ui, flags: &Flags) {
    let actions = if ui.allow_actions {
        "actions on (stop, pause, resume, start)"
    } else {
        "read-only: --allow-actions turns on stop, pause, resume and start"
    };
    let over = flags.announce.as_ref().map_or(String::new(), |_| {
        format!(
            " (on the target: reach it with `ssh -L {0}:127.0.0.1:{0} ...`)",
            ui.port
        )
    });
    crate::log::err_line(&format!(
        "adminsh: web view of {} (stage {}) at http://127.0.0.1:{}/, {actions}{over}; the URL below holds its token: keep it to yourself; Ctrl-C stops it",
        ui.name, ui.stage, ui.port
    ));
    crate::log::out(&format!("{}\n", ui.url()));
}

/// Resolves once Ctrl-C (or SIGTERM, SIGHUP) has come.
async fn interrupted() {
    while !interrupt::interrupted() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
