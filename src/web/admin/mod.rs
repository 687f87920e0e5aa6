//! Admin pages: who has which role, and the audit log.

mod audit;
mod roles;

use axum::Router;

use super::AppState;

pub fn router() -> Router<AppState> {
    Router::new().merge(roles::router()).merge(audit::router())
}
