//! The Microsoft identity platform v2.0 sign-in endpoints, as an OpenID Connect client sees
//! them: discovery, signing keys (JWKS), the authorize page (a picker of the demo users), the
//! authorization-code grant with PKCE, and sign-out. id_tokens are RS256 JWTs signed with a key
//! generated once per process.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Emulator;
use super::demo::{DEMO_USERS, DemoUser, app_role};
use super::util::{base64url_encode, now_utc};

/// How long an authorization code can be redeemed (Entra: about 10 minutes).
pub const CODE_LIFETIME: Duration = Duration::from_secs(600);

/// A code handed to the browser, waiting to be redeemed once.
#[derive(Debug, Clone)]
pub struct AuthCode {
    client_id: String,
    redirect_uri: String,
    code_challenge: Option<String>,
    nonce: Option<String>,
    user: &'static DemoUser,
    issued: Instant,
}

/// Codes issued and not yet redeemed, by code.
pub type CodeBook = HashMap<String, AuthCode>;

// ----- keys ---------------------------------------------------------------------------------

struct SigningKey {
    pair: KeyPair,
    kid: String,
    n: String,
    e: String,
}

fn generate_key() -> SigningKey {
    let pair = KeyPair::generate(KeySize::Rsa2048).expect("RSA key generation");
    let (n, e) = rsa_public_numbers(pair.public_key().as_ref()).expect("a PKCS#1 public key");
    let kid =
        base64url_encode(&aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &n).as_ref()[..12]);
    SigningKey {
        pair,
        kid,
        n: base64url_encode(&n),
        e: base64url_encode(&e),
    }
}

/// The key the JWKS publishes; one per process, so many emulators in a test run share it.
fn signing_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(generate_key)
}

/// `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }` (DER) → (n, e).
fn rsa_public_numbers(der: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    fn read(der: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
        let (&t, rest) = der.split_first()?;
        if t != tag {
            return None;
        }
        let (&first, rest) = rest.split_first()?;
        let (len, rest) = if first < 0x80 {
            (first as usize, rest)
        } else {
            let count = (first & 0x7f) as usize;
            let (bytes, rest) = rest.split_at_checked(count)?;
            (
                bytes.iter().fold(0usize, |acc, b| (acc << 8) | *b as usize),
                rest,
            )
        };
        rest.split_at_checked(len)
    }
    let (sequence, _) = read(der, 0x30)?;
    let (n, rest) = read(sequence, 0x02)?;
    let (e, _) = read(rest, 0x02)?;
    let strip = |v: &[u8]| {
        v.iter()
            .skip_while(|b| **b == 0)
            .copied()
            .collect::<Vec<u8>>()
    };
    Some((strip(n), strip(e)))
}

fn sign_with(key: &SigningKey, kid: &str, claims: &Value) -> String {
    let header = json!({"typ": "JWT", "alg": "RS256", "kid": kid});
    let signing_input = format!(
        "{}.{}",
        base64url_encode(header.to_string().as_bytes()),
        base64url_encode(claims.to_string().as_bytes())
    );
    let mut signature = vec![0u8; key.pair.public_modulus_len()];
    key.pair
        .sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            signing_input.as_bytes(),
            &mut signature,
        )
        .expect("RSA signing");
    format!("{signing_input}.{}", base64url_encode(&signature))
}

/// Signing helpers for the dashboard's tests of id_token validation.
pub mod testing {
    use super::*;

    /// A token signed with the published key and its key id: valid if its claims are.
    pub fn sign_id_token(claims: &Value) -> String {
        let key = signing_key();
        sign_with(key, &key.kid, claims)
    }

    /// A token signed with another key, under the given key id (the published one by default):
    /// its signature never verifies against the JWKS.
    pub fn forge_id_token(claims: &Value, kid: Option<&str>) -> String {
        static FORGER: OnceLock<SigningKey> = OnceLock::new();
        let forger = FORGER.get_or_init(generate_key);
        sign_with(forger, kid.unwrap_or(&signing_key().kid), claims)
    }

    /// The key id the JWKS publishes.
    pub fn signing_key_id() -> String {
        signing_key().kid.clone()
    }
}

// ----- routes -------------------------------------------------------------------------------

fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

fn issuer(base: &str, tenant: &str) -> String {
    format!("{base}/{tenant}/v2.0")
}

