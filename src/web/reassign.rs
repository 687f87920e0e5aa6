//! `/computes/{name}/reassign`: giving an instance to somebody else.
//!
//! Azure fixes an instance's assigned user at creation and never changes it. The supported
//! path, which this page walks an admin through: create a copy of the instance for the new
//! person (the create form, filled in from this one), then delete the old instance once the
//! new one runs, after a confirmation. Files on the old instance's disk are not copied.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::auth::CurrentUser;
use super::{AppState, Chrome};
use crate::domain::compute::{ComputeKind, state_label};
use crate::domain::roles::{Ownership, Permission};
use crate::domain::transitions::ComputeAction;
use crate::error::AppError;
use crate::store;

pub fn router() -> Router<AppState> {
    Router::new().route("/computes/{name}/reassign", get(page))
}

#[derive(Debug, Deserialize)]
pub struct ReassignParams {
    /// The replacement, once the create form has sent it.
    created: Option<String>,
}

struct PersonChoice {
    value: String,
    label: String,
}

/// The replacement and how far it has come.
struct Replacement {
    name: String,
    state: String,
    running: bool,
}

#[derive(Template)]
#[template(path = "computes/reassign.html")]
struct ReassignPage {
    chrome: Chrome,
    name: String,
    owner: String,
    people: Vec<PersonChoice>,
    replacement: Option<Replacement>,
    /// Whether the old instance may be deleted now (its state allows it).
    deletable: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(name): Path<String>,
    Query(params): Query<ReassignParams>,
) -> Result<Response, AppError> {
    current.require(Permission::CreateOnBehalf, Ownership::NoCompute)?;
    let row = state
        .computes
        .row(&name)
        .filter(|r| r.kind == ComputeKind::Instance.as_str())
        .ok_or_else(|| AppError::NotFound(format!("compute instance named '{name}'")))?;
    let owner = row
        .owner_object_id
        .as_deref()
        .and_then(|id| state.auth.people.name_of(id))
        .or_else(|| row.owner_name.clone())
        .unwrap_or_else(|| "nobody recorded".into());
    let people = store::users::all(&state.db)
        .await?
        .into_iter()
        .filter(|u| Some(u.object_id.as_str()) != row.owner_object_id.as_deref())
        .map(|u| PersonChoice {
            value: format!("{}|{}", u.object_id, u.tenant_id),
            label: format!("{} <{}>", u.name, u.email),
        })
        .collect();
    let replacement = params
        .created
        .as_deref()
        .filter(|n| !n.is_empty())
        .map(|created| {
            let now = state.computes.row(created);
            Replacement {
                name: created.to_string(),
                state: now.as_ref().map_or_else(
                    || "not listed yet".into(),
                    |r| state_label(&r.state).to_lowercase(),
                ),
                running: now.is_some_and(|r| r.state == "Running"),
            }
        });
    let deletable = ComputeAction::Delete
        .check(ComputeKind::Instance, &row.state)
        .err();
    let page = ReassignPage {
        chrome: state.chrome_for(&current),
        name: row.name.clone(),
        owner,
        people,
        replacement,
        deletable,
    };
    Ok(Html(page.render()?).into_response())
}
