//! When Azure's answer to a change is lost (the connection broke, the body was cut off or was
//! not JSON, a 500/502/504, or the server died before writing the answer down), the request may
//! or may not have been carried out. Resending blindly could do it twice (a second restart, a
//! create that turns into an update) or fail for nothing (a 409 "busy"); so the compute is read
//! from Azure and these rules decide whether the request took effect.
//!
//! Pure functions: the decision is tested on its own.

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::azure::ArmError;
use crate::azure::models::ComputeResource;
use crate::domain::compute::{TRANSITIONAL_STATES, is_terminal_provisioning_state};

/// How far Azure's clock may be behind ours when comparing an operation's time with the time
/// we sent the request.
pub const CLOCK_SKEW: time::Duration = time::Duration::seconds(5);

/// Whether an error leaves open whether Azure carried out the request.
pub fn is_lost_answer(error: &ArmError) -> bool {
    match error {
        ArmError::Transport(_) | ArmError::Decode { .. } | ArmError::RetriesExhausted { .. } => {
            true
        }
        ArmError::Api { status, .. } => *status >= 500,
        ArmError::OperationFailed { .. } | ArmError::Token(_) => false,
    }
}

/// What a look at the compute says about a request whose answer was lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Azure carried it out: follow it, do not send it again.
    TookEffect,
    /// Nothing shows it was carried out: it may be sent again.
    NotTaken,
}

/// What was known when the request was sent.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    /// The compute's `lastOperation` as the cache knew it before the request (`None`: unknown).
    pub last_operation_before: Option<&'a Value>,
    /// When the request was sent, by our clock.
    pub sent_at: OffsetDateTime,
}

/// Did the request `action` (as the operations table names it) take effect, given the compute
/// as Azure shows it now (`None`: it does not exist)?
pub fn took_effect(action: &str, now: Option<&ComputeResource>, evidence: &Evidence) -> Verdict {
    let verdict = |yes: bool| {
        if yes {
            Verdict::TookEffect
        } else {
            Verdict::NotTaken
        }
    };
    match action {
        // The create form refuses a name that exists, so a compute of that name is ours.
        "create" => verdict(now.is_some()),
        "delete" | "detach" => verdict(match now {
            None => true,
            Some(compute) => {
                compute.provisioning_state() == Some("Deleting")
                    || compute.inner_str("state") == Some("Deleting")
            }
        }),
        "start" | "stop" | "restart" => {
            let Some(compute) = now else {
                return Verdict::NotTaken;
            };
            let Some(last) = compute.inner("lastOperation").filter(|l| l.is_object()) else {
                return verdict(compute.inner_str("state") == Some(transitional_of(action)));
            };
            let ours = last["operationName"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(action))
                && last["operationTrigger"]
                    .as_str()
                    .is_none_or(|t| t.eq_ignore_ascii_case("User"));
            let new = evidence.last_operation_before != Some(last);
            let recent = last["operationTime"]
                .as_str()
                .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
                .is_none_or(|at| at >= evidence.sent_at - CLOCK_SKEW);
            verdict(ours && new && recent)
        }
        "update" => verdict(
            now.and_then(ComputeResource::provisioning_state)
                .is_some_and(|s| s == "Updating"),
        ),
        _ => Verdict::NotTaken,
    }
}

/// The state an instance shows while `action` runs.
fn transitional_of(action: &str) -> &'static str {
    match action {
        "start" => "Starting",
        "stop" => "Stopping",
        _ => "Restarting",
    }
}

/// How an operation followed by reading its compute stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    InProgress,
    Succeeded,
    Failed { code: String, message: String },
}