fn wrong_tenant(emulator: &Emulator, tenant: &str) -> Option<Response> {
    if tenant.eq_ignore_ascii_case(&emulator.config().tenant_id) {
        return None;
    }
    Some(
        (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({
                "error": "invalid_tenant",
                "error_description": format!("AADSTS90002: Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."),
                "error_codes": [90002],
            })),
        )
            .into_response(),
    )
}

pub async fn openid_configuration(
    State(emulator): State<Emulator>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refusal) = wrong_tenant(&emulator, &tenant) {
        return refusal;
    }
    let base = base_url(&headers);
    let authority = format!("{base}/{tenant}");
    axum::Json(json!({
        "issuer": issuer(&base, &tenant),
        "authorization_endpoint": format!("{authority}/oauth2/v2.0/authorize"),
        "token_endpoint": format!("{authority}/oauth2/v2.0/token"),
        "jwks_uri": format!("{authority}/discovery/v2.0/keys"),
        "end_session_endpoint": format!("{authority}/oauth2/v2.0/logout"),
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "nonce", "name", "preferred_username", "email", "oid", "tid", "roles", "ver"],
        "tenant_region_scope": "EU",
        "request_uri_parameter_supported": false,
    }))
    .into_response()
}

pub async fn keys(State(emulator): State<Emulator>, Path(tenant): Path<String>) -> Response {
    if let Some(refusal) = wrong_tenant(&emulator, &tenant) {
        return refusal;
    }
    let key = signing_key();
    axum::Json(json!({"keys": [{"kty": "RSA", "use": "sig", "kid": key.kid, "n": key.n, "e": key.e, "alg": "RS256"}]}))
        .into_response()
}

/// The authorize request's parameters (GET query, or the picker's POST form).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthorizeParams {
    client_id: Option<String>,
    response_type: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    prompt: Option<String>,
    login_hint: Option<String>,
    /// Set by the picker: the chosen account.
    user_object_id: Option<String>,
}

/// Problems whose answer may go back to the client, and problems that may not (a redirect URI
/// that cannot be trusted gets an error page instead).
enum AuthorizeProblem {
    Page(String),
    Redirect(&'static str, String),
}

fn check_authorize(params: &AuthorizeParams) -> Result<String, AuthorizeProblem> {
    let Some(_) = params.client_id.as_deref().filter(|c| !c.is_empty()) else {
        return Err(AuthorizeProblem::Page(
            "AADSTS900144: The request body must contain the following parameter: 'client_id'."
                .into(),
        ));
    };
    let redirect_uri = params.redirect_uri.clone().unwrap_or_default();
    let valid_redirect =
        url::Url::parse(&redirect_uri).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
    if !valid_redirect {
        return Err(AuthorizeProblem::Page(format!(
            "AADSTS50011: The redirect URI '{redirect_uri}' specified in the request is not valid."
        )));
    }
    if params.response_type.as_deref() != Some("code") {
        return Err(AuthorizeProblem::Redirect(
            "unsupported_response_type",
            "AADSTS700054: response_type must be 'code' for this application.".into(),
        ));
    }
    if !params
        .scope
        .as_deref()
        .unwrap_or_default()
        .split(' ')
        .any(|s| s == "openid")
    {
        return Err(AuthorizeProblem::Redirect(
            "invalid_request",
            "AADSTS900144: The scope must include 'openid'.".into(),
        ));
    }
    if params.code_challenge.is_some() && params.code_challenge_method.as_deref() != Some("S256") {
        return Err(AuthorizeProblem::Redirect(
            "invalid_request",
            "AADSTS501491: Only the S256 code challenge method is supported.".into(),
        ));
    }
    Ok(redirect_uri)
}

fn with_query(redirect_uri: &str, pairs: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(redirect_uri).expect("checked before");
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in pairs {
            query.append_pair(k, v);
        }
    }
    url.to_string()
}

fn problem_response(problem: AuthorizeProblem, params: &AuthorizeParams) -> Response {
    match problem {
        AuthorizeProblem::Page(message) => (
            StatusCode::BAD_REQUEST,
            Html(page(
                "Sign-in error",
                &format!("<p>{}</p>", escape(&message)),
            )),
        )
            .into_response(),
        AuthorizeProblem::Redirect(error, description) => {
            let redirect_uri = params.redirect_uri.clone().unwrap_or_default();
            let mut pairs = vec![
                ("error", error),
                ("error_description", description.as_str()),
            ];
            if let Some(state) = params.state.as_deref() {
                pairs.push(("state", state));
            }
            found(&with_query(&redirect_uri, &pairs))
        }
    }
}

