//! `/computes/{name}/open/{app}`: the owner of a running instance is sent to one of its
//! applications. The link goes through the dashboard so the rule (owner only, whatever the
//! role) is decided on the server and every opening is in the audit log.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use super::AppState;
use super::auth::{CurrentUser, audit};
use crate::domain::applications::{Application, applications_open_in, is_web_address};
use crate::domain::compute::ComputeKind;
use crate::domain::roles::{Ownership, Permission};
use crate::error::AppError;
use crate::store;

pub fn router() -> Router<AppState> {
    Router::new().route("/computes/{name}/open/{app}", get(open))
}

async fn open(
    State(state): State<AppState>,
    current: CurrentUser,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((name, app)): Path<(String, String)>,
) -> Result<Response, AppError> {
    current.require(Permission::ViewCompute, Ownership::NoCompute)?;
    let application = Application::from_slug(&app)
        .ok_or_else(|| AppError::NotFound(format!("application '{app}'")))?;
    let row = state
        .computes
        .row(&name)
        .ok_or_else(|| AppError::NotFound(format!("compute named '{name}'")))?;
    if ComputeKind::parse(&row.kind) != Some(ComputeKind::Instance) {
        return Err(AppError::BadRequest(format!(
            "{} is not a compute instance; only instances have applications.",
            row.name
        )));
    }
    current.require(
        Permission::OpenApplications,
        current.owns(row.owner_object_id.as_deref()),
    )?;
    if !applications_open_in(&row.state) {
        return Err(AppError::BadRequest(format!(
            "{} is {}; its applications open when it is running. Start it first.",
            row.name,
            crate::domain::compute::state_label(&row.state).to_lowercase()
        )));
    }
    let resource = store::computes::resource(&state.db, &row.name)
        .await?
        .unwrap_or_default();
    let endpoint = resource["properties"]["properties"]["applications"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| {
            a["displayName"]
                .as_str()
                .is_some_and(|n| application.matches_display_name(n))
        })
        .and_then(|a| a["endpointUri"].as_str())
        .filter(|uri| is_web_address(uri))
        .map(str::to_string)
        .ok_or_else(|| {
            AppError::NotFound(format!(
                "{} on {} (Azure lists no such application for it)",
                application.label(),
                row.name
            ))
        })?;
    audit(
        &state,
        &current.user,
        "open-application",
        &row.name,
        "succeeded",
        application.label(),
        &peer,
    )
    .await;
    Ok(Redirect::to(&endpoint).into_response())
}
