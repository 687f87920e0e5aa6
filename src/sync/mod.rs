//! Background work that keeps the cache true: a periodic resync of the whole workspace, a
//! poller that follows every operation the dashboard started to its end, and a watcher that
//! re-reads computes whose state is moving. Each change is published as an event.

mod actions;
pub mod lost;
mod mapping;
mod poller;
mod resync;
mod watcher;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::SqlitePool;
use tokio::sync::{Notify, broadcast};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::azure::{ArmClient, ArmError};
use crate::store;
use crate::store::computes::ComputeStore;

pub use actions::{Action, StartedOperation};
pub use mapping::record_from_resource;
pub use resync::ResyncReport;

/// Paces of the background tasks.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Full resync of the workspace.
    pub resync_every: Duration,
    /// Re-read of computes in a transitional state that no followed operation covers.
    pub watch_every: Duration,
    /// Bounds on the wait between two polls of one operation (Azure's Retry-After is clamped
    /// into them; without one, `default_poll` is used).
    pub min_poll: Duration,
    pub default_poll: Duration,
    pub max_poll: Duration,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            resync_every: Duration::from_secs(30),
            watch_every: Duration::from_secs(2),
            min_poll: Duration::from_millis(500),
            default_poll: Duration::from_secs(5),
            max_poll: Duration::from_secs(60),
        }
    }
}

/// What the sync tasks tell the pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncEvent {
    /// A compute whose cached row changed (or disappeared).
    ComputeChanged { name: String },
    /// An operation the dashboard followed has ended; its starter is told.
    OperationEnded(EndedOperation),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndedOperation {
    pub compute_name: String,
    pub action: String,
    /// Object id of the person who started it.
    pub started_by: String,
    /// `succeeded`, `failed`, `canceled` or `unknown`.
    pub status: String,
    /// Azure's words when it failed.
    pub message: Option<String>,
}

/// Handle to the sync machinery; cheap to clone.
#[derive(Clone)]
pub struct Sync {
    inner: Arc<Inner>,
}

struct Inner {
    db: SqlitePool,
    computes: Arc<ComputeStore>,
    arm: ArmClient,
    config: SyncConfig,
    events: broadcast::Sender<SyncEvent>,
    poller_wakeup: Notify,
    resync_lock: tokio::sync::Mutex<()>,
    /// When this process's sync began: unanswered requests older than it were lost in a crash.
    started_at: String,
    /// Resyncs attempted since start (successful or not).
    resyncs: std::sync::atomic::AtomicU64,
    /// Problems already logged, so a bad answer is logged once, not on every cycle.
    logged_problems: Mutex<HashSet<String>>,
}

impl Sync {
    pub fn new(computes: Arc<ComputeStore>, arm: ArmClient, config: SyncConfig) -> Self {
        let (events, _) = broadcast::channel(1024);
        Self {
            inner: Arc::new(Inner {
                db: computes.db().clone(),
                computes,
                arm,
                config,
                events,
                poller_wakeup: Notify::new(),
                resync_lock: tokio::sync::Mutex::new(()),
                started_at: store::now(),
                resyncs: std::sync::atomic::AtomicU64::new(0),
                logged_problems: Mutex::new(HashSet::new()),
            }),
        }
    }

    pub fn arm(&self) -> &ArmClient {
        &self.inner.arm
    }

    pub fn db(&self) -> &SqlitePool {
        &self.inner.db
    }

    pub fn computes(&self) -> &Arc<ComputeStore> {
        &self.inner.computes
    }

