//! Follows every unfinished operation in the database to its end, at the pace Azure asks.
//! Because the state lives in the database, a restarted server resumes where it stopped.

use std::time::Duration;

use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use super::{Sync, clamp_poll};
use crate::azure::{LroHandle, LroStatus, PollKind};
use crate::store::{self, operations, operations::OperationRecord};

/// How many due operations one round handles; the rest wait for the next round.
const BATCH: i64 = 64;

pub(super) async fn run(sync: Sync, shutdown: CancellationToken) {
    sync.settle_interrupted_requests(&sync.inner.started_at.clone())
        .await;
    loop {
        let handled = sync.poll_due_operations().await;
        let wait = if handled >= BATCH as usize {
            Duration::ZERO
        } else {
            sync.time_until_next_poll().await
        };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = sync.inner.poller_wakeup.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

impl Sync {
    /// Poll every operation that is due now; returns how many were looked at.
    pub async fn poll_due_operations(&self) -> usize {
        let due = match operations::due(&self.inner.db, &store::now(), BATCH).await {
            Ok(due) => due,
            Err(e) => {
                tracing::error!(error = %e, "reading the operations to follow failed");
                return 0;
            }
        };
        let count = due.len();
        // Operations are independent: follow them concurrently so one slow answer holds none up.
        futures_util::future::join_all(due.into_iter().map(|op| self.follow(op))).await;
        count
    }

    async fn follow(&self, op: OperationRecord) {
        let handle = match (
            op.polling_kind.as_deref().and_then(PollKind::parse),
            op.polling_url.clone(),
        ) {
            (Some(kind), Some(url)) => LroHandle {
                kind,
                url,
                retry_after: None,
            },
            // A request whose answer was never recorded, past its deadline: lost in a crash.
            _ => return self.settle_interrupted(&op).await,
        };
        match self.inner.arm.poll(&handle).await {
            Ok(LroStatus::InProgress { retry_after }) => {
                self.poll_again_in(&op, clamp_poll(&self.inner.config, retry_after))
                    .await
            }
            Ok(LroStatus::Succeeded) => {
                self.conclude(&op, operations::status::SUCCEEDED, None)
                    .await
            }
            Ok(LroStatus::Failed(e)) => {
                let (code, message) = (e.code(), e.user_message());
                self.conclude(&op, operations::status::FAILED, Some((&code, &message)))
                    .await
            }
            Err(e) => {
                self.log_once(format!("poll:{}:{e}", op.id), || {
                    tracing::warn!(operation = %op.id, compute = %op.compute_name, error = %e,
                        "could not read the status of an operation; will try again")
                });
                self.poll_again_in(&op, after_read_failure(&self.inner.config))
                    .await
            }
        }
    }

    async fn poll_again_in(&self, op: &OperationRecord, wait: Duration) {
        let at = store::timestamp(OffsetDateTime::now_utc() + wait);
        self.log_db_error(operations::reschedule(&self.inner.db, &op.id, &at).await);
    }

    /// Re-read the compute, then record the outcome, so that the row shows the end state by the
    /// time the operation reads as ended.
    async fn conclude(&self, op: &OperationRecord, status: &str, error: Option<(&str, &str)>) {
        if let Err(e) = self.refresh_compute(&op.compute_name).await {
            tracing::warn!(compute = %op.compute_name, error = %e, "could not re-read a compute after its operation ended");
        }
        match operations::finish(&self.inner.db, &op.id, status, &store::now(), error).await {
            Ok(true) => {
                tracing::info!(operation = %op.id, compute = %op.compute_name, action = %op.action, status, "operation ended");
                self.publish_end(super::EndedOperation {
                    compute_name: op.compute_name.clone(),
                    action: op.action.clone(),
                    started_by: op.started_by.clone(),
                    status: status.to_string(),
                    message: error.map(|(_, message)| message.to_string()),
                });
            }
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "recording the end of an operation failed"),
        }
    }

    /// At start-up: requests sent by an earlier process that never recorded Azure's answer
    /// (it died while asking) are settled at once rather than at their deadline.
    async fn settle_interrupted_requests(&self, process_started_at: &str) {
        let lost = operations::unanswered_before(&self.inner.db, process_started_at)
            .await
            .unwrap_or_default();
        for op in &lost {
            self.settle_interrupted(op).await;
        }
    }

    /// The compute's state in Azure is the truth; the operation is closed as "unknown" with
    /// that explanation.
    async fn settle_interrupted(&self, op: &OperationRecord) {
        self.conclude(
            op,
            operations::status::UNKNOWN,
            Some((
                "Interrupted",
                "The server stopped before Azure answered this request; the compute's state shows whether it took effect.",
            )),
        )
        .await
    }

    async fn time_until_next_poll(&self) -> Duration {
        let idle = self.inner.config.max_poll;
        let Ok(Some(next)) = operations::next_due_at(&self.inner.db).await else {
            return idle;
        };
        let Some(next) = store::parse_timestamp(&next) else {
            return Duration::ZERO;
        };
        let wait = next - OffsetDateTime::now_utc();
        Duration::try_from(wait).unwrap_or(Duration::ZERO).min(idle)
    }
}

/// How long to wait before the next look at an operation that could not be read.
fn after_read_failure(config: &super::SyncConfig) -> Duration {
    config.default_poll.max(config.min_poll)
}