/// Where an operation stands, judged from its compute as Azure shows it now (`None`: gone).
pub fn judge(action: &str, now: Option<&ComputeResource>) -> Settled {
    let Some(compute) = now else {
        return match action {
            "delete" | "detach" => Settled::Succeeded,
            _ => Settled::Failed {
                code: "NotFound".into(),
                message: "The compute no longer exists in Azure.".into(),
            },
        };
    };
    let provisioning = compute.provisioning_state().unwrap_or("Succeeded");
    let state = compute.inner_str("state").unwrap_or("");
    let moving = TRANSITIONAL_STATES.contains(&state);
    if matches!(provisioning, "Failed" | "Canceled") {
        return failure(
            compute,
            &format!("Azure reports provisioning state {provisioning}."),
        );
    }
    match action {
        "delete" | "detach" => {
            if provisioning == "Deleting" || state == "Deleting" {
                Settled::InProgress
            } else {
                Settled::Failed {
                    code: "NotDeleted".into(),
                    message: format!(
                        "Azure still lists the compute (provisioning state {provisioning}) after deleting it."
                    ),
                }
            }
        }
        "start" | "stop" | "restart" => {
            let last = compute.inner("lastOperation").cloned().unwrap_or_default();
            let ours = last["operationName"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(action));
            let status = last["operationStatus"].as_str().unwrap_or("");
            if ours && status.ends_with("Failed") {
                return failure(compute, &format!("Azure reports {status}."));
            }
            if moving || (ours && status == "InProgress") {
                return Settled::InProgress;
            }
            let wanted = if action == "stop" {
                "Stopped"
            } else {
                "Running"
            };
            if state == wanted {
                Settled::Succeeded
            } else {
                Settled::Failed {
                    code: "NotDone".into(),
                    message: format!(
                        "The compute is {state}, not {wanted}: Azure did not carry out the {action}."
                    ),
                }
            }
        }
        _ if !is_terminal_provisioning_state(provisioning) || moving => Settled::InProgress,
        _ => Settled::Succeeded,
    }
}

