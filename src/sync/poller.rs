//! Follows every unfinished operation in the database to its end, at the pace Azure asks.
//! Because the state lives in the database, a restarted server resumes where it stopped.

use std::time::Duration;

use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use super::lost::{self, Evidence, Settled, Verdict};
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
            // A request whose answer was never recorded (lost in a crash, or lost on the way and
            // not yet decided): Azure's compute tells whether it took effect.
            _ => return self.settle_interrupted(&op).await,
        };
        if handle.kind == PollKind::Resource {
            return self.follow_resource(&op).await;
        }
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

    /// An operation without an operation URL (Azure gave none, or it was found carried out
    /// after its answer was lost): its compute tells how it stands.
    async fn follow_resource(&self, op: &OperationRecord) {
        match self.inner.arm.get_compute(&op.compute_name).await {
            Err(e) => {
                self.log_once(format!("poll:{}:{e}", op.id), || {
                    tracing::warn!(operation = %op.id, compute = %op.compute_name, error = %e,
                        "could not read the compute of an operation; will try again")
                });
                self.poll_again_in(op, after_read_failure(&self.inner.config))
                    .await
            }
            Ok(compute) => match lost::judge(&op.action, compute.as_ref()) {
                Settled::InProgress => {
                    let pace = clamp_poll(&self.inner.config, Some(Duration::from_secs(1)));
                    self.poll_again_in(op, pace).await
                }
                Settled::Succeeded => self.conclude(op, operations::status::SUCCEEDED, None).await,
                Settled::Failed { code, message } => {
                    self.conclude(op, operations::status::FAILED, Some((&code, &message)))
                        .await
                }
            },
        }
    }

    /// Re-read the compute, then record the outcome, so that the row shows the end state by the
    /// time the operation reads as ended. If the compute cannot be read, the operation stays
    /// open and is looked at again shortly.
    async fn conclude(&self, op: &OperationRecord, status: &str, error: Option<(&str, &str)>) {
        if let Err(e) = self.refresh_compute(&op.compute_name).await {
            tracing::warn!(compute = %op.compute_name, error = %e, "could not re-read a compute after its operation ended; will try again");
            self.poll_again_in(op, after_read_failure(&self.inner.config))
                .await;
            return;
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

    /// A request whose answer was never recorded: the compute in Azure tells whether it took
    /// effect. If it did, the operation is followed through its compute; if not, it is closed
    /// as failed with that explanation (nothing was done; the person may ask again).
    async fn settle_interrupted(&self, op: &OperationRecord) {
        let arm = &self.inner.arm;
        let now_in_azure = match arm.get_compute(&op.compute_name).await {
            Ok(compute) => compute,
            Err(e) => {
                self.log_once(format!("settle:{}:{e}", op.id), || {
                    tracing::warn!(operation = %op.id, compute = %op.compute_name, error = %e,
                        "could not read the compute of an unanswered request; will try again")
                });
                return self
                    .poll_again_in(op, after_read_failure(&self.inner.config))
                    .await;
            }
        };
        let evidence = Evidence {
            last_operation_before: None,
            sent_at: store::parse_timestamp(&op.started_at)
                .unwrap_or_else(|| OffsetDateTime::now_utc() - Duration::from_secs(600)),
        };
        match lost::took_effect(&op.action, now_in_azure.as_ref(), &evidence) {
            Verdict::TookEffect => {
                tracing::info!(operation = %op.id, compute = %op.compute_name, action = %op.action,
                    "an unanswered request took effect in Azure; following it");
                let url = arm.compute_resource_url(&op.compute_name);
                self.log_db_error(
                    operations::mark_in_progress(
                        &self.inner.db,
                        &op.id,
                        PollKind::Resource.as_str(),
                        &url,
                        &store::now(),
                    )
                    .await,
                );
                self.wake_poller();
            }
            Verdict::NotTaken => {
                let crashed = op.started_at < self.inner.started_at;
                let (code, message) = if crashed {
                    (
                        "Interrupted",
                        "The server stopped before Azure answered this request, and Azure shows it did not take effect: nothing was done. Ask again if it is still wanted.",
                    )
                } else {
                    (
                        "AnswerLost",
                        "Azure's answer to this request was lost, and Azure shows it did not take effect: nothing was done. Ask again if it is still wanted.",
                    )
                };
                self.conclude(op, operations::status::FAILED, Some((code, message)))
                    .await
            }
        }
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
pub(super) fn after_read_failure(config: &super::SyncConfig) -> Duration {
    config.default_poll.max(config.min_poll)
}
