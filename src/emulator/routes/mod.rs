//! HTTP: the token endpoint, the health check, and every ARM route (one dispatcher, because ARM
//! matches its path segments case-insensitively): `arm` (the checks and the Azure ML routes),
//! `providers` (the other providers' lists), `paging` and `api_version` (shared by both).

mod api_version;
mod arm;
mod paging;
mod providers;
mod token;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;

use super::error::ArmError;
use super::{Emulator, signin};

pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

pub fn router(emulator: Emulator) -> Router {
    Router::new()
        .route("/_emulator/health", get(|| async { "ok" }))
        .route("/{tenant}/oauth2/v2.0/token", post(token::token))
        .merge(sign_in_pages())
        .fallback(arm::arm_entry)
        .layer(middleware::from_fn_with_state(
            emulator.clone(),
            record_request,
        ))
        .with_state(emulator)
}

/// Only the browser-facing sign-in pages (discovery, keys, authorize, logout), for a dashboard
/// that serves them under its own address in demo mode.
pub fn sign_in_router(emulator: Emulator) -> Router {
    sign_in_pages().with_state(emulator)
}

fn sign_in_pages() -> Router<Emulator> {
    Router::new()
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(signin::openid_configuration),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(signin::keys))
        .route(
            "/{tenant}/oauth2/v2.0/authorize",
            get(signin::authorize_page).post(signin::authorize_choice),
        )
        .route("/{tenant}/oauth2/v2.0/logout", get(signin::logout))
        .route("/_emulator/signin.css", get(signin::stylesheet))
}

/// Remembers every request so tests can check that a client did not send something twice.
async fn record_request(
    State(emulator): State<Emulator>,
    request: Request,
    next: Next,
) -> Response {
    emulator.record_request(request.method().as_str(), request.uri().path());
    next.run(request).await
}

/// A response under construction: kept as JSON until the end so that faults can mangle it.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Value>,
}

impl Reply {
    pub fn json(status: StatusCode, body: Value) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: Some(body),
        }
    }

    pub fn empty(status: StatusCode) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn error(error: &ArmError) -> Self {
        Reply::json(error.status, error.body())
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The serialized body (empty when there is none).
    pub fn body_text(&self) -> String {
        self.body.as_ref().map(Value::to_string).unwrap_or_default()
    }

    pub fn into_response_with_body(self, body: String) -> Response {
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static(JSON_CONTENT_TYPE),
        );
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(HeaderName::from_static(name), value);
            }
        }
        response
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let body = self.body_text();
        self.into_response_with_body(body)
    }
}
