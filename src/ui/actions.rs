//! What the web view can do with `--allow-actions`: pause a run (the request left in its
//! directory, as `--pause` leaves it), stop one and resume one (adminsh `--stop ID` and
//! `--resume ID`, run as the operator would), and start a script with its parameters
//! (`adminsh --detach`, a dry run unless the form says otherwise). Each passes the guard's
//! action checks first and leaves a line in the audit log naming the user who started the page.

use std::ffi::OsString;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::Ui;
use super::guard::refusal;
use crate::runs::Asked;

#[derive(Deserialize)]
pub(super) struct Plain {
    #[serde(default)]
    csrf: String,
}

/// The page for an action on a run the release does not have.
fn no_such_run(ui: &Ui, id: &str) -> Response {
    said(
        ui,
        StatusCode::NOT_FOUND,
        "No such run",
        &format!("There is no run `{id}`."),
    )
}

pub(super) async fn pause(
    State(ui): State<Arc<Ui>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<Plain>,
) -> Response {
    if let Some(refused) = refusal(&ui, &headers, &form.csrf) {
        return refused;
    }
    let Some((run, _)) = ui.run(&id) else {
        return no_such_run(&ui, &id);
    };
    let result = match crate::runs::ask_pause(&run, &ui.user, &ui.host) {
        Ok(Asked::Yes(_)) => "asked".to_owned(),
        Ok(Asked::Over(why)) => why,
        Err(e) => e.to_string(),
    };
    audit(&ui, "pause", Some(&id), None, None, &result);
    back_to(&format!("/runs/{id}"))
}

pub(super) async fn stop(
    State(ui): State<Arc<Ui>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<Plain>,
) -> Response {
    if let Some(refused) = refusal(&ui, &headers, &form.csrf) {
        return refused;
    }
    if ui.run(&id).is_none() {
        return no_such_run(&ui, &id);
    }
    // `--stop` waits for the run to stop (up to its grace): the page does not.
    let argv = adminsh(&ui, [format!("--stop={id}")]);
    let child = std::process::Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    let result = match child {
        Ok(mut child) => {
            std::thread::spawn(move || child.wait());
            "asked".to_owned()
        }
        Err(e) => format!("cannot run adminsh --stop: {e}"),
    };
    audit(&ui, "stop", Some(&id), None, None, &result);
    back_to(&format!("/runs/{id}"))
}

pub(super) async fn resume(
    State(ui): State<Arc<Ui>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<Plain>,
) -> Response {
    if let Some(refused) = refusal(&ui, &headers, &form.csrf) {
        return refused;
    }
    let argv = adminsh(&ui, [format!("--resume={id}")]);
    let (started, said_text) = run_adminsh(argv).await;
    let result = started
        .as_ref()
        .map_or_else(|| said_text.clone(), |_| "done".to_owned());
    let what = started.as_ref().map(|new| format!("as {new}"));
    audit(&ui, "resume", Some(&id), what.as_deref(), None, &result);
    match started {
        Some(new) => back_to(&format!("/runs/{new}")),
        None => said(
            &ui,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Not resumed",
            &said_text,
        ),
    }
}

/// `/targets/NAME/runs`: what `adminsh -t NAME --runs` says, the same forwarded command
/// (over ssh, `kubectl exec`, or the Jobs of a Job target), masked. Only a target the manifest
/// names.
pub(super) async fn target_runs(State(ui): State<Arc<Ui>>, Path(name): Path<String>) -> Response {
    if !ui.targets.contains(&name) {
        return said(
            &ui,
            StatusCode::NOT_FOUND,
            "No such target",
            &format!("The manifest names no target `{name}`."),
        );
    }
    let argv = adminsh(&ui, [format!("--target={name}"), "--runs".to_owned()]);
    let text = match output_of(argv).await {
        Ok(output) => format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(e) => e,
    };
    said(
        &ui,
        StatusCode::OK,
        &format!("Runs on target {name}"),
        &text,
    )
}

