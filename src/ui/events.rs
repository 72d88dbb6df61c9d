//! `/runs/ID/events`: a run's live parts as server-sent events, following its run directory
//! as `--attach` does: `output` (the lines of its log as they come, masked, the whole log
//! first), `progress` (its walk's `progress.json`), `steps`, `status` (the run as the runs
//! page lists it), and `end` once it has ended, after the last of its output.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;

use super::Ui;
use super::pages::RunRow;
use crate::runs::{Follower, RunDir, Status};

/// How often a quiet run is looked at again.
const TICK: Duration = Duration::from_millis(200);
/// The most output one event carries.
const CHUNK: usize = 64 << 10;

pub(super) async fn events(State(ui): State<Arc<Ui>>, Path(id): Path<String>) -> Response {
    let Some((run, _)) = ui.run(&id) else {
        return (StatusCode::NOT_FOUND, "no such run\n").into_response();
    };
    let tail = Tail {
        follower: Follower::new(&run),
        run,
        ui,
        pending: Vec::new(),
        said: [String::new(), String::new(), String::new()],
        over: false,
    };
    let stream = futures_util::stream::unfold(tail, |mut tail| async move {
        let events = tail.next().await?;
        Some((futures_util::stream::iter(events), tail))
    })
    .flatten()
    .map(Ok::<Event, Infallible>);
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// One page's view of a run, as it goes.
struct Tail {
    ui: Arc<Ui>,
    run: RunDir,
    follower: Follower,
    /// The start of a line not finished yet: masked only once it is whole.
    pending: Vec<u8>,
    /// The status, steps and progress last sent, as sent.
    said: [String; 3],
    over: bool,
}

impl Tail {
    /// The next events, waiting until there are some; `None` once the run's end was sent.
    async fn next(&mut self) -> Option<Vec<Event>> {
        if self.over {
            return None;
        }
        loop {
            // The web view is stopping: the stream ends, so the server can.
            if crate::interrupt::interrupted() {
                return None;
            }
            // The status first: once it says ended, what the log holds is all there will be.
            let meta = self.run.load().ok()?;
            let ended = matches!(
                self.run.status(&meta),
                Status::Ended { .. } | Status::Lost { .. }
            );
            let mut events = self.output(ended);
            let row = RunRow::of(&self.ui, &self.run, &meta);
            let steps = self.run.steps();
            let progress = self.run.progress();
            let now = [
                serde_json::to_string(&row).unwrap_or_default(),
                serde_json::to_string(&steps).unwrap_or_default(),
                progress.map_or(String::new(), |p| {
                    serde_json::to_string(&p).unwrap_or_default()
                }),
            ];
            for (i, name) in ["status", "steps", "progress"].into_iter().enumerate() {
                if now[i] != self.said[i] && !now[i].is_empty() {
                    events.push(Event::default().event(name).data(&now[i]));
                }
            }
            self.said = now;
            if ended {
                self.over = true;
                events.push(Event::default().event("end").data("end"));
            }
            if !events.is_empty() {
                return Some(events);
            }
            tokio::time::sleep(TICK).await;
        }
    }

    /// The whole lines the log has gained, masked (and, at the end, what is left).
    fn output(&mut self, ended: bool) -> Vec<Event> {
        let mut read = Vec::new();
        let _ = self.follower.pump(&mut read);
        self.pending.extend_from_slice(&read);
        let cut = if ended {
            self.pending.len()
        } else {
            self.pending
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1)
        };
        let whole: Vec<u8> = self.pending.drain(..cut).collect();
        let text = String::from_utf8_lossy(&whole);
        let masked: Vec<String> = text.lines().map(|line| self.ui.masked(line)).collect();
        let mut events = Vec::new();
        let mut chunk = String::new();
        for line in masked {
            if chunk.len() + line.len() > CHUNK && !chunk.is_empty() {
                events.push(Event::default().event("output").data(&chunk));
                chunk.clear();
            }
            if !chunk.is_empty() {
                chunk.push('\n');
            }
            chunk.push_str(&line);
        }
        if !whole.is_empty() {
            events.push(Event::default().event("output").data(&chunk));
        }
        events
    }
}
