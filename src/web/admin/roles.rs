//! `/admin/roles`: the people who have signed in, the role their token gives them, and the
//! override an admin can set.

use std::net::SocketAddr;

use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::domain::roles::{Ownership, Permission, Role};
use crate::error::AppError;
use crate::store;
use crate::web::auth::{CurrentUser, audit};
use crate::web::forms::FormFields;
use crate::web::{AppState, Chrome};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/roles", get(page))
        .route("/admin/roles/{object_id}", post(set_role))
}

struct PersonRow {
    object_id: String,
    tenant_id: String,
    name: String,
    email: String,
    token_role: String,
    override_role: String,
    effective_role: String,
    last_seen: String,
    is_self: bool,
}

#[derive(Template)]
#[template(path = "admin/roles.html")]
struct RolesPage {
    chrome: Chrome,
    people: Vec<PersonRow>,
    roles: Vec<&'static str>,
}

async fn page(State(state): State<AppState>, current: CurrentUser) -> Result<Response, AppError> {
    current.require(Permission::ManageRoles, Ownership::NoCompute)?;
    let people = store::users::all(&state.db)
        .await?
        .into_iter()
        .map(|u| {
            let token_roles: Vec<String> = serde_json::from_str(&u.token_roles).unwrap_or_default();
            let token_role = state.auth.roles.role_from_token(&token_roles);
            let override_role = u.role_override.as_deref().and_then(Role::parse);
            PersonRow {
                is_self: u.object_id == current.user.object_id
                    && u.tenant_id == current.user.tenant_id,
                token_role: token_role.label().into(),
                override_role: override_role
                    .map(|r| r.as_str().to_string())
                    .unwrap_or_default(),
                effective_role: override_role.unwrap_or(token_role).label().into(),
                object_id: u.object_id,
                tenant_id: u.tenant_id,
                name: u.name,
                email: u.email,
                last_seen: u
                    .last_seen
                    .get(..16)
                    .unwrap_or(&u.last_seen)
                    .replace('T', " "),
            }
        })
        .collect();
    let page = RolesPage {
        chrome: state.chrome_for(&current),
        people,
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
    };
    Ok(Html(page.render()?).into_response())
}

async fn set_role(
    State(state): State<AppState>,
    current: CurrentUser,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(object_id): Path<String>,
    fields: FormFields,
) -> Result<Response, AppError> {
    current.require(Permission::ManageRoles, Ownership::NoCompute)?;
    fields.only_known(&["tenant_id", "role"], &[])?;
    let tenant_id = fields.one("tenant_id")?;
    if tenant_id.is_empty() {
        return Err(AppError::BadRequest(
            "'tenant_id' is required: the tenant of the person whose role changes.".into(),
        ));
    }
    // Empty: no override (the token's role applies).
    let role = fields.one("role")?;
    let role = match role.trim() {
        "" => None,
        text => Some(Role::parse(text).ok_or_else(|| {
            AppError::BadRequest(format!(
                "'role' must be empty, reader, member, contributor or admin, not '{}'.",
                crate::domain::scale::shorten(text)
            ))
        })?),
    };
    let Some(person) = store::users::find(&state.db, &object_id, &tenant_id).await? else {
        return Err(AppError::NotFound(
            "person with that object id and tenant".into(),
        ));
    };
    // An admin who demoted themselves could leave the dashboard with nobody to undo it.
    if person.object_id == current.user.object_id && person.tenant_id == current.user.tenant_id {
        return Err(AppError::Forbidden(
            "You cannot change your own role; ask another admin.".into(),
        ));
    }
    store::users::set_role_override(
        &state.db,
        &person.object_id,
        &person.tenant_id,
        role.map(Role::as_str),
        &current.user.object_id,
        &store::now(),
    )
    .await?;
    state
        .auth
        .roles
        .set_override(&person.object_id, &person.tenant_id, role);
    let detail = match role {
        Some(role) => format!("role override set to {role}"),
        None => "role override removed".into(),
    };
    audit(
        &state,
        &current.user,
        "set-role",
        &person.name,
        "succeeded",
        &detail,
        &peer,
    )
    .await;
    Ok(Redirect::to("/admin/roles").into_response())
}
