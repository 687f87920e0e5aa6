//! The Entra ID v2.0 token endpoint, client-credentials grant only (what the dashboard's own
//! ARM calls use). Errors have Entra's shape: `{"error","error_description","error_codes",…}`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use std::collections::HashMap;

use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine;
use serde_json::json;

use super::super::auth::Identity;
use super::super::util::{now_utc, rfc3339};
use super::super::{Emulator, signin};
use super::Reply;

pub async fn token(
    State(emulator): State<Emulator>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let config = emulator.config();
    if !tenant.eq_ignore_ascii_case(&config.tenant_id) {
        return entra_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        );
    }
    let Some(grant_type) = field("grant_type") else {
        return missing_parameter("grant_type");
    };
    if grant_type == "authorization_code" {
        return authorization_code(&emulator, &tenant, &headers, &form);
    }
    if grant_type != "client_credentials" {
        return entra_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            &format!("The app requested an unsupported grant type '{grant_type}'."),
        );
    }
    if field("client_id").is_none() {
        return missing_parameter("client_id");
    }
    if field("client_secret").is_none() && field("client_assertion").is_none() {
        return entra_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        );
    }
    let Some(scope) = field("scope") else {
        return missing_parameter("scope");
    };
    if !scope.ends_with("/.default") {
        return entra_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1002012,
            &format!(
                "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
        );
    }
    let identity = Identity::service_principal(&config.tenant_id);
    let lifetime = config.token_lifetime;
    let access_token = emulator.world().tokens.issue(&identity, lifetime);
    emulator.world().tokens.purge_expired();
    Reply::json(
        StatusCode::OK,
        json!({
            "token_type": "Bearer",
            "expires_in": lifetime.as_secs(),
            "ext_expires_in": lifetime.as_secs(),
            "access_token": access_token,
        }),
    )
}

/// The browser sign-in's code exchange. The client authenticates with its secret in the form
/// (client_secret_post) or in an HTTP Basic header (client_secret_basic).
fn authorization_code(
    emulator: &Emulator,
    tenant: &str,
    headers: &HeaderMap,
    form: &[(String, String)],
) -> Reply {
    let form: HashMap<String, String> = form.iter().cloned().collect();
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|pair| {
            let (id, secret) = pair.split_once(':')?;
            let decode = |t: &str| {
                url::form_urlencoded::parse(format!("x={t}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
            };
            Some((decode(id)?, decode(secret)?))
        });
    let client_id = basic
        .as_ref()
        .map(|(id, _)| id.clone())
        .or_else(|| form.get("client_id").cloned())
        .unwrap_or_default();
    let has_secret = basic.as_ref().is_some_and(|(_, s)| !s.is_empty())
        || form.get("client_secret").is_some_and(|s| !s.is_empty());
    if client_id.is_empty() {
        return missing_parameter("client_id");
    }
    if !has_secret {
        return entra_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        );
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    match signin::redeem_code(
        emulator,
        &format!("http://{host}"),
        tenant,
        &form,
        &client_id,
    ) {
        Ok(body) => {
            let mut reply = Reply::json(StatusCode::OK, body);
            reply.headers.push(("cache-control", "no-store".into()));
            reply
        }
        Err((error, code, description)) => {
            entra_error(StatusCode::BAD_REQUEST, error, code, &description)
        }
    }
}

fn missing_parameter(name: &str) -> Reply {
    entra_error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        900144,
        &format!("The request body must contain the following parameter: '{name}'."),
    )
}

fn entra_error(status: StatusCode, error: &str, code: u32, description: &str) -> Reply {
    let trace_id = uuid::Uuid::new_v4().to_string();
    let correlation_id = uuid::Uuid::new_v4().to_string();
    let timestamp = rfc3339(now_utc());
    Reply::json(
        status,
        json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {description} Trace ID: {trace_id} Correlation ID: {correlation_id} Timestamp: {timestamp}"),
            "error_codes": [code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
        }),
    )
}
