//! Sign-in and sign-out, sessions, roles and CSRF.

mod http;
pub mod oidc;
pub mod session;

use std::net::SocketAddr;

use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tower_sessions::Session;

pub use oidc::{SignIn, SignInSettings};
pub use session::{CurrentUser, RoleDirectory, SessionUser};

use self::oidc::PendingSignIn;
use self::session::{CSRF_KEY, PENDING_KEY, USER_KEY, new_csrf_token, safe_next};
use super::AppState;
use super::forms::FormFields;
use crate::error::AppError;
use crate::store::{self, audit::NewAuditEntry};

/// Everything sign-in needs, shared by the handlers.
pub struct Auth {
    pub sign_in: SignIn,
    pub roles: RoleDirectory,
    pub people: People,
}

/// Display names of the people who have signed in, by object id: Azure names an instance's
/// assigned user only by object id, and a name reads better than a GUID.
#[derive(Default)]
pub struct People {
    names: std::sync::RwLock<std::collections::HashMap<String, String>>,
    /// Changes whenever a name does: pages rendered with the old names are stale.
    version: std::sync::atomic::AtomicU64,
}

impl People {
    pub fn new(names: impl IntoIterator<Item = (String, String)>) -> Self {
        People {
            names: std::sync::RwLock::new(names.into_iter().collect()),
            version: Default::default(),
        }
    }

    pub fn name_of(&self, object_id: &str) -> Option<String> {
        self.names
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(object_id)
            .cloned()
    }

    pub fn remember(&self, object_id: &str, name: &str) {
        let mut names = self.names.write().unwrap_or_else(|p| p.into_inner());
        if names.get(object_id).map(String::as_str) != Some(name) {
            names.insert(object_id.to_string(), name.to_string());
            self.version
                .fetch_add(1, std::sync::atomic::Ordering::Release);
        }
    }

    pub fn version(&self) -> u64 {
        self.version.load(std::sync::atomic::Ordering::Acquire)
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", get(login))
        .route("/auth/callback", get(callback))
        .route("/auth/logout", post(logout))
        .route("/auth/signed-out", get(signed_out))
}

#[derive(Debug, Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

/// Sends the browser to the identity provider, remembering state, nonce and PKCE verifier.
async fn login(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<LoginQuery>,
) -> Result<Response, AppError> {
    let next = safe_next(query.next.as_deref());
    let (url, pending) = state
        .auth
        .sign_in
        .begin(next)
        .await
        .map_err(AppError::SignIn)?;
    session
        .insert(PENDING_KEY, pending)
        .await
        .map_err(session_error)?;
    Ok(Redirect::to(&url).into_response())
}

#[derive(Debug, Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The identity provider sends the browser back here with a code (or an error).
async fn callback(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    session: Session,
    Query(query): Query<CallbackQuery>,
) -> Result<Response, AppError> {
    // A pending sign-in is used once, whatever happens next.
    let pending: Option<PendingSignIn> =
        session.remove(PENDING_KEY).await.map_err(session_error)?;
    let Some(pending) = pending else {
        return Err(AppError::BadRequest(
            "This sign-in was not started here or has already been used. Please sign in again."
                .into(),
        ));
    };
    if let Some(error) = query.error {
        let description = query.error_description.unwrap_or_default();
        return Err(AppError::SignIn(oidc::SignInError::Refused(format!(
            "{error}: {description}"
        ))));
    }
    if query.state.as_deref() != Some(pending.state.as_str()) {
        return Err(AppError::BadRequest("The sign-in answer does not belong to this sign-in (state mismatch). Please sign in again.".into()));
    }
    let code = query
        .code
        .ok_or_else(|| AppError::BadRequest("The sign-in answer carried no code.".into()))?;
    let claims = match state.auth.sign_in.finish(&code, &pending).await {
        Ok(claims) => claims,
        Err(e) => {
            tracing::warn!(error = %e, "a sign-in failed");
            return Err(AppError::SignIn(e));
        }
    };
    let user = SessionUser {
        name: claims.name.clone().unwrap_or_else(|| claims.oid.clone()),
        email: claims
            .preferred_username
            .clone()
            .or(claims.email.clone())
            .unwrap_or_default(),
        object_id: claims.oid,
        tenant_id: claims.tid,
        token_roles: claims.roles,
    };
    // A new session id at sign-in, so that an id planted before it is worth nothing after.
    session.cycle_id().await.map_err(session_error)?;
    session
        .insert(USER_KEY, &user)
        .await
        .map_err(session_error)?;
    session
        .insert(CSRF_KEY, new_csrf_token())
        .await
        .map_err(session_error)?;
    let now = store::now();
    store::users::record_sign_in(
        &state.db,
        &user.object_id,
        &user.tenant_id,
        &user.name,
        &user.email,
        &user.token_roles,
        &now,
    )
    .await?;
    state.auth.people.remember(&user.object_id, &user.name);
    let role = state.auth.roles.role_of(&user);
    audit(
        &state,
        &user,
        "sign-in",
        "",
        "succeeded",
        &format!("role {role}"),
        &peer,
    )
    .await;
    Ok(Redirect::to(&pending.next).into_response())
}

async fn logout(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    session: Session,
    current: CurrentUser,
    fields: FormFields,
) -> Result<Response, AppError> {
    fields.only_known(&[], &[])?;
    session.flush().await.map_err(session_error)?;
    audit(
        &state,
        &current.user,
        "sign-out",
        "",
        "succeeded",
        "",
        &peer,
    )
    .await;
    Ok(Redirect::to("/auth/signed-out").into_response())
}

#[derive(Template)]
#[template(path = "auth/signed_out.html")]
struct SignedOutPage;

async fn signed_out() -> Result<Html<String>, AppError> {
    Ok(Html(SignedOutPage.render()?))
}

/// Writes an audit entry; a failure to write is logged, never shown as the action's failure.
pub async fn audit(
    state: &AppState,
    actor: &SessionUser,
    action: &str,
    target: &str,
    outcome: &str,
    detail: &str,
    peer: &SocketAddr,
) {
    let entry = NewAuditEntry {
        actor_id: &actor.object_id,
        actor_name: &actor.name,
        action,
        target,
        outcome,
        detail,
        source: &peer.ip().to_string(),
    };
    if let Err(e) = store::audit::record(&state.db, &entry, &store::now()).await {
        tracing::error!(error = %e, action, "writing the audit log failed");
    }
}

fn session_error(e: tower_sessions::session::Error) -> AppError {
    AppError::Session(e.to_string())
}