pub async fn authorize_page(
    State(emulator): State<Emulator>,
    Path(tenant): Path<String>,
    Query(params): Query<AuthorizeParams>,
) -> Response {
    if let Some(refusal) = wrong_tenant(&emulator, &tenant) {
        return refusal;
    }
    if let Err(problem) = check_authorize(&params) {
        return problem_response(problem, &params);
    }
    // `prompt=none` with a hint signs that account in without showing the picker.
    if params.prompt.as_deref() == Some("none") {
        let hinted = params.login_hint.as_deref().and_then(|hint| {
            DEMO_USERS.iter().find(|u| {
                u.email.eq_ignore_ascii_case(hint) || u.object_id.eq_ignore_ascii_case(hint)
            })
        });
        return match hinted {
            Some(user) => issue_code(&emulator, &params, user),
            None => problem_response(
                AuthorizeProblem::Redirect(
                    "login_required",
                    "AADSTS50058: A silent sign-in request was sent but no user is signed in."
                        .into(),
                ),
                &params,
            ),
        };
    }
    let hidden: String = [
        ("client_id", &params.client_id),
        ("response_type", &params.response_type),
        ("redirect_uri", &params.redirect_uri),
        ("scope", &params.scope),
        ("state", &params.state),
        ("nonce", &params.nonce),
        ("code_challenge", &params.code_challenge),
        ("code_challenge_method", &params.code_challenge_method),
    ]
    .iter()
    .filter_map(|(name, value)| {
        value.as_ref().map(|v| {
            format!(
                "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
                escape(v)
            )
        })
    })
    .collect();
    let accounts: String = DEMO_USERS
        .iter()
        .map(|u| {
            format!(
                "<li><button type=\"submit\" name=\"user_object_id\" value=\"{}\"><strong>{}</strong><span>{}</span><em>{}</em></button></li>",
                u.object_id,
                escape(u.name),
                escape(u.email),
                u.role
            )
        })
        .collect();
    let body = format!(
        "<h1>Pick an account</h1><p>This is Compute Studio's built-in stand-in for Microsoft Entra ID. Each demo person has one role.</p>\
         <form method=\"post\">{hidden}<ul class=\"accounts\">{accounts}</ul></form>"
    );
    Html(page("Sign in to the demo tenant", &body)).into_response()
}

pub async fn authorize_choice(
    State(emulator): State<Emulator>,
    Path(tenant): Path<String>,
    Form(params): Form<AuthorizeParams>,
) -> Response {
    if let Some(refusal) = wrong_tenant(&emulator, &tenant) {
        return refusal;
    }
    if let Err(problem) = check_authorize(&params) {
        return problem_response(problem, &params);
    }
    let chosen = params
        .user_object_id
        .as_deref()
        .and_then(super::demo::find_user);
    match chosen {
        Some(user) => issue_code(&emulator, &params, user),
        None => (
            StatusCode::BAD_REQUEST,
            Html(page(
                "Sign-in error",
                "<p>AADSTS50034: The user account does not exist in this directory.</p>",
            )),
        )
            .into_response(),
    }
}

fn issue_code(emulator: &Emulator, params: &AuthorizeParams, user: &'static DemoUser) -> Response {
    let code = base64url_encode(&rand::random::<[u8; 32]>());
    let redirect_uri = params.redirect_uri.clone().unwrap_or_default();
    emulator.codes().insert(
        code.clone(),
        AuthCode {
            client_id: params.client_id.clone().unwrap_or_default(),
            redirect_uri: redirect_uri.clone(),
            code_challenge: params.code_challenge.clone(),
            nonce: params.nonce.clone(),
            user,
            issued: Instant::now(),
        },
    );
    let mut pairs = vec![("code", code.as_str())];
    if let Some(state) = params.state.as_deref() {
        pairs.push(("state", state));
    }
    found(&with_query(&redirect_uri, &pairs))
}

