//! The sync's events gathered into bursts, once for every open page.
//!
//! Changes that arrive together are sent together, each row once in its latest state: a burst
//! (a bulk action, a resync that found many changes) costs a page one update per row, not one
//! per intermediate state. Gathering happens here, in one task, and each open page's stream
//! wakes once per burst: when every stream listened to the sync itself, each event woke all of
//! them, and with 500 pages open that was most of what the live stream cost (BENCHMARKS.md,
//! issue 5).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use crate::sync::{EndedOperation, SyncEvent};

/// Short enough that a change still shows within a second.
pub const COALESCE: Duration = Duration::from_millis(250);

/// What changed within one [`COALESCE`] window.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Burst {
    /// Computes whose rows changed, in the order they first changed.
    pub rows: Vec<String>,
    /// The same names, to keep each once: a resync may change thousands at once.
    seen: HashSet<String>,
    /// Events were missed (the gatherer fell behind): every page should re-read its list.
    pub missed_some: bool,
    /// Operations that ended, for the people who started them.
    pub ended: Vec<EndedOperation>,
}

impl Burst {
    /// What a page that fell behind and missed bursts is told: re-read the list.
    pub fn missed() -> Burst {
        Burst {
            missed_some: true,
            ..Burst::default()
        }
    }

    fn add(&mut self, received: Result<SyncEvent, RecvError>) {
        match received {
            Ok(SyncEvent::ComputeChanged { name }) => {
                if self.seen.insert(name.clone()) {
                    self.rows.push(name);
                }
            }
            Ok(SyncEvent::OperationEnded(ended)) => self.ended.push(ended),
            Err(RecvError::Lagged(_)) => self.missed_some = true,
            // Only when the sync machinery is gone, which is when the server stops.
            Err(RecvError::Closed) => {}
        }
    }
}

/// Where open pages hear of bursts.
#[derive(Clone)]
pub struct Bursts {
    sender: broadcast::Sender<Arc<Burst>>,
}

impl Bursts {
    /// Starts gathering the sync's events; it stops with `shutdown`.
    pub fn start(events: broadcast::Receiver<SyncEvent>, shutdown: CancellationToken) -> Bursts {
        // A page that misses bursts re-reads its list, so a short queue is enough.
        let (sender, _) = broadcast::channel(64);
        tokio::spawn(gather(events, sender.clone(), shutdown));
        Bursts { sender }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Burst>> {
        self.sender.subscribe()
    }
}

async fn gather(
    mut events: broadcast::Receiver<SyncEvent>,
    bursts: broadcast::Sender<Arc<Burst>>,
    shutdown: CancellationToken,
) {
    loop {
        let first = tokio::select! {
            received = events.recv() => received,
            () = shutdown.cancelled() => return,
        };
        if matches!(first, Err(RecvError::Closed)) {
            return;
        }
        let mut burst = Burst::default();
        burst.add(first);
        let deadline = tokio::time::Instant::now() + COALESCE;
        loop {
            tokio::select! {
                received = events.recv() => burst.add(received),
                () = tokio::time::sleep_until(deadline) => break,
                () = shutdown.cancelled() => return,
            }
        }
        // No page open is no error: the burst is simply not needed.
        let _ = bursts.send(Arc::new(burst));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changed(name: &str) -> SyncEvent {
        SyncEvent::ComputeChanged { name: name.into() }
    }

    #[tokio::test]
    async fn events_within_the_window_make_one_burst_each_row_once() {
        let (sync, events) = broadcast::channel(16);
        let bursts = Bursts::start(events, CancellationToken::new());
        let mut page = bursts.subscribe();
        for name in ["a", "b", "a"] {
            sync.send(changed(name)).unwrap();
        }
        let burst = page.recv().await.unwrap();
        assert_eq!(burst.rows, ["a", "b"]);
        assert!(!burst.missed_some);
        // A later event starts the next burst.
        sync.send(changed("c")).unwrap();
        assert_eq!(page.recv().await.unwrap().rows, ["c"]);
    }
}
