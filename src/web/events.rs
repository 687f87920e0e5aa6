//! `/events`: the live stream of an open page (server-sent events, read by htmx's SSE
//! extension). A row whose compute changed is pushed as its new HTML, for the person watching
//! (their buttons, their links); a list whose set of computes changed is told to re-read
//! itself; whoever started an operation hears when it ends.
//!
//! A stream that drops reconnects on its own (EventSource), sending the id of the last event
//! it saw; a reconnecting page is told to re-read its list, so it catches up on what it missed.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use bytes::Bytes;
use tokio::sync::broadcast::error::RecvError;

use super::AppState;
use super::auth::CurrentUser;
use super::bursts::Burst;
use super::sse;
use crate::domain::roles::{Ownership, Permission};
use crate::error::{AppError, Flash};
use crate::sync::EndedOperation;

/// Event names the pages listen for.
pub const LIST_CHANGED: &str = "list-changed";
pub const NOTIFY: &str = "notify";

/// The event of one compute's row: `row-{name}`, lower-cased and percent-encoded (so it is
/// also safe to print unescaped in an attribute; Azure's names are letters, digits and '-').
pub fn row_event(name: &str) -> String {
    format!(
        "row-{}",
        url::form_urlencoded::byte_serialize(name.to_ascii_lowercase().as_bytes())
            .collect::<String>()
    )
}

pub fn router() -> Router<AppState> {
    Router::new().route("/events", get(stream))
}

/// `?since=` the cache generation the page was drawn at.
#[derive(Debug, serde::Deserialize)]
pub struct StreamParams {
    since: Option<u64>,
}

async fn stream(
    State(state): State<AppState>,
    current: CurrentUser,
    headers: HeaderMap,
    axum::extract::Query(params): axum::extract::Query<StreamParams>,
) -> Result<Response, AppError> {
    current.require(Permission::ViewCompute, Ownership::NoCompute)?;
    // A reconnecting page missed what happened while it was away; a new one missed what
    // happened between its drawing and this connection.
    let reconnected = headers.contains_key("last-event-id");
    let moved_on = params
        .since
        .is_some_and(|since| since != state.computes.generation());
    let mut pending = VecDeque::from([Bytes::from_static(sse::OPENING)]);
    if reconnected || moved_on {
        pending.push_back(sse::encode(LIST_CHANGED, ""));
    }
    let watcher = Watcher {
        bursts: state.bursts.subscribe(),
        known_total: state.computes.len(),
        pending,
        state,
        current,
    };
    let chunks = futures_util::stream::unfold(watcher, |mut watcher| async move {
        let chunk = watcher.next_chunk().await?;
        Some((chunk, watcher))
    });
    Ok(sse::response(chunks))
}

/// How long a stream may stay silent before it sends a keep-alive comment.
const KEEP_ALIVE_AFTER: Duration = Duration::from_secs(15);

/// One open page's view of the bursts of changes.
struct Watcher {
    state: AppState,
    current: CurrentUser,
    bursts: tokio::sync::broadcast::Receiver<Arc<Burst>>,
    /// How many computes the page's list was drawn from, to notice creations and deletions.
    known_total: usize,
    /// Encoded events not yet sent. A row's event is shared with every other page of the same
    /// kind of viewer, so this holds references, not copies.
    pending: VecDeque<Bytes>,
}

/// What waiting for the next burst brought.
enum Waited {
    Burst(Arc<Burst>),
    /// This page fell behind and missed bursts: re-reading its list covers them.
    Missed,
    /// Nothing for [`KEEP_ALIVE_AFTER`].
    Quiet,
    /// The server is stopping: end the stream so the connection can close.
    ShuttingDown,
}

impl Watcher {
    /// The next bytes for this page; `None` ends the stream (the server is shutting down).
    async fn next_chunk(&mut self) -> Option<Bytes> {
        loop {
            if let Some(chunk) = self.pending.pop_front() {
                return Some(chunk);
            }
            match self.wait().await {
                Waited::Burst(burst) => self.queue(&burst),
                Waited::Missed => self.queue(&Burst::missed()),
                Waited::Quiet => return Some(Bytes::from_static(sse::KEEP_ALIVE)),
                Waited::ShuttingDown => return None,
            }
        }
    }

    async fn wait(&mut self) -> Waited {
        tokio::select! {
            received = self.bursts.recv() => match received {
                Ok(burst) => Waited::Burst(burst),
                Err(RecvError::Lagged(_)) => Waited::Missed,
                Err(RecvError::Closed) => Waited::ShuttingDown,
            },
            () = tokio::time::sleep(KEEP_ALIVE_AFTER) => Waited::Quiet,
            () = self.state.shutdown.cancelled() => Waited::ShuttingDown,
        }
    }

    /// Turns a burst into the page's events: one re-read of the list when computes came or
    /// went, or when more rows changed than a page shows (it covers every row), else each
    /// changed row; then this person's notifications.
    fn queue(&mut self, burst: &Burst) {
        let total = self.state.computes.len();
        let list_changed = rereads_list(
            burst,
            total != self.known_total,
            self.state.page_size as usize,
        );
        self.known_total = total;
        if list_changed {
            self.pending.push_back(sse::encode(LIST_CHANGED, ""));
        } else {
            for name in &burst.rows {
                match super::computes::row_event_for(&self.state, &self.current, name) {
                    Ok(event) => self.pending.push_back(event),
                    Err(e) => {
                        tracing::warn!(error = %e, compute = %name, "could not render a row for the live stream")
                    }
                }
            }
        }
        let mine = burst
            .ended
            .iter()
            .filter(|ended| ended.started_by == self.current.user.object_id);
        for ended in mine {
            self.pending
                .push_back(sse::encode(NOTIFY, &notification(ended)));
        }
    }
}

/// Whether a page should re-read its list rather than take the burst's rows one by one:
/// when it missed something, when computes came or went, or when more rows changed than a page
/// shows (a resync that found thousands of changes is one re-read, not thousands of rows).
fn rereads_list(burst: &Burst, computes_came_or_went: bool, page_size: usize) -> bool {
    computes_came_or_went || burst.missed_some || burst.rows.len() > page_size
}

/// The message for the person who started an operation, as the page's flash shows it.
fn notification(ended: &EndedOperation) -> String {
    let succeeded = ended.status == crate::store::operations::status::SUCCEEDED;
    let title = format!(
        "{} {} {}.",
        capitalised(&ended.action),
        ended.compute_name,
        match ended.status.as_str() {
            "succeeded" => "finished",
            "failed" => "failed",
            "canceled" => "was canceled",
            _ => "ended; Azure did not say how",
        }
    );
    let message = ended.message.clone().unwrap_or_default();
    Flash {
        tone: if succeeded { "good" } else { "bad" },
        title: &title,
        message: &message,
    }
    .render()
    .unwrap_or(title)
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn burst_of(rows: usize) -> Burst {
        let mut burst = Burst::default();
        burst.rows = (0..rows).map(|i| format!("ci-{i}")).collect();
        burst
    }

    #[test]
    fn a_page_rereads_its_list_when_more_rows_changed_than_it_shows() {
        assert!(!rereads_list(&burst_of(50), false, 50));
        assert!(rereads_list(&burst_of(51), false, 50));
        assert!(rereads_list(&burst_of(1), true, 50));
        assert!(rereads_list(&Burst::missed(), false, 50));
    }
}
