//! Who is asking: the signed-in person in the session, their effective role, and the
//! per-session CSRF token that every state-changing request must carry.

use std::collections::HashMap;
use std::sync::RwLock;

use axum::body::Body;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::domain::roles::{Decision, Ownership, Permission, Role, decide};
use crate::error::AppError;
use crate::web::AppState;
use crate::web::htmx::is_htmx;

pub const USER_KEY: &str = "user";
pub const CSRF_KEY: &str = "csrf";
pub const PENDING_KEY: &str = "auth.pending";
const TOUCHED_KEY: &str = "touched";
/// A session's idle expiry is pushed back at most this often (each push is a database write).
const TOUCH_EVERY_SECONDS: i64 = 300;

/// The person as the session remembers them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SessionUser {
    pub object_id: String,
    pub tenant_id: String,
    pub name: String,
    pub email: String,
    /// App roles of the id_token at sign-in.
    pub token_roles: Vec<String>,
}

/// How roles are decided: the id_token's app roles through a mapping, unless an admin set one.
pub struct RoleDirectory {
    mapping: Vec<(String, Role)>,
    default_role: Role,
    overrides: RwLock<HashMap<(String, String), Role>>,
}

impl RoleDirectory {
    pub fn new(
        mapping: Vec<(String, Role)>,
        default_role: Role,
        overrides: HashMap<(String, String), Role>,
    ) -> Self {
        Self {
            mapping,
            default_role,
            overrides: RwLock::new(overrides),
        }
    }

    /// The override if an admin set one, else the highest mapped token role, else the default.
    pub fn role_of(&self, user: &SessionUser) -> Role {
        if let Some(role) = self.override_of(&user.object_id, &user.tenant_id) {
            return role;
        }
        self.role_from_token(&user.token_roles)
    }

    pub fn role_from_token(&self, token_roles: &[String]) -> Role {
        token_roles
            .iter()
            .filter_map(|claim| {
                self.mapping
                    .iter()
                    .find(|(name, _)| name == claim)
                    .map(|(_, role)| *role)
            })
            .max()
            .unwrap_or(self.default_role)
    }

    pub fn override_of(&self, object_id: &str, tenant_id: &str) -> Option<Role> {
        let overrides = self.overrides.read().unwrap_or_else(|p| p.into_inner());
        overrides
            .get(&(object_id.to_string(), tenant_id.to_string()))
            .copied()
    }

    pub fn set_override(&self, object_id: &str, tenant_id: &str, role: Option<Role>) {
        let mut overrides = self.overrides.write().unwrap_or_else(|p| p.into_inner());
        let key = (object_id.to_string(), tenant_id.to_string());
        match role {
            Some(role) => overrides.insert(key, role),
            None => overrides.remove(&key),
        };
    }
}

/// The signed-in person making this request. Extracting it is what makes a handler need
/// sign-in: without a session, the browser is sent to sign in and brought back afterwards.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: SessionUser,
    pub role: Role,
    pub csrf_token: String,
}

impl CurrentUser {
    /// Refuses with a 403 that says why, unless the role table allows it.
    pub fn require(&self, permission: Permission, ownership: Ownership) -> Result<(), AppError> {
        match decide(self.role, permission, ownership) {
            Decision::Allowed => Ok(()),
            Decision::Refused(why) => Err(AppError::Forbidden(why)),
        }
    }

    /// How this person stands to a cached compute: an instance belongs to its owner (assigned
    /// user, else creator); clusters and the other kinds are the team's, nobody's in particular.
    pub fn ownership_of(&self, row: &crate::store::computes::ComputeRow) -> Ownership {
        if row.kind == crate::domain::compute::ComputeKind::Instance.as_str() {
            self.owns(row.owner_object_id.as_deref())
        } else {
            Ownership::NotOwner
        }
    }

    pub fn owns(&self, owner_object_id: Option<&str>) -> Ownership {
        if owner_object_id == Some(self.user.object_id.as_str()) {
            Ownership::Owner
        } else {
            Ownership::NotOwner
        }
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let user = session.get::<SessionUser>(USER_KEY).await.ok().flatten();
        let csrf = session.get::<String>(CSRF_KEY).await.ok().flatten();
        let (Some(user), Some(csrf_token)) = (user, csrf) else {
            return Err(sign_in_redirect(parts));
        };
        keep_alive(&session).await;
        let role = state.auth.roles.role_of(&user);
        Ok(CurrentUser {
            user,
            role,
            csrf_token,
        })
    }
}

