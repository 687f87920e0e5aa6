//! Starting a long-running Azure operation: the operation row is written first, then Azure is
//! asked, then the row learns how to follow the operation. A crash at any point leaves a row
//! the poller can finish.

use std::time::Duration;

use serde_json::Value;

use super::lost::{self, Evidence, Verdict};
use super::{Sync, clamp_poll};
use crate::azure::models::ComputeResource;
use crate::azure::{ArmError, LroHandle, PowerAction, UnderlyingResourceAction};
use crate::store::{self, operations};

/// How long a request may wait for Azure's answer before the poller takes it for lost. Longer
/// than any call can last with its retries, so a live request is never mistaken for a lost one.
const UNANSWERED_REQUEST_DEADLINE: Duration = Duration::from_secs(600);

/// What the dashboard asks Azure to do to one compute.
#[derive(Debug, Clone)]
pub enum Action {
    Create(Box<ComputeResource>),
    Power(PowerAction),
    Delete(UnderlyingResourceAction),
    UpdateScale(Value),
}

impl Action {
    /// The name recorded with the operation.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Create(_) => "create",
            Action::Power(PowerAction::Start) => "start",
            Action::Power(PowerAction::Stop) => "stop",
            Action::Power(PowerAction::Restart) => "restart",
            Action::Delete(UnderlyingResourceAction::Delete) => "delete",
            Action::Delete(UnderlyingResourceAction::Detach) => "detach",
            Action::UpdateScale(_) => "update",
        }
    }
}

/// What came of sending a request.
enum Sent {
    /// Azure's answer, or what a look at the compute showed: how to follow it, if it goes on.
    Answered(Option<LroHandle>),
    /// The answer was lost and the compute could not be read to tell whether it took effect.
    Undecided,
}

/// An operation Azure accepted: its id in the operations table, and whether it goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedOperation {
    pub id: String,
    pub finished: bool,
}

impl Sync {
    /// Ask Azure to act on a compute, recording and then following the operation.
    ///
    /// On a refusal the operation is recorded as failed with Azure's words, and the error is
    /// returned for the page to show.
    pub async fn start_operation(
        &self,
        compute_name: &str,
        action: Action,
        started_by: &str,
    ) -> Result<StartedOperation, ArmError> {
        let db = &self.inner.db;
        let now = time::OffsetDateTime::now_utc();
        let id = operations::insert_requested(
            db,
            compute_name,
            action.name(),
            started_by,
            &store::timestamp(now),
            &store::timestamp(now + UNANSWERED_REQUEST_DEADLINE),
        )
        .await
        .map_err(|e| ArmError::Transport(format!("the operation could not be recorded: {e}")))?;
        let outcome = self
            .send_resolving_lost_answers(compute_name, &action)
            .await;
        let handle = match outcome {
            Ok(Sent::Answered(handle)) => handle,
            Ok(Sent::Undecided) => {
                // The poller reads the compute again shortly and decides then.
                let soon = super::poller::after_read_failure(&self.inner.config);
                self.log_db_error(
                    operations::reschedule(
                        db,
                        &id,
                        &store::timestamp(time::OffsetDateTime::now_utc() + soon),
                    )
                    .await,
                );
                self.wake_poller();
                return Ok(StartedOperation {
                    id,
                    finished: false,
                });
            }
            Err(e) => {
                let message = e.user_message();
                self.log_db_error(
                    operations::finish(
                        db,
                        &id,
                        operations::status::FAILED,
                        &store::now(),
                        Some((&e.code(), &message)),
                    )
                    .await,
                );
                return Err(e);
            }
        };
        let finished = match handle {
            Some(handle) => {
                let first_look = clamp_poll(&self.inner.config, handle.retry_after);
                self.log_db_error(
                    operations::mark_in_progress(
                        db,
                        &id,
                        handle.kind.as_str(),
                        &handle.url,
                        &store::timestamp(time::OffsetDateTime::now_utc() + first_look),
                    )
                    .await,
                );
                self.wake_poller();
                false
            }
            None => {
                self.log_db_error(
                    operations::finish(db, &id, operations::status::SUCCEEDED, &store::now(), None)
                        .await,
                );
                true
            }
        };
        // Show the new state ("Starting", "Creating", …) straight away.
        if let Err(e) = self.refresh_compute(compute_name).await {
            tracing::warn!(compute = compute_name, error = %e, "could not re-read the compute after an action");
        }
        Ok(StartedOperation { id, finished })
    }

    /// Sends the request; when Azure's answer is lost, reads the compute to decide: follow what
    /// Azure did, or (only if it did nothing) send again, within the retry policy.
    async fn send_resolving_lost_answers(
        &self,
        name: &str,
        action: &Action,
    ) -> Result<Sent, ArmError> {
        let arm = &self.inner.arm;
        let policy = arm.retry_policy();
        let before = store::computes::resource(&self.inner.db, name)
            .await
            .ok()
            .flatten();
        let last_operation_before = before
            .as_ref()
            .map(|b| &b["properties"]["properties"]["lastOperation"]);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent_at = time::OffsetDateTime::now_utc();
            let lost_answer = match self.send_action(name, action).await {
                Ok(handle) => return Ok(Sent::Answered(handle)),
                Err(e) if lost::is_lost_answer(&e) => e,
                Err(e) => return Err(e),
            };
            tracing::info!(compute = name, action = action.name(), error = %lost_answer,
                "Azure's answer was lost; reading the compute to see whether the request took effect");
            let now_in_azure = match arm.get_compute(name).await {
                Ok(compute) => compute,
                Err(e) => {
                    tracing::warn!(compute = name, error = %e, "could not read the compute after a lost answer; the poller will decide");
                    return Ok(Sent::Undecided);
                }
            };
            let evidence = Evidence {
                last_operation_before,
                sent_at,
            };
            match lost::took_effect(action.name(), now_in_azure.as_ref(), &evidence) {
                Verdict::TookEffect => {
                    let url = arm.compute_resource_url(name);
                    return Ok(Sent::Answered(Some(LroHandle::resource(url, None))));
                }
                Verdict::NotTaken if attempt < policy.max_attempts => {
                    tokio::time::sleep(policy.delay(attempt, None)).await;
                }
                Verdict::NotTaken => return Err(lost_answer),
            }
        }
    }

    async fn send_action(
        &self,
        name: &str,
        action: &Action,
    ) -> Result<Option<LroHandle>, ArmError> {
        let arm = &self.inner.arm;
        match action {
            Action::Create(body) => Ok(arm.create_or_update(name, body).await?.operation),
            Action::Power(power) => arm.power(name, *power).await,
            Action::Delete(underlying) => arm.delete(name, *underlying).await,
            Action::UpdateScale(settings) => Ok(arm
                .update_scale_settings(name, settings.clone())
                .await?
                .operation),
        }
    }
}
