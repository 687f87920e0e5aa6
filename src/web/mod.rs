//! The HTTP side: router, layers, and one module per page.

mod actions;
mod activity;
mod admin;
mod applications;
pub(crate) mod assets;
pub mod auth;
mod bulk;
pub mod bursts;
mod computes;
pub mod create;
mod details;
mod events;
mod forms;
mod health;
mod htmx;
pub mod notice;
mod reassign;
pub mod rendered_rows;
pub mod sealed;
mod security;
pub mod server;
mod sse;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use sqlx::SqlitePool;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::error::AppError;
use crate::store::computes::ComputeStore;
use crate::sync::Sync;

/// What every page shows around its content.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub workspace: String,
    pub location: String,
    /// "Demo" when the built-in emulator plays Azure.
    pub mode_badge: Option<String>,
    /// The signed-in person, on pages that need sign-in.
    pub viewer: Option<Viewer>,
    /// A message left for this page by the form before it.
    pub notice: Option<notice::Notice>,
}

/// The signed-in person as the page header shows them, with the token their forms carry.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub name: String,
    pub email: String,
    pub role: String,
    pub is_admin: bool,
    pub csrf_token: String,
}

#[derive(Clone)]
pub struct AppState {
    pub db: SqlitePool,
    pub computes: Arc<ComputeStore>,
    pub sync: Sync,
    pub auth: Arc<auth::Auth>,
    pub chrome: Arc<Chrome>,
    pub page_size: u32,
    /// Azure's VM sizes, quota, networks and identities, for the create forms.
    pub offers: Arc<create::OfferCache>,
    /// Seals secrets that a form carries between its steps.
    pub sealer: Arc<sealed::Sealer>,
    /// Cancelled when the server stops: long-lived responses (the live stream) end with it.
    pub shutdown: tokio_util::sync::CancellationToken,
    /// The list's rows as HTML, shared by the list pages and the live stream.
    pub rendered_rows: Arc<rendered_rows::RenderedRows>,
    /// The sync's events gathered into bursts, for the live streams.
    pub bursts: bursts::Bursts,
}

impl AppState {
    /// The page chrome for this person.
    pub fn chrome_for(&self, current: &auth::CurrentUser) -> Chrome {
        Chrome {
            viewer: Some(Viewer {
                name: current.user.name.clone(),
                email: current.user.email.clone(),
                role: current.role.label().to_string(),
                is_admin: current.role == crate::domain::roles::Role::Admin,
                csrf_token: current.csrf_token.clone(),
            }),
            notice: None,
            ..(*self.chrome).clone()
        }
    }
}

/// Session cookie settings.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    pub secure_cookie: bool,
    pub idle_timeout: Duration,
}

/// Sessions live in SQLite (they survive a restart) and are read from memory: a database read on
/// every request cost three quarters of the list page's throughput (BENCHMARKS.md).
pub type SessionStore = tower_sessions::CachingSessionStore<
    tower_sessions_moka_store::MokaStore,
    tower_sessions_sqlx_store::SqliteStore,
>;

pub fn router(state: AppState, sessions: SessionStore, settings: &SessionSettings) -> Router {
    let session_layer = tower_sessions::SessionManagerLayer::new(sessions)
        .with_name("compute_studio_session")
        .with_http_only(true)
        .with_same_site(tower_sessions::cookie::SameSite::Lax)
        .with_secure(settings.secure_cookie)
        .with_expiry(tower_sessions::Expiry::OnInactivity(
            time::Duration::try_from(settings.idle_timeout).unwrap_or(time::Duration::hours(8)),
        ));
    let pages = Router::new()
        .route("/", get(|| async { Redirect::to("/computes") }))
        .merge(computes::router())
        .merge(create::router())
        .merge(applications::router())
        .merge(actions::router())
        .merge(reassign::router())
        .merge(bulk::router())
        .merge(events::router())
        .merge(details::router())
        .merge(activity::router())
        .merge(auth::router())
        .merge(admin::router())
        .fallback(not_found)
        .layer(axum::middleware::from_fn(auth::session::verify_csrf))
        .layer(session_layer)
        .merge(health::router())
        .with_state(state);
    pages
        .layer(axum::middleware::from_fn(htmx::error_fragments))
        .layer(security::csrf_layer())
        .merge(assets::router())
        .layer(axum::middleware::from_fn(security::headers))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(60),
        ))
        .layer(CatchPanicLayer::new())
        .layer(TraceLayer::new_for_http())
}

async fn not_found(uri: axum::http::Uri) -> impl IntoResponse {
    AppError::NotFound(format!("page at {}", uri.path()))
}
