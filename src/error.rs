//! One error type for every handler: a status, a friendly page, and (for htmx requests) a
//! fragment that lands in the page's message area. Details are logged once, here.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::azure::ArmError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The request, or one of its fields, is larger than any form of the dashboard sends.
    #[error("too large: {0}")]
    TooLarge(String),
    /// The body is not a form (a script posting JSON, a multipart upload).
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error(transparent)]
    Azure(#[from] ArmError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("template: {0}")]
    Render(#[from] askama::Error),
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The request is fine but the compute's state does not allow it now.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("missing or wrong CSRF token")]
    CsrfRejected,
    #[error("sign-in: {0}")]
    SignIn(crate::web::auth::oidc::SignInError),
    #[error("session store: {0}")]
    Session(String),
}

/// What a person is told; attached to the response so the htmx layer can re-render it.
#[derive(Debug, Clone)]
pub struct ErrorMessage {
    pub title: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: &'a str,
}

#[derive(Template)]
#[template(path = "_flash.html")]
pub struct Flash<'a> {
    pub tone: &'a str,
    pub title: &'a str,
    pub message: &'a str,
}

impl AppError {
    fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Azure(e) => match e.status() {
                Some(status @ 400..=499) if status != 401 && status != 403 && status != 429 => {
                    StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY)
                }
                _ => StatusCode::BAD_GATEWAY,
            },
            AppError::Forbidden(_) | AppError::CsrfRejected => StatusCode::FORBIDDEN,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::SignIn(crate::web::auth::oidc::SignInError::Provider(_)) => {
                StatusCode::BAD_GATEWAY
            }
            AppError::SignIn(_) => StatusCode::BAD_REQUEST,
            AppError::Database(_) | AppError::Render(_) | AppError::Session(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    fn message(&self) -> ErrorMessage {
        let (title, message) = match self {
            AppError::NotFound(what) => ("Not found".to_string(), format!("There is no {what} here.")),
            AppError::BadRequest(why) => ("That request could not be understood".into(), why.clone()),
            AppError::TooLarge(why) => ("That form is too large".into(), why.clone()),
            AppError::UnsupportedMediaType(why) => ("That is not a form".into(), why.clone()),
            AppError::Azure(e) => ("Azure said no".into(), describe_azure_error(e)),
            AppError::Forbidden(why) => ("Not allowed".into(), why.clone()),
            AppError::Conflict(why) => ("Not now".into(), why.clone()),
            AppError::CsrfRejected => (
                "This request was refused".into(),
                "It did not carry this session's security token (the page may be from an earlier session, or from another site). Reload the page and try again.".into(),
            ),
            AppError::SignIn(e) => ("Sign-in failed".into(), format!("{e}. Please try signing in again.")),
            AppError::Database(_) | AppError::Render(_) | AppError::Session(_) => (
                "Something went wrong on our side".into(),
                "The error has been logged. Please try again; if it persists, tell your administrator.".into(),
            ),
        };
        ErrorMessage { title, message }
    }
}

/// Azure's own words, with what they mean for the person.
fn describe_azure_error(e: &ArmError) -> String {
    match e {
        ArmError::Api { code, message, .. } => format!("{message} (Azure error code {code})"),
        ArmError::OperationFailed { code, message } => format!("{message} (Azure error code {code})"),
        ArmError::Transport(_) => "Azure could not be reached. The list shows the last known state; try Refresh again in a moment.".into(),
        ArmError::Decode { context, .. } => format!("Azure's answer to {context} could not be read. The list shows the last known state."),
        ArmError::Token(_) => "The dashboard could not get an access token for Azure. Ask your administrator to check its Azure credentials.".into(),
        ArmError::RetriesExhausted { last_status, .. } => {
            format!("Azure is busy (it kept answering {last_status}). The list shows the last known state; try again shortly.")
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        } else {
            tracing::debug!(error = %self, "request refused");
        }
        let info = self.message();
        let page = ErrorPage {
            status: status.as_u16(),
            title: &info.title,
            message: &info.message,
        };
        let body = page.render().unwrap_or_else(|_| info.message.clone());
        let mut response = (status, Html(body)).into_response();
        response.extensions_mut().insert(info);
        response
    }
}
