//! htmx conventions: detect its requests, and turn error pages into fragments for them.

use askama::Template;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use crate::error::{ErrorMessage, Flash};

pub fn is_htmx(headers: &HeaderMap) -> bool {
    headers.get("hx-request").is_some_and(|v| v == "true")
}

/// An htmx request that fails gets the message as a fragment in the page's message area,
/// instead of a whole error page swapped into a table cell.
pub async fn error_fragments(request: Request, next: Next) -> Response {
    let htmx = is_htmx(request.headers());
    let response = next.run(request).await;
    if !htmx {
        return response;
    }
    let Some(info) = response.extensions().get::<ErrorMessage>().cloned() else {
        return response;
    };
    let status = response.status();
    let flash = Flash {
        tone: "bad",
        title: &info.title,
        message: &info.message,
    };
    let mut fragment = (status, Html(flash.render().unwrap_or(info.message))).into_response();
    let headers = fragment.headers_mut();
    headers.insert("hx-retarget", HeaderValue::from_static("#flash"));
    headers.insert("hx-reswap", HeaderValue::from_static("innerHTML"));
    fragment
}
