//! The HTTP side: router, layers, and one module per page.

pub(crate) mod assets;
mod computes;
mod health;
mod htmx;
mod security;

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
}

#[derive(Clone)]
pub struct AppState {
    pub db: SqlitePool,
    pub computes: Arc<ComputeStore>,
    pub sync: Sync,
    pub chrome: Arc<Chrome>,
    pub page_size: u32,
}

pub fn router(state: AppState) -> Router {
    let pages = Router::new()
        .route("/", get(|| async { Redirect::to("/computes") }))
        .merge(computes::router())
        .merge(health::router())
        .fallback(not_found)
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