/// Idle expiry counts from the last activity: push it back now and then.
async fn keep_alive(session: &Session) {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let touched = session
        .get::<i64>(TOUCHED_KEY)
        .await
        .ok()
        .flatten()
        .unwrap_or(0);
    if now - touched >= TOUCH_EVERY_SECONDS {
        let _ = session.insert(TOUCHED_KEY, now).await;
    }
}

fn sign_in_redirect(parts: &Parts) -> Response {
    let next = if parts.method == Method::GET && !is_htmx(&parts.headers) {
        parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into())
    } else {
        "/computes".to_string()
    };
    let target = format!(
        "/auth/login?next={}",
        url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
    );
    if is_htmx(&parts.headers) {
        let mut response = StatusCode::UNAUTHORIZED.into_response();
        if let Ok(value) = HeaderValue::from_str(&target) {
            response.headers_mut().insert("hx-redirect", value);
        }
        return response;
    }
    Redirect::to(&target).into_response()
}

/// Only a local path is a place to return to after sign-in: no scheme, no host, no `//`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control)
                && !path.starts_with("/auth/") =>
        {
            path.to_string()
        }
        _ => "/computes".to_string(),
    }
}

/// A fresh random token for the session's forms.
pub fn new_csrf_token() -> String {
    use rand::Rng;
    let bytes: [u8; 32] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Requests that change state must carry the session's CSRF token, in the `X-CSRF-Token`
/// header (htmx sends it) or in the `_csrf` form field (plain forms). Without it: 403.
pub async fn verify_csrf(session: Session, request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let expected = session.get::<String>(CSRF_KEY).await.ok().flatten();
    let (parts, body) = request.into_parts();
    let from_header = parts
        .headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    // Plain forms carry it in the body: read it (bounded), then hand the body on unchanged.
    let bytes = match axum::body::to_bytes(body, 2 * 1024 * 1024).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return AppError::TooLarge("The request body is too large (at most 2 MB).".into())
                .into_response();
        }
    };
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let from_form = || {
        is_form
            .then(|| {
                url::form_urlencoded::parse(&bytes)
                    .find(|(k, _)| k == "_csrf")
                    .map(|(_, v)| v.into_owned())
            })
            .flatten()
    };
    let presented = from_header.or_else(from_form);
    let valid = match (&expected, &presented) {
        (Some(expected), Some(presented)) => {
            constant_time_eq(expected.as_bytes(), presented.as_bytes())
        }
        _ => false,
    };
    if !valid {
        tracing::info!(path = %parts.uri.path(), "refused a state-changing request without a valid CSRF token");
        return AppError::CsrfRejected.into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(
            safe_next(Some("/computes?tab=clusters")),
            "/computes?tab=clusters"
        );
        for evil in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "evil",
            "/auth/login",
            "/x\r\nSet-Cookie: a",
        ] {
            assert_eq!(safe_next(Some(evil)), "/computes", "{evil:?}");
        }
        assert_eq!(safe_next(None), "/computes");
    }

    #[test]
    fn roles_come_from_overrides_then_token_then_default() {
        let directory = RoleDirectory::new(
            vec![
                ("App.Member".into(), Role::Member),
                ("App.Admin".into(), Role::Admin),
            ],
            Role::Reader,
            HashMap::new(),
        );
        let user = SessionUser {
            object_id: "o".into(),
            tenant_id: "t".into(),
            name: "n".into(),
            email: "e".into(),
            token_roles: vec!["App.Member".into(), "App.Admin".into(), "Other".into()],
        };
        assert_eq!(
            directory.role_of(&user),
            Role::Admin,
            "the highest mapped role"
        );
        directory.set_override("o", "t", Some(Role::Reader));
        assert_eq!(
            directory.role_of(&user),
            Role::Reader,
            "an admin's override wins"
        );
        directory.set_override("o", "t", None);
        assert_eq!(
            directory.role_from_token(&[]),
            Role::Reader,
            "no role claim: the default"
        );
    }
}
