//! Computes can change state without the dashboard asking (a schedule, idle shutdown, the
//! portal, another tool). While a compute is in a transitional state it is re-read often, so the
//! list shows it settle within seconds instead of at the next full resync.

use tokio_util::sync::CancellationToken;

use super::Sync;
use crate::domain::compute::TRANSITIONAL_STATES;

/// At most this many computes are re-read per round, to bound the load on Azure.
const MAX_PER_ROUND: usize = 50;

pub(super) async fn run(sync: Sync, shutdown: CancellationToken) {
    let mut ticker = tokio::time::interval(sync.inner.config.watch_every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        sync.watch_transitional_once().await;
    }
}

impl Sync {
    /// Re-read the computes whose cached state is transitional.
    pub async fn watch_transitional_once(&self) {
        let names = self.inner.computes.names_in_states(&TRANSITIONAL_STATES);
        for name in names.into_iter().take(MAX_PER_ROUND) {
            if let Err(e) = self.refresh_compute(&name).await {
                self.log_once(format!("watch:{name}:{e}"), || {
                    tracing::warn!(compute = %name, error = %e, "could not re-read a changing compute")
                });
            }
        }
    }
}
