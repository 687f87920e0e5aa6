//! The whole workspace, re-read and written to the cache.

use tokio_util::sync::CancellationToken;

use super::{Sync, record_from_resource};
use crate::azure::ArmError;
use crate::domain::compute::ComputeKind;
use crate::store;

/// What one resync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResyncReport {
    pub computes: usize,
    pub changed: usize,
    pub removed: usize,
    pub unreadable: usize,
}

pub(super) async fn run(sync: Sync, shutdown: CancellationToken) {
    let mut ticker = tokio::time::interval(sync.inner.config.resync_every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        // Errors are logged inside, once per distinct problem.
        let _ = sync.resync_now().await;
    }
}

impl Sync {
    /// Re-read every compute of the workspace now. Concurrent callers share one resync.
    pub async fn resync_now(&self) -> Result<ResyncReport, ArmError> {
        let _one_at_a_time = self.inner.resync_lock.lock().await;
        let outcome = self.resync_locked().await;
        self.inner
            .resyncs
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        outcome
    }

    async fn resync_locked(&self) -> Result<ResyncReport, ArmError> {
        let listing_started_at = store::now();
        let listing = match self.inner.arm.list_computes().await {
            Ok(listing) => {
                self.problem_solved("resync");
                listing
            }
            Err(e) => {
                // The cache keeps what it had: a bad answer must not empty the list.
                self.log_once(format!("resync:{e}"), || {
                    tracing::warn!(error = %e, "resync failed; the cache keeps its last good state")
                });
                return Err(e);
            }
        };
        for problem in &listing.unreadable {
            self.log_once(format!("unreadable:{problem}"), || {
                tracing::warn!(item = %problem, "skipped a compute Azure listed in a form we cannot read")
            });
        }
        let records: Vec<_> = listing
            .computes
            .iter()
            .filter_map(record_from_resource)
            .collect();
        for record in records
            .iter()
            .filter(|r| r.kind == ComputeKind::Other.as_str())
        {
            let compute_type = record.compute_type.clone();
            self.log_once(format!("unknown-type:{compute_type}"), || {
                tracing::info!(%compute_type, "Azure lists a compute type this version does not know; shown as Other")
            });
        }
        let replaced = self
            .inner
            .computes
            .replace_all(&records, &listing_started_at, &store::now())
            .await
            .map_err(|e| ArmError::Transport(format!("the cache could not be written: {e}")))?;
        for name in replaced.changed.iter().chain(&replaced.removed) {
            self.publish(name);
        }
        let changed: std::collections::HashSet<&str> =
            replaced.changed.iter().map(String::as_str).collect();
        for record in records.iter().filter(|r| changed.contains(r.name.as_str())) {
            self.observe_last_operation(record).await;
        }
        Ok(ResyncReport {
            computes: records.len(),
            changed: replaced.changed.len(),
            removed: replaced.removed.len(),
            unreadable: listing.unreadable.len(),
        })
    }
}