/// Azure's first words about what went wrong: a provisioning error, else an instance error.
fn failure(compute: &ComputeResource, fallback: &str) -> Settled {
    let provisioning = compute
        .properties
        .as_ref()
        .and_then(|p| p.provisioning_errors.as_ref())
        .and_then(|errors| errors.first())
        .map(|e| (e.error.code.clone(), e.error.message.clone()));
    let instance = compute
        .inner("errors")
        .and_then(Value::as_array)
        .and_then(|errors| errors.first())
        .map(|e| {
            let e = e.get("error").unwrap_or(e);
            (
                e["code"].as_str().unwrap_or_default().to_string(),
                e["message"].as_str().unwrap_or_default().to_string(),
            )
        });
    let (code, message) = provisioning
        .or(instance)
        .filter(|(_, message)| !message.is_empty())
        .unwrap_or_else(|| (String::new(), fallback.to_string()));
    Settled::Failed {
        code: if code.is_empty() {
            "OperationFailed".into()
        } else {
            code
        },
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn instance(state: &str, last: Value) -> ComputeResource {
        serde_json::from_value(json!({
            "name": "ada-box",
            "properties": {
                "computeType": "ComputeInstance",
                "provisioningState": "Succeeded",
                "properties": {"state": state, "lastOperation": last}
            }
        }))
        .unwrap()
    }

    fn last(name: &str, status: &str, at: &str, trigger: &str) -> Value {
        json!({"operationName": name, "operationStatus": status, "operationTime": at, "operationTrigger": trigger})
    }

    fn sent_at(at: &str) -> OffsetDateTime {
        OffsetDateTime::parse(at, &Rfc3339).unwrap()
    }

    const BEFORE: &str = "2026-12-07T10:00:00Z";
    const SENT: &str = "2026-12-07T10:05:00Z";
    const AFTER: &str = "2026-12-07T10:05:01Z";

    #[test]
    fn a_power_action_took_effect_when_azure_shows_it_as_the_last_operation() {
        let before = last("Create", "Succeeded", BEFORE, "User");
        let evidence = Evidence {
            last_operation_before: Some(&before),
            sent_at: sent_at(SENT),
        };
        let started = instance("Starting", last("Start", "InProgress", AFTER, "User"));
        assert_eq!(
            took_effect("start", Some(&started), &evidence),
            Verdict::TookEffect
        );
        // Already finished by the time we look: still ours.
        let done = instance("Running", last("Restart", "Succeeded", AFTER, "User"));
        assert_eq!(
            took_effect("restart", Some(&done), &evidence),
            Verdict::TookEffect
        );
        // Nothing changed since before: not carried out.
        let unchanged = instance("Stopped", before.clone());
        assert_eq!(
            took_effect("start", Some(&unchanged), &evidence),
            Verdict::NotTaken
        );
        // A schedule's stop is not our stop.
        let scheduled = instance("Stopped", last("Stop", "Succeeded", AFTER, "Schedule"));
        assert_eq!(
            took_effect("stop", Some(&scheduled), &evidence),
            Verdict::NotTaken
        );
        // Another action.
        assert_eq!(
            took_effect("stop", Some(&started), &evidence),
            Verdict::NotTaken
        );
        assert_eq!(took_effect("start", None, &evidence), Verdict::NotTaken);
    }

    #[test]
    fn without_the_state_before_an_old_operation_of_the_same_name_is_not_ours() {
        let evidence = Evidence {
            last_operation_before: None,
            sent_at: sent_at(SENT),
        };
        let old = instance("Running", last("Restart", "Succeeded", BEFORE, "User"));
        assert_eq!(
            took_effect("restart", Some(&old), &evidence),
            Verdict::NotTaken
        );
        let new = instance("Restarting", last("Restart", "InProgress", AFTER, "User"));
        assert_eq!(
            took_effect("restart", Some(&new), &evidence),
            Verdict::TookEffect
        );
    }

    #[test]
    fn creates_and_deletes_are_told_by_the_compute_itself() {
        let evidence = Evidence {
            last_operation_before: None,
            sent_at: sent_at(SENT),
        };
        let creating = instance("Creating", last("Create", "InProgress", AFTER, "User"));
        assert_eq!(
            took_effect("create", Some(&creating), &evidence),
            Verdict::TookEffect
        );
        assert_eq!(took_effect("create", None, &evidence), Verdict::NotTaken);
        assert_eq!(took_effect("delete", None, &evidence), Verdict::TookEffect);
        let deleting = instance("Deleting", Value::Null);
        assert_eq!(
            took_effect("delete", Some(&deleting), &evidence),
            Verdict::TookEffect
        );
        let running = instance("Running", Value::Null);
        assert_eq!(
            took_effect("delete", Some(&running), &evidence),
            Verdict::NotTaken
        );
    }

    #[test]
    fn lost_answers_are_told_from_refusals() {
        assert!(is_lost_answer(&ArmError::Transport("reset".into())));
        assert!(is_lost_answer(&ArmError::Decode {
            context: "x".into(),
            detail: "y".into()
        }));
        let api = |status| ArmError::Api {
            status,
            code: "C".into(),
            message: "m".into(),
            target: None,
        };
        assert!(is_lost_answer(&api(502)));
        assert!(!is_lost_answer(&api(409)));
        assert!(!is_lost_answer(&api(400)));
    }

    #[test]
    fn a_followed_operation_is_judged_from_its_compute() {
        let running = instance("Running", last("Start", "Succeeded", AFTER, "User"));
        assert_eq!(judge("start", Some(&running)), Settled::Succeeded);
        let starting = instance("Starting", last("Start", "InProgress", AFTER, "User"));
        assert_eq!(judge("start", Some(&starting)), Settled::InProgress);
        let mut failed = instance("Stopped", last("Start", "StartFailed", AFTER, "User"));
        failed
            .properties
            .as_mut()
            .unwrap()
            .properties
            .as_mut()
            .unwrap()["errors"] =
            json!([{"error": {"code": "AllocationFailed", "message": "No capacity."}}]);
        assert_eq!(
            judge("start", Some(&failed)),
            Settled::Failed {
                code: "AllocationFailed".into(),
                message: "No capacity.".into()
            }
        );
        assert_eq!(judge("delete", None), Settled::Succeeded);
        assert!(matches!(judge("stop", None), Settled::Failed { .. }));
        let create_failed: ComputeResource = serde_json::from_value(json!({
            "name": "x",
            "properties": {"computeType": "ComputeInstance", "provisioningState": "Failed",
                "provisioningErrors": [{"error": {"code": "AllocationFailed", "message": "Allocation failed."}}],
                "properties": {"state": "CreateFailed"}}
        }))
        .unwrap();
        assert_eq!(
            judge("create", Some(&create_failed)),
            Settled::Failed {
                code: "AllocationFailed".into(),
                message: "Allocation failed.".into()
            }
        );
        let creating = instance("Creating", Value::Null);
        assert_eq!(judge("create", Some(&creating)), Settled::InProgress);
        let created = instance("Running", Value::Null);
        assert_eq!(judge("create", Some(&created)), Settled::Succeeded);
    }
}