/// Why a code cannot be redeemed: (error, AADSTS code, description).
pub type GrantError = (&'static str, u32, String);

/// The authorization-code grant: the code once, from the same client and redirect URI, with
/// the PKCE verifier that matches the challenge. Returns the token response body.
pub fn redeem_code(
    emulator: &Emulator,
    base: &str,
    tenant: &str,
    form: &HashMap<String, String>,
    client_id: &str,
) -> Result<Value, GrantError> {
    let field = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let code = field("code").ok_or((
        "invalid_request",
        900144,
        "The request body must contain the following parameter: 'code'.".to_string(),
    ))?;
    let issued = emulator.codes().remove(code).ok_or((
        "invalid_grant",
        54005,
        "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.".to_string(),
    ))?;
    if issued.issued.elapsed() > CODE_LIFETIME {
        return Err((
            "invalid_grant",
            70008,
            "The provided authorization code or refresh token has expired due to inactivity."
                .into(),
        ));
    }
    if issued.client_id != client_id {
        return Err((
            "invalid_grant",
            70002,
            "The code was issued to another client.".into(),
        ));
    }
    if field("redirect_uri") != Some(issued.redirect_uri.as_str()) {
        return Err(("invalid_grant", 500112, "The reply address does not match the reply address the authorization code was issued for.".into()));
    }
    if let Some(challenge) = &issued.code_challenge {
        let verifier = field("code_verifier").ok_or((
            "invalid_grant",
            501481,
            "The Code_Verifier is missing.".to_string(),
        ))?;
        let computed = base64url_encode(
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()).as_ref(),
        );
        if &computed != challenge {
            return Err(("invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request.".into()));
        }
    }
    let user = issued.user;
    let now = now_utc().unix_timestamp();
    let mut claims = json!({
        "aud": client_id,
        "iss": issuer(base, tenant),
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "oid": user.object_id,
        "tid": user.tenant_id,
        "sub": base64url_encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, format!("{}{client_id}", user.object_id).as_bytes()).as_ref()),
        "name": user.name,
        "preferred_username": user.email,
        "email": user.email,
        "roles": [app_role(user.role)],
        "ver": "2.0",
        "uti": base64url_encode(&rand::random::<[u8; 16]>()),
    });
    if let Some(nonce) = issued.nonce {
        claims["nonce"] = json!(nonce);
    }
    Ok(json!({
        "token_type": "Bearer",
        "scope": "openid profile email",
        "expires_in": 3599,
        "ext_expires_in": 3599,
        "access_token": emulator.issue_user_token(user),
        "id_token": testing::sign_id_token(&claims),
    }))
}

#[derive(Debug, Deserialize)]
pub struct LogoutParams {
    post_logout_redirect_uri: Option<String>,
}

pub async fn logout(Query(params): Query<LogoutParams>) -> Response {
    match params
        .post_logout_redirect_uri
        .as_deref()
        .filter(|u| url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https")))
    {
        Some(target) => found(target),
        None => Html(page(
            "Signed out",
            "<p>You have signed out of the demo tenant.</p>",
        ))
        .into_response(),
    }
}

pub async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        "body{font-family:system-ui,sans-serif;background:#f3f2f1;margin:0}main{max-width:28rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 2px 8px #0002}\
         ul.accounts{list-style:none;padding:0}ul.accounts button{display:flex;flex-direction:column;align-items:flex-start;width:100%;margin:.4rem 0;padding:.7rem 1rem;border:1px solid #ccc;border-radius:6px;background:#fff;cursor:pointer;font:inherit;text-align:left}\
         ul.accounts button:hover{border-color:#0f6cbd}ul.accounts span{color:#555;font-size:.9rem}ul.accounts em{color:#0f6cbd;font-size:.8rem;font-style:normal;text-transform:capitalize}",
    )
        .into_response()
}

/// Entra answers with 302 Found.
fn found(location: &str) -> Response {
    (
        StatusCode::FOUND,
        [(header::LOCATION, location.to_string())],
    )
        .into_response()
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><link rel=\"stylesheet\" href=\"../../../_emulator/signin.css\"></head><body><main>{body}</main></body></html>",
        escape(title)
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_numbers_are_those_of_the_key() {
        let key = signing_key();
        assert!(key.n.len() > 300, "a 2048-bit modulus");
        assert_eq!(key.e, "AQAB");
    }
}
