//! Acting on one compute: start, stop, restart, delete, detach.
//!
//! Each request is authorised (role and ownership) and checked against the state the cache
//! knows, with the reason said when refused; then Azure is asked and the row shows the new
//! state. Delete and detach are confirmed by typing the compute's name.

use std::net::SocketAddr;

use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use tower_sessions::Session;

use super::auth::session::safe_next;
use super::auth::{CurrentUser, audit};
use super::forms::FormFields;
use super::htmx::is_htmx;
use super::notice::{self, Notice};
use super::{AppState, Chrome};
use crate::azure::{PowerAction, UnderlyingResourceAction};
use crate::domain::compute::ComputeKind;
use crate::domain::roles::Permission;
use crate::domain::transitions::ComputeAction;
use crate::error::AppError;
use crate::store::computes::ComputeRow;
use crate::sync::Action;

pub fn router() -> Router<AppState> {
    Router::new().route("/computes/{name}/{action}", get(confirm_page).post(act))
}

#[derive(Template)]
#[template(path = "computes/confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    name: String,
    kind_label: String,
    action: &'static str,
    action_label: &'static str,
    explanation: String,
    return_to: String,
}

/// The confirmation page of an action that cannot be undone.
async fn confirm_page(
    State(state): State<AppState>,
    current: CurrentUser,
    Path((name, action)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (row, action) = authorised(&state, &current, &name, &action)?;
    if !action.needs_confirmation() {
        return Err(AppError::NotFound(format!(
            "page for '{}' on {}",
            action.slug(),
            row.name
        )));
    }
    let kind = ComputeKind::parse(&row.kind).unwrap_or(ComputeKind::Other);
    let page = ConfirmPage {
        chrome: state.chrome_for(&current),
        kind_label: kind.label().to_string(),
        action: action.slug(),
        action_label: action.label(),
        explanation: explain(action, kind),
        return_to: format!("/computes?tab={}", tab_of(kind)),
        name: row.name.clone(),
    };
    Ok(Html(page.render()?).into_response())
}

/// What the confirmation says will happen.
fn explain(action: ComputeAction, kind: ComputeKind) -> String {
    match (action, kind) {
        (ComputeAction::Detach, ComputeKind::Inference) => "Detaching removes it from this workspace only: the AKS cluster stays in the subscription, keeps its nodes and keeps billing; models deployed to it from this workspace stop being managed here. It can be attached again.".into(),
        (ComputeAction::Detach, _) => "Detaching removes it from this workspace only: the resource itself (the VM, the Databricks workspace, the HDInsight cluster, the Data Lake Analytics account) stays and keeps billing. It can be attached again.".into(),
        (ComputeAction::Delete, ComputeKind::Inference) => "Deleting removes it from the workspace and deletes the AKS cluster itself, with its nodes and every model deployed to it. This cannot be undone; choose Detach to keep the AKS cluster.".into(),
        (ComputeAction::Delete, ComputeKind::Attached) => "Deleting removes it from the workspace and deletes the resource behind it in Azure (the VM, the Databricks workspace, …). This cannot be undone; choose Detach to keep the resource.".into(),
        (ComputeAction::Delete, ComputeKind::Instance) => "Deleting removes the instance and its disk: files that are not in the workspace's file share or a datastore are lost. This cannot be undone.".into(),
        _ => "Deleting removes the compute from the workspace and releases its nodes. Jobs running on it fail. This cannot be undone.".into(),
    }
}

async fn act(
    State(state): State<AppState>,
    current: CurrentUser,
    session: Session,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path((name, action)): Path<(String, String)>,
    fields: FormFields,
) -> Result<Response, AppError> {
    fields.only_known(&["confirm_name", "return_to"], &[])?;
    let (row, action) = authorised(&state, &current, &name, &action)?;
    if action.needs_confirmation() && fields.one("confirm_name")?.trim() != row.name {
        return Err(AppError::BadRequest(format!(
            "To {} it, type the compute's name exactly: {}.",
            action.slug(),
            row.name
        )));
    }
    let started = state
        .sync
        .start_operation(&row.name, azure_action(action), &current.user.object_id)
        .await;
    let (outcome, detail) = match &started {
        Ok(_) => ("accepted", String::new()),
        Err(e) => ("failed", e.user_message()),
    };
    audit(
        &state,
        &current.user,
        action.slug(),
        &row.name,
        outcome,
        &detail,
        &peer,
    )
    .await;
    started?;
    if is_htmx(&headers) {
        return Ok(
            Html(super::computes::render_row(&state, &current, &row.name)?.to_string())
                .into_response(),
        );
    }
    notice::put(
        &session,
        Notice::good(
            format!("{} {}.", action.label(), row.name),
            "Azure accepted the request; the list follows it.",
        ),
    )
    .await;
    let fallback = format!(
        "/computes?tab={}",
        tab_of(ComputeKind::parse(&row.kind).unwrap_or(ComputeKind::Other))
    );
    let back = fields.one("return_to")?;
    let back = if back.is_empty() {
        fallback
    } else {
        safe_next(Some(&back))
    };
    Ok(Redirect::to(&back).into_response())
}

/// The compute, and the action if this person may ask it in the compute's state.
fn authorised(
    state: &AppState,
    current: &CurrentUser,
    name: &str,
    action: &str,
) -> Result<(std::sync::Arc<ComputeRow>, ComputeAction), AppError> {
    let action = ComputeAction::from_slug(action)
        .ok_or_else(|| AppError::NotFound(format!("action '{action}'")))?;
    let row = state
        .computes
        .row(name)
        .ok_or_else(|| AppError::NotFound(format!("compute named '{name}'")))?;
    let kind = ComputeKind::parse(&row.kind).unwrap_or(ComputeKind::Other);
    let ownership = current.ownership_of(&row);
    current.require(Permission::OperateCompute, ownership)?;
    action.check(kind, &row.state).map_err(|why| {
        AppError::Conflict(format!(
            "{} cannot be {}: {why}",
            row.name,
            past_participle(action)
        ))
    })?;
    Ok((row, action))
}

fn past_participle(action: ComputeAction) -> &'static str {
    match action {
        ComputeAction::Start => "started",
        ComputeAction::Stop => "stopped",
        ComputeAction::Restart => "restarted",
        ComputeAction::Delete => "deleted",
        ComputeAction::Detach => "detached",
    }
}

/// The request Azure receives for an action (the bulk actions send the same).
pub(super) fn azure_action(action: ComputeAction) -> Action {
    match action {
        ComputeAction::Start => Action::Power(PowerAction::Start),
        ComputeAction::Stop => Action::Power(PowerAction::Stop),
        ComputeAction::Restart => Action::Power(PowerAction::Restart),
        ComputeAction::Delete => Action::Delete(UnderlyingResourceAction::Delete),
        ComputeAction::Detach => Action::Delete(UnderlyingResourceAction::Detach),
    }
}

fn tab_of(kind: ComputeKind) -> &'static str {
    super::computes::tab_slug_of(kind)
}
