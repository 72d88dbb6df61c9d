//! The pages: the recent runs, one run (its live parts come from `events.rs`), the scripts
//! with their parameters (and, with actions on, a form to start each), the audit log with
//! filters. Every text shown comes from the run directories, the scripts' headers and the
//! audit log, masked by the release's redactor before the template escapes it.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::Ui;
use crate::params::{Kind, Presence};
use crate::runs::{Meta, RunDir};

/// How many runs and audit lines a page shows.
const SHOWN: usize = 50;

/// One run as the pages list it.
#[derive(Serialize)]
pub(super) struct RunRow {
    id: String,
    status: String,
    exit: String,
    started: String,
    ended: String,
    who: String,
    reason: String,
    what: String,
    /// `45% of 1000 rows` (or `300 rows`) while a walk goes on.
    progress: String,
    running: bool,
    /// Paused, and not resumed yet.
    resumable: bool,
}

impl RunRow {
    pub(super) fn of(ui: &Ui, run: &RunDir, meta: &Meta) -> RunRow {
        let (status, exit) = crate::runs::shown(run, meta);
        let running = run.status(meta).is_running();
        let progress = run
            .progress()
            .filter(|p| p.walking && running)
            .map_or(String::new(), |p| {
                match p.total.filter(|t| *t >= p.done && *t > 0) {
                    Some(total) => format!(
                        "{:.0}% of {total} {}",
                        p.done as f64 * 100.0 / total as f64,
                        p.unit
                    ),
                    None => format!("{} {}", p.done, p.unit),
                }
            });
        RunRow {
            id: run.id.clone(),
            status,
            exit,
            started: meta.started.clone(),
            ended: meta.ended.clone().unwrap_or_default(),
            who: format!("{}@{}", meta.user, meta.host),
            reason: ui.masked(meta.reason.as_deref().unwrap_or_default()),
            what: ui.masked(&meta.what()),
            progress,
            running,
            resumable: meta.outcome.as_deref() == Some("paused") && meta.resumed_as.is_none(),
        }
    }
}

/// What every page's frame shows.
pub(super) fn frame(ui: &Ui, page: &str) -> serde_json::Value {
    serde_json::json!({
        "page": page,
        "name": ui.name,
        "stage": ui.stage,
        "user": format!("{}@{}", ui.user, ui.host),
        "actions": ui.allow_actions,
        "csrf": ui.csrf,
    })
}

pub(super) async fn home() -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, "/runs")]).into_response()
}

pub(super) async fn runs(State(ui): State<Arc<Ui>>) -> Response {
    let all = crate::runs::all_in(&ui.runs);
    let rows: Vec<RunRow> = all
        .iter()
        .rev()
        .take(SHOWN)
        .map(|(run, meta)| RunRow::of(&ui, run, meta))
        .collect();
    ui.views.page(
        "runs.html",
        serde_json::json!({
            "frame": frame(&ui, "runs"),
            "runs": rows,
            "dir": ui.runs.display().to_string(),
            "targets": ui.targets,
        }),
    )
}

pub(super) async fn run(State(ui): State<Arc<Ui>>, Path(id): Path<String>) -> Response {
    let Some((run, meta)) = ui.run(&id) else {
        return not_found(&ui, &id);
    };
    let row = RunRow::of(&ui, &run, &meta);
    let error = crate::audit::run_error(&ui.audit, &run.id).map(|e| ui.masked(&e));
    let steps = run.steps();
    let progress = run.progress();
    let shards: Vec<serde_json::Value> = run
        .shards_progress()
        .into_iter()
        .map(|(index, walk)| {
            let share = walk
                .total
                .filter(|t| *t > 0)
                .map(|t| (walk.done.saturating_mul(100) / t).min(100));
            serde_json::json!({
                "shard": index + 1,
                "walk": walk.walk,
                "done": walk.done,
                "unit": walk.unit,
                "share": share,
                "rate": walk.rate.round(),
                "state": if walk.walking { "walking" } else { "ended" },
            })
        })
        .collect();
    ui.views.page(
        "run.html",
        serde_json::json!({
            "frame": frame(&ui, "run"),
            "run": row,
            "kind": meta.kind,
            "stage": meta.stage,
            "version": meta.version.unwrap_or_default(),
            "resumes": meta.resumes.unwrap_or_default(),
            "resumed_as": meta.resumed_as.unwrap_or_default(),
            "steps": steps,
            "progress": progress,
            "shards": shards,
            "error": error,
        }),
    )
}

