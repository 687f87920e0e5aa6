//! `/events`: the live stream of an open page (server-sent events, read by htmx's SSE
//! extension). A row whose compute changed is pushed as its new HTML, for the person watching
//! (their buttons, their links); a list whose set of computes changed is told to re-read
//! itself; whoever started an operation hears when it ends.
//!
//! A stream that drops reconnects on its own (EventSource), sending the id of the last event
//! it saw; a reconnecting page is told to re-read its list, so it catches up on what it missed.

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::AppState;
use super::auth::CurrentUser;
use crate::domain::roles::{Ownership, Permission};
use crate::error::{AppError, Flash};
use crate::sync::{EndedOperation, SyncEvent};

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
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    current.require(Permission::ViewCompute, Ownership::NoCompute)?;
    // A reconnecting page missed what happened while it was away; a new one missed what
    // happened between its drawing and this connection.
    let reconnected = headers.contains_key("last-event-id");
    let moved_on = params
        .since
        .is_some_and(|since| since != state.computes.generation());
    let watcher = Watcher {
        events: state.sync.subscribe(),
        known_total: state.computes.len(),
        catch_up: reconnected || moved_on,
        next_id: 0,
        pending: std::collections::VecDeque::new(),
        state,
        current,
    };
    let stream = futures_util::stream::unfold(watcher, |mut watcher| async move {
        let event = watcher.next_event().await?;
        Some((Ok(event), watcher))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Changes that arrive together are sent together, each row once in its latest state: a burst
/// (a bulk action, a resync that found many changes) costs a page one update per row, not one
/// per intermediate state. Short enough that a change still shows within a second.
const COALESCE: Duration = Duration::from_millis(250);

/// One open page's view of the sync events.
struct Watcher {
    state: AppState,
    current: CurrentUser,
    events: tokio::sync::broadcast::Receiver<SyncEvent>,
    /// How many computes the page's list was drawn from, to notice creations and deletions.
    known_total: usize,
    catch_up: bool,
    next_id: u64,
    /// Events of the last burst not yet sent.
    pending: std::collections::VecDeque<Event>,
}

/// What a burst of sync events means for one page.
#[derive(Default)]
struct Burst {
    /// Rows to re-send, in the order they first changed.
    rows: Vec<String>,
    list_changed: bool,
    notifications: Vec<EndedOperation>,
}

impl Watcher {
    /// The next event for this page; `None` ends the stream (the server is shutting down).
    async fn next_event(&mut self) -> Option<Event> {
        if std::mem::take(&mut self.catch_up) {
            return Some(self.event(LIST_CHANGED, String::new()));
        }
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            let burst = self.next_burst().await?;
            self.queue(burst);
        }
    }

    /// Waits for a sync event, then gathers what else arrives within [`COALESCE`].
    async fn next_burst(&mut self) -> Option<Burst> {
        let mut burst = Burst::default();
        let first = self.receive().await?;
        self.add(&mut burst, first);
        let deadline = tokio::time::Instant::now() + COALESCE;
        loop {
            tokio::select! {
                received = self.events.recv() => self.add(&mut burst, received),
                () = tokio::time::sleep_until(deadline) => return Some(burst),
                () = self.state.shutdown.cancelled() => return None,
            }
        }
    }

    async fn receive(&mut self) -> Option<Result<SyncEvent, RecvError>> {
        tokio::select! {
            received = self.events.recv() => Some(received),
            // The server is stopping: end the stream so the connection can close.
            () = self.state.shutdown.cancelled() => None,
        }
    }

    fn add(&self, burst: &mut Burst, received: Result<SyncEvent, RecvError>) {
        match received {
            Ok(SyncEvent::ComputeChanged { name }) => {
                if !burst.rows.contains(&name) {
                    burst.rows.push(name);
                }
            }
            Ok(SyncEvent::OperationEnded(ended))
                if ended.started_by == self.current.user.object_id =>
            {
                burst.notifications.push(ended);
            }
            Ok(SyncEvent::OperationEnded(_)) => {}
            // Too slow to keep up: re-reading the list covers whatever was missed.
            Err(RecvError::Lagged(_)) => burst.list_changed = true,
            // Only when the sync machinery is gone, which is when the server stops.
            Err(RecvError::Closed) => {}
        }
    }

    /// Turns a burst into the page's events: one re-read of the list when computes came or
    /// went (it covers every row), else each changed row; then the notifications.
    fn queue(&mut self, burst: Burst) {
        let total = self.state.computes.len();
        let list_changed = burst.list_changed || total != self.known_total;
        self.known_total = total;
        if list_changed {
            let event = self.event(LIST_CHANGED, "");
            self.pending.push_back(event);
        } else {
            for name in &burst.rows {
                match super::computes::render_row(&self.state, &self.current, name) {
                    Ok(html) => {
                        let event = self.event(&row_event(name), html);
                        self.pending.push_back(event);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, compute = %name, "could not render a row for the live stream")
                    }
                }
            }
        }
        for ended in &burst.notifications {
            let event = self.event(NOTIFY, notification(ended));
            self.pending.push_back(event);
        }
    }

    fn event(&mut self, name: &str, html: impl AsRef<str>) -> Event {
        self.next_id += 1;
        Event::default()
            .id(self.next_id.to_string())
            .event(name)
            .data(html)
    }
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