    /// How many resyncs have run to completion (with or without success) since start.
    pub fn resyncs_completed(&self) -> u64 {
        self.inner.resyncs.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<SyncEvent> {
        self.inner.events.subscribe()
    }

    /// Starts the resync, poller and watcher loops; they stop when `shutdown` is cancelled.
    pub fn spawn(&self, shutdown: CancellationToken) -> Vec<JoinHandle<()>> {
        vec![
            tokio::spawn(resync::run(self.clone(), shutdown.clone())),
            tokio::spawn(poller::run(self.clone(), shutdown.clone())),
            tokio::spawn(watcher::run(self.clone(), shutdown)),
        ]
    }

    /// Re-read one compute from Azure and update (or drop) its cached row.
    pub async fn refresh_compute(&self, name: &str) -> Result<(), ArmError> {
        let now = store::now();
        match self.inner.arm.get_compute(name).await? {
            Some(resource) => {
                let Some(record) = record_from_resource(&resource) else {
                    return Ok(());
                };
                match self.inner.computes.upsert(&record, &now).await {
                    // Pages hear of a compute only when its row changed: the watcher re-reads
                    // moving computes every few seconds, mostly to find them unchanged.
                    Ok(true) => {
                        self.observe_last_operation(&record).await;
                        self.publish(name);
                    }
                    Ok(false) => {}
                    Err(e) => self.log_db_error::<()>(Err(e)),
                }
            }
            None => {
                self.log_db_error(self.inner.computes.remove(name).await);
                self.publish(name);
            }
        }
        Ok(())
    }

    /// Operations Azure ran on its own (start and stop schedules, idle shutdown) reach the
    /// activity history when the dashboard sees them ended in a compute's `lastOperation`.
    async fn observe_last_operation(&self, record: &store::computes::ComputeRecord) {
        let Ok(resource) = serde_json::from_str::<serde_json::Value>(&record.resource_json) else {
            return;
        };
        let last = &resource["properties"]["properties"]["lastOperation"];
        let started_by = match last["operationTrigger"].as_str() {
            Some("Schedule") => "schedule",
            Some("IdleShutdown") => "idle-shutdown",
            _ => return,
        };
        let status = match last["operationStatus"].as_str() {
            Some("Succeeded") => store::operations::status::SUCCEEDED,
            Some(s) if s.ends_with("Failed") => store::operations::status::FAILED,
            _ => return,
        };
        let (Some(action), Some(started_at)) = (
            last["operationName"].as_str(),
            last["operationTime"].as_str(),
        ) else {
            return;
        };
        let now = store::now();
        let observed = store::operations::ObservedOperation {
            compute_name: &record.name,
            action: &action.to_ascii_lowercase(),
            started_by,
            started_at,
            status,
            seen_ended_at: &now,
        };
        self.log_db_error(store::operations::record_observed(&self.inner.db, &observed).await);
    }

    fn publish(&self, name: &str) {
        // Nobody listening is fine: pages re-read the cache when they connect.
        let _ = self.inner.events.send(SyncEvent::ComputeChanged {
            name: name.to_string(),
        });
    }

    fn publish_end(&self, ended: EndedOperation) {
        let _ = self.inner.events.send(SyncEvent::OperationEnded(ended));
    }

    fn wake_poller(&self) {
        self.inner.poller_wakeup.notify_one();
    }

    /// Log a problem the first time it is seen; return whether it was logged.
    fn log_once(&self, key: String, log: impl FnOnce()) -> bool {
        let first_time = self
            .inner
            .logged_problems
            .lock()
            .map(|mut seen| seen.insert(key))
            .unwrap_or(true);
        if first_time {
            log();
        }
        first_time
    }

    /// Forget a logged problem once it is gone, so that its return is logged again.
    fn problem_solved(&self, key: &str) {
        if let Ok(mut seen) = self.inner.logged_problems.lock() {
            seen.remove(key);
        }
    }

    fn log_db_error<T>(&self, result: sqlx::Result<T>) {
        if let Err(e) = result {
            tracing::error!(error = %e, "writing the cache failed");
        }
    }
}

/// The pace to poll at next: Azure's wish, kept inside our bounds.
fn clamp_poll(config: &SyncConfig, retry_after: Option<Duration>) -> Duration {
    retry_after
        .unwrap_or(config.default_poll)
        .clamp(config.min_poll, config.max_poll)
}