fn not_found(ui: &Ui, id: &str) -> Response {
    let mut page = ui.views.page(
        "said.html",
        serde_json::json!({
            "frame": frame(ui, "runs"),
            "title": "No such run",
            "said": format!("There is no run `{id}` in {}.", ui.runs.display()),
            "back": "/runs",
        }),
    );
    *page.status_mut() = StatusCode::NOT_FOUND;
    page
}

/// A declared parameter as the form shows it.
#[derive(Serialize)]
struct Field {
    key: String,
    spelled: String,
    /// `text`, `number`, `date`, `password` (a secret by its name), `checkbox`, `select`.
    input: &'static str,
    choices: Vec<String>,
    placeholder: String,
    default: String,
    required: bool,
    doc: String,
}

/// A script as the scripts page shows it.
#[derive(Serialize)]
struct ScriptView {
    name: String,
    summary: String,
    details: Vec<String>,
    usage: String,
    fields: Vec<Field>,
    broken: bool,
}

pub(super) async fn scripts(State(ui): State<Arc<Ui>>) -> Response {
    let scripts: Vec<ScriptView> = crate::catalog::scripts(&ui.root, false)
        .into_iter()
        .map(|script| {
            let (usage, details, fields, broken) = match &script.header {
                Ok(header) => (
                    header.usage(),
                    header.details.clone(),
                    header.params.iter().map(|p| field(&ui, p)).collect(),
                    false,
                ),
                Err(_) => (String::new(), Vec::new(), Vec::new(), true),
            };
            ScriptView {
                name: script.name,
                summary: script.summary.unwrap_or_default(),
                details,
                usage,
                fields,
                broken,
            }
        })
        .collect();
    ui.views.page(
        "scripts.html",
        serde_json::json!({
            "frame": frame(&ui, "scripts"),
            "scripts": scripts,
            "reason_required": ui.reason_required,
        }),
    )
}

fn field(ui: &Ui, param: &crate::params::Param) -> Field {
    let (input, choices) = match &param.kind {
        Kind::Flag => ("checkbox", Vec::new()),
        Kind::OneOf(choices) => ("select", choices.clone()),
        Kind::Bool => ("select", vec!["true".to_owned(), "false".to_owned()]),
        Kind::Int | Kind::Float => ("number", Vec::new()),
        Kind::Date => ("date", Vec::new()),
        _ if ui.redactor.is_secret(&param.key) => ("password", Vec::new()),
        _ => ("text", Vec::new()),
    };
    let (default, required) = match &param.presence {
        Presence::Required => (String::new(), true),
        Presence::Optional => (String::new(), false),
        Presence::Default(value) => (value.clone(), false),
    };
    Field {
        key: param.key.clone(),
        spelled: param.spelled.clone(),
        input,
        choices,
        placeholder: param.kind.placeholder(),
        default,
        required: required && input != "checkbox",
        doc: param.doc.clone(),
    }
}

/// `/audit?script=&user=&stage=&outcome=`: the last admin processes, filtered.
pub(super) async fn audit(
    State(ui): State<Arc<Ui>>,
    Query(filters): Query<BTreeMap<String, String>>,
) -> Response {
    let (rows, damaged) = crate::audit::rows(&ui.audit, 1000).unwrap_or_default();
    let filters: BTreeMap<&str, String> = ["script", "user", "stage", "outcome"]
        .into_iter()
        .map(|key| (key, filters.get(key).cloned().unwrap_or_default()))
        .collect();
    let wanted = |key: &str| filters.get(key).map(|v| v.trim()).filter(|v| !v.is_empty());
    let shown: Vec<[String; 8]> = rows
        .into_iter()
        .rev()
        .filter(|row| {
            let script = row[3].split_whitespace().next().unwrap_or_default();
            wanted("script").is_none_or(|w| script.contains(w))
                && wanted("user").is_none_or(|w| row[1].contains(w))
                && wanted("stage").is_none_or(|w| row[2] == w)
                && wanted("outcome").is_none_or(|w| row[4] == w)
        })
        .take(SHOWN)
        .map(|row| row.map(|cell| ui.masked(&cell)))
        .collect();
    ui.views.page(
        "audit.html",
        serde_json::json!({
            "frame": frame(&ui, "audit"),
            "header": crate::audit::HEADER,
            "rows": shown,
            "filters": filters,
            "damaged": damaged.len(),
            "path": ui.audit.display().to_string(),
        }),
    )
}