/// `/scripts/start`: the form's `script`, `csrf`, `dry_run`, `yes`, `reason`, and `p.KEY` for
/// each parameter.
pub(super) async fn start(
    State(ui): State<Arc<Ui>>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let get = |key: &str| {
        fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    if let Some(refused) = refusal(&ui, &headers, get("csrf").unwrap_or_default()) {
        return refused;
    }
    let Some(script) = get("script").filter(|s| !s.is_empty()) else {
        return said(
            &ui,
            StatusCode::BAD_REQUEST,
            "Not started",
            "The form names no script.",
        );
    };
    let args = script_args(&ui, script, &fields);
    let mut words = vec!["--detach".to_owned()];
    if get("dry_run").is_some() {
        words.push("--dry-run".to_owned());
    }
    if get("yes").is_some() {
        words.push("--yes".to_owned());
    }
    let reason = get("reason").map(str::trim).filter(|r| !r.is_empty());
    if let Some(reason) = reason {
        words.push(format!("--reason={reason}"));
    }
    words.push("--".to_owned());
    words.push(script.to_owned());
    words.extend(args.iter().cloned());
    let (started, said_text) = run_adminsh(adminsh(&ui, words)).await;
    let what = ui
        .redactor
        .words(&[vec![script.to_owned()], args].concat())
        .join(" ");
    let result = started
        .as_ref()
        .map_or_else(|| said_text.clone(), |_| "done".to_owned());
    audit(
        &ui,
        "start",
        started.as_deref(),
        Some(&what),
        reason,
        &result,
    );
    match started {
        Some(new) => back_to(&format!("/runs/{new}")),
        None => said(
            &ui,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Not started",
            &said_text,
        ),
    }
}

/// The script's arguments from the form: `--NAME=VALUE` for each declared parameter given,
/// `--NAME` for a flag that is ticked.
fn script_args(ui: &Ui, script: &str, fields: &[(String, String)]) -> Vec<String> {
    let header = crate::catalog::scripts(&ui.root, false)
        .into_iter()
        .find(|s| s.name == script)
        .and_then(|s| s.header.ok())
        .unwrap_or_default();
    let mut args = Vec::new();
    for param in &header.params {
        let key = format!("p.{}", param.key);
        let Some((_, value)) = fields.iter().find(|(k, _)| *k == key) else {
            continue;
        };
        if !param.kind.takes_value() {
            args.push(format!("--{}", param.spelled));
        } else if !value.is_empty() {
            args.push(format!("--{}={value}", param.spelled));
        }
    }
    args
}

/// adminsh reaching this release, with `words` after.
fn adminsh(ui: &Ui, words: impl IntoIterator<Item = String>) -> Vec<OsString> {
    let mut argv = ui.adminsh.clone();
    argv.extend(words.into_iter().map(OsString::from));
    argv
}

/// Runs adminsh to its end off the server's thread: the run id it printed on stdout when it
/// started one, and what it said on stderr.
async fn run_adminsh(argv: Vec<OsString>) -> (Option<String>, String) {
    match output_of(argv).await {
        Ok(output) => {
            let id = String::from_utf8_lossy(&output.stdout).trim().to_owned();
            let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
            let started = (output.status.success() && !id.is_empty()).then_some(id);
            (started, stderr)
        }
        Err(e) => (None, e),
    }
}

/// Runs adminsh to its end off the server's thread, stdin closed: its output, or why there is
/// none.
async fn output_of(argv: Vec<OsString>) -> Result<std::process::Output, String> {
    let ran = tokio::task::spawn_blocking(move || {
        std::process::Command::new(&argv[0])
            .args(&argv[1..])
            .stdin(std::process::Stdio::null())
            .output()
    })
    .await;
    match ran {
        Ok(Ok(output)) => Ok(output),
        Ok(Err(e)) => Err(format!("cannot run adminsh: {e}")),
        Err(e) => Err(format!("adminsh did not finish: {e}")),
    }
}

/// The audit line of an action.
fn audit(
    ui: &Ui,
    action: &str,
    run: Option<&str>,
    what: Option<&str>,
    reason: Option<&str>,
    result: &str,
) {
    let line = crate::audit::Action {
        event: "action".into(),
        id: crate::audit::new_id(),
        time: crate::clock::now_rfc3339(),
        user: ui.user.clone(),
        host: ui.host.clone(),
        root: ui.root.display().to_string(),
        stage: ui.stage.clone(),
        action: action.into(),
        run: run.map(str::to_owned),
        what: what.map(|w| ui.masked(w)),
        reason: reason.map(|r| ui.masked(r)),
        result: ui.masked(result.trim()),
        via: "ui".into(),
    };
    if let Err(e) = line.append(&ui.audit, ui.durable) {
        crate::log::warn(&format!("{e:#}"));
    }
}

fn back_to(path: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, path.to_owned())]).into_response()
}

/// A page that says how an action went, masked.
fn said(ui: &Ui, status: StatusCode, title: &str, text: &str) -> Response {
    let mut page = ui.views.page(
        "said.html",
        serde_json::json!({
            "frame": super::pages::frame(ui, "runs"),
            "title": title,
            "said": ui.masked(text),
            "back": "/runs",
        }),
    );
    *page.status_mut() = status;
    page
}
